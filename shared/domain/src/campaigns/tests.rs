use jiff::Timestamp;

use super::*;
use crate::points::{Account, CouponCode};
use crate::profile::Profile;
use crate::tenant::OsRandom;
use crate::values::Locale;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn recipient(consent: bool, email: bool) -> Recipient {
    let mut patch = serde_json::json!({"birthday": "--11-25"});
    if email {
        patch["email"] = "fan@example.com".into();
    }
    patch["consent"] = serde_json::json!({"email_marketing": consent});
    let patch =
        crate::profile::ProfilePatch::from_json(patch, jiff::civil::date(2026, 1, 1)).unwrap();
    let mut profile = Profile::new(
        crate::CustomerId::parse("c").unwrap(),
        ts("2026-01-01T00:00:00Z"),
    );
    profile.apply(&patch, ts("2026-01-01T00:00:00Z"));
    Recipient {
        profile,
        account: Account::default(),
        contact: ContactState::default(),
    }
}

fn plan(kind: CampaignKind, now: &str) -> SendPlan {
    let s = CampaignSettings::default();
    SendPlan {
        campaign: kind.into(),
        rule: SendRule::Builtin(kind),
        period: match kind {
            CampaignKind::Birthday => "2026".into(),
            CampaignKind::Winback => "2026-01-01+0".into(),
            CampaignKind::Recovery => "01JRECOVERY".into(),
        },
        now: ts(now),
        cap: Some(s.frequency_cap.clone()),
        due: SendPlanDue {
            as_of: ts(now),
            send_hour: 10,
            default_tz: crate::values::TimeZoneName::utc(),
            inactive_days: 30,
            cooldown_days: 90,
            recovery_cooldown_days: 30,
        },
        message_id: new_message_id(ts(now), &OsRandom).unwrap(),
        coupon_code: CouponCode::generate(&OsRandom).unwrap(),
        offer: Some(s.birthday.coupon.clone()),
        holdout_percent: 0,
        quiet_hours: None,
        attribution_days: 7,
        address_suppressed: false,
        locale: Locale::parse("en").unwrap(),
        template: "birthday/en".into(),
    }
}

#[test]
fn consent_and_address_are_required() {
    let p = plan(CampaignKind::Birthday, "2026-11-25T10:00:00Z");
    assert_eq!(
        decide(&p, &recipient(false, true), None),
        Err(SkipReason::NoConsent)
    );
    assert_eq!(
        decide(&p, &recipient(true, false), None),
        Err(SkipReason::NoEmail)
    );
    let claim = decide(&p, &recipient(true, true), None).unwrap();
    assert_eq!(claim.message.status, MessageStatus::Pending);
    assert_eq!(
        claim.coupon.as_ref().unwrap().source,
        "campaign:birthday:2026"
    );
    assert_eq!(claim.contact.last[&CampaignKind::Birthday.into()].0, "2026");
}

#[test]
fn the_frequency_cap_counts_every_campaign_in_the_window() {
    let mut r = recipient(true, true);
    let p = plan(CampaignKind::Birthday, "2026-11-25T10:00:00Z");
    r.contact.record(
        &CampaignKind::Winback.into(),
        "x",
        ts("2026-11-19T11:00:00Z"),
    );
    r.contact.record(
        &CampaignKind::Winback.into(),
        "y",
        ts("2026-11-24T11:00:00Z"),
    );
    assert_eq!(decide(&p, &r, None), Err(SkipReason::Suppressed));
    let later = plan(CampaignKind::Birthday, "2026-11-26T12:00:00Z");
    let mut later = later;
    later.due.as_of = ts("2026-11-25T10:00:00Z");
    assert!(
        decide(&later, &r, None).is_ok(),
        "the older mail left the 7-day window"
    );
}

