use serde_json::{Value, json};

use super::*;
use crate::lifecycle::Stage;
use crate::rfm::{RfmSegment, RfmView};
use crate::values::{AttrKey, AttrValue};

fn facts() -> Facts {
    Facts {
        tier: "normal".into(),
        lifecycle: Stage::Growth,
        rfm: RfmView {
            recency_days: Some(3),
            frequency: 4,
            monetary_minor: 12_000,
            currency: crate::points::rules::UnitCode::parse("USD").unwrap(),
            r: 5,
            f: 3,
            m: 2,
            segment: RfmSegment::PotentialLoyalist,
            why: String::new(),
        },
        tags: vec!["vip".into(), "pc".into()],
        attributes: [
            (
                AttrKey::parse("level").unwrap(),
                AttrValue::Number(42.into()),
            ),
            (
                AttrKey::parse("guild").unwrap(),
                AttrValue::String("Red Dragons".into()),
            ),
            (AttrKey::parse("beta").unwrap(), AttrValue::Bool(true)),
        ]
        .into_iter()
        .collect(),
        locale: None,
        platforms: vec!["ios".into()],
        points_balance: 100,
        last_active_days: None,
        spend_minor: 12_000,
        purchases: 4,
        email_marketing: true,
    }
}

fn parse(v: Value) -> Filter {
    Filter::parse(&v, "filter").unwrap_or_else(|e| panic!("{v}: {e:?}"))
}

fn holds(v: Value) -> bool {
    parse(v).matches(&facts())
}

fn cond(field: &str, op: &str, value: Value) -> bool {
    holds(json!({"field": field, "op": op, "value": value}))
}

fn error_at(v: Value) -> String {
    let e = Filter::parse(&v, "filter").expect_err(&v.to_string());
    e.0[0].field.clone()
}

#[test]
fn integers_at_their_edges() {
    for (op, at, expect) in [
        ("gte", 100, true),
        ("gte", 101, false),
        ("gt", 99, true),
        ("gt", 100, false),
        ("lte", 100, true),
        ("lte", 99, false),
        ("lt", 101, true),
        ("lt", 100, false),
        ("eq", 100, true),
        ("eq", 99, false),
        ("ne", 99, true),
        ("ne", 100, false),
    ] {
        assert_eq!(cond("points.balance", op, json!(at)), expect, "{op} {at}");
    }
    assert!(cond("points.balance", "in", json!([1, 100])));
    assert!(!cond("points.balance", "in", json!([1, 2])));
    assert!(
        cond("rfm.r", "eq", json!(5))
            && cond("rfm.f", "lt", json!(4))
            && cond("rfm.m", "gte", json!(2))
    );
    assert!(cond("purchases", "gte", json!(4)) && !cond("purchases", "gt", json!(4)));
    assert!(cond("spend_minor", "gte", json!(12_000)) && !cond("spend_minor", "gt", json!(12_000)));
}

#[test]
fn names_sets_and_missing_values() {
    assert!(cond("tier", "eq", json!("normal")) && cond("tier", "ne", json!("high-value")));
    assert!(cond("tier", "in", json!(["potential", "normal"])));
    assert!(cond("lifecycle", "eq", json!("growth")) && !cond("lifecycle", "eq", json!("churn")));
    assert!(cond("rfm.segment", "eq", json!("potential_loyalist")));
    assert!(cond("tags", "contains", json!("vip")) && !cond("tags", "contains", json!("whale")));
    assert!(cond("tags", "in", json!(["whale", "pc"])) && !cond("tags", "in", json!(["whale"])));
    assert!(cond("tags", "exists", json!(true)) && !cond("tags", "exists", json!(false)));
    assert!(
        cond("platforms", "contains", json!("ios"))
            && !cond("platforms", "contains", json!("android"))
    );
    // No locale, never active: only `ne` and `exists: false` match.
    for field in ["locale", "last_active_days"] {
        let v = if field == "locale" {
            json!("en")
        } else {
            json!(3)
        };
        assert!(!cond(field, "eq", v.clone()), "{field}");
        assert!(cond(field, "ne", v.clone()), "{field}");
        assert!(!cond(field, "in", json!([v])), "{field}");
        assert!(cond(field, "exists", json!(false)) && !cond(field, "exists", json!(true)));
    }
    assert!(
        !cond("last_active_days", "lt", json!(1000)),
        "never active is not recent"
    );
}

#[test]
fn attributes_compare_by_their_type() {
    assert!(
        cond("attributes.level", "gte", json!(42)) && !cond("attributes.level", "gt", json!(42))
    );
    assert!(cond("attributes.level", "eq", json!(42.0)));
    assert!(
        !cond("attributes.level", "eq", json!("42")),
        "a string is not the number"
    );
    assert!(cond("attributes.guild", "contains", json!("Dragon")));
    assert!(
        !cond("attributes.guild", "contains", json!("dragon")),
        "case matters"
    );
    assert!(cond("attributes.guild", "eq", json!("Red Dragons")));
    assert!(
        cond("attributes.beta", "eq", json!(true)) && !cond("attributes.beta", "eq", json!(false))
    );
    assert!(
        !cond("attributes.level", "contains", json!("4")),
        "contains reads strings"
    );
    assert!(
        !cond("attributes.missing", "eq", json!(1)) && cond("attributes.missing", "ne", json!(1))
    );
    assert!(cond("attributes.missing", "exists", json!(false)));
}

