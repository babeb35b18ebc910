//! Cases through the store port and the use cases, on SQLite and DynamoDB: one case per
//! `case_id` under 20 concurrent retries, a reused id refused, unknown customers open nothing,
//! the queue by due time in pages, the resolved list, no lost update under 20 concurrent
//! notes, a detractor's follow-up becoming one case that closes with it, the export, and
//! erasure leaving no case text on the store.

use std::sync::Arc;

use fanloop_domain::cases::{
    CaseAuthor, CaseInput, CaseKind, CaseNote, CaseStatus, CaseView, Priority,
};
use fanloop_domain::ports::Store;
use fanloop_domain::surveys::{FollowUpStatus, ResponseInput, SurveyId, SurveyResponse};
use fanloop_domain::tenant::OsRandom;
use fanloop_domain::{CustomerId, TenantId, TenantSettings};
use fanloop_services::cases::{self, CaseError, Opened};
use fanloop_tests::{Backend, both_stores, ts};
use jiff::Timestamp;
use serde_json::{Value, json};

both_stores!(
    twenty_concurrent_retries_open_one_case,
    the_queue_is_by_due_time_and_resolved_cases_leave_it,
    twenty_concurrent_notes_are_all_kept,
    a_detractor_answer_opens_one_case_that_closes_with_its_follow_up,
    export_has_the_cases_and_erasure_leaves_no_case_text,
);

const NOW: &str = "2026-06-01T12:00:00Z";

async fn customer(b: &Backend, id: &str) -> (Arc<dyn Store>, TenantId, CustomerId) {
    let store = b.store();
    let (t, _) = b.tenant().await;
    let c = CustomerId::parse(id).unwrap();
    let p = fanloop_domain::ProfilePatch::from_json(
        json!({"email": "complainer@example.com"}),
        jiff::civil::date(2026, 1, 1),
    )
    .unwrap();
    store
        .upsert_profile(&t, &c, &p, ts("2026-01-01T00:00:00Z"))
        .await
        .unwrap();
    (store, t, c)
}

fn key() -> CaseAuthor {
    CaseAuthor::ApiKey {
        key_id: "support-tool".into(),
    }
}

async fn open(
    store: &dyn Store,
    t: &TenantId,
    v: Value,
    now: Timestamp,
) -> Result<Opened, CaseError> {
    let input = CaseInput::parse(v).unwrap();
    cases::open_case(
        store,
        &OsRandom,
        &TenantSettings::default(),
        t,
        input,
        key(),
        now,
    )
    .await
}

