use super::*;
use crate::points::rules::DailyCaps;
use crate::points::test_support::{bonus, ts, utc};

fn settings() -> PointsSettings {
    PointsSettings {
        validity_days: 60,
        ..Default::default()
    }
}

#[test]
fn lots_expire_at_month_end_and_spending_takes_the_oldest_first() {
    let s = settings();
    let mut a = Account::default();
    a.accrue(&bonus("a", 100), &s, ts("2026-01-10T12:00:00Z"), &utc()); // expires end of 2026-03
    a.accrue(&bonus("b", 50), &s, ts("2026-02-10T12:00:00Z"), &utc()); // expires end of 2026-04
    assert_eq!(
        a.lots,
        BTreeMap::from([("2026-03".into(), 100), ("2026-04".into(), 50)])
    );
    a.redeem("r1", 120, &s, ts("2026-02-11T00:00:00Z"), &utc())
        .unwrap();
    assert_eq!(
        a.lots,
        BTreeMap::from([("2026-04".into(), 30)]),
        "the March lot is used up first"
    );

    let v = a.view(&s, ts("2026-04-30T23:59:59Z"), &utc());
    assert_eq!(v.balance, 30);
    assert_eq!(
        v.next_expiry,
        Some(ExpiringLot {
            points: 30,
            expires_at: ts("2026-05-01T00:00:00Z")
        })
    );
    let v = a.view(&s, ts("2026-05-01T00:00:00Z"), &utc());
    assert_eq!(v.balance, 0, "a read never counts expired points");
    assert_eq!(a.balance(), 30, "…and reading does not change the account");

    let out = a.accrue(&bonus("c", 10), &s, ts("2026-05-02T00:00:00Z"), &utc());
    assert_eq!(out.entries[0].kind, LedgerKind::Expiry);
    assert_eq!(
        (out.entries[0].points, out.entries[0].key.as_str()),
        (-30, "expiry:2026-04")
    );
    assert_eq!(out.entries[1].balance_after, 10);
    assert_eq!(a.seq, 5);
}

#[test]
fn expiry_follows_the_tenant_time_zone() {
    let s = settings();
    let tz = TimeZone::get("Asia/Shanghai").unwrap();
    let mut a = Account::default();
    // 2026-01-31T20:00Z is already 1 February in Shanghai: the lot expires end of April.
    a.accrue(&bonus("a", 10), &s, ts("2026-01-31T20:00:00Z"), &tz);
    assert_eq!(a.lots.keys().collect::<Vec<_>>(), ["2026-04"]);
    let v = a.view(&s, ts("2026-04-30T15:59:59Z"), &tz);
    assert_eq!(
        (v.balance, v.next_expiry.unwrap().expires_at),
        (10, ts("2026-04-30T16:00:00Z"))
    );
    assert_eq!(a.view(&s, ts("2026-04-30T16:00:00Z"), &tz).balance, 0);
}

#[test]
fn redemption_never_overdraws_and_changes_nothing_when_refused() {
    let s = settings();
    let mut a = Account::default();
    a.accrue(&bonus("a", 100), &s, ts("2026-01-10T00:00:00Z"), &utc());
    let before = a.clone();
    assert_eq!(
        a.redeem("r", 101, &s, ts("2026-01-11T00:00:00Z"), &utc()),
        Err(Insufficient { balance: 100 })
    );
    assert_eq!(a, before);
    // Expired points cannot be spent.
    assert_eq!(
        a.redeem("r", 50, &s, ts("2026-04-01T00:00:00Z"), &utc()),
        Err(Insufficient { balance: 0 })
    );
}

