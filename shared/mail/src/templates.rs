//! Campaign templates: MiniJinja, built in for `en` and `zh-CN`, each part (subject, HTML, text)
//! overridable per tenant and locale in the settings. Undefined variables are errors, so a typo
//! in a tenant's template is refused when the settings are saved, not discovered at send time.

use fanloop_domain::ValidationErrors;
use fanloop_domain::campaigns::{CampaignKind, TemplateOverride, definition};
use fanloop_domain::settings::TenantSettings;
use fanloop_domain::values::Locale;
use minijinja::{Environment, UndefinedBehavior};

const BUILT_IN: &[(&str, &str)] = &[
    (
        "birthday.en.subject",
        include_str!("../templates/birthday.en.subject"),
    ),
    (
        "birthday.en.html",
        include_str!("../templates/birthday.en.html"),
    ),
    (
        "birthday.en.txt",
        include_str!("../templates/birthday.en.txt"),
    ),
    (
        "birthday.zh-CN.subject",
        include_str!("../templates/birthday.zh-CN.subject"),
    ),
    (
        "birthday.zh-CN.html",
        include_str!("../templates/birthday.zh-CN.html"),
    ),
    (
        "birthday.zh-CN.txt",
        include_str!("../templates/birthday.zh-CN.txt"),
    ),
    (
        "winback.en.subject",
        include_str!("../templates/winback.en.subject"),
    ),
    (
        "winback.en.html",
        include_str!("../templates/winback.en.html"),
    ),
    (
        "winback.en.txt",
        include_str!("../templates/winback.en.txt"),
    ),
    (
        "winback.zh-CN.subject",
        include_str!("../templates/winback.zh-CN.subject"),
    ),
    (
        "winback.zh-CN.html",
        include_str!("../templates/winback.zh-CN.html"),
    ),
    (
        "winback.zh-CN.txt",
        include_str!("../templates/winback.zh-CN.txt"),
    ),
    (
        "recovery.en.subject",
        include_str!("../templates/recovery.en.subject"),
    ),
    (
        "recovery.en.html",
        include_str!("../templates/recovery.en.html"),
    ),
    (
        "recovery.en.txt",
        include_str!("../templates/recovery.en.txt"),
    ),
    (
        "recovery.zh-CN.subject",
        include_str!("../templates/recovery.zh-CN.subject"),
    ),
    (
        "recovery.zh-CN.html",
        include_str!("../templates/recovery.zh-CN.html"),
    ),
    (
        "recovery.zh-CN.txt",
        include_str!("../templates/recovery.zh-CN.txt"),
    ),
];

/// The locales with built-in templates.
pub const BUILT_IN_LOCALES: [&str; 2] = ["en", "zh-CN"];

pub use crate::context::{
    BrandContext, CouponContext, ExpiringContext, ItemContext, MailContext, PointsContext,
    PurchaseContext, format_amount,
};

/// A rendered mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub html: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
#[error("template {part} could not be rendered: {detail}")]
pub struct TemplateError {
    pub part: &'static str,
    pub detail: String,
}