async fn twenty_concurrent_retries_open_one_case(b: Backend) {
    let (store, t, c) = customer(&b, "double-charged").await;
    let body = json!({"case_id": "ticket-1", "customer_id": c.as_str(), "kind": "complaint",
                      "subject": "Charged twice for the battle pass"});
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (store, t, body) = (store.clone(), t.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            open(store.as_ref(), &t, body, ts(NOW)).await.unwrap()
        }));
    }
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Opened::Created(_) => created += 1,
            Opened::Duplicate(k) => assert_eq!(k.case_id, "ticket-1"),
        }
    }
    assert_eq!(created, 1, "exactly one of 20 racing requests opens it");
    let queue = store.cases(&t, CaseView::Active, None, 10).await.unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].version, 1);
    assert_eq!(
        queue[0].priority,
        Priority::Normal,
        "a new customer is not high-value"
    );
    assert_eq!(
        queue[0].due_at,
        ts("2026-06-02T12:00:00Z"),
        "the normal SLA is 24 h"
    );
    let other = json!({"case_id": "ticket-1", "customer_id": c.as_str(), "kind": "feedback",
                       "subject": "Something else"});
    assert!(matches!(
        open(store.as_ref(), &t, other, ts(NOW)).await,
        Err(CaseError::Reused)
    ));
    let ghost = json!({"customer_id": "nobody-here", "kind": "complaint", "subject": "Hello?"});
    assert!(matches!(
        open(store.as_ref(), &t, ghost, ts(NOW)).await,
        Err(CaseError::UnknownCustomer)
    ));
    assert_eq!(
        store
            .cases(&t, CaseView::Active, None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn the_queue_is_by_due_time_and_resolved_cases_leave_it(b: Backend) {
    let (store, t, c) = customer(&b, "regular").await;
    // Seven cases opened an hour apart, priorities mixed: due = opened + 4 / 24 / 72 h.
    let priorities = ["low", "normal", "high", "normal", "low", "high", "normal"];
    for (i, p) in priorities.iter().enumerate() {
        let at = ts(NOW) + jiff::SignedDuration::from_hours(i as i64);
        let body = json!({"customer_id": c.as_str(), "kind": "feedback",
                          "subject": format!("case {i}"), "priority": p});
        assert!(matches!(
            open(store.as_ref(), &t, body, at).await.unwrap(),
            Opened::Created(_)
        ));
    }
    let whole = store.cases(&t, CaseView::Active, None, 100).await.unwrap();
    assert_eq!(whole.len(), 7);
    let subjects: Vec<_> = whole.iter().map(|k| k.subject.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "case 2", "case 5", "case 1", "case 3", "case 6", "case 0", "case 4"
        ],
        "soonest due first"
    );
    let mut paged = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .cases(&t, CaseView::Active, after.as_deref(), 3)
            .await
            .unwrap();
        let done = page.len() < 3;
        after = page.last().map(|k| k.list_key());
        paged.extend(page);
        if done {
            break;
        }
    }
    assert_eq!(paged, whole, "pages of 3 give each case once, in order");
    // Resolve two (the second later), put one on hold: the queue keeps five, pending ones too.
    for (i, at) in [(2, "2026-06-01T13:00:00Z"), (6, "2026-06-01T14:00:00Z")] {
        let id = &whole[if i == 2 { 0 } else { 4 }].case_id;
        let done = cases::resolve(store.as_ref(), &t, id, format!("done {i}"), ts(at))
            .await
            .unwrap();
        assert!(done.is_some());
        let again = cases::resolve(store.as_ref(), &t, id, "again".into(), ts(at))
            .await
            .unwrap();
        assert!(again.is_none(), "resolving twice changes nothing");
    }
    let pending = &whole[1].case_id;
    cases::change_case(store.as_ref(), &t, pending, |k| {
        k.set_status(CaseStatus::Pending, "s1", ts(NOW))
    })
    .await
    .unwrap()
    .unwrap();
    let queue = store.cases(&t, CaseView::Active, None, 100).await.unwrap();
    let subjects: Vec<_> = queue.iter().map(|k| k.subject.as_str()).collect();
    assert_eq!(subjects, ["case 5", "case 1", "case 3", "case 0", "case 4"]);
    assert_eq!(queue[0].status, CaseStatus::Pending);
    let resolved = store
        .cases(&t, CaseView::Resolved, None, 100)
        .await
        .unwrap();
    let subjects: Vec<_> = resolved.iter().map(|k| k.subject.as_str()).collect();
    assert_eq!(subjects, ["case 6", "case 2"], "newest resolved first");
    assert_eq!(resolved[0].resolution.as_deref(), Some("done 6"));
    let page = store
        .cases(&t, CaseView::Resolved, Some(&resolved[0].list_key()), 10)
        .await
        .unwrap();
    assert_eq!(page, resolved[1..]);
    let mine = store.customer_cases(&t, &c, 3).await.unwrap();
    let subjects: Vec<_> = mine.iter().map(|k| k.subject.as_str()).collect();
    assert_eq!(
        subjects,
        ["case 6", "case 5", "case 4"],
        "the customer's, newest first"
    );
}

