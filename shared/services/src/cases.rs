//! Cases as use cases: opening one (by a backend, by staff, or from an unhappy answer's
//! follow-up), changing one under optimistic concurrency, and keeping a follow-up and its case
//! closed together.

use fanloop_domain::cases::{Case, CaseAuthor, CaseInput, CaseOpened, CaseStore};
use fanloop_domain::ports::{PointsStore, RecordError, StoreError, SurveyStore};
use fanloop_domain::surveys::SurveyResponse;
use fanloop_domain::tenant::Random;
use fanloop_domain::{TenantId, TenantSettings};
use jiff::Timestamp;

/// A concurrent change is retried this many times before the caller is told to retry.
const ATTEMPTS: usize = 10;

/// How opening one case went.
#[derive(Debug)]
pub enum Opened {
    Created(Case),
    /// The same request again: the case as it is now.
    Duplicate(Case),
}

#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("no such customer")]
    UnknownCustomer,
    #[error("no such case")]
    NotFound,
    #[error("the case id was used with a different body")]
    Reused,
    #[error("no random id")]
    Random,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Opens the case `input` describes once per `case_id` (a generated id when it names none);
/// its priority, when the input names none, comes from the customer's tier.
pub async fn open_case<S: CaseStore + PointsStore + ?Sized>(
    store: &S,
    random: &dyn Random,
    settings: &TenantSettings,
    tenant: &TenantId,
    input: CaseInput,
    author: CaseAuthor,
    now: Timestamp,
) -> Result<Opened, CaseError> {
    let tier = store
        .account(tenant, &input.customer_id)
        .await?
        .ok_or(CaseError::UnknownCustomer)?
        .account
        .view(&settings.points, now, &settings.timezone.tz())
        .tier;
    let priority = settings
        .cases
        .default_priority(Some(&tier), &settings.points);
    let generated =
        fanloop_domain::campaigns::new_message_id(now, random).map_err(|_| CaseError::Random)?;
    let case = input.into_case(generated, author, priority, &settings.cases.sla_hours, now);
    match store.open_case(tenant, &case).await {
        Ok(CaseOpened::Created) => Ok(Opened::Created(case)),
        Ok(CaseOpened::Duplicate(earlier)) if earlier.fingerprint == case.fingerprint => {
            Ok(Opened::Duplicate(*earlier))
        }
        Ok(CaseOpened::Duplicate(_)) => Err(CaseError::Reused),
        Err(RecordError::UnknownCustomer) => Err(CaseError::UnknownCustomer),
        Err(RecordError::Store(e)) => Err(e.into()),
    }
}

/// Opens the case of a recorded answer's follow-up, if it opened one (the same id: a retry of
/// the answer opens nothing twice). High-value tiers get `high` priority.
pub async fn open_followup_case(
    store: &dyn CaseStore,
    settings: &TenantSettings,
    tenant: &TenantId,
    response: &SurveyResponse,
) -> Result<(), StoreError> {
    let Some(followup) = response.followup() else {
        return Ok(());
    };
    let tier = response.segment.as_ref().map(|s| &s.tier);
    let priority = settings.cases.default_priority(tier, &settings.points);
    let case = Case::from_followup(&followup, priority, &settings.cases.sla_hours);
    match store.open_case(tenant, &case).await {
        Ok(_) => Ok(()),
        // The customer was erased between the answer and now: nothing to work on.
        Err(RecordError::UnknownCustomer) => Ok(()),
        Err(RecordError::Store(e)) => Err(e),
    }
}

/// Applies `change` to the stored case, retrying on a concurrent change; `(before, after)`
/// when it changed something, `None` when `change` said there was nothing to do.
pub async fn change_case<S: CaseStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    case_id: &str,
    mut change: impl FnMut(&mut Case) -> bool + Send,
) -> Result<Option<(Case, Case)>, CaseError> {
    for _ in 0..ATTEMPTS {
        let before = store
            .case(tenant, case_id)
            .await?
            .ok_or(CaseError::NotFound)?;
        let mut after = before.clone();
        if !change(&mut after) {
            return Ok(None);
        }
        if store.replace_case(tenant, &after).await? {
            after.version += 1;
            return Ok(Some((before, after)));
        }
    }
    Err(StoreError::Conflict.into())
}

/// Resolves a case; a follow-up case also closes its follow-up (with the resolution as its
/// note), so `GET /v1/followups` agrees with the queue.
pub async fn resolve<S: CaseStore + SurveyStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    case_id: &str,
    resolution: String,
    now: Timestamp,
) -> Result<Option<(Case, Case)>, CaseError> {
    let text = resolution.clone();
    let changed = change_case(store, tenant, case_id, |c| c.resolve(text.clone(), now)).await?;
    let current = match &changed {
        Some((_, after)) => Some(after.clone()),
        None => store.case(tenant, case_id).await?,
    };
    // Also on a retry that changed nothing: the follow-up may not have closed the first time.
    if let Some(c) = current.filter(|c| c.followup.is_some() && !c.is_active()) {
        store
            .close_followup(tenant, &c.case_id, c.resolution.clone(), now)
            .await?;
    }
    Ok(changed)
}

/// A follow-up closed through `POST /v1/followups/{id}/close` resolves its case (with the
/// note, or a line saying where it was closed).
pub async fn followup_closed(
    store: &dyn CaseStore,
    tenant: &TenantId,
    followup_id: &str,
    note: Option<String>,
    now: Timestamp,
) -> Result<(), StoreError> {
    let resolution = note.unwrap_or_else(|| "Closed through /v1/followups".to_owned());
    match change_case(store, tenant, followup_id, |c| {
        c.resolve(resolution.clone(), now)
    })
    .await
    {
        Ok(_) | Err(CaseError::NotFound) => Ok(()),
        Err(CaseError::Store(e)) => Err(e),
        Err(_) => Err(StoreError::Conflict),
    }
}