/// The built-in templates, compiled once.
pub struct Templates {
    env: Environment<'static>,
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

const PARTS: [(&str, &str); 3] = [("subject", "subject"), ("html", "html"), ("text", "txt")];

impl Templates {
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // HTML parts escape every value; subject and text are plain.
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                minijinja::AutoEscape::Html
            } else {
                minijinja::AutoEscape::None
            }
        });
        for (name, src) in BUILT_IN {
            if let Err(e) = env.add_template(name, src) {
                // The built-ins are tested; a broken one is a build defect, reported loudly.
                tracing::error!(template = name, error = %e, "built-in template does not compile");
            }
        }
        Self { env }
    }

    /// The locale a customer's mail is written in: the customer's, else the tenant's, else
    /// `en`; each matched exactly, then by language (`zh-TW` reads `zh-CN`), against the tenant's
    /// own templates and the built-ins.
    pub fn choose_locale(
        &self,
        kind: CampaignKind,
        settings: &TenantSettings,
        customer: Option<&Locale>,
    ) -> Locale {
        let own = settings.campaigns.templates(kind);
        let available: Vec<&str> = own
            .keys()
            .map(String::as_str)
            .chain(BUILT_IN_LOCALES)
            .collect();
        choose_among(&available, settings, customer)
    }

    /// The locale of a campaign definition's mail: as [`Self::choose_locale`], among the
    /// definition's own locales (there are no built-in ones), else its first.
    pub fn choose_defined_locale(
        &self,
        templates: &definition::Templates,
        settings: &TenantSettings,
        customer: Option<&Locale>,
    ) -> Locale {
        let available: Vec<&str> = templates.0.keys().map(Locale::as_str).collect();
        let chosen = choose_among(&available, settings, customer);
        if templates.0.contains_key(&chosen) {
            return chosen;
        }
        templates.0.keys().next().cloned().unwrap_or(chosen)
    }

    /// Renders a campaign definition's mail in `locale` (from
    /// [`Self::choose_defined_locale`]); the label is `{campaign_id}/{locale}`.
    pub fn render_defined(
        &self,
        campaign: &str,
        templates: &definition::Templates,
        locale: &Locale,
        ctx: &MailContext,
    ) -> Result<(Rendered, String), TemplateError> {
        let t = templates.0.get(locale).ok_or_else(|| TemplateError {
            part: "subject",
            detail: format!("no wording for {locale}"),
        })?;
        let subject = render_str(&self.env, "subject", "subject", &t.subject.0, ctx)?;
        let html = render_str(&self.env, "html", "html", &t.html.0, ctx)?;
        let text = render_str(&self.env, "text", "txt", &t.text.0, ctx)?;
        Ok((
            Rendered {
                subject: one_line(&subject),
                html,
                text,
            },
            format!("{campaign}/{locale}"),
        ))
    }
}

/// The first of the customer's locale, then the tenant's, found among `available` exactly,
/// then by language (`zh-TW` reads `zh-CN`); else `en`.
fn choose_among(
    available: &[&str],
    settings: &TenantSettings,
    customer: Option<&Locale>,
) -> Locale {
    {
        for wanted in customer
            .into_iter()
            .chain(std::iter::once(&settings.locale))
        {
            if let Some(l) = available.iter().find(|a| **a == wanted.as_str()) {
                return Locale::parse(*l).unwrap_or_else(|_| wanted.clone());
            }
            let lang = wanted.language();
            if let Some(l) = available.iter().find(|a| a.split('-').next() == Some(lang)) {
                return Locale::parse(*l).unwrap_or_else(|_| wanted.clone());
            }
        }
        Locale::parse("en").unwrap_or_else(|_| unreachable!("en is a locale"))
    }
}

impl Templates {
    /// Renders the mail of `kind` in `locale` (from [`Self::choose_locale`]); returns it with
    /// the template's label (`birthday/zh-CN`, `+tenant` when the tenant's wording was used).
    pub fn render(
        &self,
        kind: CampaignKind,
        settings: &TenantSettings,
        locale: &Locale,
        ctx: &MailContext,
    ) -> Result<(Rendered, String), TemplateError> {
        let own = settings.campaigns.templates(kind).get(locale.as_str());
        let builtin_locale = if BUILT_IN_LOCALES.contains(&locale.as_str()) {
            locale.as_str()
        } else {
            "en"
        };
        let mut out = [String::new(), String::new(), String::new()];
        let mut used_own = false;
        for (i, (part, ext)) in PARTS.iter().enumerate() {
            let own_src = own.and_then(|o| match *part {
                "subject" => o.subject.as_deref(),
                "html" => o.html.as_deref(),
                _ => o.text.as_deref(),
            });
            let rendered = match own_src {
                Some(src) => {
                    used_own = true;
                    render_str(&self.env, part, ext, src, ctx)
                }
                None => self
                    .env
                    .get_template(&format!("{kind}.{builtin_locale}.{ext}"))
                    .and_then(|t| t.render(minijinja::value::Serde(ctx)))
                    .map_err(|e| TemplateError {
                        part,
                        detail: e.to_string(),
                    }),
            }?;
            out[i] = rendered;
        }
        let [subject, html, text] = out;
        // A subject is one line, whatever the template produced.
        let subject = one_line(&subject);
        let label = format!(
            "{kind}/{}{}",
            if own.is_some() {
                locale.as_str()
            } else {
                builtin_locale
            },
            if used_own { "+tenant" } else { "" }
        );
        Ok((
            Rendered {
                subject,
                html,
                text,
            },
            label,
        ))
    }

