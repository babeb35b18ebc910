//! Campaign behaviour on both stores, with a controlled clock: birthday mails in each
//! customer's own time zone, catch-up, 29 February, one mail per period under repeated and
//! concurrent runs, consent and frequency cap, win-back with cooldown and tier coupons, crashed
//! sends retried without a duplicate, the log in export and gone after erasure.

use std::collections::BTreeMap;
use std::sync::Arc;

use fanloop_domain::campaigns::{CampaignKind, MessageStatus, RunReport, SendPlan, SendPlanDue};
use fanloop_domain::clock::ManualClock;
use fanloop_domain::ports::ClaimOutcome;
use fanloop_domain::profile::ProfilePatch;
use fanloop_domain::{CustomerId, TenantId};
use fanloop_tests::{Backend, active, both_stores, campaigns, outbox_files, ts};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

both_stores!(
    birthday_goes_out_in_the_right_hourly_run_once_per_zone,
    feb_29_is_celebrated_on_feb_28_in_common_years,
    a_skipped_run_is_caught_up_but_older_sends_are_not,
    repeated_and_concurrent_runs_send_no_duplicate,
    consent_email_and_frequency_cap_decide_who_gets_mail,
    winback_reaches_exactly_the_inactive_consenting_uncontacted,
    winback_reaches_customers_lapsed_before_it_first_runs_once_each,
    a_crashed_send_is_retried_once_without_a_duplicate,
    messages_are_exported_and_erased,
);

fn cid(s: &str) -> CustomerId {
    CustomerId::parse(s).unwrap()
}

struct Setup {
    backend: Backend,
    tenant: TenantId,
    clock: Arc<ManualClock>,
    campaigns: Arc<fanloop_campaigns::Campaigns>,
    outbox: std::path::PathBuf,
}

async fn setup(backend: Backend, now: &str) -> Setup {
    let (tenant, _) = backend.tenant().await;
    let clock = Arc::new(ManualClock::new(ts(now)));
    let (campaigns, outbox) = campaigns(&backend, clock.clone(), None);
    Setup {
        backend,
        tenant,
        clock,
        campaigns,
        outbox,
    }
}

impl Setup {
    async fn customer(&self, id: &str, body: Value) {
        let patch = ProfilePatch::from_json(body, jiff::civil::date(2026, 11, 22)).unwrap();
        let at = fanloop_domain::Clock::now(self.clock.as_ref());
        self.backend
            .store()
            .upsert_profile(&self.tenant, &cid(id), &patch, at)
            .await
            .unwrap();
    }

    async fn settings(&self, patch: Value) {
        let store = self.backend.store();
        let cur = store.settings(&self.tenant).await.unwrap();
        let merged = cur.settings.merged(patch).unwrap();
        store
            .put_settings(&self.tenant, &merged, cur.version)
            .await
            .unwrap();
    }

    /// Awards `points` for an event that happened at `occurred_at`, reported at `now`.
    async fn accrue(&self, id: &str, event: &str, points: u64, occurred_at: &str, now: Timestamp) {
        let store = self.backend.store();
        let req = fanloop_domain::points::AccrualRequest::from_json(
            json!({"event_id": event, "kind": "bonus", "points": points, "occurred_at": occurred_at}),
            &Default::default(),
            now,
        )
        .unwrap();
        let settings = store.settings(&self.tenant).await.unwrap().settings;
        fanloop_points::service::accrue(
            store.as_ref(),
            &settings,
            &self.tenant,
            &cid(id),
            req,
            now,
        )
        .await
        .ok()
        .unwrap();
    }

    async fn run_at(&self, kind: CampaignKind, at: &str) -> RunReport {
        self.clock.set(ts(at));
        self.campaigns
            .run(&self.tenant, kind, None, false)
            .await
            .unwrap()
    }

    /// The customer's mails: the communication log without its skip markers.
    async fn messages(&self, id: &str) -> Vec<fanloop_domain::campaigns::Message> {
        let mut all = self.log(id).await;
        all.retain(|m| m.status != fanloop_domain::campaigns::MessageStatus::Skipped);
        all
    }

    /// The whole communication log, skip markers included.
    async fn log(&self, id: &str) -> Vec<fanloop_domain::campaigns::Message> {
        self.backend
            .store()
            .messages(&self.tenant, &cid(id))
            .await
            .unwrap()
    }
}

