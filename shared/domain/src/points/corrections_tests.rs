use super::*;
use crate::points::rules::DailyCaps;
use crate::points::test_support::{bonus, ts, utc};
use serde_json::json;

fn reversal(event: &str) -> ReversalInput {
    ReversalInput::parse(
        json!({"reversal_id": format!("r-{event}"), "event_id": event, "reason": "refunded"}),
    )
    .unwrap()
}

fn adjustment(id: &str, points: i64) -> AdjustmentInput {
    AdjustmentInput::parse(json!({"adjustment_id": id, "points": points, "reason": "support ticket", "actor": "agent-7"}))
        .unwrap()
}

fn settings() -> PointsSettings {
    PointsSettings {
        validity_days: 400,
        ..Default::default()
    }
}

#[test]
fn a_reversal_takes_back_the_points_the_tier_and_the_cap_they_counted_for() {
    let mut s = settings();
    s.earning.daily_caps = DailyCaps {
        bonus: Some(1_500),
        ..Default::default()
    };
    let (tz, day) = (utc(), ts("2026-03-10T10:00:00Z"));
    let mut a = Account::default();
    a.accrue(&bonus("small", 200), &s, day, &tz);
    let big = a.accrue(&bonus("big", 1_000), &s, day, &tz);
    assert_eq!(a.tier.as_ref().unwrap().name.as_str(), "normal");
    let original = big.entries.last().unwrap().clone();

    let out = a
        .reverse(
            &original,
            &reversal("big"),
            &s,
            ts("2026-03-10T12:00:00Z"),
            &tz,
        )
        .unwrap();
    assert_eq!((out.points, out.shortfall), (-1_000, 0));
    assert_eq!(a.balance(), 200);
    assert_eq!(a.lifetime_earned, 200);
    assert_eq!(a.window_at(jiff::civil::date(2026, 3, 10), 12), 200);
    assert_eq!(
        a.tier.as_ref().unwrap().name.as_str(),
        "potential",
        "the tier follows"
    );
    assert!(
        out.events
            .iter()
            .any(|e| matches!(e, DomainEvent::TierChanged { .. }))
    );
    let entry = out.entries.last().unwrap();
    assert_eq!(entry.key, "reversal:big");
    assert_eq!(entry.balance_after, 200);
    assert_eq!(entry.correction.as_ref().unwrap().id.as_str(), "r-big");
    // The cap usage of that day is given back: 1,300 more bonus points fit today.
    let more = a.accrue(&bonus("after", 1_300), &s, ts("2026-03-10T13:00:00Z"), &tz);
    assert_eq!((more.points_awarded, more.capped), (1_300, 0));
}

/// 500 points earned, 400 spent, then the accrual reversed.
fn earn_spend_reverse(s: &PointsSettings) -> (Account, CorrectionOutcome) {
    let tz = utc();
    let mut a = Account::default();
    let gift = a.accrue(&bonus("g", 500), s, ts("2026-03-01T00:00:00Z"), &tz);
    a.redeem("spend", 400, s, ts("2026-03-02T00:00:00Z"), &tz)
        .unwrap();
    let at = ts("2026-03-03T00:00:00Z");
    let out = a
        .reverse(gift.entries.last().unwrap(), &reversal("g"), s, at, &tz)
        .unwrap();
    (a, out)
}

#[test]
fn a_reversal_after_spending_leaves_a_debt_that_the_next_accrual_pays_first() {
    let s = settings();
    let tz = utc();
    let (mut a, out) = earn_spend_reverse(&s);
    assert_eq!((out.points, out.shortfall), (-500, 0));
    assert_eq!((a.balance(), a.debt), (-400, 400));
    assert!(a.lots.is_empty());
    assert_eq!(
        a.redeem("more", 1, &s, ts("2026-03-03T00:00:00Z"), &tz),
        Err(crate::points::ledger::Insufficient { balance: -400 }),
        "no redemption while in debt"
    );
    let next = a.accrue(&bonus("pay", 300), &s, ts("2026-03-04T00:00:00Z"), &tz);
    assert_eq!(next.points_awarded, 300);
    assert_eq!((a.balance(), a.debt), (-100, 100));
    a.accrue(&bonus("pay2", 250), &s, ts("2026-03-05T00:00:00Z"), &tz);
    assert_eq!(
        (a.balance(), a.debt, a.lots.values().sum::<u64>()),
        (150, 0, 150)
    );
}

