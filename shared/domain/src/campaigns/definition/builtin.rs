//! The built-in campaigns (birthday, win-back, recovery) as definitions: read, listed and
//! changed through `/v1/campaigns` like the tenant's own, run by the same engine. Their
//! configuration lives where it always did, in settings `campaigns.{kind}` — the one place
//! both their runs and this view read, so there is nothing to migrate and no second copy to
//! drift. A change is a merge patch of that section: what the body names changes, the rest
//! stays.

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::campaign::{CampaignId, CampaignStatus};
use super::record::CampaignRecord;
use crate::campaigns::settings::{CampaignSettings, CouponOffer, TemplateOverride};
use crate::campaigns::{CampaignKind, TEMPLATE_MAX_LEN};
use crate::error::ValidationErrors;

/// The kind a definition id names, if it is a built-in's.
pub fn builtin_kind(id: &str) -> Option<CampaignKind> {
    CampaignKind::ALL.into_iter().find(|k| k.as_str() == id)
}

fn name(kind: CampaignKind) -> &'static str {
    match kind {
        CampaignKind::Birthday => "Birthday",
        CampaignKind::Winback => "Win-back",
        CampaignKind::Recovery => "Recovery after an unhappy answer",
    }
}

fn trigger_type(kind: CampaignKind) -> &'static str {
    match kind {
        CampaignKind::Birthday => "birthday",
        CampaignKind::Winback => "inactivity",
        CampaignKind::Recovery => "survey_unhappy",
    }
}

/// The built-in `kind` as a definition record, from the tenant's settings (`at`: the
/// tenant's creation, when the built-ins came with it).
pub fn builtin_record(kind: CampaignKind, s: &CampaignSettings, at: Timestamp) -> CampaignRecord {
    let (enabled, offer, templates, trigger, extra) = match kind {
        CampaignKind::Birthday => (
            s.birthday.enabled,
            to(&s.birthday.coupon),
            to(&s.birthday.templates),
            json!({"type": "birthday"}),
            json!({}),
        ),
        CampaignKind::Winback => (
            s.winback.enabled,
            to(&s.winback.coupon),
            to(&s.winback.templates),
            json!({"type": "inactivity", "days": s.winback.inactive_days,
                   "cooldown_days": s.winback.cooldown_days}),
            json!({"value_minor_by_tier": to(&s.winback.value_minor_by_tier)}),
        ),
        CampaignKind::Recovery => (
            s.recovery.enabled,
            to(&s.recovery.coupon),
            to(&s.recovery.templates),
            json!({"type": "survey_unhappy"}),
            json!({"cooldown_days": s.recovery.cooldown_days}),
        ),
    };
    let status = if enabled {
        CampaignStatus::Active
    } else {
        CampaignStatus::Paused
    };
    let mut definition = json!({
        "campaign_id": kind.as_str(),
        "name": name(kind),
        "builtin": true,
        "status": status,
        "trigger": trigger,
        "offer": offer,
        "templates": templates,
    });
    if let (Some(d), Value::Object(x)) = (definition.as_object_mut(), extra) {
        d.extend(x);
    }
    CampaignRecord {
        campaign_id: CampaignId::from(kind),
        status,
        definition,
        created_at: at,
        updated_at: at,
    }
}

/// A settings part as JSON (settings always serialise).
fn to<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// A `PUT /v1/campaigns/{kind}` body read as the merge patch of settings `campaigns.{kind}`:
/// `status` (`active` | `paused`), `offer`, `templates` (by locale, each part optional: absent
/// parts keep the built-in wording), win-back's `trigger.days` / `trigger.cooldown_days` and
/// `value_minor_by_tier`, recovery's `cooldown_days`. The record's own fields (`campaign_id`,
/// `name`, `builtin`, the trigger's `type`) may be sent back unchanged; anything else is
/// refused, naming the field.
pub fn builtin_patch(kind: CampaignKind, body: &Value) -> Result<Value, ValidationErrors> {
    let Some(body) = body.as_object() else {
        return Err(ValidationErrors::single("(body)", "must be a JSON object"));
    };
    let mut errs = ValidationErrors::default();
    let mut section = Map::new();
    for (key, v) in body {
        match (key.as_str(), kind) {
            ("campaign_id", _) if v.as_str() != Some(kind.as_str()) => {
                errs.push("campaign_id", "must be the id in the path")
            }
            ("name", _) if v.as_str() != Some(name(kind)) => errs.push(
                "name",
                "a built-in campaign keeps its name (send it back unchanged or leave it out)",
            ),
            ("builtin", _) if v != &Value::Bool(true) => {
                errs.push("builtin", "is true for a built-in campaign")
            }
            ("campaign_id" | "name" | "builtin", _) => {}
            ("status", _) => match v.as_str() {
                Some("active") => {
                    section.insert("enabled".into(), Value::Bool(true));
                }
                Some("paused") => {
                    section.insert("enabled".into(), Value::Bool(false));
                }
                _ => errs.push(
                    "status",
                    "a built-in campaign is active or paused (it cannot be a draft or archived)",
                ),
            },
            ("trigger", _) => trigger_patch(kind, v, &mut section, &mut errs),
            ("offer", _) => match serde_json::from_value::<CouponOffer>(v.clone()) {
                Ok(o) if o.value_minor > 0 && o.valid_days > 0 => {
                    section.insert("coupon".into(), v.clone());
                }
                Ok(_) => errs.push(
                    "offer",
                    "a built-in campaign's coupon needs a value_minor and valid_days above 0",
                ),
                Err(e) => errs.push("offer", first_line(&e)),
            },
            ("templates", _) => {
                match serde_json::from_value::<std::collections::BTreeMap<String, TemplateOverride>>(
                    v.clone(),
                ) {
                    Ok(t) if t.values().all(within_limit) => {
                        section.insert("templates".into(), v.clone());
                    }
                    Ok(_) => errs.push(
                        "templates",
                        format!("each part is at most {TEMPLATE_MAX_LEN} bytes"),
                    ),
                    Err(e) => errs.push("templates", first_line(&e)),
                }
            }
            ("value_minor_by_tier", CampaignKind::Winback) => {
                section.insert("value_minor_by_tier".into(), v.clone());
            }
            ("cooldown_days", CampaignKind::Recovery) => match v.as_u64() {
                Some(d) if (1..=3650).contains(&d) => {
                    section.insert("cooldown_days".into(), v.clone());
                }
                _ => errs.push("cooldown_days", "must be a whole number from 1 to 3650"),
            },
            (other, _) => errs.push(
                other,
                format!(
                    "is not a setting of the built-in {} campaign (a definition of your own has it)",
                    kind.as_str()
                ),
            ),
        }
    }
    errs.into_result()?;
    Ok(json!({"campaigns": {kind.as_str(): Value::Object(section)}}))
}