fn consenting(extra: Value) -> Value {
    let mut v = json!({"email": "fan@example.com", "consent": {"email_marketing": true}});
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

fn skipped(r: &RunReport, reason: &str) -> u64 {
    let v = serde_json::to_value(r).unwrap();
    v["skipped"][reason].as_u64().unwrap()
}

async fn birthday_goes_out_in_the_right_hourly_run_once_per_zone(b: Backend) {
    let s = setup(b, "2026-11-23T00:00:00Z").await;
    s.settings(json!({"timezone": "Europe/Berlin"})).await;
    for (id, tz) in [
        ("shanghai", Some("Asia/Shanghai")),
        ("los-angeles", Some("America/Los_Angeles")),
        ("kiritimati", Some("Pacific/Kiritimati")),
        ("tenant-zone", None),
    ] {
        let mut extra = json!({"birthday": "1995-11-25"});
        if let Some(tz) = tz {
            extra["timezone"] = json!(tz);
        }
        s.customer(id, consenting(extra)).await;
    }
    // 10:00 local on 25 November, in UTC.
    let expected: BTreeMap<&str, &str> = [
        ("kiritimati", "2026-11-24T20:00:00Z"),
        ("shanghai", "2026-11-25T02:00:00Z"),
        ("tenant-zone", "2026-11-25T09:00:00Z"),
        ("los-angeles", "2026-11-25T18:00:00Z"),
    ]
    .into();
    let mut first_sent: BTreeMap<String, Timestamp> = BTreeMap::new();
    let mut hour = ts("2026-11-24T00:00:00Z");
    while hour <= ts("2026-11-26T23:00:00Z") {
        let r = s.run_at(CampaignKind::Birthday, &hour.to_string()).await;
        assert_eq!(skipped(&r, "failed"), 0);
        for id in expected.keys() {
            let n = s.messages(id).await.len();
            assert!(n <= 1, "{id} got {n} mails");
            if n == 1 {
                first_sent.entry(id.to_string()).or_insert(hour);
            }
        }
        hour = hour.checked_add(SignedDuration::from_hours(1)).unwrap();
    }
    for (id, at) in expected {
        assert_eq!(first_sent.get(id), Some(&ts(at)), "{id}");
        let m = &s.messages(id).await[0];
        assert_eq!((m.status, m.period.as_str()), (MessageStatus::Sent, "2026"));
    }
    assert_eq!(outbox_files(&s.outbox).len(), 4);
}

async fn feb_29_is_celebrated_on_feb_28_in_common_years(b: Backend) {
    let s = setup(b, "2027-02-27T00:00:00Z").await;
    s.customer("leap", consenting(json!({"birthday": "2000-02-29"})))
        .await;
    let r = s
        .run_at(CampaignKind::Birthday, "2027-02-28T09:00:00Z")
        .await;
    assert_eq!(r.sent, 0, "not before 10:00");
    let r = s
        .run_at(CampaignKind::Birthday, "2027-02-28T10:00:00Z")
        .await;
    assert_eq!((r.candidates, r.sent), (1, 1));
    let r = s
        .run_at(CampaignKind::Birthday, "2027-03-01T10:00:00Z")
        .await;
    assert_eq!(r.sent, 0);
    assert_eq!(s.messages("leap").await[0].period, "2027");
    // In a leap year it is the 29th again, and not the 28th.
    let r = s
        .run_at(CampaignKind::Birthday, "2028-02-28T10:00:00Z")
        .await;
    assert_eq!(r.candidates, 0);
    let r = s
        .run_at(CampaignKind::Birthday, "2028-02-29T10:00:00Z")
        .await;
    assert_eq!(r.sent, 1);
    assert_eq!(s.messages("leap").await.len(), 2);
}

async fn a_skipped_run_is_caught_up_but_older_sends_are_not(b: Backend) {
    let s = setup(b, "2026-11-25T00:00:00Z").await;
    // Shanghai: due 02:00Z; the runs of 02:00 to 06:00 never happened.
    s.customer(
        "sh",
        consenting(json!({"birthday": "--11-25", "timezone": "Asia/Shanghai"})),
    )
    .await;
    // Honolulu, 10:00 on 24 Nov = 20:00Z on the 24th: more than 24 h before the 21:00Z run below.
    s.customer(
        "hnl",
        consenting(json!({"birthday": "--11-24", "timezone": "Pacific/Honolulu"})),
    )
    .await;
    let r = s
        .run_at(CampaignKind::Birthday, "2026-11-25T01:00:00Z")
        .await;
    assert_eq!(
        r.sent, 1,
        "Honolulu is due (20:00Z on the 24th), Shanghai not yet"
    );
    assert_eq!(s.messages("sh").await.len(), 0);
    let r = s
        .run_at(CampaignKind::Birthday, "2026-11-25T07:00:00Z")
        .await;
    assert_eq!(r.sent, 1, "made good five hours late");
    assert_eq!(s.messages("sh").await.len(), 1);

    // A customer added later whose send moment is now more than 24 h past gets nothing.
    s.customer(
        "late",
        consenting(json!({"birthday": "--11-24", "timezone": "Pacific/Honolulu"})),
    )
    .await;
    let r = s
        .run_at(CampaignKind::Birthday, "2026-11-25T21:00:00Z")
        .await;
    assert_eq!(r.sent, 0);
    assert_eq!(s.messages("late").await.len(), 0);
}

async fn repeated_and_concurrent_runs_send_no_duplicate(b: Backend) {
    let s = setup(b, "2026-11-25T10:00:00Z").await;
    for i in 0..20 {
        s.customer(&format!("c{i}"), consenting(json!({"birthday": "--11-25"})))
            .await;
    }
    let run = || {
        s.campaigns
            .run(&s.tenant, CampaignKind::Birthday, None, false)
    };
    let (a, b2, c) = tokio::join!(run(), run(), run());
    let (a, b2, c) = (a.unwrap(), b2.unwrap(), c.unwrap());
    assert_eq!(a.sent + b2.sent + c.sent, 20, "{a:?} {b2:?} {c:?}");
    let again = run().await.unwrap();
    assert_eq!((again.candidates, again.sent), (20, 0));
    assert_eq!(skipped(&again, "already_sent"), 20);
    for i in 0..20 {
        assert_eq!(s.messages(&format!("c{i}")).await.len(), 1);
    }
    assert_eq!(outbox_files(&s.outbox).len(), 20);
    // A backfill for an earlier moment is still one mail per period.
    s.clock.set(ts("2026-11-25T11:00:00Z"));
    let back = s
        .campaigns
        .run(
            &s.tenant,
            CampaignKind::Birthday,
            Some(ts("2026-11-25T10:30:00Z")),
            false,
        )
        .await
        .unwrap();
    assert_eq!(back.sent, 0);
    // Nothing may go out early: an as_of more than 5 minutes ahead is refused.
    assert!(
        s.campaigns
            .run(
                &s.tenant,
                CampaignKind::Birthday,
                Some(ts("2026-11-25T11:06:00Z")),
                false
            )
            .await
            .is_err()
    );
}

async fn consent_email_and_frequency_cap_decide_who_gets_mail(b: Backend) {
    let s = setup(b, "2026-11-25T10:00:00Z").await;
    s.settings(json!({"campaigns": {"frequency_cap": {"max_mails": 1, "per_days": 7}}}))
        .await;
    s.customer("yes", consenting(json!({"birthday": "--11-25"})))
        .await;
    s.customer(
        "never-said",
        json!({"email": "a@example.com", "birthday": "--11-25"}),
    )
    .await;
    s.customer("said-no", json!({"email": "b@example.com", "birthday": "--11-25", "consent": {"email_marketing": false}})).await;
    s.customer(
        "no-email",
        json!({"birthday": "--11-25", "consent": {"email_marketing": true}}),
    )
    .await;
    s.customer("yes-too", consenting(json!({"birthday": "--11-25"})))
        .await;

    let dry = s
        .campaigns
        .run(&s.tenant, CampaignKind::Birthday, None, true)
        .await
        .unwrap();
    let who: Vec<&str> = dry
        .recipients
        .as_ref()
        .unwrap()
        .iter()
        .map(|r| r.customer_id.as_str())
        .collect();
    assert_eq!(who, ["yes", "yes-too"]);
    assert_eq!(dry.sent, 0);
    assert!(
        outbox_files(&s.outbox).is_empty(),
        "a dry run writes nothing"
    );
    assert!(s.messages("yes").await.is_empty());

    let r = s
        .run_at(CampaignKind::Birthday, "2026-11-25T10:00:00Z")
        .await;
    assert_eq!((r.candidates, r.sent), (5, 2));
    assert_eq!(skipped(&r, "no_consent"), 2);
    assert_eq!(skipped(&r, "no_email"), 1);
    // The cap (1 marketing mail per 7 days, across campaigns) now holds back the win-back
    // these two would get once inactive for a day.
    let w = s
        .campaigns
        .run(
            &s.tenant,
            CampaignKind::Winback,
            Some(ts("2026-12-26T10:00:00Z")),
            false,
        )
        .await;
    assert!(w.is_err(), "as_of ahead of the clock is refused");
    s.clock.set(ts("2026-11-26T10:00:00Z"));
    s.settings(json!({"campaigns": {"winback": {"inactive_days": 1}}}))
        .await;
    let w = s
        .run_at(CampaignKind::Winback, "2026-11-26T10:00:00Z")
        .await;
    assert_eq!(w.sent, 0, "{w:?}");
    assert_eq!(skipped(&w, "suppressed"), 2, "{w:?}");
    let w = s
        .run_at(CampaignKind::Winback, "2026-12-02T10:00:00Z")
        .await;
    assert_eq!(w.sent, 2, "after the 7 days the cap allows again: {w:?}");
}

async fn winback_reaches_exactly_the_inactive_consenting_uncontacted(b: Backend) {
    let s = setup(b, "2026-10-01T12:00:00Z").await;
    s.settings(json!({"campaigns": {"winback": {"value_minor_by_tier": {"normal": 1500}}}}))
        .await;
    s.customer("idle", consenting(json!({}))).await;
    s.customer("idle-no-consent", json!({"email": "x@example.com"}))
        .await;
    s.customer("idle-normal", consenting(json!({}))).await;
    s.clock.set(ts("2026-10-20T12:00:00Z"));
    s.customer("recent", consenting(json!({}))).await;
    // idle-normal earns into the `normal` tier (1,000 points) without counting as activity
    // later than 1 October: its accrual happened on 1 October.
    let store = s.backend.store();
    s.accrue(
        "idle-normal",
        "e1",
        1000,
        "2026-10-01T12:00:00Z",
        ts("2026-10-01T12:00:00Z"),
    )
    .await;

    let r = s
        .run_at(CampaignKind::Winback, "2026-10-31T09:00:00Z")
        .await;
    assert_eq!((r.candidates, r.sent), (3, 2), "{r:?}");
    assert_eq!(skipped(&r, "no_consent"), 1);
    assert!(s.messages("recent").await.is_empty());
    let coupon_value = |id: &'static str| {
        let store = store.clone();
        let tenant = s.tenant.clone();
        async move {
            let export = store
                .export_customer(&tenant, &cid(id))
                .await
                .unwrap()
                .unwrap();
            export
                .coupons
                .iter()
                .find(|c| c.source.starts_with("campaign:winback"))
                .unwrap()
                .value_minor
        }
    };
    assert_eq!(coupon_value("idle").await, 500);
    assert_eq!(coupon_value("idle-normal").await, 1500, "tier value");
    let again = s
        .run_at(CampaignKind::Winback, "2026-10-31T10:00:00Z")
        .await;
    assert_eq!(again.sent, 0);
    let next_day = s
        .run_at(CampaignKind::Winback, "2026-11-01T09:00:00Z")
        .await;
    assert_eq!(next_day.sent, 0);

    // "idle" comes back, then lapses again: 30 days later it is inactive again, but its last
    // win-back mail is within the 90-day cooldown.
    store
        .record_activity(&s.tenant, &cid("idle"), active("2026-11-02T12:00:00Z"))
        .await
        .unwrap();
    let r = s
        .run_at(CampaignKind::Winback, "2026-12-02T09:00:00Z")
        .await;
    assert_eq!(r.candidates, 1);
    assert_eq!((r.sent, skipped(&r, "suppressed")), (0, 1));
}

