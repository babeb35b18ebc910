//! Cases: one item per case in the tenant's case partition, `pk = T#{t}#CASES`,
//! `sk = CASE#{id}`, with `lsi1sk` = [`Case::list_key`] so the `by-seq` index reads the queue
//! (open and pending, soonest due first) and the resolved list (newest first) without a scan;
//! and a key-only `CASE#{id}` item in the customer's partition, so the customer page, the
//! export and erasure find the customer's cases. A case is a human's work item: a tenant's
//! case partition takes far fewer than the 1,000 writes a second a partition can.
//!
//! Opening is one transaction: the customer must exist (condition check) and the case id must
//! be new (conditional puts). Changes are a put conditioned on the stored version.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem};
use fanloop_domain::cases::{Case, CaseOpened, CaseStore, CaseView};
use fanloop_domain::ports::{RecordError, StoreError};
use fanloop_domain::{CustomerId, TenantId};

use crate::item::{Item, av_s, get_n, get_s};
use crate::points::corrupt;
use crate::{DynamoStore, build_err, cancelled_conditions, key, profile_pk, sdk_err};

const CASE_PREFIX: &str = "CASE#";

fn cases_pk(tenant: &TenantId) -> String {
    format!("T#{tenant}#CASES")
}

fn case_sk(id: &str) -> String {
    format!("{CASE_PREFIX}{id}")
}

fn item_to_case(item: &Item) -> Result<Case, StoreError> {
    let mut c: Case = serde_json::from_str(get_s(item, "doc").unwrap_or_default())
        .map_err(|e| corrupt("case", e))?;
    c.fingerprint = get_s(item, "fingerprint").unwrap_or_default().to_owned();
    c.version = get_n(item, "version").unwrap_or(0);
    Ok(c)
}

fn case_item(tenant: &TenantId, case: &Case, version: u64) -> Result<Item, StoreError> {
    let mut item = key(cases_pk(tenant), &case_sk(&case.case_id));
    let doc = serde_json::to_string(case).map_err(|e| corrupt("case", e))?;
    item.insert("doc".into(), av_s(doc));
    item.insert("fingerprint".into(), av_s(case.fingerprint.clone()));
    item.insert("version".into(), AttributeValue::N(version.to_string()));
    item.insert("lsi1sk".into(), av_s(case.list_key()));
    Ok(item)
}

/// The case ids among a customer partition's items.
fn case_ids(items: &[Item]) -> impl Iterator<Item = &str> {
    items
        .iter()
        .filter_map(|i| get_s(i, "sk").and_then(|sk| sk.strip_prefix(CASE_PREFIX)))
}

impl DynamoStore {
    /// The cases a customer partition's items point to, oldest first (the export).
    pub(crate) async fn cases_from(
        &self,
        tenant: &TenantId,
        items: &[Item],
    ) -> Result<Vec<Case>, StoreError> {
        let keys = case_ids(items)
            .map(|id| key(cases_pk(tenant), &case_sk(id)))
            .collect();
        let mut cases = self
            .batch_get(keys)
            .await?
            .iter()
            .map(item_to_case)
            .collect::<Result<Vec<_>, _>>()?;
        cases.sort_by(|a, b| a.case_id.cmp(&b.case_id));
        Ok(cases)
    }

    /// Erasure: the customer's cases lose the customer and every text. Idempotent, run before
    /// the partition (and its pointers) goes.
    pub(crate) async fn anonymise_cases(
        &self,
        tenant: &TenantId,
        items: &[Item],
    ) -> Result<(), StoreError> {
        for mut case in self.cases_from(tenant, items).await? {
            if case.anonymise() {
                let item = case_item(tenant, &case, case.version + 1)?;
                self.put_item(item).await?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl CaseStore for DynamoStore {
    async fn open_case(&self, tenant: &TenantId, case: &Case) -> Result<CaseOpened, RecordError> {
        let sk = case_sk(&case.case_id);
        let fresh = Some("attribute_not_exists(pk)");
        let mut items = vec![self.put(case_item(tenant, case, 1)?, fresh)?];
        if let Some(customer) = &case.customer_id {
            let pk = profile_pk(tenant, customer);
            let check = ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(key(pk.clone(), "PROFILE")))
                .condition_expression("attribute_exists(pk)")
                .build()
                .map_err(build_err)?;
            items.push(TransactWriteItem::builder().condition_check(check).build());
            items.push(self.put(key(pk, &sk), None)?);
        }
        let res = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        let Err(e) = res else {
            return Ok(CaseOpened::Created);
        };
        let Some(failed) = cancelled_conditions(&e) else {
            return Err(RecordError::Store(sdk_err(e)));
        };
        if failed.first().copied().unwrap_or(false) {
            return match self.get(cases_pk(tenant), &sk).await? {
                Some(item) => Ok(CaseOpened::Duplicate(Box::new(item_to_case(&item)?))),
                None => Err(StoreError::Conflict.into()),
            };
        }
        if failed.get(1).copied().unwrap_or(false) {
            return Err(RecordError::UnknownCustomer);
        }
        Err(StoreError::Conflict.into())
    }

    async fn case(&self, tenant: &TenantId, case_id: &str) -> Result<Option<Case>, StoreError> {
        self.get(cases_pk(tenant), &case_sk(case_id))
            .await?
            .as_ref()
            .map(item_to_case)
            .transpose()
    }

    async fn replace_case(&self, tenant: &TenantId, case: &Case) -> Result<bool, StoreError> {
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(case_item(tenant, case, case.version + 1)?))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", AttributeValue::N(case.version.to_string()))
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) => crate::unless_condition_failed::<(), _>(Err(e)).map(|()| false),
        }
    }

    async fn cases(
        &self,
        tenant: &TenantId,
        view: CaseView,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Case>, StoreError> {
        let prefix = Case::view_prefix(view);
        // `$` sorts just after `#`: every key of the view lies between `A#` and `A$`; BETWEEN
        // is inclusive, so the cursor's own item is skipped below.
        let end = format!("{}$", &prefix[..1]);
        let (lo, hi, forward) = match view {
            CaseView::Active => (after.unwrap_or(prefix).to_owned(), end, true),
            CaseView::Resolved => (prefix.to_owned(), after.map_or(end, str::to_owned), false),
        };
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("by-seq")
            .key_condition_expression("pk = :pk AND lsi1sk BETWEEN :lo AND :hi")
            .expression_attribute_values(":pk", av_s(cases_pk(tenant)))
            .expression_attribute_values(":lo", av_s(lo))
            .expression_attribute_values(":hi", av_s(hi))
            .scan_index_forward(forward)
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_err)?;
        page.items
            .unwrap_or_default()
            .iter()
            .filter(|i| after.is_none_or(|a| get_s(i, "lsi1sk") != Some(a)))
            .take(limit)
            .map(item_to_case)
            .collect()
    }

    async fn customer_cases(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        limit: usize,
    ) -> Result<Vec<Case>, StoreError> {
        let items = self
            .query_items(None, profile_pk(tenant, customer), Some(CASE_PREFIX), true)
            .await?;
        let mut cases = self.cases_from(tenant, &items).await?;
        cases.reverse();
        cases.truncate(limit);
        Ok(cases)
    }
}
