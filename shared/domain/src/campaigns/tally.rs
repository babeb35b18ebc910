//! The counters behind a campaign's report, as changes the stores apply in the same atomic step
//! as the write they count — so a counter moves exactly when, and as often as, what it counts:
//!
//! - every send marker counts once under its current state (`pending`, `sent`, `failed`,
//!   `held_out`, `skipped_{reason}`) on the UTC day it was created; a marker that changes state
//!   moves its count ([`marker_change`]);
//! - a campaign's coupon used on an order counts, with the order's amount, on the day the coupon
//!   was minted (its mail's day: [`coupon_used`]);
//! - a purchase within a contact's attribution window converts it once ([`ContactState::convert`]),
//!   on the contact's day, as mailed or held out.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;

use super::{CampaignRef, ContactState, Message, MessageStatus, SendPlan, SkipReason};
use crate::points::Coupon;

/// What one counter counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TallyField {
    Pending,
    Sent,
    Failed,
    HeldOut,
    Skipped(SkipReason),
    CouponsRedeemed,
    RevenueMinor,
    ConvertedMailed,
    ConvertedHeldOut,
}

impl TallyField {
    const FIXED: [TallyField; 8] = [
        Self::Pending,
        Self::Sent,
        Self::Failed,
        Self::HeldOut,
        Self::CouponsRedeemed,
        Self::RevenueMinor,
        Self::ConvertedMailed,
        Self::ConvertedHeldOut,
    ];

    /// The counter's stored name (a column value on SQLite, an attribute on DynamoDB).
    pub fn name(self) -> String {
        match self {
            Self::Pending => "pending".into(),
            Self::Sent => "sent".into(),
            Self::Failed => "failed".into(),
            Self::HeldOut => "held_out".into(),
            Self::Skipped(r) => format!("skipped_{}", r.as_str()),
            Self::CouponsRedeemed => "coupons_redeemed".into(),
            Self::RevenueMinor => "revenue_minor".into(),
            Self::ConvertedMailed => "converted_mailed".into(),
            Self::ConvertedHeldOut => "converted_held_out".into(),
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        if let Some(r) = name.strip_prefix("skipped_") {
            return SkipReason::ALL
                .into_iter()
                .find(|s| s.as_str() == r)
                .map(Self::Skipped);
        }
        Self::FIXED.into_iter().find(|f| f.name() == name)
    }
}

/// One counter change: `delta` on `field` of `campaign` on `day` (UTC).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally {
    pub campaign: CampaignRef,
    pub day: Date,
    pub field: TallyField,
    pub delta: i64,
}

/// The UTC day a moment counts on.
pub fn utc_day(t: Timestamp) -> Date {
    t.to_zoned(jiff::tz::TimeZone::UTC).date()
}

/// The counter a marker counts under.
pub fn field_of(m: &Message) -> TallyField {
    match m.status {
        MessageStatus::Pending => TallyField::Pending,
        MessageStatus::Sent => TallyField::Sent,
        MessageStatus::Failed => TallyField::Failed,
        MessageStatus::HeldOut => TallyField::HeldOut,
        MessageStatus::Skipped => TallyField::Skipped(m.reason.unwrap_or(SkipReason::Suppressed)),
    }
}

/// The counter changes of writing `new` where `old` was (none when it counts the same).
pub fn marker_change(old: Option<&Message>, new: &Message) -> Vec<Tally> {
    let count = |m: &Message, delta| Tally {
        campaign: m.campaign.clone(),
        day: utc_day(m.created_at),
        field: field_of(m),
        delta,
    };
    let add = count(new, 1);
    match old.map(|o| count(o, -1)) {
        Some(sub) if sub.day == add.day && sub.field == add.field => Vec::new(),
        Some(sub) => vec![sub, add],
        None => vec![add],
    }
}

/// How the stored marker must still be for a marker write to apply (the optimistic check).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// No marker yet.
    Absent,
    /// The marker of this attempt (a crashed or failed send taken over).
    Attempt(u32),
    /// A skip marker for this reason.
    Skipped(SkipReason),
}

