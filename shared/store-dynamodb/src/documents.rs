//! The tenant's documents (saved segments, campaign definitions): one item per document,
//! `T#{tenant}#{COLLECTION}` / `S#{id}` (`T#t#SEGMENTS`, `T#t#CAMPAIGNS`) holding the JSON in
//! `doc`; a list is one `Query` of the partition.

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use fanloop_domain::TenantId;
use fanloop_domain::ports::{Collection, DocumentStore, StoreError};

use crate::item::{av_s, get_s};
use crate::points::corrupt;
use crate::{ConditionFailed, DynamoStore, key, sdk_err, tenant_pk};

fn pk(tenant: &TenantId, c: Collection) -> String {
    format!("{}#{}", tenant_pk(tenant), c.as_str().to_ascii_uppercase())
}

fn sk(id: &str) -> String {
    format!("S#{id}")
}

/// `true` if the conditional write was applied, `false` if its condition failed.
fn applied<T, E>(res: Result<T, SdkError<E>>) -> Result<bool, StoreError>
where
    E: ConditionFailed + ProvideErrorMetadata + std::error::Error + 'static,
{
    match res {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(ConditionFailed::condition_failed) =>
        {
            Ok(false)
        }
        Err(e) => Err(sdk_err(e)),
    }
}

fn doc_of(item: &crate::item::Item) -> Result<String, StoreError> {
    get_s(item, "doc")
        .map(str::to_owned)
        .ok_or_else(|| corrupt("document", "no doc"))
}

impl DynamoStore {
    async fn put_document(
        &self,
        tenant: &TenantId,
        c: Collection,
        id: &str,
        doc: &str,
        condition: &str,
    ) -> Result<bool, StoreError> {
        let mut item = key(pk(tenant, c), &sk(id));
        item.insert("doc".into(), av_s(doc));
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .send()
            .await;
        applied(res)
    }
}

#[async_trait]
impl DocumentStore for DynamoStore {
    async fn create_document(
        &self,
        tenant: &TenantId,
        c: Collection,
        id: &str,
        doc: &str,
    ) -> Result<bool, StoreError> {
        self.put_document(tenant, c, id, doc, "attribute_not_exists(pk)")
            .await
    }

    async fn replace_document(
        &self,
        tenant: &TenantId,
        c: Collection,
        id: &str,
        doc: &str,
    ) -> Result<bool, StoreError> {
        self.put_document(tenant, c, id, doc, "attribute_exists(pk)")
            .await
    }

    async fn document(
        &self,
        tenant: &TenantId,
        c: Collection,
        id: &str,
    ) -> Result<Option<String>, StoreError> {
        self.get(pk(tenant, c), &sk(id))
            .await?
            .as_ref()
            .map(doc_of)
            .transpose()
    }

    async fn documents(&self, tenant: &TenantId, c: Collection) -> Result<Vec<String>, StoreError> {
        self.query_partition(pk(tenant, c), false)
            .await?
            .iter()
            .map(doc_of)
            .collect()
    }

    async fn delete_document(
        &self,
        tenant: &TenantId,
        c: Collection,
        id: &str,
    ) -> Result<bool, StoreError> {
        let res = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(pk(tenant, c), &sk(id))))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        applied(res)
    }
}