#[test]
fn daily_caps_cut_awards_per_kind_and_reset_each_day() {
    let mut s = settings();
    s.earning.daily_caps = DailyCaps {
        bonus: Some(150),
        ..Default::default()
    };
    let mut a = Account::default();
    let day1 = ts("2026-01-10T10:00:00Z");
    assert_eq!(
        a.accrue(&bonus("a", 100), &s, day1, &utc()).points_awarded,
        100
    );
    let o = a.accrue(&bonus("b", 100), &s, day1, &utc());
    assert_eq!((o.points_awarded, o.capped), (50, 50));
    assert_eq!(
        a.accrue(&bonus("c", 100), &s, day1, &utc()).points_awarded,
        0
    );
    assert_eq!(
        a.accrue(&bonus("d", 100), &s, ts("2026-01-11T00:00:00Z"), &utc())
            .points_awarded,
        100
    );
}

#[test]
fn tiers_go_up_at_once_and_down_only_after_the_grace_period() {
    let s = PointsSettings {
        validity_days: 400,
        ..Default::default()
    }; // normal ≥ 1000 (×1.1), high-value ≥ 5000 (×1.25)
    let tz = utc();
    let mut a = Account::default();
    let out = a.accrue(&bonus("a", 1_000), &s, ts("2026-01-15T00:00:00Z"), &tz);
    assert!(out.events.contains(&DomainEvent::TierChanged {
        from: Some(TierName::parse("potential").unwrap()),
        to: TierName::parse("normal").unwrap()
    }));
    assert_eq!(a.tier.as_ref().unwrap().name.as_str(), "normal");
    // The multiplier of the tier held when points are earned applies.
    assert_eq!(
        a.accrue(&bonus("b", 100), &s, ts("2026-01-16T00:00:00Z"), &tz)
            .points_awarded,
        110
    );

    // 12-month window: January 2026's 1110 points leave the window on 2027-01-01.
    let v = a.view(&s, ts("2026-12-31T23:00:00Z"), &tz);
    assert_eq!((v.tier.as_str(), v.window_earned), ("normal", 1_110));
    let v = a.view(&s, ts("2027-01-20T00:00:00Z"), &tz);
    assert_eq!(
        v.tier.as_str(),
        "normal",
        "kept during the 30-day grace: {}",
        v.tier_why
    );
    assert!(
        v.tier_why.contains("kept until 2027-01-31"),
        "{}",
        v.tier_why
    );
    let v = a.view(&s, ts("2027-01-31T00:00:00Z"), &tz);
    assert_eq!(v.tier.as_str(), "potential", "{}", v.tier_why);

    // Earning back within the grace period keeps the tier.
    let mut b = Account::default();
    b.accrue(&bonus("a", 1_000), &s, ts("2026-01-15T00:00:00Z"), &tz);
    b.accrue(&bonus("b", 1_000), &s, ts("2027-01-10T00:00:00Z"), &tz);
    assert_eq!(
        b.view(&s, ts("2027-03-01T00:00:00Z"), &tz).tier.as_str(),
        "normal"
    );
}

#[test]
fn the_ledger_sums_to_the_balance() {
    let s = settings();
    let mut a = Account::default();
    let mut ledger = Vec::new();
    let mut t = ts("2026-01-01T00:00:00Z");
    for i in 0..40u64 {
        ledger.extend(
            a.accrue(&bonus(&format!("e{i}"), 7 + i), &s, t, &utc())
                .entries,
        );
        if i % 3 == 0
            && let Ok(r) = a.redeem(&format!("r{i}"), 20, &s, t, &utc())
        {
            ledger.extend(r.entries);
        }
        t = t
            .checked_add(jiff::SignedDuration::from_hours(100))
            .unwrap();
    }
    let sum: i64 = ledger.iter().map(|e| e.points).sum();
    assert_eq!(sum, a.balance());
    assert_eq!(ledger.last().unwrap().balance_after, a.balance());
    assert!(
        ledger.iter().any(|e| e.kind == LedgerKind::Expiry),
        "some lots expired on the way"
    );
    let seqs: Vec<u64> = ledger.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=ledger.len() as u64).collect::<Vec<_>>());
}
