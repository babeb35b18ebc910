//! Redemption as a use case: a catalogue reward at the tenant's price, or (admin only, checked
//! at the HTTP edge) free-form points with an optional coupon; once per `redemption_id`.

use fanloop_domain::analytics::account_counters;
use fanloop_domain::points::rules::{UnitCode, fingerprint};
use fanloop_domain::points::{Coupon, CouponCode, RewardDecline, RewardId, RewardListing};
use fanloop_domain::ports::{AccountChange, AccountDecline, AccountRecord, Store, StoreError};
use fanloop_domain::settings::TenantSettings;
use fanloop_domain::tenant::OsRandom;
use fanloop_domain::{CustomerId, ExternalId, TenantId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::service::{Outcome, PointsError, post, posting};

/// The answer to a redemption (and to every retry of it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RedemptionResult {
    #[schema(value_type = String)]
    pub redemption_id: ExternalId,
    /// The catalogue reward redeemed (absent for a free-form redemption).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub reward_id: Option<RewardId>,
    pub points_spent: u64,
    pub balance: i64,
    pub coupon: Option<Coupon>,
}

/// A coupon to mint with a free-form redemption.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CouponReward {
    pub value_minor: u64,
    pub currency: UnitCode,
    pub valid_days: u32,
}

/// What a redemption spends points on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spend {
    /// A reward of the tenant's catalogue (settings `rewards`), at its cost.
    Reward(RewardId),
    /// Points the caller names, with the coupon it names (admin keys only).
    Points {
        points: u64,
        reward: Option<CouponReward>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedemptionRequest {
    pub redemption_id: ExternalId,
    pub spend: Spend,
}

impl RedemptionRequest {
    /// A free-form redemption of `points` (no coupon).
    pub fn points(redemption_id: ExternalId, points: u64) -> Self {
        Self {
            redemption_id,
            spend: Spend::Points {
                points,
                reward: None,
            },
        }
    }

    /// A redemption of the catalogue's reward `reward_id`.
    pub fn reward(redemption_id: ExternalId, reward_id: RewardId) -> Self {
        Self {
            redemption_id,
            spend: Spend::Reward(reward_id),
        }
    }

    /// What tells a retry from another request under the same id. A free-form request digests
    /// as it did before the catalogue (so retries across the upgrade still replay).
    fn fingerprint(&self, customer: &CustomerId) -> String {
        #[derive(Serialize)]
        struct FreeForm<'a> {
            redemption_id: &'a ExternalId,
            points: u64,
            reward: &'a Option<CouponReward>,
        }
        #[derive(Serialize)]
        struct Catalogue<'a> {
            redemption_id: &'a ExternalId,
            reward_id: &'a RewardId,
        }
        let redemption_id = &self.redemption_id;
        match &self.spend {
            Spend::Points { points, reward } => fingerprint(
                customer,
                &FreeForm {
                    redemption_id,
                    points: *points,
                    reward,
                },
            ),
            Spend::Reward(reward_id) => fingerprint(
                customer,
                &Catalogue {
                    redemption_id,
                    reward_id,
                },
            ),
        }
    }
}

/// Spends points exactly once per `redemption_id`, minting the coupon in the same step; a
/// catalogue reward's tier, per-customer limit and stock are enforced in that step too.
pub async fn redeem(
    store: &dyn Store,
    settings: &TenantSettings,
    tenant: &TenantId,
    customer: &CustomerId,
    req: RedemptionRequest,
    now: Timestamp,
) -> Result<Outcome<RedemptionResult>, PointsError> {
    let key = format!("redemption:{}", req.redemption_id);
    let fp = req.fingerprint(customer);
    // Looked up outside the step; an id not in the catalogue is refused inside it, so a retry
    // of a redemption whose reward was since removed still gets its answer.
    let reward = match &req.spend {
        Spend::Reward(id) => settings.reward(id).cloned(),
        Spend::Points { .. } => None,
    };
    // The code is drawn before the atomic step so a retried step mints the same coupon.
    let code =
        CouponCode::generate(&OsRandom).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let (points, tz, customer_id) = (
        settings.points.clone(),
        settings.timezone.tz(),
        customer.clone(),
    );
    let (posting_key, fp2) = (key.clone(), fp.clone());
    let source = format!("redemption:{}", req.redemption_id);
    let change = Box::new(move |rec: &AccountRecord| {
        let mut account = rec.account.clone();
        let id = req.redemption_id.as_str();
        let (out, spent, coupon) = match (&req.spend, &reward) {
            (Spend::Reward(_), Some(r)) => {
                let out = account
                    .redeem_reward(id, r, &points, now, &tz)
                    .map_err(|d| match d {
                        RewardDecline::Insufficient { balance } => {
                            AccountDecline::Insufficient { balance }
                        }
                        d => AccountDecline::Reward(d),
                    })?;
                let c = &r.coupon;
                (
                    out,
                    r.points_cost,
                    Some((c.value_minor, c.currency.clone(), c.valid_days)),
                )
            }
            (Spend::Points { points: n, reward }, _) => {
                let out = account
                    .redeem(id, *n, &points, now, &tz)
                    .map_err(|i| AccountDecline::Insufficient { balance: i.balance })?;
                let c = reward
                    .as_ref()
                    .map(|r| (r.value_minor, r.currency.clone(), r.valid_days));
                (out, *n, c)
            }
            (Spend::Reward(_), None) => return Err(RewardDecline::Unknown.into()),
        };
        let counters = account_counters(&rec.account, &mut account, &out.entries, now, &tz);
        let coupon = coupon.map(|(value_minor, currency, valid_days)| {
            let (c, _) = Coupon::mint(
                code.clone(),
                customer_id.clone(),
                value_minor,
                currency,
                source.clone(),
                now,
                valid_days,
            );
            c
        });
        let result = RedemptionResult {
            redemption_id: req.redemption_id.clone(),
            reward_id: reward.as_ref().map(|r| r.reward_id.clone()),
            points_spent: spent,
            balance: account.balance(),
            coupon: coupon.clone(),
        };
        Ok(AccountChange {
            account,
            entries: out.entries,
            posting: posting(&posting_key, &fp2, &result),
            coupon,
            active_at: None,
            counters,
            // Spending points never moves a customer up a tier.
            triggers: Vec::new(),
            stock: reward.as_ref().and_then(|r| r.stock_claim()),
        })
    });
    let outcome = post(store, tenant, customer, &key, &fp, change).await?;
    if let Outcome::Created(RedemptionResult {
        coupon: Some(c), ..
    }) = &outcome
    {
        // Published as a log event until the campaigns consume it; no code or customer in it.
        tracing::info!(event = "coupon_minted", value_minor = c.value_minor, currency = %c.currency, "coupon minted");
    }
    Ok(outcome)
}

/// The catalogue with what each stocked reward has left.
pub async fn rewards(
    store: &dyn Store,
    settings: &TenantSettings,
    tenant: &TenantId,
) -> Result<Vec<RewardListing>, StoreError> {
    let counted = store.rewards_redeemed(tenant).await?;
    Ok(settings
        .rewards
        .iter()
        .map(|r| r.listing(counted.get(r.reward_id.as_str()).copied().unwrap_or(0)))
        .collect())
}
