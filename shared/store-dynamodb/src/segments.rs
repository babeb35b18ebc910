//! Saved segments: one item per segment, `T#{tenant}#SEGMENTS` / `S#{segment_id}`, holding the
//! document; the list is one `Query` of that partition.

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use fanloop_domain::TenantId;
use fanloop_domain::ports::{SegmentStore, StoreError};
use fanloop_domain::segments::{Segment, SegmentId};

use crate::item::{av_s, get_s};
use crate::points::{corrupt, to_json};
use crate::{ConditionFailed, DynamoStore, key, sdk_err, tenant_pk};

fn pk(tenant: &TenantId) -> String {
    format!("{}#SEGMENTS", tenant_pk(tenant))
}

fn sk(id: &SegmentId) -> String {
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

fn parse(item: &crate::item::Item) -> Result<Segment, StoreError> {
    let doc = get_s(item, "doc").ok_or_else(|| corrupt("segment", "no doc"))?;
    serde_json::from_str(doc).map_err(|e| corrupt("segment", e))
}

impl DynamoStore {
    async fn put_segment(
        &self,
        tenant: &TenantId,
        s: &Segment,
        condition: &str,
    ) -> Result<bool, StoreError> {
        let mut item = key(pk(tenant), &sk(&s.segment_id));
        item.insert("doc".into(), av_s(to_json("segment", s)?));
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
impl SegmentStore for DynamoStore {
    async fn create_segment(&self, tenant: &TenantId, s: &Segment) -> Result<bool, StoreError> {
        self.put_segment(tenant, s, "attribute_not_exists(pk)")
            .await
    }

    async fn replace_segment(&self, tenant: &TenantId, s: &Segment) -> Result<bool, StoreError> {
        self.put_segment(tenant, s, "attribute_exists(pk)").await
    }

    async fn segment(
        &self,
        tenant: &TenantId,
        id: &SegmentId,
    ) -> Result<Option<Segment>, StoreError> {
        self.get(pk(tenant), &sk(id))
            .await?
            .as_ref()
            .map(parse)
            .transpose()
    }

    async fn segments(&self, tenant: &TenantId) -> Result<Vec<Segment>, StoreError> {
        self.query_partition(pk(tenant), false)
            .await?
            .iter()
            .map(parse)
            .collect()
    }

    async fn delete_segment(&self, tenant: &TenantId, id: &SegmentId) -> Result<bool, StoreError> {
        let res = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(pk(tenant), &sk(id))))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        applied(res)
    }
}