/// The backlog: customers already lapsed when win-back first runs (31, 52, 119 and 200 days:
/// only the first is a threshold crossing a daily run reads), one imported later with an old
/// last activity, and those a lowered threshold makes lapsed, each get one mail, and no run
/// after sends them another.
async fn winback_reaches_customers_lapsed_before_it_first_runs_once_each(b: Backend) {
    let first_run = ts("2026-12-01T09:00:00Z");
    let days_before = |n: i64| {
        first_run
            .checked_sub(SignedDuration::from_hours(24 * n))
            .unwrap()
    };
    let s = setup(b, "2026-01-01T00:00:00Z").await;
    let lapsed = ["lapsed-200", "lapsed-119", "lapsed-52", "lapsed-31"];
    for (id, days) in lapsed.iter().zip([200, 119, 52, 31]) {
        s.clock.set(days_before(days));
        s.customer(id, consenting(json!({}))).await;
    }
    s.clock.set(days_before(90));
    s.customer("lapsed-no-consent", json!({"email": "x@example.com"}))
        .await;
    s.clock.set(days_before(10));
    s.customer("active-10", consenting(json!({}))).await;

    let r = s
        .run_at(CampaignKind::Winback, &first_run.to_string())
        .await;
    assert_eq!(r.sent, 4, "{r:?}");
    assert_eq!(skipped(&r, "no_consent"), 1, "{r:?}");
    for id in lapsed {
        assert_eq!(s.messages(id).await.len(), 1, "{id}");
    }
    assert!(s.messages("active-10").await.is_empty());
    for later in ["2026-12-01T10:00:00Z", "2026-12-02T09:00:00Z"] {
        let r = s.run_at(CampaignKind::Winback, later).await;
        assert_eq!(r.sent, 0, "{later}: {r:?}");
    }

    // Imported after the pass has finished, with activity 80 days old: marked, mailed once.
    s.customer("imported", consenting(json!({}))).await;
    let now = ts("2026-12-02T09:00:00Z");
    let eighty_ago = now
        .checked_sub(SignedDuration::from_hours(24 * 80))
        .unwrap();
    let late = fanloop_domain::campaigns::backlog::Activity::new(eighty_ago, now);
    assert!(late.late);
    assert!(
        s.backend
            .store()
            .record_activity(&s.tenant, &cid("imported"), late)
            .await
            .unwrap()
    );
    // And one whose imported history is a purchase 60 days ago.
    s.customer("imported-buyer", consenting(json!({}))).await;
    s.accrue(
        "imported-buyer",
        "import-1",
        10,
        "2026-10-03T12:00:00Z",
        now,
    )
    .await;
    let r = s
        .run_at(CampaignKind::Winback, "2026-12-02T10:00:00Z")
        .await;
    assert_eq!(r.sent, 2, "{r:?}");
    assert_eq!(s.messages("imported").await.len(), 1);
    assert_eq!(s.messages("imported-buyer").await.len(), 1);
    assert!(
        s.backend
            .store()
            .late_actives(&s.tenant, 10)
            .await
            .unwrap()
            .is_empty(),
        "the marker is cleared"
    );
    let r = s
        .run_at(CampaignKind::Winback, "2026-12-03T09:00:00Z")
        .await;
    assert_eq!(r.sent, 0, "{r:?}");
    assert_eq!(s.messages("imported").await.len(), 1);

    // 28 days idle: not lapsed at 30 days; a threshold of 20 starts the pass again.
    s.clock.set(ts("2026-11-05T09:00:00Z"));
    s.customer("idle-28", consenting(json!({}))).await;
    let r = s
        .run_at(CampaignKind::Winback, "2026-12-03T10:00:00Z")
        .await;
    assert_eq!(r.sent, 0, "{r:?}");
    s.settings(json!({"campaigns": {"winback": {"inactive_days": 20}}}))
        .await;
    let r = s
        .run_at(CampaignKind::Winback, "2026-12-03T11:00:00Z")
        .await;
    assert_eq!(r.sent, 1, "{r:?}");
    assert_eq!(s.messages("idle-28").await.len(), 1);
    for id in lapsed {
        assert_eq!(s.messages(id).await.len(), 1, "{id} is within its cooldown");
        let skipped: Vec<_> = s
            .log(id)
            .await
            .into_iter()
            .filter_map(|m| m.reason)
            .collect();
        assert!(
            skipped.len() <= 1
                && skipped
                    .iter()
                    .all(|r| *r == fanloop_domain::campaigns::SkipReason::Suppressed),
            "{id}: a cooldown skip is recorded once, as suppressed: {skipped:?}"
        );
    }
    let r = s
        .run_at(CampaignKind::Winback, "2026-12-04T09:00:00Z")
        .await;
    assert_eq!(r.sent, 0, "{r:?}");
}

