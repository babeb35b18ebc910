//! A campaign's report (`GET /v1/campaigns/{id}/report`): its counters ([`super::tally`]) per
//! UTC day, summed, with the conversion of mailed and held-out customers and the lift.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Serialize;
use utoipa::ToSchema;

use super::CampaignRef;
use super::tally::TallyField;

/// Purchases within this many days of a mail convert it, unless the campaign says otherwise.
pub const DEFAULT_ATTRIBUTION_DAYS: u16 = 7;

/// One day's figures, or the range's totals.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct CampaignFigures {
    /// The UTC day (absent on the totals).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub day: Option<Date>,
    /// Customers due and reachable (address and consent): held out, mailed, or skipped.
    pub eligible: u64,
    /// The control group: recorded, not mailed.
    pub held_out: u64,
    /// Accepted by the provider (or written to the outbox).
    pub sent: u64,
    /// Claimed, not yet handed to the provider (in flight, or awaiting a retry).
    pub pending: u64,
    /// Due but not mailed, by reason: `suppressed` (frequency cap, cooldown), `quiet_hours`
    /// (a later run may still send it), `too_late`, `failed` (refused by the provider).
    pub skipped: BTreeMap<String, u64>,
    /// The campaign's coupons used on an order, counted on their mail's day.
    pub coupons_redeemed: u64,
    /// The orders' amounts that used them, in minor units (as given with each use).
    pub revenue_minor: u64,
    /// Mailed customers who bought within the attribution window.
    pub converted_mailed: u64,
    /// Held-out customers who bought within the same window.
    pub converted_held_out: u64,
    /// `converted_mailed / (sent + pending)`; absent when nobody was mailed.
    pub conversion_mailed: Option<f64>,
    /// `converted_held_out / held_out`; absent when nobody was held out.
    pub conversion_held_out: Option<f64>,
    /// `conversion_mailed − conversion_held_out` (a share, as both are): what the mail added.
    pub lift: Option<f64>,
}

impl CampaignFigures {
    fn add(&mut self, field: TallyField, n: i64) {
        let n = u64::try_from(n).unwrap_or(0);
        match field {
            TallyField::Pending => self.pending += n,
            TallyField::Sent => self.sent += n,
            TallyField::Failed => *self.skipped.entry("failed".into()).or_default() += n,
            TallyField::HeldOut => self.held_out += n,
            TallyField::Skipped(r) => *self.skipped.entry(r.as_str().into()).or_default() += n,
            TallyField::CouponsRedeemed => self.coupons_redeemed += n,
            TallyField::RevenueMinor => self.revenue_minor += n,
            TallyField::ConvertedMailed => self.converted_mailed += n,
            TallyField::ConvertedHeldOut => self.converted_held_out += n,
        }
    }

    fn finish(&mut self) {
        self.skipped.retain(|_, n| *n > 0);
        self.eligible =
            self.held_out + self.sent + self.pending + self.skipped.values().sum::<u64>();
        let share = |num: u64, den: u64| (den > 0).then(|| num as f64 / den as f64);
        self.conversion_mailed = share(self.converted_mailed, self.sent + self.pending);
        self.conversion_held_out = share(self.converted_held_out, self.held_out);
        self.lift = match (self.conversion_mailed, self.conversion_held_out) {
            (Some(m), Some(h)) => Some(m - h),
            _ => None,
        };
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct CampaignReport {
    #[schema(value_type = String)]
    pub campaign_id: CampaignRef,
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    pub attribution_days: u16,
    pub totals: CampaignFigures,
    /// Every UTC day from `from` to `to`.
    pub days: Vec<CampaignFigures>,
}

/// The report of `campaign` from its counter rows `(day, field, n)` (any order, repeats
/// summed: shards of the same day).
pub fn report(
    campaign: CampaignRef,
    from: Date,
    to: Date,
    attribution_days: u16,
    rows: &[(Date, TallyField, i64)],
) -> CampaignReport {
    let mut by_day: BTreeMap<Date, BTreeMap<TallyField, i64>> = BTreeMap::new();
    for (d, f, n) in rows.iter().filter(|(d, _, _)| (from..=to).contains(d)) {
        *by_day.entry(*d).or_default().entry(*f).or_default() += n;
    }
    let mut totals = CampaignFigures::default();
    let mut days = Vec::new();
    let mut day = from;
    loop {
        let mut f = CampaignFigures {
            day: Some(day),
            ..CampaignFigures::default()
        };
        for (field, n) in by_day.get(&day).into_iter().flatten() {
            f.add(*field, *n);
            totals.add(*field, *n);
        }
        f.finish();
        days.push(f);
        match day.tomorrow() {
            Ok(next) if next <= to => day = next,
            _ => break,
        }
    }
    totals.finish();
    CampaignReport {
        campaign_id: campaign,
        from,
        to,
        attribution_days,
        totals,
        days,
    }
}
