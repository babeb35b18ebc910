use jiff::Timestamp;
use serde_json::json;

use super::*;
use crate::points::PointsSettings;
use crate::points::rules::TierName;

fn now() -> Timestamp {
    crate::time::parse("2026-12-01T08:00:00Z").unwrap()
}

fn at(s: &str) -> Timestamp {
    crate::time::parse(s).unwrap()
}

fn input(v: serde_json::Value) -> Result<CaseInput, Vec<String>> {
    CaseInput::parse(v).map_err(|e| e.0.into_iter().map(|f| f.field).collect())
}

fn complaint(priority: Priority) -> Case {
    input(json!({"customer_id": "c1", "kind": "complaint", "subject": "Charged twice"}))
        .unwrap()
        .into_case(
            "01CASE".into(),
            CaseAuthor::ApiKey {
                key_id: "k1".into(),
            },
            priority,
            &SlaHours::default(),
            now(),
        )
}

#[test]
fn a_case_is_due_by_the_sla_of_its_priority() {
    let c = complaint(Priority::High);
    assert_eq!((c.status, c.priority), (CaseStatus::Open, Priority::High));
    assert_eq!(c.due_at, at("2026-12-01T12:00:00Z"));
    let c = complaint(Priority::Normal);
    assert_eq!(c.due_at, at("2026-12-02T08:00:00Z"));
    let mut c = complaint(Priority::Low);
    assert_eq!(c.due_at, at("2026-12-04T08:00:00Z"));
    assert!(c.set_priority(Priority::High, &SlaHours::default()));
    assert_eq!(
        c.due_at,
        at("2026-12-01T12:00:00Z"),
        "from when it was opened"
    );
    assert!(!c.set_priority(Priority::High, &SlaHours::default()));
    assert!(!c.is_overdue(at("2026-12-01T12:00:00Z")));
    assert!(c.is_overdue(at("2026-12-01T12:00:01Z")));
    c.resolve("Refunded".into(), at("2026-12-01T13:00:00Z"));
    assert!(
        !c.is_overdue(at("2026-12-09T00:00:00Z")),
        "resolved is never overdue"
    );
}

#[test]
fn every_bad_field_is_named_and_the_author_is_in_the_fingerprint() {
    let mut named = input(
        json!({"customer_id": "", "kind": "followup", "subject": " ",
        "description": "", "priority": "urgent", "case_id": "a b", "x": 1}),
    )
    .unwrap_err();
    named.sort();
    assert_eq!(
        named,
        [
            "case_id",
            "customer_id",
            "description",
            "kind",
            "priority",
            "subject",
            "x"
        ]
    );
    assert_eq!(
        input(json!({"customer_id": "c1", "kind": "complaint"})).unwrap_err(),
        ["subject"]
    );
    let body = json!({"case_id": "t-1", "customer_id": "c1", "kind": "feedback", "subject": "s"});
    let by = |k: &str| {
        input(body.clone()).unwrap().into_case(
            "gen".into(),
            CaseAuthor::ApiKey { key_id: k.into() },
            Priority::Normal,
            &SlaHours::default(),
            now(),
        )
    };
    assert_eq!(by("k1").case_id, "t-1");
    assert_eq!(by("k1").fingerprint, by("k1").fingerprint);
    assert_ne!(by("k1").fingerprint, by("k2").fingerprint);
}

#[test]
fn high_value_tiers_come_first_by_default() {
    let points = PointsSettings::default();
    let names: Vec<_> = points.tiers.iter().map(|t| t.name.clone()).collect();
    assert!(names.len() > 1, "the default ladder has several tiers");
    let (lowest, highest) = (names.first().unwrap(), names.last().unwrap());
    let mut s = CaseSettings::default();
    assert_eq!(s.default_priority(Some(highest), &points), Priority::High);
    assert_eq!(s.default_priority(Some(lowest), &points), Priority::Normal);
    assert_eq!(s.default_priority(None, &points), Priority::Normal);
    s.high_value_tiers = vec![lowest.clone()];
    assert_eq!(s.default_priority(Some(lowest), &points), Priority::High);
    assert_eq!(s.default_priority(Some(highest), &points), Priority::Normal);
    let mut errs = crate::ValidationErrors::default();
    s.high_value_tiers = vec![TierName::parse("gold-plus").unwrap()];
    s.sla_hours.low = 0;
    s.validate(&points, &mut errs);
    let mut fields: Vec<_> = errs.0.into_iter().map(|f| f.field).collect();
    fields.sort();
    assert_eq!(fields, ["cases.high_value_tiers[0]", "cases.sla_hours.low"]);
}

