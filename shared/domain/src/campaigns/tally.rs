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
        SkipReason::Suppressed
            | SkipReason::QuietHours
            | SkipReason::TooLate
            | SkipReason::SuppressedAddress
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
#[path = "tally_tests.rs"]
mod tests;
