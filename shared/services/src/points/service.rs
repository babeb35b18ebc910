//! Accrual and redemption as use cases: parse, apply the domain rules through the store's
//! atomic account update, and answer retries with the original result.

use fanloop_domain::analytics::account_counters;
use fanloop_domain::campaigns::triggers::account_triggers;
use fanloop_domain::points::AccrualRequest;
use fanloop_domain::points::rules::fingerprint;
use fanloop_domain::points::{
    Account, AdjustmentInput, CorrectionOutcome, LedgerEntry, PointsSettings, PointsView,
    ReversalInput,
};
use fanloop_domain::ports::{
    AccountChange, AccountDecline, Posting, Store, StoreError, UpdateError,
};
use fanloop_domain::settings::TenantSettings;
use fanloop_domain::{CustomerId, ExternalId, TenantId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use super::redeem::{
    CouponReward, RedemptionRequest, RedemptionResult, Spend, redeem, rewards,
};

/// The answer to an accrual (and, unchanged, to every retry of it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccrualResult {
    #[schema(value_type = String)]
    pub event_id: ExternalId,
    pub points_awarded: u64,
    /// Points the daily cap held back.
    pub points_capped: u64,
    pub balance: i64,
    pub tier: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PointsError {
    #[error("no such customer")]
    NotFound,
    #[error("the id was used before for a different request")]
    Reused,
    #[error("insufficient points: {balance} available")]
    Insufficient { balance: i64 },
    /// A reversal names an event the customer has no accrual for.
    #[error("no accrual with this event id")]
    UnknownEvent,
    #[error(transparent)]
    Reward(fanloop_domain::points::RewardDecline),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether the answer is new or a replay of an earlier identical request.
pub enum Outcome<T> {
    Created(T),
    Replayed(T),
}

/// Applies `change` once per `key`: the new answer, or the stored one for an identical retry.
pub(crate) async fn post<T: for<'de> Deserialize<'de>>(
    store: &dyn Store,
    tenant: &TenantId,
    customer: &CustomerId,
    key: &str,
    fingerprint: &str,
    change: fanloop_domain::ports::AccountFn,
) -> Result<Outcome<T>, PointsError> {
    let e = match store.update_account(tenant, customer, key, change).await {
        Ok(ch) => {
            return serde_json::from_value(ch.posting.result)
                .map(Outcome::Created)
                .map_err(|e| StoreError::Corrupt(format!("posting: {e}")).into());
        }
        Err(e) => e,
    };
    match e {
        UpdateError::Duplicate(Posting {
            fingerprint: f,
            result,
            ..
        }) if f == fingerprint => serde_json::from_value(result)
            .map(Outcome::Replayed)
            .map_err(|e| StoreError::Corrupt(format!("stored posting: {e}")).into()),
        UpdateError::Duplicate(_) => Err(PointsError::Reused),
        UpdateError::NotFound => Err(PointsError::NotFound),
        UpdateError::Declined(AccountDecline::Insufficient { balance }) => {
            Err(PointsError::Insufficient { balance })
        }
        UpdateError::Declined(AccountDecline::NotAnAccrual) => Err(PointsError::UnknownEvent),
        UpdateError::Declined(AccountDecline::Reward(d)) => Err(PointsError::Reward(d)),
        UpdateError::Store(e) => Err(e.into()),
    }
}

/// The answer to a reversal or an adjustment (and, unchanged, to every retry of it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CorrectionResult {
    /// The `reversal_id` or `adjustment_id`.
    #[schema(value_type = String)]
    pub id: ExternalId,
    /// Points moved: negative when taken.
    pub points: i64,
    /// Points left untaken because the balance stopped at zero (`points.reversal: clamp`).
    pub shortfall: u64,
    /// Below zero when the customer owes points.
    pub balance: i64,
    pub tier: String,
}

/// The posting of an operation's answer, keyed like its ledger entry.
pub(crate) fn posting<T: Serialize>(key: &str, fingerprint: &str, result: &T) -> Posting {
    Posting {
        key: key.to_owned(),
        fingerprint: fingerprint.to_owned(),
        result: serde_json::to_value(result).unwrap_or_default(),
    }
}

/// Takes back what the customer's accrual `event_id` awarded, once per accrual: a retry with
/// the same body answers the original result; another reversal of the same accrual is
/// `Reused`.
pub async fn reverse(
    store: &dyn Store,
    settings: &TenantSettings,
    tenant: &TenantId,
    customer: &CustomerId,
    req: ReversalInput,
    now: Timestamp,
) -> Result<Outcome<CorrectionResult>, PointsError> {
    let accrual_key = format!("accrual:{}", req.event_id);
    // Ledger entries never change, so the accrual can be read before the atomic step.
    let original = match store.ledger_entry(tenant, customer, &accrual_key).await? {
        Some(e) => e,
        None if store.account(tenant, customer).await?.is_none() => {
            return Err(PointsError::NotFound);
        }
        None => return Err(PointsError::UnknownEvent),
    };
    let key = format!("reversal:{}", req.event_id);
    let fp = fingerprint(customer, &req);
    let id = req.reversal_id.clone();
    let apply = move |a: &mut Account, s: &PointsSettings, tz: &jiff::tz::TimeZone| {
        a.reverse(&original, &req, s, now, tz)
            .map_err(|_| AccountDecline::NotAnAccrual)
    };
    correct(store, settings, tenant, customer, (key, fp, id), apply, now).await
}

/// Applies a support correction once per `adjustment_id`.
pub async fn adjust(
    store: &dyn Store,
    settings: &TenantSettings,
    tenant: &TenantId,
    customer: &CustomerId,
    req: AdjustmentInput,
    now: Timestamp,
) -> Result<Outcome<CorrectionResult>, PointsError> {
    let key = format!("adjustment:{}", req.adjustment_id);
    let fp = fingerprint(customer, &req);
    let id = req.adjustment_id.clone();
    let apply = move |a: &mut Account, s: &PointsSettings, tz: &jiff::tz::TimeZone| {
        Ok(a.adjust(&req, s, now, tz))
    };
    correct(store, settings, tenant, customer, (key, fp, id), apply, now).await
}

/// Applies a correction once per posting key: `apply` changes the account as read in the
/// atomic step; the answer, which names the request's id, is kept for retries.
async fn correct(
    store: &dyn Store,
    settings: &TenantSettings,
    tenant: &TenantId,
    customer: &CustomerId,
    (key, fp, id): (String, String, ExternalId),
    apply: impl Fn(
        &mut Account,
        &PointsSettings,
        &jiff::tz::TimeZone,
    ) -> Result<CorrectionOutcome, AccountDecline>
    + Send
    + Sync
    + 'static,
    now: Timestamp,
) -> Result<Outcome<CorrectionResult>, PointsError> {
    let (points, tz) = (settings.points.clone(), settings.timezone.tz());
    let customer_id = customer.clone();
    let (posting_key, fp2) = (key.clone(), fp.clone());
    let change = Box::new(move |rec: &fanloop_domain::ports::AccountRecord| {
        let mut account = rec.account.clone();
        let out = apply(&mut account, &points, &tz)?;
        let counters = account_counters(&rec.account, &mut account, &out.entries, now, &tz);
        let view = account.view(&points, now, &tz);
        let before = rec.account.view(&points, now, &tz).tier;
        let triggers = account_triggers(
            &customer_id,
            &posting_key,
            None,
            &before,
            &view.tier,
            &points,
            now,
        );
        let result = CorrectionResult {
            id: id.clone(),
            points: out.points,
            shortfall: out.shortfall,
            balance: view.balance,
            tier: view.tier.to_string(),
        };
        Ok(AccountChange {
            account,
            entries: out.entries,
            posting: posting(&posting_key, &fp2, &result),
            coupon: None,
            active_at: None,
            counters,
            triggers,
            stock: None,
        })
    });
    post(store, tenant, customer, &key, &fp, change).await
}

/// Credits an accrual exactly once per `event_id`.
pub async fn accrue(
    store: &dyn Store,
    settings: &TenantSettings,
    tenant: &TenantId,
    customer: &CustomerId,
    req: AccrualRequest,
    now: Timestamp,
) -> Result<Outcome<AccrualResult>, PointsError> {
    let key = format!("accrual:{}", req.event_id);
    let fp = req.fingerprint(customer);
    let (points, tz) = (settings.points.clone(), settings.timezone.tz());
    let customer_id = customer.clone();
    let (posting_key, fp2) = (key.clone(), fp.clone());
    let change = Box::new(move |rec: &fanloop_domain::ports::AccountRecord| {
        let mut account = rec.account.clone();
        let out = account.accrue(&req, &points, now, &tz);
        let counters = account_counters(&rec.account, &mut account, &out.entries, now, &tz);
        let view = account.view(&points, now, &tz);
        let before = rec.account.view(&points, now, &tz).tier;
        let triggers = account_triggers(
            &customer_id,
            &posting_key,
            Some(&req),
            &before,
            &view.tier,
            &points,
            now,
        );
        let result = AccrualResult {
            event_id: req.event_id.clone(),
            points_awarded: out.points_awarded,
            points_capped: out.capped,
            balance: view.balance,
            tier: view.tier.to_string(),
        };
        let active_at = out.events.iter().find_map(|e| match e {
            fanloop_domain::points::account::DomainEvent::CustomerBecameActive { at } => Some(
                fanloop_domain::campaigns::backlog::Activity::in_zone(*at, now, &tz),
            ),
            _ => None,
        });
        Ok(AccountChange {
            account,
            entries: out.entries,
            posting: posting(&posting_key, &fp2, &result),
            coupon: None,
            active_at,
            counters,
            triggers,
            stock: None,
        })
    });
    post(store, tenant, customer, &key, &fp, change).await
}

/// The balance view of a customer; `None` if there is no such customer.
pub async fn view(
    store: &dyn Store,
    settings: &TenantSettings,
    tenant: &TenantId,
    customer: &CustomerId,
    now: Timestamp,
) -> Result<Option<PointsView>, StoreError> {
    Ok(store.account(tenant, customer).await?.map(|rec| {
        rec.account
            .view(&settings.points, now, &settings.timezone.tz())
    }))
}

/// A page of the ledger, newest first.
pub async fn ledger_page(
    store: &dyn Store,
    tenant: &TenantId,
    customer: &CustomerId,
    before: Option<u64>,
    limit: usize,
) -> Result<Vec<LedgerEntry>, StoreError> {
    store.ledger(tenant, customer, before, limit).await
}
