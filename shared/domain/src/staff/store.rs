//! The staff port: accounts, sessions and the audit log.

use async_trait::async_trait;

use crate::ports::StoreError;
use crate::staff::{AuditEntry, Session, StaffAccount};
use crate::{CustomerId, TenantId};

#[async_trait]
pub trait StaffStore: Send + Sync {
    /// `false` (nothing written) when the login address or the id is taken.
    async fn create_staff(&self, account: &StaffAccount) -> Result<bool, StoreError>;
    /// The account with its stored `version`.
    async fn staff(&self, staff_id: &str) -> Result<Option<StaffAccount>, StoreError>;
    /// By [`crate::staff::login_key`].
    async fn staff_by_login(&self, login: &str) -> Result<Option<StaffAccount>, StoreError>;
    /// Every account of the tenant (a tenant has tens of staff), by id.
    async fn staff_of(&self, tenant: &TenantId) -> Result<Vec<StaffAccount>, StoreError>;
    /// Replaces the account if its stored version is still `account.version` (the new version
    /// is one more); `false` (nothing written) otherwise. The login address cannot change.
    async fn replace_staff(&self, account: &StaffAccount) -> Result<bool, StoreError>;

    async fn put_session(&self, session: &Session) -> Result<(), StoreError>;
    /// By [`Session::id_hash`]; an expired session may still be returned (the caller checks).
    async fn session(&self, id_hash: &str) -> Result<Option<Session>, StoreError>;
    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError>;

    /// Appends the entry once per `audit_id` (`false`: it was there).
    async fn record_audit(&self, tenant: &TenantId, entry: &AuditEntry)
    -> Result<bool, StoreError>;
    /// The tenant's log newest first, entries with a sort key below `before` when given.
    async fn audit_log(
        &self,
        tenant: &TenantId,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError>;
    /// The entries about one customer, newest first (the customer page; the export has them
    /// oldest first).
    async fn customer_audit(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError>;
}
