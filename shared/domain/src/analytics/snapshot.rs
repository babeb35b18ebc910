//! The daily snapshot: what needs a pass over every customer — the distribution of tiers,
//! lifecycle stages and RFM segments, and the traits churned customers share — computed by a
//! scheduled job into one item per tenant and day, and served with its `as_of`.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::lifecycle::{Stage, lifecycle};
use crate::points::Account;
use crate::profile::Profile;
use crate::settings::TenantSettings;

/// A trait value and how many churned and retained customers have it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TraitCount {
    pub churned: u64,
    pub retained: u64,
}

/// One trait value compared between churned and retained customers.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct TraitRow {
    /// `tier`, `platform`, `tenure`, `favourite_category`, `nps_answered`.
    #[serde(rename = "trait")]
    pub name: String,
    pub value: String,
    pub churned: u64,
    pub retained: u64,
    /// Share of churned customers with this value, per mille.
    pub churned_permille: u64,
    pub retained_permille: u64,
    /// `churned_permille / retained_permille`: above 1, the value is more common among the
    /// churned (absent when no retained customer has it).
    pub ratio: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The tenant-local day it was taken on, and when.
    pub day: Date,
    #[serde(with = "crate::time::serde_ts")]
    pub as_of: Timestamp,
    pub customers: u64,
    pub tiers: BTreeMap<String, u64>,
    pub lifecycle: BTreeMap<String, u64>,
    pub rfm: BTreeMap<String, u64>,
    /// `trait` → value → counts.
    pub traits: BTreeMap<String, BTreeMap<String, TraitCount>>,
}

/// Days since joining, in buckets.
fn tenure(days: i64) -> &'static str {
    match days {
        ..30 => "0-29d",
        30..180 => "30-179d",
        180..365 => "180-364d",
        _ => "365d+",
    }
}

/// Folds customers, one at a time, into a snapshot (memory bounded by the distinct values).
pub struct SnapshotBuilder<'a> {
    settings: &'a TenantSettings,
    snapshot: Snapshot,
}

impl<'a> SnapshotBuilder<'a> {
    pub fn new(settings: &'a TenantSettings, now: Timestamp) -> Self {
        let day = now.to_zoned(settings.timezone.tz()).date();
        Self {
            settings,
            snapshot: Snapshot {
                day,
                as_of: now,
                ..Snapshot::default()
            },
        }
    }

    /// Counts the customer (`nps_answered`: they answered an NPS question); returns the
    /// segments it found them in (every one set).
    pub fn add(
        &mut self,
        profile: &Profile,
        account: &Account,
        nps_answered: bool,
    ) -> crate::lookup::Segments {
        let (s, now) = (self.settings, self.snapshot.as_of);
        let tz = s.timezone.tz();
        let snap = &mut self.snapshot;
        snap.customers += 1;
        let tier = account.view(&s.points, now, &tz).tier.to_string();
        *snap.tiers.entry(tier.clone()).or_default() += 1;
        let stage = lifecycle(profile, &s.lifecycle, now).stage;
        *snap.lifecycle.entry(stage.as_str().to_owned()).or_default() += 1;
        let segment = crate::rfm::rfm(&account.totals, &s.rfm, now, &tz).segment;
        *snap.rfm.entry(segment.as_str().to_owned()).or_default() += 1;
        let segments = crate::lookup::Segments {
            tier: Some(tier.clone()),
            lifecycle: Some(stage.as_str().to_owned()),
            rfm: Some(segment.as_str().to_owned()),
        };

        let churned = stage == Stage::Churn;
        let platform = profile
            .identities
            .first()
            .map_or("none".to_owned(), |i| i.platform.to_string());
        let age = (now.as_second() - profile.created_at.as_second()).max(0) / 86_400;
        let favourite = account
            .totals
            .categories
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map_or("none".to_owned(), |(c, _)| c.clone());
        for (name, value) in [
            ("tier", tier),
            ("platform", platform),
            ("tenure", tenure(age).to_owned()),
            ("favourite_category", favourite),
            (
                "nps_answered",
                if nps_answered { "yes" } else { "no" }.to_owned(),
            ),
        ] {
            let c = snap
                .traits
                .entry(name.to_owned())
                .or_default()
                .entry(value)
                .or_default();
            if churned {
                c.churned += 1;
            } else {
                c.retained += 1;
            }
        }
        segments
    }

    /// The counters of a customer found in stage `to` whose previous snapshot found `from`: a
    /// move on the snapshot's day (none for a customer seen for the first time).
    pub fn stage_move(&self, from: Option<&str>, to: Option<&str>) -> crate::analytics::Counters {
        let mut c = crate::analytics::Counters::default();
        if let (Some(f), Some(t)) = (from, to)
            && f != t
        {
            c.day(self.snapshot.day, format!("stage_move.{f}>{t}"), 1);
        }
        c
    }

    pub fn finish(self) -> Snapshot {
        self.snapshot
    }
}

/// `GET /v1/analytics/churn`: churned (lifecycle stage `churn`) against retained customers.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ChurnReport {
    /// When the snapshot was taken (absent before the first daily run).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<String>,
    pub churned: u64,
    pub retained: u64,
    /// Every trait value, the most over-represented among the churned first.
    pub traits: Vec<TraitRow>,
}

impl ChurnReport {
    /// Before the first snapshot.
    pub fn empty() -> Self {
        Self {
            as_of: None,
            churned: 0,
            retained: 0,
            traits: Vec::new(),
        }
    }
}

impl Snapshot {
    pub fn churn(&self) -> ChurnReport {
        let churned = self
            .lifecycle
            .get(Stage::Churn.as_str())
            .copied()
            .unwrap_or(0);
        let retained = self.customers.saturating_sub(churned);
        let permille = |n: u64, of: u64| (n * 1000).checked_div(of).unwrap_or(0);
        let mut traits: Vec<TraitRow> = self
            .traits
            .iter()
            .flat_map(|(name, values)| values.iter().map(move |(value, c)| (name, value, c)))
            .map(|(name, value, c)| {
                let (cp, rp) = (permille(c.churned, churned), permille(c.retained, retained));
                TraitRow {
                    name: name.clone(),
                    value: value.clone(),
                    churned: c.churned,
                    retained: c.retained,
                    churned_permille: cp,
                    retained_permille: rp,
                    ratio: (rp > 0).then(|| ((cp as f64 / rp as f64) * 100.0).round() / 100.0),
                }
            })
            .collect();
        traits.sort_by(|a, b| {
            let r = |t: &TraitRow| t.ratio.unwrap_or(f64::INFINITY);
            r(b).total_cmp(&r(a))
                .then(b.churned.cmp(&a.churned))
                .then(a.name.cmp(&b.name))
                .then(a.value.cmp(&b.value))
        });
        ChurnReport {
            as_of: Some(crate::time::format(self.as_of)),
            churned,
            retained,
            traits,
        }
    }
}
