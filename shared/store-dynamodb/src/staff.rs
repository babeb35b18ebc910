//! Staff accounts, sessions and the audit log.
//!
//! - account: `pk = STAFF#{id}`, `sk = STAFF` (`account` JSON, `version`); its login address
//!   claimed by `pk = LOGIN#{address}`, `sk = LOGIN`; listed by `pk = T#{tenant}#STAFF`,
//!   `sk = S#{id}`. The three are written in one transaction.
//! - session: `pk = SESSION#{token hash}`, `sk = SESSION`, with `expires_at` for the TTL.
//! - audit: the tenant's log `pk = T#{tenant}#AUDIT`, `sk = A#{sort key}`, the entry's id
//!   claimed by `sk = ID#{audit id}` in the same partition (a retry writes nothing), and, for
//!   an entry about a customer, a copy `sk = AUDIT#{sort key}` in the customer's partition
//!   (their page and export read it; erasure deletes it and blanks the log entry's details).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use fanloop_domain::ports::StoreError;
use fanloop_domain::staff::{AuditEntry, Session, StaffAccount, StaffStore, login_key};
use fanloop_domain::{CustomerId, TenantId};

use crate::item::{Item, av_s, get_n, get_s};
use crate::points::{corrupt, to_json as json};
use crate::{DynamoStore, key, profile_pk, sdk_err};

const AUDIT_COPY: &str = "AUDIT#";

fn account_pk(id: &str) -> String {
    format!("STAFF#{id}")
}

fn login_pk(login: &str) -> String {
    format!("LOGIN#{login}")
}

fn roster_pk(tenant: &TenantId) -> String {
    format!("T#{tenant}#STAFF")
}

fn audit_pk(tenant: &TenantId) -> String {
    format!("T#{tenant}#AUDIT")
}

fn item_to_account(item: &Item) -> Result<StaffAccount, StoreError> {
    let mut a: StaffAccount = serde_json::from_str(get_s(item, "account").unwrap_or_default())
        .map_err(|e| corrupt("staff", e))?;
    a.version = get_n(item, "version").unwrap_or(0);
    Ok(a)
}

fn item_to_entry(item: &Item) -> Result<AuditEntry, StoreError> {
    serde_json::from_str(get_s(item, "entry").unwrap_or_default())
        .map_err(|e| corrupt("audit entry", e))
}

/// The audit copies among a customer partition's items, oldest first (the export).
pub(crate) fn audit_from(items: &[Item]) -> Result<Vec<AuditEntry>, StoreError> {
    crate::item::parsed_with_prefix(items, AUDIT_COPY, item_to_entry, AuditEntry::sort_key)
}

impl DynamoStore {
    /// Erasure: blanks the details of the tenant-log entries the partition's copies point
    /// to (the copies go with the partition).
    pub(crate) async fn redact_audit(
        &self,
        tenant: &TenantId,
        items: &[Item],
    ) -> Result<(), StoreError> {
        for e in audit_from(items)? {
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(audit_pk(tenant), &format!("A#{}", e.sort_key()))))
                .update_expression("SET entry = :e")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":e", av_s(json("audit entry", &e.redacted())?))
                .send()
                .await
                .map(|_| ())
                .or_else(|err| crate::unless_condition_failed::<(), _>(Err(err)))?;
        }
        Ok(())
    }

    async fn account_at(&self, pk: String, sk: &str) -> Result<Option<StaffAccount>, StoreError> {
        self.get(pk, sk)
            .await?
            .as_ref()
            .map(item_to_account)
            .transpose()
    }
}

#[async_trait]
impl StaffStore for DynamoStore {
    async fn create_staff(&self, a: &StaffAccount) -> Result<bool, StoreError> {
        let mut account = key(account_pk(&a.staff_id), "STAFF");
        account.insert("account".into(), av_s(json("staff", a)?));
        account.insert("version".into(), AttributeValue::N("1".into()));
        let mut login = key(login_pk(&login_key(&a.email)), "LOGIN");
        login.insert("staff_id".into(), av_s(a.staff_id.clone()));
        let roster = key(roster_pk(&a.tenant), &format!("S#{}", a.staff_id));
        let fresh = Some("attribute_not_exists(pk)");
        self.transact_applied(vec![
            self.put(account, fresh)?,
            self.put(login, fresh)?,
            self.put(roster, fresh)?,
        ])
        .await
    }

    async fn staff(&self, staff_id: &str) -> Result<Option<StaffAccount>, StoreError> {
        self.account_at(account_pk(staff_id), "STAFF").await
    }