impl Expect {
    /// What `existing` (as read) makes a write expect.
    pub fn of(existing: Option<&Message>) -> Self {
        match existing {
            None => Self::Absent,
            Some(m) if m.status == MessageStatus::Skipped => {
                Self::Skipped(m.reason.unwrap_or(SkipReason::Suppressed))
            }
            Some(m) => Self::Attempt(m.attempts),
        }
    }
}

/// Skips that leave a marker: the customer was due and reachable (in the report's `eligible`)
/// but not mailed this time. The others leave none: no address or consent (outside every
/// marketing audience), not due, or decided by an existing marker.
pub fn recorded(reason: SkipReason) -> bool {
    matches!(
        reason,
        SkipReason::Suppressed | SkipReason::QuietHours | SkipReason::TooLate
    )
}

/// The skip marker to write for `reason`, if it leaves one and the stored marker does not
/// already say so.
pub fn skip_marker(
    plan: &SendPlan,
    reason: SkipReason,
    existing: Option<&Message>,
) -> Option<Message> {
    if !recorded(reason) {
        return None;
    }
    match existing {
        None => Some(Message {
            status: MessageStatus::Skipped,
            reason: Some(reason),
            attempts: 0,
            ..super::send::new_message(plan)
        }),
        Some(m) if m.status == MessageStatus::Skipped && m.reason != Some(reason) => {
            Some(Message {
                reason: Some(reason),
                updated_at: plan.now,
                ..m.clone()
            })
        }
        Some(_) => None,
    }
}

/// The campaign a coupon was minted by (`campaign:{campaign}:{period}`), if any.
pub fn coupon_campaign(c: &Coupon) -> Option<CampaignRef> {
    let rest = c.source.strip_prefix("campaign:")?;
    let (campaign, _) = rest.split_once(':')?;
    CampaignRef::parse(campaign.to_owned()).ok()
}

/// The counter changes of a coupon's first use on an order of `amount_minor`.
pub fn coupon_used(c: &Coupon, amount_minor: Option<u64>) -> Vec<Tally> {
    let Some(campaign) = coupon_campaign(c) else {
        return Vec::new();
    };
    let day = utc_day(c.created_at);
    let mut out = vec![Tally {
        campaign: campaign.clone(),
        day,
        field: TallyField::CouponsRedeemed,
        delta: 1,
    }];
    if let Some(a) = amount_minor.filter(|a| *a > 0) {
        out.push(Tally {
            campaign,
            day,
            field: TallyField::RevenueMinor,
            delta: i64::try_from(a).unwrap_or(i64::MAX),
        });
    }
    out
}

impl ContactState {
    /// A purchase at `at`: converts every open contact it falls within (each once), and
    /// returns the counter changes; empty when nothing changed.
    pub fn convert(&mut self, at: Timestamp) -> Vec<Tally> {
        let at = at.as_millisecond();
        let mut out = Vec::new();
        for t in self
            .touches
            .iter_mut()
            .filter(|t| !t.converted && t.at <= at && at <= t.until)
        {
            t.converted = true;
            out.push(Tally {
                campaign: t.campaign.clone(),
                day: utc_day(Timestamp::from_millisecond(t.at).unwrap_or(Timestamp::UNIX_EPOCH)),
                field: if t.held_out {
                    TallyField::ConvertedHeldOut
                } else {
                    TallyField::ConvertedMailed
                },
                delta: 1,
            });
        }
        out
    }
}

/// The changes of one stored row or item: a campaign's day, with each field's sum.
pub type TallyGroup = ((CampaignRef, Date), Vec<(TallyField, i64)>);

/// Changes grouped by campaign and day (one stored row or item each), zero sums dropped.
pub fn grouped(changes: &[Tally]) -> Vec<TallyGroup> {
    type Sums = BTreeMap<(CampaignRef, Date), BTreeMap<TallyField, i64>>;
    let mut map = Sums::new();
    for c in changes {
        *map.entry((c.campaign.clone(), c.day))
            .or_default()
            .entry(c.field)
            .or_default() += c.delta;
    }
    map.into_iter()
        .map(|(k, fields)| (k, fields.into_iter().filter(|(_, n)| *n != 0).collect()))
        .filter(|(_, f): &TallyGroup| !f.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
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
}