#[test]
fn markers_decide_first_and_crashed_or_failed_sends_are_retaken() {
    let r = recipient(true, true);
    let p = plan(CampaignKind::Birthday, "2026-11-25T10:00:00Z");
    let first = decide(&p, &r, None).unwrap().message;
    let mut sent = first.clone();
    sent.status = MessageStatus::Sent;
    assert_eq!(decide(&p, &r, Some(&sent)), Err(SkipReason::AlreadySent));
    assert_eq!(decide(&p, &r, Some(&first)), Err(SkipReason::InProgress));
    let mut p2 = plan(CampaignKind::Birthday, "2026-11-25T10:15:00Z");
    p2.due.as_of = ts("2026-11-25T10:15:00Z");
    let retake = decide(&p2, &r, Some(&first)).unwrap();
    assert_eq!(
        (
            retake.message.id.as_str(),
            retake.message.attempts,
            retake.expect
        ),
        (first.id.as_str(), 2, super::tally::Expect::Attempt(1))
    );
    assert!(retake.coupon.is_none(), "the first claim's coupon stays");
    let mut failed = first.clone();
    failed.status = MessageStatus::Failed;
    failed.attempts = MAX_ATTEMPTS;
    assert_eq!(decide(&p2, &r, Some(&failed)), Err(SkipReason::Failed));
    assert_eq!(
        decide(&p2, &recipient(false, true), Some(&first)),
        Err(SkipReason::NoConsent),
        "consent is checked again"
    );
}

#[test]
fn recovery_needs_no_calendar_but_keeps_its_cooldown() {
    let mut r = recipient(true, true);
    let mut p = plan(CampaignKind::Recovery, "2026-06-01T10:00:00Z");
    p.period = "01FOLLOWUPA".into();
    let claim = decide(&p, &r, None).expect("any day, no birthday needed");
    assert_eq!(claim.message.campaign, CampaignKind::Recovery);
    r.contact = claim.contact;
    let mut again = plan(CampaignKind::Recovery, "2026-06-30T09:00:00Z");
    again.period = "01FOLLOWUPB".into();
    assert_eq!(decide(&again, &r, None), Err(SkipReason::Suppressed));
    let mut later = plan(CampaignKind::Recovery, "2026-07-01T10:00:01Z");
    later.period = "01FOLLOWUPC".into();
    assert!(decide(&later, &r, None).is_ok(), "30 days later");
    assert_eq!(CampaignKind::parse("recovery"), None, "not a scheduled run");
}

#[test]
fn message_ids_are_time_ordered_ulids() {
    let a = new_message_id(ts("2026-11-25T10:00:00Z"), &OsRandom).unwrap();
    let b = new_message_id(ts("2026-11-25T10:00:01Z"), &OsRandom).unwrap();
    assert_eq!(a.len(), 26);
    assert!(a < b);
    let decoded = ulid::Ulid::from_string(&a).unwrap();
    assert_eq!(decoded.timestamp_ms(), 1_795_600_800_000, "{a}");
}

fn broadcast(at: &str) -> std::sync::Arc<super::broadcast::BroadcastRule> {
    let at: super::definition::LocalDateTime =
        serde_json::from_value(serde_json::json!(at)).unwrap();
    std::sync::Arc::new(super::broadcast::BroadcastRule {
        at,
        audience: super::audience::AudienceCheck {
            filter: None,
            settings: Default::default(),
        },
    })
}

#[test]
fn a_broadcast_is_due_from_its_local_moment_for_a_day() {
    let b = broadcast("2027-02-10T10:00");
    let mut p = recipient(true, true).profile;
    p.timezone = Some(crate::values::TimeZoneName::parse("Asia/Shanghai").unwrap());
    let utc = crate::values::TimeZoneName::utc();
    assert!(!b.due(&p, &utc, ts("2027-02-10T01:59:59Z")));
    assert!(b.due(&p, &utc, ts("2027-02-10T02:00:00Z")));
    assert!(b.due(&p, &utc, ts("2027-02-11T01:59:59Z")));
    assert!(
        !b.due(&p, &utc, ts("2027-02-11T02:00:00Z")),
        "the window is a day"
    );
    // 02:30 does not exist in Los Angeles on 14 March 2027: the clocks jump to 03:30 PDT.
    // No zone can be due before 10:00 at UTC+14 or a day after 10:00 at UTC−12.
    let at = b.at;
    let may = |t: &str| super::broadcast::BroadcastRule::may_be_due(&at, ts(t));
    assert!(!may("2027-02-09T19:59:59Z") && may("2027-02-09T20:00:00Z"));
    assert!(may("2027-02-11T21:59:59Z") && !may("2027-02-11T22:00:00Z"));
    let gap = broadcast("2027-03-14T02:30");
    let la = crate::values::TimeZoneName::parse("America/Los_Angeles").unwrap();
    assert_eq!(gap.instant(&la), Some(ts("2027-03-14T10:30:00Z")));
}

