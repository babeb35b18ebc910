//! Tests of the report counters.

use super::*;
use crate::campaigns::outcomes::report;
use crate::ids::CustomerId;
use crate::points::CouponCode;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn campaign() -> CampaignRef {
    CampaignRef::parse("spring".to_owned()).unwrap()
}

fn message(status: MessageStatus, at: &str) -> Message {
    Message {
        id: "m1".into(),
        campaign: campaign(),
        period: "ever".into(),
        template: "spring/en".into(),
        locale: crate::values::Locale::parse("en").unwrap(),
        subject: None,
        coupon: None,
        provider: None,
        provider_message_id: None,
        status,
        attempts: 1,
        error: None,
        reason: None,
        delivery: None,
        created_at: ts(at),
        updated_at: ts(at),
    }
}

#[test]
fn every_field_name_reads_back() {
    let mut all: Vec<TallyField> = TallyField::FIXED.to_vec();
    all.extend(SkipReason::ALL.map(TallyField::Skipped));
    for f in all {
        assert_eq!(TallyField::parse(&f.name()), Some(f), "{}", f.name());
    }
    assert_eq!(TallyField::parse("skipped_nonsense"), None);
    assert_eq!(TallyField::parse("pk"), None);
}

#[test]
fn a_marker_moves_its_count_and_a_rewrite_counts_nothing() {
    let pending = message(MessageStatus::Pending, "2027-02-10T10:00:00Z");
    let add = marker_change(None, &pending);
    assert_eq!(add.len(), 1);
    assert_eq!((add[0].field, add[0].delta), (TallyField::Pending, 1));
    let sent = Message {
        status: MessageStatus::Sent,
        updated_at: ts("2027-02-11T00:00:01Z"),
        ..pending.clone()
    };
    let moved = marker_change(Some(&pending), &sent);
    let d: Date = "2027-02-10".parse().unwrap();
    assert_eq!(
        moved
            .iter()
            .map(|t| (t.day, t.field, t.delta))
            .collect::<Vec<_>>(),
        vec![(d, TallyField::Pending, -1), (d, TallyField::Sent, 1)],
        "counted on the day the marker was created"
    );
    assert!(marker_change(Some(&sent), &sent).is_empty());
    let g = grouped(&moved);
    assert_eq!(g.len(), 1);
    assert_eq!(
        g[0].1,
        vec![(TallyField::Pending, -1), (TallyField::Sent, 1)]
    );
    assert!(
        grouped(&[
            moved[0].clone(),
            Tally {
                delta: 1,
                ..moved[0].clone()
            }
        ])
        .is_empty()
    );
}

#[test]
fn skip_markers_only_for_the_due_and_reachable_and_only_on_a_new_reason() {
    let mut skipped = message(MessageStatus::Skipped, "2027-02-10T10:00:00Z");
    skipped.reason = Some(SkipReason::QuietHours);
    assert!(recorded(SkipReason::Suppressed) && recorded(SkipReason::TooLate));
    for r in [
        SkipReason::NoConsent,
        SkipReason::NoEmail,
        SkipReason::NoLongerDue,
        SkipReason::AlreadySent,
        SkipReason::InProgress,
        SkipReason::HeldOut,
        SkipReason::Failed,
    ] {
        assert!(!recorded(r), "{r:?}");
    }
    assert_eq!(Expect::of(None), Expect::Absent);
    assert_eq!(
        Expect::of(Some(&skipped)),
        Expect::Skipped(SkipReason::QuietHours)
    );
    assert_eq!(
        Expect::of(Some(&message(
            MessageStatus::Failed,
            "2027-02-10T10:00:00Z"
        ))),
        Expect::Attempt(1)
    );
    let change = marker_change(
        Some(&skipped),
        &Message {
            reason: Some(SkipReason::TooLate),
            ..skipped.clone()
        },
    );
    assert_eq!(
        change
            .iter()
            .map(|t| (t.field, t.delta))
            .collect::<Vec<_>>(),
        vec![
            (TallyField::Skipped(SkipReason::QuietHours), -1),
            (TallyField::Skipped(SkipReason::TooLate), 1)
        ]
    );
}