async fn a_crashed_send_is_retried_once_without_a_duplicate(b: Backend) {
    let s = setup(b, "2026-11-25T10:00:00Z").await;
    s.customer("c", consenting(json!({"birthday": "--11-25"})))
        .await;
    // A run claims the send and dies before sending.
    let settings = s
        .backend
        .store()
        .settings(&s.tenant)
        .await
        .unwrap()
        .settings;
    let plan = SendPlan {
        campaign: CampaignKind::Birthday.into(),
        rule: fanloop_domain::campaigns::SendRule::Builtin(CampaignKind::Birthday),
        period: "2026".into(),
        now: ts("2026-11-25T10:00:00Z"),
        cap: Some(settings.campaigns.frequency_cap.clone()),
        due: SendPlanDue::from_settings(&settings, ts("2026-11-25T10:00:00Z")),
        message_id: "01KAAAAAAAAAAAAAAAAAAAAAAA".into(),
        coupon_code: fanloop_domain::points::CouponCode::generate(
            &fanloop_domain::tenant::OsRandom,
        )
        .unwrap(),
        offer: Some(settings.campaigns.birthday.coupon.clone()),
        holdout_percent: 0,
        quiet_hours: None,
        attribution_days: 7,
        address_suppressed: false,
        locale: fanloop_domain::values::Locale::parse("en").unwrap(),
        template: "birthday/en".into(),
    };
    let store = s.backend.store();
    let claimed = store
        .claim_send(&s.tenant, &plan, &cid("c"), None)
        .await
        .unwrap();
    let ClaimOutcome::Claimed(claim, _) = claimed else {
        panic!("{claimed:?}")
    };
    let code = claim.coupon.unwrap().code;

    let r = s
        .run_at(CampaignKind::Birthday, "2026-11-25T10:10:00Z")
        .await;
    assert_eq!(
        (r.sent, skipped(&r, "in_progress")),
        (0, 1),
        "the lease still holds"
    );
    let r = s
        .run_at(CampaignKind::Birthday, "2026-11-25T10:20:00Z")
        .await;
    assert_eq!(r.sent, 1, "taken over after the lease");
    let r = s
        .run_at(CampaignKind::Birthday, "2026-11-25T11:00:00Z")
        .await;
    assert_eq!((r.sent, skipped(&r, "already_sent")), (0, 1));
    let m = s.messages("c").await;
    assert_eq!(m.len(), 1);
    assert_eq!(
        (m[0].id.as_str(), m[0].attempts, m[0].status),
        ("01KAAAAAAAAAAAAAAAAAAAAAAA", 2, MessageStatus::Sent)
    );
    assert_eq!(
        m[0].coupon.as_ref(),
        Some(&code),
        "the coupon of the first claim"
    );
    let files = outbox_files(&s.outbox);
    assert_eq!(files.len(), 1);
    assert!(files[0].1.contains(code.as_str()));
}

