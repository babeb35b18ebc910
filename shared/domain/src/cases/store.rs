//! The cases port.

use async_trait::async_trait;

use crate::ports::{RecordError, StoreError};
use crate::{CustomerId, TenantId};

use super::{Case, CaseView};

/// How opening a case went.
#[derive(Clone, Debug, PartialEq)]
pub enum CaseOpened {
    Created,
    /// The `case_id` was opened before (nothing written): what is stored.
    Duplicate(Box<Case>),
}

#[async_trait]
pub trait CaseStore: Send + Sync {
    /// Stores `case` once per `case_id`; `UnknownCustomer` when it names a customer the tenant
    /// does not have. The stored version is 1.
    async fn open_case(&self, tenant: &TenantId, case: &Case) -> Result<CaseOpened, RecordError>;
    /// The case with its stored `version`.
    async fn case(&self, tenant: &TenantId, case_id: &str) -> Result<Option<Case>, StoreError>;
    /// Replaces the case if its stored version is still `case.version` (the new version is
    /// one more); `false` (nothing written) otherwise.
    async fn replace_case(&self, tenant: &TenantId, case: &Case) -> Result<bool, StoreError>;
    /// The cases `view` shows in [`Case::list_key`] order (active: soonest due first;
    /// resolved: newest first), those after the key `after` when given.
    async fn cases(
        &self,
        tenant: &TenantId,
        view: CaseView,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Case>, StoreError>;
    /// The customer's cases, newest first (at most `limit`). Erasure of the customer
    /// anonymises them ([`Case::anonymise`]).
    async fn customer_cases(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        limit: usize,
    ) -> Result<Vec<Case>, StoreError>;
}
