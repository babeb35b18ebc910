//! A trigger record: one thing a customer did, with a deterministic id (a retried write of the
//! same event produces the same record, and the marker of a campaign's send is keyed by it).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::CustomerId;
use crate::points::facts::Item;
use crate::points::rules::{AccrualKind, AccrualRequest, PointsSettings, TierName};
use crate::profile::Profile;

/// How long a stored trigger record is kept after it was written (DynamoDB: its TTL; SQLite
/// deletes it once handled). A record not handled by then is dropped.
pub const TRIGGER_TTL_DAYS: i64 = 7;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TriggerEvent {
    /// An accrual of kind `purchase`.
    Purchase {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount_minor: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        currency: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item: Option<Item>,
    },
    /// The customer's tier moved up.
    TierUp { from: TierName, to: TierName },
    /// The customer's profile was created.
    Signup {},
    /// An unhappy survey answer (NPS ≤ 6, CSAT ≤ 2): the follow-up it opened (never the
    /// comment: that is the customer's own words).
    SurveyUnhappy {
        followup_id: String,
        survey_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nps: Option<u8>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        csat: Option<u8>,
    },
}

impl TriggerEvent {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Purchase { .. } => "purchase",
            Self::TierUp { .. } => "tier_up",
            Self::Signup {} => "signup",
            Self::SurveyUnhappy { .. } => "survey_unhappy",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerRecord {
    /// `{kind}:{what caused it}` (`purchase:accrual:o-1`, `tier_up:accrual:o-1`, `signup`,
    /// `survey_unhappy:{followup id}`):
    /// the same for a retried write, unique per customer.
    pub id: String,
    pub customer_id: CustomerId,
    #[serde(with = "crate::time::serde_ts")]
    pub occurred_at: Timestamp,
    pub event: TriggerEvent,
}

impl TriggerRecord {
    /// The period of a campaign sent once per event: the record, per customer.
    pub fn period(&self) -> String {
        self.id.clone()
    }
}

/// The triggers of an accrual: a purchase, and a move up the tiers (`before`/`after` the
/// change, as the account views show them).
pub fn account_triggers(
    customer: &CustomerId,
    posting_key: &str,
    req: Option<&AccrualRequest>,
    before: &TierName,
    after: &TierName,
    settings: &PointsSettings,
    now: Timestamp,
) -> Vec<TriggerRecord> {
    let mut out = Vec::new();
    if let Some(r) = req.filter(|r| r.kind == AccrualKind::Purchase) {
        out.push(TriggerRecord {
            id: format!("purchase:{posting_key}"),
            customer_id: customer.clone(),
            occurred_at: r.occurred_at.unwrap_or(now).min(now),
            event: TriggerEvent::Purchase {
                amount_minor: r.amount_minor,
                currency: r.currency.as_ref().map(|c| c.as_str().to_owned()),
                item: r.context.item.clone(),
            },
        });
    }
    let up = matches!(
        (settings.rank(before), settings.rank(after)),
        (Some(b), Some(a)) if a > b
    );
    if up {
        out.push(TriggerRecord {
            id: format!("tier_up:{posting_key}"),
            customer_id: customer.clone(),
            occurred_at: now,
            event: TriggerEvent::TierUp {
                from: before.clone(),
                to: after.clone(),
            },
        });
    }
    out
}

/// The signup trigger of an upsert that created the profile.
pub fn signup_trigger(created: bool, p: &Profile, now: Timestamp) -> Option<TriggerRecord> {
    created.then(|| TriggerRecord {
        id: "signup".into(),
        customer_id: p.customer_id.clone(),
        occurred_at: now,
        event: TriggerEvent::Signup {},
    })
}

/// The trigger of an unhappy answer from a known customer (an anonymous one has nobody to
/// mail).
pub fn unhappy_trigger(f: &crate::surveys::FollowUp) -> Option<TriggerRecord> {
    Some(TriggerRecord {
        id: format!("survey_unhappy:{}", f.id),
        customer_id: f.customer_id.clone()?,
        occurred_at: f.opened_at,
        event: TriggerEvent::SurveyUnhappy {
            followup_id: f.id.clone(),
            survey_id: f.survey_id.to_string(),
            nps: f.nps,
            csat: f.csat,
        },
    })
}