    /// Renders every tenant template with sample data; the failures name the settings field.
    pub fn validate(&self, settings: &TenantSettings) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let ctx = MailContext::sample();
        for kind in CampaignKind::ALL {
            for (locale, o) in settings.campaigns.templates(kind) {
                check_override(&self.env, kind, locale, o, &ctx, &mut errs);
            }
        }
        errs.into_result()
    }
}

impl Templates {
    /// Checks a campaign definition's own wording: each part of each locale rendered with
    /// sample data (a coupon only `with_coupon`: the definition has an offer; a purchase and
    /// recommendations only for a purchase trigger, a lot only for points expiring); errors name
    /// `{prefix}.{locale}.{part}`.
    pub fn check_campaign_templates(
        &self,
        prefix: &str,
        templates: &definition::Templates,
        with_coupon: bool,
        trigger: &definition::Trigger,
    ) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let mut ctx = MailContext::sample();
        if !with_coupon {
            ctx.coupon = None;
        }
        if !matches!(trigger, definition::Trigger::Purchase { .. }) {
            ctx.purchase = None;
            ctx.recommendations.clear();
        }
        if !matches!(trigger, definition::Trigger::PointsExpiring { .. }) {
            ctx.expiring = None;
        }
        for (locale, t) in &templates.0 {
            for ((part, ext), src) in PARTS.iter().zip([&t.subject.0, &t.html.0, &t.text.0]) {
                if let Err(e) = render_str(&self.env, part, ext, src, &ctx) {
                    errs.push(
                        format!("{prefix}.{}.{part}", locale.as_str()),
                        format!("does not render: {}", e.detail),
                    );
                }
            }
        }
        errs.into_result()
    }
}

fn check_override(
    env: &Environment<'static>,
    kind: CampaignKind,
    locale: &str,
    o: &TemplateOverride,
    ctx: &MailContext,
    errs: &mut ValidationErrors,
) {
    for (part, ext) in PARTS {
        let src = match part {
            "subject" => o.subject.as_deref(),
            "html" => o.html.as_deref(),
            _ => o.text.as_deref(),
        };
        if let Some(src) = src
            && let Err(e) = render_str(env, part, ext, src, ctx)
        {
            errs.push(
                format!("campaigns.{kind}.templates.{locale}.{part}"),
                format!("does not render: {}", e.detail),
            );
        }
    }
}

fn render_str(
    env: &Environment<'static>,
    part: &'static str,
    ext: &str,
    src: &str,
    ctx: &MailContext,
) -> Result<String, TemplateError> {
    let err = |e: minijinja::Error| TemplateError {
        part,
        detail: match e.line() {
            Some(line) => format!("{} (line {line})", e.kind()),
            None => e.kind().to_string(),
        },
    };
    env.render_named_str(&format!("tenant.{ext}"), src, minijinja::value::Serde(ctx))
        .map_err(err)
}

