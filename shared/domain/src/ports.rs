//! The store port: what every function needs from storage, implemented by the DynamoDB and the
//! SQLite adapters and held to one contract (`tests/`).

use async_trait::async_trait;
use jiff::Timestamp;

use crate::export::CustomerExport;
use crate::ids::{CustomerId, TenantId};
use crate::profile::{IDENTITIES_MAX, Identity, Profile, ProfilePatch};
use crate::settings::TenantSettings;
use crate::tenant::{ApiKeyHash, Tenant};

/// Failures every store call can have. The text is for logs, never for responses.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a concurrent write won; retry")]
    Conflict,
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

#[derive(Debug, thiserror::Error)]
pub enum CreateTenantError {
    #[error("tenant already exists")]
    Exists,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum UpsertError {
    #[error("identity belongs to another customer")]
    IdentityTaken(Identity),
    #[error("a customer may have at most {IDENTITIES_MAX} identities")]
    TooManyIdentities,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Upserted {
    pub profile: Profile,
    pub created: bool,
}

/// Settings with the version they were read at, for optimistic updates.
#[derive(Clone, Debug, PartialEq)]
pub struct VersionedSettings {
    pub settings: TenantSettings,
    /// 0 when the tenant never saved settings (the defaults apply).
    pub version: u64,
}

#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Creates a tenant with its first API key; `Exists` if the id is taken.
    async fn create_tenant(
        &self,
        tenant: &Tenant,
        key: &ApiKeyHash,
    ) -> Result<(), CreateTenantError>;
    async fn add_api_key(
        &self,
        tenant: &TenantId,
        key: &ApiKeyHash,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError>;
    async fn tenant_for_key(&self, key: &ApiKeyHash) -> Result<Option<TenantId>, StoreError>;
    async fn settings(&self, tenant: &TenantId) -> Result<VersionedSettings, StoreError>;
    /// Saves settings if they are still at `expected_version`; `Conflict` otherwise.
    async fn put_settings(
        &self,
        tenant: &TenantId,
        settings: &TenantSettings,
        expected_version: u64,
    ) -> Result<u64, StoreError>;
}

#[async_trait]
pub trait ProfileStore: Send + Sync {
    /// Creates or merges a profile (rules: [`Profile::apply`]). Identities are claimed in the
    /// same atomic write; one held by another customer fails the whole upsert.
    async fn upsert_profile(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        patch: &ProfilePatch,
        now: Timestamp,
    ) -> Result<Upserted, UpsertError>;
    async fn profile(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Option<Profile>, StoreError>;
    async fn customer_for_identity(
        &self,
        tenant: &TenantId,
        identity: &Identity,
    ) -> Result<Option<CustomerId>, StoreError>;
    /// `false` if the identity is not linked to this customer.
    async fn unlink_identity(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        identity: &Identity,
        now: Timestamp,
    ) -> Result<bool, StoreError>;
    /// Moves `last_active_at` forward to `at` (never back); `false` if the customer is unknown.
    async fn record_activity(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        at: Timestamp,
    ) -> Result<bool, StoreError>;
    async fn export_customer(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Option<CustomerExport>, StoreError>;
    /// Removes the customer's personal data everywhere; `false` if there was no such customer.
    async fn erase_customer(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<bool, StoreError>;
}

/// Everything a function needs from storage.
pub trait Store: TenantStore + ProfileStore {}
impl<T: TenantStore + ProfileStore> Store for T {}