    async fn staff_by_login(&self, login: &str) -> Result<Option<StaffAccount>, StoreError> {
        let Some(claim) = self.get(login_pk(login), "LOGIN").await? else {
            return Ok(None);
        };
        match get_s(&claim, "staff_id") {
            Some(id) => self.staff(id).await,
            None => Err(StoreError::Corrupt("login claim without staff id".into())),
        }
    }

    async fn staff_of(&self, tenant: &TenantId) -> Result<Vec<StaffAccount>, StoreError> {
        let roster = self.query_partition(roster_pk(tenant), true).await?;
        let keys = roster
            .iter()
            .filter_map(|i| get_s(i, "sk")?.strip_prefix("S#"))
            .map(|id| key(account_pk(id), "STAFF"))
            .collect();
        let mut out = self
            .batch_get(keys)
            .await?
            .iter()
            .map(item_to_account)
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a, b| a.staff_id.cmp(&b.staff_id));
        Ok(out)
    }

    async fn replace_staff(&self, a: &StaffAccount) -> Result<bool, StoreError> {
        let mut item = key(account_pk(&a.staff_id), "STAFF");
        item.insert("account".into(), av_s(json("staff", a)?));
        item.insert(
            "version".into(),
            AttributeValue::N((a.version + 1).to_string()),
        );
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", AttributeValue::N(a.version.to_string()))
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) => crate::unless_condition_failed::<(), _>(Err(e)).map(|()| false),
        }
    }

    async fn put_session(&self, s: &Session) -> Result<(), StoreError> {
        let mut item = key(format!("SESSION#{}", s.id_hash), "SESSION");
        item.insert("session".into(), av_s(json("session", s)?));
        item.insert(
            "expires_at".into(),
            AttributeValue::N(s.expires_at().as_second().to_string()),
        );
        self.put_item(item).await
    }

    async fn session(&self, id_hash: &str) -> Result<Option<Session>, StoreError> {
        let Some(item) = self.get(format!("SESSION#{id_hash}"), "SESSION").await? else {
            return Ok(None);
        };
        serde_json::from_str(get_s(&item, "session").unwrap_or_default())
            .map(Some)
            .map_err(|e| corrupt("session", e))
    }

    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("SESSION#{id_hash}"), "SESSION")))
            .send()
            .await
            .map_err(sdk_err)?;
        Ok(())
    }

    async fn record_audit(&self, tenant: &TenantId, e: &AuditEntry) -> Result<bool, StoreError> {
        let doc = json("audit entry", e)?;
        let sort = e.sort_key();
        let claim = key(audit_pk(tenant), &format!("ID#{}", e.audit_id));
        let mut log = key(audit_pk(tenant), &format!("A#{sort}"));
        log.insert("entry".into(), av_s(doc.clone()));
        let fresh = Some("attribute_not_exists(pk)");
        let mut writes = vec![self.put(claim, fresh)?, self.put(log, fresh)?];
        if let Some(c) = &e.customer {
            let mut copy = key(profile_pk(tenant, c), &format!("{AUDIT_COPY}{sort}"));
            copy.insert("entry".into(), av_s(doc));
            writes.push(self.put(copy, None)?);
        }
        self.transact_applied(writes).await
    }

    async fn audit_log(
        &self,
        tenant: &TenantId,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        // `A#~` sorts after every entry; BETWEEN is inclusive, so the cursor's own is skipped.
        let hi = format!("A#{}", before.unwrap_or("~"));
        self.newest(audit_pk(tenant), "A#".into(), hi, limit).await
    }

    async fn customer_audit(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let hi = format!("{AUDIT_COPY}~");
        self.newest(profile_pk(tenant, customer), AUDIT_COPY.into(), hi, limit)
            .await
    }
}

impl DynamoStore {
    /// Up to `limit` entries of `pk` with a sort key in `lo..hi` (`hi` itself left out),
    /// newest first.
    async fn newest(
        &self,
        pk: String,
        lo: String,
        hi: String,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :lo AND :hi")
            .expression_attribute_values(":pk", av_s(pk))
            .expression_attribute_values(":lo", av_s(lo))
            .expression_attribute_values(":hi", av_s(hi.clone()))
            .scan_index_forward(false)
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_err)?;
        page.items
            .unwrap_or_default()
            .iter()
            .filter(|i| get_s(i, "sk") != Some(hi.as_str()))
            .take(limit)
            .map(item_to_entry)
            .collect()
    }
}