#[test]
fn combinators() {
    let yes = json!({"field": "tier", "op": "eq", "value": "normal"});
    let no = json!({"field": "tier", "op": "eq", "value": "potential"});
    assert!(holds(json!({"all": [yes, yes]})) && !holds(json!({"all": [yes, no]})));
    assert!(holds(json!({"any": [no, yes]})) && !holds(json!({"any": [no, no]})));
    assert!(holds(json!({"not": no})) && !holds(json!({"not": yes})));
    assert!(holds(json!({"all": []})), "an empty all is everyone");
    assert!(!holds(json!({"any": []})), "an empty any is no one");
    assert!(holds(
        json!({"all": [{"any": [no, {"not": no}]}, {"not": {"all": [no]}}]})
    ));
}

#[test]
fn bad_filters_name_their_path() {
    let c = |f: &str, op: &str, v: Value| json!({"field": f, "op": op, "value": v});
    for (v, path) in [
        (json!([]), "filter"),
        (json!({"all": {}}), "filter.all"),
        (json!({"all": [], "any": []}), "filter.any"),
        (
            json!({"all": [{"field": "nope", "op": "eq", "value": 1}]}),
            "filter.all[0].field",
        ),
        (
            json!({"any": [c("tier", "gt", json!("a"))]}),
            "filter.any[0].op",
        ),
        (c("points.balance", "contains", json!(1)), "filter.op"),
        (c("tags", "eq", json!("vip")), "filter.op"),
        (c("points.balance", "gte", json!("100")), "filter.value"),
        (c("points.balance", "gte", json!(1.5)), "filter.value"),
        (c("lifecycle", "eq", json!("Growth")), "filter.value"),
        (
            c("rfm.segment", "in", json!(["champions", "vip"])),
            "filter.value[1]",
        ),
        (c("tags", "contains", json!("two words")), "filter.value"),
        (c("tier", "in", json!([])), "filter.value"),
        (c("tier", "in", json!(vec!["a"; 101])), "filter.value"),
        (c("tier", "exists", json!("yes")), "filter.value"),
        (c("attributes.level", "gt", json!("high")), "filter.value"),
        (c("attributes.guild", "contains", json!(3)), "filter.value"),
        (c("attributes.bad key", "eq", json!(1)), "filter.field"),
        (json!({"field": "tier", "op": "eq"}), "filter.value"),
        (
            json!({"field": "tier", "op": "eq", "value": "x", "extra": 1}),
            "filter.extra",
        ),
        (
            json!({"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {}}}}}}}}}),
            "filter.not.not.not.not.not.not.not.not",
        ),
    ] {
        assert_eq!(error_at(v.clone()), path, "{v}");
    }
    let many = json!({"any": vec![c("tier", "eq", json!("a")); MAX_NODES]});
    assert_eq!(error_at(many), format!("filter.any[{}]", MAX_NODES - 1));
}

#[test]
fn facts_of_a_customer_follow_the_api() {
    use crate::ids::CustomerId;
    use crate::profile::{Profile, ProfilePatch};
    let now = crate::time::parse("2026-03-10T12:00:00Z").unwrap();
    let mut p = Profile::new(CustomerId::parse("c").unwrap(), now);
    let patch = ProfilePatch::from_json(
        json!({"locale": "zh_cn", "tags": ["vip"],
               "identities": [{"platform": "twitch", "external_id": "x"}]}),
        jiff::civil::date(2026, 1, 1),
    )
    .unwrap();
    p.apply(&patch, now);
    p.touch(crate::time::parse("2026-03-07T13:00:00Z").unwrap());
    let mut s = crate::settings::TenantSettings::default();
    s.rfm.rates.insert(
        crate::points::rules::UnitCode::parse("EUR").unwrap(),
        serde_json::from_value(json!({"minor": 110, "per": 100})).unwrap(),
    );
    let mut account = crate::points::Account::default();
    for (c, v) in [("USD", 1_000u64), ("EUR", 1_000), ("JPY", 5_000)] {
        account
            .totals
            .spend
            .insert(crate::points::rules::UnitCode::parse(c).unwrap(), v);
    }
    let f = Facts::of(&p, &account, &s, now);
    assert_eq!(
        f.spend_minor, 2_100,
        "EUR at 1.10, JPY without a rate left out"
    );
    assert_eq!(f.last_active_days, Some(2));
    assert_eq!(f.locale.as_deref(), Some("zh-CN"));
    assert_eq!(f.platforms, ["twitch"]);
    assert_eq!(f.tier, "potential");
    assert!(!f.email_marketing);
}