async fn twenty_concurrent_notes_are_all_kept(b: Backend) {
    let (store, t, c) = customer(&b, "busy-case").await;
    let body = json!({"case_id": "busy", "customer_id": c.as_str(), "kind": "complaint",
                      "subject": "Lost items"});
    open(store.as_ref(), &t, body, ts(NOW)).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (store, t) = (store.clone(), t.clone());
        tasks.push(tokio::spawn(async move {
            let note = CaseNote {
                staff_id: format!("s{i}"),
                text: format!("note {i}"),
                at: ts(NOW),
            };
            // The use case retries a lost race 10 times; a caller sees the rest as a conflict
            // to retry (the console answers it so), as a client would.
            loop {
                match cases::change_case(store.as_ref(), &t, "busy", |k| k.add_note(note.clone()))
                    .await
                {
                    Err(CaseError::Store(fanloop_domain::ports::StoreError::Conflict)) => continue,
                    other => break other,
                }
            }
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap().unwrap().is_some());
    }
    let case = store.case(&t, "busy").await.unwrap().unwrap();
    let mut texts: Vec<_> = case.notes.iter().map(|n| n.text.clone()).collect();
    texts.sort();
    let mut expected: Vec<_> = (0..20).map(|i| format!("note {i}")).collect();
    expected.sort();
    assert_eq!(texts, expected, "no note lost to a concurrent write");
    assert_eq!(case.version, 21);
}

async fn a_detractor_answer_opens_one_case_that_closes_with_its_follow_up(b: Backend) {
    let (store, t, c) = customer(&b, "detractor").await;
    let settings = TenantSettings::default();
    let top = settings.points.tiers.last().unwrap().name.clone();
    let input = ResponseInput::from_json(
        json!({"response_id": "r1", "customer_id": c.as_str(), "nps": 2, "comment": "Lag all week"}),
        "",
        ts(NOW),
        false,
    )
    .unwrap()
    .1;
    let segment = Some(fanloop_domain::surveys::Segment {
        tier: top,
        stage: fanloop_domain::lifecycle::Stage::Maturity,
    });
    let response = SurveyResponse::new(
        SurveyId::parse("nps").unwrap(),
        input,
        segment,
        &jiff::tz::TimeZone::UTC,
        ts(NOW),
        || "01JFOLLOWUP0000000000000000".into(),
    );
    store.record_response(&t, &response).await.unwrap();
    for _ in 0..3 {
        cases::open_followup_case(store.as_ref(), &settings, &t, &response)
            .await
            .unwrap();
    }
    let queue = store.cases(&t, CaseView::Active, None, 10).await.unwrap();
    assert_eq!(queue.len(), 1, "a retried answer opens one case");
    let case = &queue[0];
    assert_eq!(case.case_id, "01JFOLLOWUP0000000000000000");
    assert_eq!(case.kind, CaseKind::Followup);
    assert_eq!(case.priority, Priority::High, "the top tier comes first");
    assert_eq!(case.due_at, ts("2026-06-01T16:00:00Z"));
    assert_eq!(case.description.as_deref(), Some("Lag all week"));
    cases::resolve(
        store.as_ref(),
        &t,
        &case.case_id,
        "Sent a coupon".into(),
        ts(NOW),
    )
    .await
    .unwrap()
    .unwrap();
    let f = store.followup(&t, &case.case_id).await.unwrap().unwrap();
    assert_eq!(
        f.status,
        FollowUpStatus::Closed,
        "the follow-up closes with the case"
    );
    assert_eq!(f.note.as_deref(), Some("Sent a coupon"));
    // The other way round: a follow-up closed through its API resolves the case.
    let response2 = SurveyResponse::new(
        SurveyId::parse("nps").unwrap(),
        ResponseInput::from_json(
            json!({"response_id": "r2", "customer_id": c.as_str(), "csat": 1}),
            "",
            ts(NOW),
            false,
        )
        .unwrap()
        .1,
        None,
        &jiff::tz::TimeZone::UTC,
        ts(NOW),
        || "01JFOLLOWUP0000000000000001".into(),
    );
    store.record_response(&t, &response2).await.unwrap();
    cases::open_followup_case(store.as_ref(), &settings, &t, &response2)
        .await
        .unwrap();
    let id = "01JFOLLOWUP0000000000000001";
    assert_eq!(
        store.case(&t, id).await.unwrap().unwrap().priority,
        Priority::Normal
    );
    cases::followup_closed(store.as_ref(), &t, id, None, ts(NOW))
        .await
        .unwrap();
    let k = store.case(&t, id).await.unwrap().unwrap();
    assert_eq!(k.status, CaseStatus::Resolved);
    assert!(
        store
            .cases(&t, CaseView::Active, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn export_has_the_cases_and_erasure_leaves_no_case_text(b: Backend) {
    let (store, t, c) = customer(&b, "erase-my-cases").await;
    let body = json!({"case_id": "t-9", "customer_id": c.as_str(), "kind": "complaint",
                      "subject": "Refund for the VIP badge 徽章",
                      "description": "Bought twice from the phone of Mrs Wu"});
    open(store.as_ref(), &t, body, ts(NOW)).await.unwrap();
    cases::change_case(store.as_ref(), &t, "t-9", |k| {
        k.add_note(CaseNote {
            staff_id: "s1".into(),
            text: "Called back on +44 7700 900123".into(),
            at: ts(NOW),
        })
    })
    .await
    .unwrap();
    let export = store.export_customer(&t, &c).await.unwrap().unwrap();
    assert_eq!(export.cases.len(), 1);
    assert_eq!(export.cases[0].notes.len(), 1);
    store
        .erase_customer(&t, &c, "~erased-cases")
        .await
        .unwrap()
        .unwrap();
    let dump = b.dump(&t).await.join("\n");
    for text in ["VIP badge", "Mrs Wu", "7700 900123", "erase-my-cases"] {
        assert!(!dump.contains(text), "{text} is gone");
    }
    let k = store.case(&t, "t-9").await.unwrap().unwrap();
    assert_eq!(
        (k.customer_id, k.kind),
        (None, CaseKind::Complaint),
        "the figures stay"
    );
    assert_eq!(
        store
            .cases(&t, CaseView::Active, None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}
