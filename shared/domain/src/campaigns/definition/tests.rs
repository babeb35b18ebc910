use serde_json::{Value, json};

use super::*;

fn template() -> Value {
    json!({"subject": "Thanks, {{ name }}", "html": "<p>Thanks</p>", "text": "Thanks"})
}

fn thank_you() -> Value {
    json!({
        "campaign_id": "thank-you",
        "name": "Thank you for your purchase",
        "status": "active",
        "trigger": {"type": "purchase", "min_amount_minor": 500},
        "templates": {"en": template(), "zh_cn": template()},
        "max_delay_hours": 12,
        "frequency_cap_exempt": true
    })
}

fn with(mut v: Value, key: &str, value: Value) -> Value {
    v[key] = value;
    v
}

fn field_of(v: Value) -> String {
    let e = NewCampaign::read(v.clone()).expect_err(&v.to_string());
    e.0[0].field.clone()
}

#[test]
fn definitions_read_with_their_defaults() {
    let c = NewCampaign::read(thank_you()).unwrap();
    assert_eq!(c.trigger.class(), TriggerClass::Event);
    assert_eq!(c.once_per(), OncePer::Event);
    assert_eq!(c.status, Some(CampaignStatus::Active));
    assert_eq!(c.templates.0.len(), 2);
    assert!(
        c.templates.0.keys().any(|l| l.as_str() == "zh-CN"),
        "locales normalised"
    );

    let lny = json!({
        "campaign_id": "lunar-new-year-2027",
        "name": "Lunar New Year",
        "trigger": {"type": "broadcast", "at": "2027-02-10T10:00"},
        "audience": {"filter": {"field": "tier", "op": "eq", "value": "high-value"}},
        "offer": {"value_minor": 888, "currency": "CNY", "valid_days": 14},
        "templates": {"zh-CN": template()},
        "holdout_percent": 10,
        "quiet_hours": {"start": "22:00", "end": "08:00"}
    });
    let c = NewCampaign::read(lny).unwrap();
    assert_eq!(c.once_per(), OncePer::Ever);
    assert_eq!(c.status, None, "draft by default");
    assert!(matches!(c.audience, Some(Audience::Filter(_))));
    match &c.trigger {
        Trigger::Broadcast { at } => {
            assert_eq!(serde_json::to_value(at).unwrap(), "2027-02-10T10:00");
        }
        t => panic!("{t:?}"),
    }
    let birthday = json!({"campaign_id": "bday", "name": "Birthday", "trigger": {"type": "birthday"},
                          "templates": {"en": template()}, "audience": {"segment_id": "vips"}});
    let c = NewCampaign::read(birthday).unwrap();
    assert_eq!(c.once_per(), OncePer::Period);
    assert!(matches!(c.audience, Some(Audience::Segment(_))));
}

#[test]
fn every_bad_part_is_named() {
    let t = thank_you();
    let mut no_id = t.clone();
    no_id.as_object_mut().unwrap().remove("campaign_id");
    for (v, field) in [
        (no_id, "campaign_id"),
        (
            with(t.clone(), "campaign_id", json!("birthday")),
            "campaign_id",
        ),
        (with(t.clone(), "name", json!(" ")), "name"),
        (with(t.clone(), "status", json!("live")), "status"),
        (
            with(t.clone(), "trigger", json!({"type": "full_moon"})),
            "trigger.type",
        ),
        (
            with(
                t.clone(),
                "trigger",
                json!({"type": "inactivity", "days": 0}),
            ),
            "trigger",
        ),
        (
            with(t.clone(), "trigger", json!({"type": "signup", "days": 3})),
            "trigger",
        ),
        (
            with(
                t.clone(),
                "trigger",
                json!({"type": "broadcast", "at": "2027-02-10T10:00:00Z"}),
            ),
            "trigger",
        ),
        (with(t.clone(), "templates", json!({})), "templates"),
        (
            with(t.clone(), "templates", json!({"not a locale": template()})),
            "templates.not a locale",
        ),
        (
            with(
                t.clone(),
                "templates",
                json!({"en": {"html": "x", "text": "y"}}),
            ),
            "templates.en.subject",
        ),
        (
            with(
                t.clone(),
                "audience",
                json!({"segment_id": "a", "filter": {"all": []}}),
            ),
            "audience",
        ),
        (
            with(
                t.clone(),
                "audience",
                json!({"filter": {"field": "tier", "op": "gt", "value": "x"}}),
            ),
            "audience.filter.op",
        ),
        (
            with(t.clone(), "audience", json!({"segment_id": "a b"})),
            "audience.segment_id",
        ),
        (
            with(
                t.clone(),
                "offer",
                json!({"value_minor": 0, "currency": "USD", "valid_days": 7}),
            ),
            "offer.value_minor",
        ),
        (
            with(t.clone(), "holdout_percent", json!(101)),
            "holdout_percent",
        ),
        (
            with(
                t.clone(),
                "quiet_hours",
                json!({"start": "22:00", "end": "22:00"}),
            ),
            "quiet_hours",
        ),
        (with(t.clone(), "once_per", json!("period")), "once_per"),
        (with(t.clone(), "surprise", json!(1)), "surprise"),
    ] {
        assert_eq!(field_of(v.clone()), field, "{v}");
    }
    let broadcast = with(
        with(
            t.clone(),
            "trigger",
            json!({"type": "broadcast", "at": "2027-02-10T10:00"}),
        ),
        "once_per",
        json!("event"),
    );
    let e = NewCampaign::read(broadcast).unwrap_err();
    let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(
        fields,
        ["max_delay_hours", "once_per"],
        "both cross-field rules"
    );
}