fn trigger_patch(
    kind: CampaignKind,
    v: &Value,
    section: &mut Map<String, Value>,
    errs: &mut ValidationErrors,
) {
    let Some(t) = v.as_object() else {
        return errs.push("trigger", "must be an object");
    };
    for (key, x) in t {
        match (key.as_str(), kind) {
            ("type", _) if x.as_str() == Some(trigger_type(kind)) => {}
            ("type", _) => errs.push(
                "trigger.type",
                format!("a built-in campaign's trigger stays {}", trigger_type(kind)),
            ),
            ("days" | "cooldown_days", CampaignKind::Winback) => match x.as_u64() {
                Some(d) if (1..=3650).contains(&d) => {
                    let name = if key == "days" {
                        "inactive_days"
                    } else {
                        "cooldown_days"
                    };
                    section.insert(name.into(), x.clone());
                }
                _ => errs.push(
                    format!("trigger.{key}"),
                    "must be a whole number from 1 to 3650",
                ),
            },
            (other, _) => errs.push(
                format!("trigger.{other}"),
                "is not a setting of this built-in campaign's trigger",
            ),
        }
    }
}

fn within_limit(t: &TemplateOverride) -> bool {
    [&t.subject, &t.html, &t.text]
        .iter()
        .all(|p| p.as_ref().is_none_or(|s| s.len() <= TEMPLATE_MAX_LEN))
}

fn first_line(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg);
    msg.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> CampaignSettings {
        CampaignSettings::default()
    }

    #[test]
    fn a_record_sent_back_patches_only_what_it_configures() {
        for kind in CampaignKind::ALL {
            let r = builtin_record(kind, &settings(), Timestamp::UNIX_EPOCH);
            assert_eq!(r.campaign_id.as_str(), kind.as_str());
            let patch = builtin_patch(kind, &r.definition).unwrap();
            let section = &patch["campaigns"][kind.as_str()];
            let mut keys: Vec<&str> = section
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            keys.sort();
            let want: &[&str] = match kind {
                CampaignKind::Birthday => &["coupon", "enabled", "templates"],
                CampaignKind::Winback => &[
                    "cooldown_days",
                    "coupon",
                    "enabled",
                    "inactive_days",
                    "templates",
                    "value_minor_by_tier",
                ],
                CampaignKind::Recovery => &["cooldown_days", "coupon", "enabled", "templates"],
            };
            assert_eq!(keys, want, "{kind}");
            let merged = crate::settings::TenantSettings::default()
                .merged(patch)
                .unwrap();
            assert_eq!(
                merged.campaigns,
                settings(),
                "{kind}: a round trip changes nothing"
            );
        }
    }

    #[test]
    fn what_a_built_in_cannot_have_is_named() {
        let fields = |kind, body: Value| -> Vec<String> {
            builtin_patch(kind, &body)
                .unwrap_err()
                .0
                .into_iter()
                .map(|f| f.field)
                .collect()
        };
        assert_eq!(
            fields(
                CampaignKind::Birthday,
                json!({"audience": {}, "trigger": {"type": "birthday", "days": 3}})
            ),
            ["audience", "trigger.days"]
        );
        assert_eq!(
            fields(CampaignKind::Winback, json!({"status": "archived"})),
            ["status"]
        );
        assert_eq!(
            fields(CampaignKind::Recovery, json!({"value_minor_by_tier": {}})),
            ["value_minor_by_tier"]
        );
        assert_eq!(
            fields(CampaignKind::Winback, json!({"name": "Renamed"})),
            ["name"]
        );
        assert!(builtin_patch(CampaignKind::Winback, &json!([])).is_err());
        assert_eq!(builtin_kind("winback"), Some(CampaignKind::Winback));
        assert_eq!(builtin_kind("thank-you"), None);
    }
}
