//! Every string of the console's pages, in English and Simplified Chinese: one table, so no
//! string can exist in one language only.

use std::collections::BTreeMap;
use std::sync::LazyLock;

/// `(key, en, zh-CN)`.
const STRINGS: &[(&str, &str, &str)] = &[
    ("app", "Fanloop console", "Fanloop 控制台"),
    ("login", "Log in", "登录"),
    ("logout", "Log out", "退出登录"),
    ("logout_everywhere", "Log out everywhere", "退出所有设备"),
    ("email", "E-mail", "电子邮箱"),
    ("password", "Password", "密码"),
    (
        "new_password",
        "New password (at least 12 characters)",
        "新密码（至少 12 个字符）",
    ),
    ("set_password", "Set password", "设置密码"),
    (
        "password_set",
        "Your password is set. Log in with it.",
        "密码已设置，请登录。",
    ),
    (
        "bad_login",
        "Wrong e-mail address or password.",
        "电子邮箱或密码错误。",
    ),
    (
        "throttled",
        "Too many wrong passwords. Try again later.",
        "密码错误次数过多，请稍后再试。",
    ),
    (
        "bad_link",
        "This link is not valid: it was used, it expired, or it is mistyped.",
        "此链接无效：已使用、已过期或有误。",
    ),
    ("search", "Find a customer", "查找客户"),
    (
        "search_hint",
        "Customer id, e-mail, phone, or platform:id (steam:76561198…)",
        "客户 ID、电子邮箱、电话或 平台:ID（steam:76561198…）",
    ),
    ("search_button", "Search", "搜索"),
    ("no_results", "No customer found.", "未找到客户。"),
    ("customer", "Customer", "客户"),
    ("profile", "Profile", "资料"),
    ("display_name", "Name", "姓名"),
    ("phone", "Phone", "电话"),
    ("locale", "Language", "语言"),
    ("tags", "Tags", "标签"),
    ("consent", "E-mail marketing consent", "营销邮件同意"),
    ("consent_granted", "granted", "已同意"),
    ("consent_refused", "refused", "已拒绝"),
    (
        "consent_unknown",
        "never asked (no marketing mail)",
        "未询问（不发送营销邮件）",
    ),
    ("source", "source", "来源"),
    ("identities", "Identities", "平台身份"),
    ("points", "Points", "积分"),
    ("balance", "Balance", "余额"),
    ("tier", "Tier", "等级"),
    ("expiring", "Expiring", "即将过期"),
    ("ledger", "Ledger", "积分明细"),
    ("tier_why", "Why this tier", "等级依据"),
    ("coupons", "Coupons", "优惠券"),
    ("code", "Code", "券码"),
    ("value", "Value", "面值"),
    ("status", "Status", "状态"),
    ("expires", "Expires", "到期"),
    ("void_coupon", "Void", "作废"),
    ("timeline", "Timeline", "时间线"),
    ("contacts", "Logged contacts", "联系记录"),
    ("audit", "Audit log", "审计日志"),
    ("audit_customer", "Staff actions", "员工操作"),
    ("edit_phone", "Change phone", "修改电话"),
    ("save", "Save", "保存"),
    ("log_contact", "Log a contact", "记录联系"),
    ("channel", "Channel", "渠道"),
    ("direction", "Direction", "方向"),
    ("inbound", "Inbound", "客户来电"),
    ("outbound", "Outbound", "主动联系"),
    ("summary", "Summary", "摘要"),
    ("outcome", "Outcome", "结果"),
    ("adjust_points", "Adjust points", "调整积分"),
    (
        "points_delta",
        "Points (negative to take)",
        "积分（负数为扣除）",
    ),
    ("reason", "Reason", "原因"),
    ("when", "When", "时间"),
    ("who", "Who", "操作人"),
    ("what", "What", "操作"),
    ("details", "Details", "详情"),
    ("none", "None", "无"),
    (
        "forbidden",
        "Your role cannot do this.",
        "您的角色无权执行此操作。",
    ),
    ("not_found", "Not found.", "未找到。"),
    ("invalid", "Please correct this", "请更正"),
    ("back", "Back", "返回"),
    (
        "error",
        "Something went wrong; nothing was changed. Try again.",
        "出错了，未做任何更改，请重试。",
    ),
    ("language", "中文", "English"),
    ("role", "Role", "角色"),
    ("staff", "Staff", "员工"),
    ("new_staff", "Add a staff member", "添加员工"),
    (
        "link_once",
        "Send this password-set link to them (shown once, valid 72 hours):",
        "请将此设置密码链接发给对方（仅显示一次，72 小时内有效）：",
    ),
    (
        "taken",
        "An account with this e-mail address exists.",
        "该电子邮箱已有账号。",
    ),
    ("older", "Older", "更早"),
];

pub type Strings = BTreeMap<&'static str, &'static str>;

fn all() -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str)> {
    STRINGS.iter().chain(crate::strings_work::STRINGS)
}

static EN: LazyLock<Strings> = LazyLock::new(|| all().map(|(k, en, _)| (*k, *en)).collect());
static ZH: LazyLock<Strings> = LazyLock::new(|| all().map(|(k, _, zh)| (*k, *zh)).collect());

/// The console's two languages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    ZhCn,
}

impl Lang {
    /// From a stored choice or a tenant locale: `zh…` is Chinese, anything else English.
    pub fn from_locale(locale: &str) -> Self {
        if locale.to_ascii_lowercase().starts_with("zh") {
            Self::ZhCn
        } else {
            Self::En
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::ZhCn => "zh-CN",
        }
    }

    pub fn other(self) -> Self {
        match self {
            Self::En => Self::ZhCn,
            Self::ZhCn => Self::En,
        }
    }

    pub fn strings(self) -> &'static Strings {
        match self {
            Self::En => &EN,
            Self::ZhCn => &ZH,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_string_is_in_both_languages_and_keys_are_unique() {
        assert_eq!(EN.len(), all().count(), "a key is repeated");
        for (k, en, zh) in all() {
            assert!(!en.is_empty() && !zh.is_empty(), "{k}");
        }
        assert_eq!(Lang::from_locale("zh-TW"), Lang::ZhCn);
        assert_eq!(Lang::from_locale("en-GB"), Lang::En);
        assert_eq!(Lang::En.strings()["login"], "Log in");
        assert_eq!(Lang::ZhCn.strings()["login"], "登录");
    }
}