/// A subject is one line, whatever the template produced.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(patch: serde_json::Value) -> TenantSettings {
        TenantSettings::default().merged(patch).unwrap()
    }

    #[test]
    fn built_ins_render_in_both_languages_with_every_value() {
        let t = Templates::new();
        let ctx = MailContext::sample();
        for kind in CampaignKind::ALL {
            for loc in BUILT_IN_LOCALES {
                let locale = Locale::parse(loc).unwrap();
                let (r, label) = t
                    .render(kind, &TenantSettings::default(), &locale, &ctx)
                    .unwrap();
                assert_eq!(label, format!("{kind}/{loc}"));
                for part in [&r.subject, &r.html, &r.text] {
                    assert!(part.contains("Li Wei"), "{kind} {loc}: {part}");
                }
                for part in [&r.html, &r.text] {
                    for v in [
                        "7K3M-Q9XA-2HCT",
                        "5.00 USD",
                        "2026-12-31",
                        "1200",
                        "gold",
                        "Star Arena",
                    ] {
                        assert!(part.contains(v), "{kind} {loc} lacks {v}");
                    }
                }
                assert!(r.text.contains(&ctx.unsubscribe_url));
                // In HTML the link is entity-escaped (`/` as `&#x2f;`), which browsers decode.
                let escaped = ctx.unsubscribe_url.replace('/', "&#x2f;");
                assert!(
                    r.html.contains(&format!("href=\"{escaped}\"")),
                    "{}",
                    r.html
                );
                assert!(!r.subject.contains('\n'));
            }
        }
        let zh = Locale::parse("zh-CN").unwrap();
        let (r, _) = t
            .render(
                CampaignKind::Birthday,
                &TenantSettings::default(),
                &zh,
                &ctx,
            )
            .unwrap();
        assert!(r.subject.contains("生日快乐"), "{}", r.subject);
    }

    #[test]
    fn html_escapes_values_and_text_does_not() {
        let t = Templates::new();
        let mut ctx = MailContext::sample();
        ctx.name = Some("<b>Tom & Jerry</b>".into());
        let en = Locale::parse("en").unwrap();
        let (r, _) = t
            .render(
                CampaignKind::Birthday,
                &TenantSettings::default(),
                &en,
                &ctx,
            )
            .unwrap();
        assert!(
            r.html.contains("&lt;b&gt;Tom &amp; Jerry&lt;&#x2f;b&gt;"),
            "{}",
            r.html
        );
        assert!(!r.html.contains("<b>Tom"));
        assert!(r.text.contains("<b>Tom & Jerry</b>"));
    }

    #[test]
    fn locale_is_the_customers_then_the_tenants_then_english() {
        let t = Templates::new();
        let s = settings(json!({"locale": "zh-CN"}));
        let pick = |c: Option<&str>, s: &TenantSettings| {
            t.choose_locale(
                CampaignKind::Birthday,
                s,
                c.map(|c| Locale::parse(c).unwrap()).as_ref(),
            )
            .to_string()
        };
        assert_eq!(pick(Some("en-GB"), &s), "en");
        assert_eq!(pick(Some("zh-TW"), &s), "zh-CN");
        assert_eq!(pick(Some("fr"), &s), "zh-CN");
        assert_eq!(pick(None, &s), "zh-CN");
        assert_eq!(pick(Some("fr"), &TenantSettings::default()), "en");
        let own = settings(
            json!({"campaigns": {"birthday": {"templates": {"fr": {"subject": "Bon anniversaire {{ name }}"}}}}}),
        );
        assert_eq!(pick(Some("fr"), &own), "fr");
    }

    #[test]
    fn tenant_overrides_replace_parts_and_broken_ones_are_named() {
        let t = Templates::new();
        let s = settings(
            json!({"campaigns": {"birthday": {"templates": {"en": {"subject": "Cheers {{ name }} from {{ brand.name }}"}}}}}),
        );
        let en = Locale::parse("en").unwrap();
        let (r, label) = t
            .render(CampaignKind::Birthday, &s, &en, &MailContext::sample())
            .unwrap();
        assert_eq!(r.subject, "Cheers Li Wei from Star Arena");
        assert!(
            r.text.contains("7K3M-Q9XA-2HCT"),
            "other parts stay built in"
        );
        assert_eq!(label, "birthday/en+tenant");
        assert!(t.validate(&s).is_ok());

        for bad in ["{{ nmae }}", "{% if %}", "{{ coupon.code | nosuchfilter }}"] {
            let s = settings(
                json!({"campaigns": {"winback": {"templates": {"zh-CN": {"html": bad}}}}}),
            );
            let e = t.validate(&s).unwrap_err();
            assert_eq!(
                e.0[0].field, "campaigns.winback.templates.zh-CN.html",
                "{bad}"
            );
        }
    }

    #[test]
    fn amounts_are_formatted_by_currency() {
        assert_eq!(format_amount(500, "USD"), "5.00 USD");
        assert_eq!(format_amount(1999, "CNY"), "19.99 CNY");
        assert_eq!(format_amount(500, "JPY"), "500 JPY");
        assert_eq!(format_amount(300, "BEAN"), "300 BEAN");
    }
}