async fn messages_are_exported_and_erased(b: Backend) {
    let s = setup(b, "2026-11-25T10:00:00Z").await;
    s.customer(
        "c",
        consenting(json!({"birthday": "--11-25", "display_name": "Zhang Wei"})),
    )
    .await;
    assert_eq!(
        s.run_at(CampaignKind::Birthday, "2026-11-25T10:00:00Z")
            .await
            .sent,
        1
    );
    let store = s.backend.store();
    let export = store
        .export_customer(&s.tenant, &cid("c"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(export.messages.len(), 1);
    let subject = export.messages[0].subject.clone().unwrap();
    assert!(subject.contains("Zhang Wei"), "{subject}");
    let erased = store
        .erase_customer(&s.tenant, &cid("c"), "~erased-x")
        .await
        .unwrap()
        .expect("the customer existed");
    assert_eq!(
        erased.message_ids,
        vec![export.messages[0].id.clone()],
        "erasure names the messages whose copies must go"
    );
    assert!(
        store
            .messages(&s.tenant, &cid("c"))
            .await
            .unwrap()
            .is_empty()
    );
    let dump = s.backend.dump(&s.tenant).await.join("\n");
    assert!(
        !dump.contains("Zhang Wei"),
        "no subject with the name is left"
    );
    assert!(!dump.contains("fan@example.com"));
}