#[test]
fn broadcast_claims_apply_holdout_quiet_hours_and_the_cap_unless_exempt() {
    let mut p = plan(CampaignKind::Birthday, "2027-02-10T10:00:00Z");
    p.campaign = CampaignRef::parse("lny").unwrap();
    p.rule = SendRule::Broadcast(broadcast("2027-02-10T10:00"));
    p.period = "ever".into();
    p.offer = None;
    let r = recipient(true, true);
    let claim = decide(&p, &r, None).unwrap();
    assert!(claim.coupon.is_none() && claim.message.coupon.is_none());
    assert_eq!(claim.message.key(), "lny#ever");
    let mut capped = r.clone();
    capped.contact.record(
        &CampaignKind::Winback.into(),
        "x",
        ts("2027-02-09T10:00:00Z"),
    );
    capped.contact.record(
        &CampaignKind::Winback.into(),
        "y",
        ts("2027-02-09T11:00:00Z"),
    );
    assert_eq!(decide(&p, &capped, None), Err(SkipReason::Suppressed));
    let mut exempt = p.clone();
    exempt.cap = None;
    assert!(
        decide(&exempt, &capped, None).is_ok(),
        "exempt from the cap"
    );
    let mut quiet = p.clone();
    quiet.quiet_hours = Some(super::quiet::QuietHours::parse("09:00", "11:00").unwrap());
    assert_eq!(decide(&quiet, &r, None), Err(SkipReason::QuietHours));
    // The skip leaves a marker; the next run decides afresh and its claim replaces it.
    let skip = super::tally::skip_marker(&quiet, SkipReason::QuietHours, None).unwrap();
    assert_eq!(
        (skip.status, skip.reason, skip.attempts),
        (MessageStatus::Skipped, Some(SkipReason::QuietHours), 0)
    );
    assert_eq!(
        super::tally::skip_marker(&quiet, SkipReason::QuietHours, Some(&skip)),
        None,
        "the same skip again writes nothing"
    );
    let after = decide(&p, &r, Some(&skip)).unwrap();
    assert_eq!(
        (after.message.status, after.expect),
        (
            MessageStatus::Pending,
            super::tally::Expect::Skipped(SkipReason::QuietHours)
        )
    );
    let mut all_held = p.clone();
    all_held.holdout_percent = 100;
    let held = decide(&all_held, &r, None).unwrap();
    assert_eq!(held.message.status, MessageStatus::HeldOut, "recorded");
    assert!(
        held.coupon.is_none()
            && held.contact.recent == r.contact.recent
            && held.contact.last == r.contact.last,
        "no coupon, not capped"
    );
    assert_eq!(
        held.contact
            .touches
            .iter()
            .map(|t| (t.campaign.as_str(), t.held_out))
            .collect::<Vec<_>>(),
        vec![("lny", true)],
        "the control's attribution window is open"
    );
    assert_eq!(
        decide(&all_held, &r, Some(&held.message)),
        Err(SkipReason::HeldOut),
        "the same on the next run"
    );
    let mut early = p.clone();
    early.due.as_of = ts("2027-02-10T09:59:00Z");
    assert_eq!(decide(&early, &r, None), Err(SkipReason::NoLongerDue));
}