#[test]
fn work_on_a_case_changes_it_once() {
    let mut c = complaint(Priority::Normal);
    assert!(c.assign(Some("s1".into())));
    assert!(!c.assign(Some("s1".into())));
    let note = |t: &str| CaseNote {
        staff_id: "s1".into(),
        text: t.into(),
        at: now(),
    };
    assert!(c.add_note(note("Called, no answer")));
    assert!(!c.add_note(note("Called, no answer")), "a resubmitted form");
    assert!(c.set_status(CaseStatus::Pending, "s1", now()));
    assert!(!c.set_status(CaseStatus::Pending, "s1", now()));
    assert!(
        !c.set_status(CaseStatus::Resolved, "s1", now()),
        "resolving takes a resolution"
    );
    let done = at("2026-12-01T09:00:00Z");
    assert!(c.resolve("Refunded 5 USD".into(), done));
    assert!(!c.resolve("again".into(), now()));
    assert_eq!(
        (c.status, c.resolved_at, c.resolution.as_deref()),
        (CaseStatus::Resolved, Some(done), Some("Refunded 5 USD"))
    );
    assert!(c.list_key().starts_with("R#"));
    assert!(c.set_status(CaseStatus::Open, "s2", now()), "reopened");
    assert_eq!((c.resolved_at, c.resolution.as_ref()), (None, None));
    assert_eq!(
        c.notes.last().unwrap().text,
        "Refunded 5 USD",
        "kept as a note"
    );
    assert!(c.list_key().starts_with("A#"));
}

#[test]
fn active_cases_sort_by_due_time() {
    let high = complaint(Priority::High);
    let low = complaint(Priority::Low);
    assert!(high.list_key() < low.list_key());
}

#[test]
fn a_follow_up_becomes_a_case_with_its_id_and_erasure_removes_the_text() {
    let f = crate::surveys::FollowUp {
        id: "01FOLLOW".into(),
        survey_id: crate::surveys::SurveyId::parse("nps").unwrap(),
        response_id: crate::ExternalId::parse("r1").unwrap(),
        customer_id: Some(crate::CustomerId::parse("c1").unwrap()),
        nps: Some(3),
        csat: None,
        comment: Some("Lag every evening".into()),
        status: crate::surveys::FollowUpStatus::Open,
        opened_at: now(),
        closed_at: None,
        note: None,
        recovery: None,
    };
    let mut c = Case::from_followup(&f, Priority::High, &SlaHours::default());
    assert_eq!(
        (c.case_id.as_str(), c.kind),
        ("01FOLLOW", CaseKind::Followup)
    );
    assert_eq!(c.subject, "NPS 3 · nps");
    assert_eq!(c.description.as_deref(), Some("Lag every evening"));
    assert_eq!(c.followup.as_ref().and_then(|r| r.nps), Some(3));
    c.add_note(CaseNote {
        staff_id: "s1".into(),
        text: "The customer said their name is …".into(),
        at: now(),
    });
    c.resolve("Sent a coupon".into(), now());
    assert!(c.anonymise());
    assert!(!c.anonymise(), "erasure run again");
    assert_eq!(c.customer_id, None);
    assert!(c.subject.is_empty() && c.description.is_none() && c.resolution.is_none());
    assert!(c.notes.iter().all(|n| n.text.is_empty()));
    assert_eq!(c.status, CaseStatus::Resolved, "the figures stay");
}