#[test]
fn clamp_stops_at_zero_and_records_the_shortfall() {
    let s = PointsSettings {
        reversal: ReversalMode::Clamp,
        ..settings()
    };
    let tz = utc();
    let (mut a, out) = earn_spend_reverse(&s);
    assert_eq!((out.points, out.shortfall), (-100, 400));
    assert_eq!((a.balance(), a.debt), (0, 0));
    let entry = out.entries.last().unwrap();
    assert_eq!(
        (entry.points, entry.correction.as_ref().unwrap().shortfall),
        (-100, 400)
    );
    let out = a.adjust(
        &adjustment("down", -10),
        &s,
        ts("2026-03-04T00:00:00Z"),
        &tz,
    );
    assert_eq!((out.points, out.shortfall, a.balance()), (0, 10, 0));
}

#[test]
fn only_accruals_can_be_reversed() {
    let s = settings();
    let tz = utc();
    let mut a = Account::default();
    a.accrue(&bonus("g", 500), &s, ts("2026-03-01T00:00:00Z"), &tz);
    let spent = a
        .redeem("spend", 100, &s, ts("2026-03-02T00:00:00Z"), &tz)
        .unwrap();
    let before = a.clone();
    assert_eq!(
        a.reverse(
            &spent.entries[0],
            &reversal("spend"),
            &s,
            ts("2026-03-03T00:00:00Z"),
            &tz
        ),
        Err(NotAnAccrual)
    );
    assert_eq!(a, before);
}

#[test]
fn adjustments_credit_without_earning_and_debit_into_debt() {
    let s = settings();
    let tz = utc();
    let mut a = Account::default();
    let up = a.adjust(
        &adjustment("up", 2_000),
        &s,
        ts("2026-03-01T00:00:00Z"),
        &tz,
    );
    assert_eq!((up.points, a.balance()), (2_000, 2_000));
    assert_eq!(a.lifetime_earned, 0, "a correction is not earning");
    assert_eq!(a.tier.as_ref().map(|t| t.name.as_str()), Some("potential"));
    let entry = up.entries.last().unwrap();
    assert_eq!(entry.key, "adjustment:up");
    assert_eq!(
        entry
            .correction
            .as_ref()
            .unwrap()
            .actor
            .as_ref()
            .unwrap()
            .as_str(),
        "agent-7"
    );
    let down = a.adjust(
        &adjustment("down", -2_500),
        &s,
        ts("2026-03-02T00:00:00Z"),
        &tz,
    );
    assert_eq!(
        (down.points, down.shortfall, a.balance()),
        (-2_500, 0, -500)
    );
    a.adjust(&adjustment("up2", 600), &s, ts("2026-03-03T00:00:00Z"), &tz);
    assert_eq!((a.balance(), a.debt), (100, 0));
}

#[test]
fn the_ledger_still_sums_to_the_balance_through_debts() {
    let s = settings();
    let tz = utc();
    let mut a = Account::default();
    let mut ledger = Vec::new();
    let mut t = ts("2026-01-01T00:00:00Z");
    let mut accruals = Vec::new();
    for i in 0..30u64 {
        let out = a.accrue(&bonus(&format!("e{i}"), 50 + i), &s, t, &tz);
        accruals.push(out.entries.last().unwrap().clone());
        ledger.extend(out.entries);
        if i % 4 == 1
            && let Ok(r) = a.redeem(&format!("r{i}"), 60, &s, t, &tz)
        {
            ledger.extend(r.entries);
        }
        if i % 5 == 2 {
            let original = accruals[accruals.len() - 2].clone();
            let event = original.key.trim_start_matches("accrual:").to_owned();
            ledger.extend(
                a.reverse(&original, &reversal(&event), &s, t, &tz)
                    .unwrap()
                    .entries,
            );
        }
        if i % 7 == 3 {
            ledger.extend(
                a.adjust(&adjustment(&format!("a{i}"), -200), &s, t, &tz)
                    .entries,
            );
        }
        t = t.checked_add(jiff::SignedDuration::from_hours(30)).unwrap();
    }
    let sum: i64 = ledger.iter().map(|e| e.points).sum();
    assert_eq!(sum, a.balance());
    assert_eq!(ledger.last().unwrap().balance_after, a.balance());
    assert!(
        ledger.iter().any(|e| e.balance_after < 0),
        "went into debt on the way"
    );
}

#[test]
fn correction_bodies_name_every_bad_field() {
    let fields = |v| {
        AdjustmentInput::parse(v)
            .unwrap_err()
            .0
            .into_iter()
            .map(|f| f.field)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        fields(json!({"adjustment_id": "a", "points": 0, "reason": " ", "actor": "x"})),
        ["points", "reason"]
    );
    assert_eq!(
        fields(json!({"adjustment_id": "a", "points": 1_000_000_001, "reason": "r"})),
        ["points", "actor"]
    );
    assert!(
        ReversalInput::parse(
            json!({"reversal_id": "r", "event_id": "e", "reason": "x", "extra": 1})
        )
        .is_err()
    );
}