#[test]
fn a_purchase_converts_each_open_contact_once() {
    let mut c = ContactState::default();
    let other = CampaignRef::parse("winter".to_owned()).unwrap();
    c.touch(&campaign(), ts("2027-02-10T10:00:00Z"), 7, false);
    c.touch(&other, ts("2027-02-12T10:00:00Z"), 1, true);
    assert!(
        c.convert(ts("2027-02-10T09:59:59Z")).is_empty(),
        "before the mail"
    );
    let first = c.convert(ts("2027-02-13T09:00:00Z"));
    assert_eq!(
        first
            .iter()
            .map(|t| (t.campaign.as_str(), t.field))
            .collect::<Vec<_>>(),
        vec![
            ("spring", TallyField::ConvertedMailed),
            ("winter", TallyField::ConvertedHeldOut)
        ]
    );
    assert!(c.convert(ts("2027-02-13T09:00:01Z")).is_empty(), "once");
    let mut late = ContactState::default();
    late.touch(&campaign(), ts("2027-02-10T10:00:00Z"), 7, false);
    assert!(
        late.convert(ts("2027-02-17T10:00:01Z")).is_empty(),
        "after the window"
    );
    assert_eq!(
        late.convert(ts("2027-02-17T10:00:00Z")).len(),
        1,
        "window inclusive"
    );
    for i in 0..40 {
        late.touch(
            &campaign(),
            ts("2027-02-18T10:00:00Z") + jiff::SignedDuration::from_secs(i),
            7,
            false,
        );
    }
    assert_eq!(late.touches.len(), crate::campaigns::MAX_TOUCHES);
}

#[test]
fn campaign_coupons_count_on_their_mails_day() {
    let (coupon, _) = Coupon::mint(
        CouponCode::generate(&crate::tenant::OsRandom).unwrap(),
        CustomerId::parse("c1".to_owned()).unwrap(),
        500,
        crate::points::rules::UnitCode::parse("EUR").unwrap(),
        "campaign:spring:purchase:accrual:o-1".into(),
        ts("2027-02-10T23:30:00Z"),
        30,
    );
    assert_eq!(coupon_campaign(&coupon), Some(campaign()));
    let used = coupon_used(&coupon, Some(4_200));
    assert_eq!(
        used.iter()
            .map(|t| (t.day.to_string(), t.field, t.delta))
            .collect::<Vec<_>>(),
        vec![
            ("2027-02-10".to_owned(), TallyField::CouponsRedeemed, 1),
            ("2027-02-10".to_owned(), TallyField::RevenueMinor, 4_200)
        ]
    );
    let reward = Coupon {
        source: "redemption:r-1".into(),
        ..coupon
    };
    assert!(coupon_used(&reward, Some(4_200)).is_empty());
}

#[test]
fn the_report_sums_shards_fills_days_and_computes_the_lift() {
    let d = |s: &str| -> Date { s.parse().unwrap() };
    let rows = vec![
        (d("2027-02-10"), TallyField::Sent, 60),
        (d("2027-02-10"), TallyField::Sent, 30),
        (d("2027-02-10"), TallyField::HeldOut, 10),
        (
            d("2027-02-10"),
            TallyField::Skipped(SkipReason::Suppressed),
            5,
        ),
        (d("2027-02-10"), TallyField::Failed, 1),
        (d("2027-02-10"), TallyField::ConvertedMailed, 18),
        (d("2027-02-10"), TallyField::ConvertedHeldOut, 1),
        (d("2027-02-12"), TallyField::CouponsRedeemed, 3),
        (d("2027-02-12"), TallyField::RevenueMinor, 9_000),
        (d("2027-03-01"), TallyField::Sent, 1_000),
    ];
    let r = report(campaign(), d("2027-02-10"), d("2027-02-12"), 7, &rows);
    assert_eq!(r.days.len(), 3);
    assert_eq!(r.days[1].eligible, 0);
    let t = &r.totals;
    assert_eq!((t.sent, t.held_out, t.eligible), (90, 10, 106));
    assert_eq!(t.skipped.get("suppressed"), Some(&5));
    assert_eq!(t.skipped.get("failed"), Some(&1));
    assert_eq!((t.coupons_redeemed, t.revenue_minor), (3, 9_000));
    assert_eq!(t.conversion_mailed, Some(0.2));
    assert_eq!(t.conversion_held_out, Some(0.1));
    assert!((t.lift.unwrap() - 0.1).abs() < 1e-12);
    assert_eq!(r.days[2].conversion_mailed, None);
}
