//! The surveys part of the DynamoDB store.
//!
//! - Response: `T#{tenant}#SURVEY#{survey}#R#{response_id}` / `RESPONSE` (`doc` JSON,
//!   `fingerprint`): one partition per response, so a hot survey spreads its writes.
//! - Counters: `T#{tenant}#SURVEY#{survey}#AGG#{shard}` / `D#{YYYY-MM-DD}`, one number attribute
//!   `c:{key}` per counter, added to with `ADD`. [`SHARDS`] partitions per survey; a summary
//!   reads `SHARDS` day ranges, never the responses.
//! - Follow-up: `T#{tenant}#FOLLOWUP#{id}` / `FOLLOWUP` (`doc` JSON, `status`), listed through
//!   the `by-followup-status` index: `gsi3pk = T#{tenant}#FOLLOWUPS#{status}#{shard}`,
//!   `gsi3sk = {id}` (sharded too; a list reads every shard and merges by id).
//! - In the customer's partition, for export and erasure: `SURVEY#{survey}#{response_id}` (a
//!   copy of the response) and `FOLLOWUP#{id}` (a pointer).
//!
//! Recording is one `TransactWriteItems`: the response (`attribute_not_exists`), the counter
//! `ADD`, and — for an identified customer — a condition that the profile exists and the copy;
//! for an unhappy answer the follow-up and its pointer. A duplicate cancels all of it.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem, Update};
use fanloop_domain::ports::{FollowUpPage, RecordError, Recorded, StoreError, SurveyStore};
use fanloop_domain::surveys::{
    FollowUp, FollowUpStatus, SHARDS, SurveyId, SurveyResponse, Tally, shard_of,
};
use fanloop_domain::{CustomerId, TenantId};
use jiff::Timestamp;
use jiff::civil::Date;

use crate::item::{Item, av_s, get_s};
use crate::points::to_json;
use crate::{DynamoStore, OPTIMISTIC_ATTEMPTS, build_err, key, profile_pk, sdk_err};

pub(crate) const FOLLOWUP_INDEX: &str = "by-followup-status";
const COUNTER_PREFIX: &str = "c:";

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn response_pk(tenant: &TenantId, survey: &SurveyId, response_id: &str) -> String {
    format!("T#{tenant}#SURVEY#{survey}#R#{response_id}")
}

fn counter_pk(tenant: &TenantId, survey: &SurveyId, shard: u32) -> String {
    format!("T#{tenant}#SURVEY#{survey}#AGG#{shard}")
}

fn followup_pk(tenant: &TenantId, id: &str) -> String {
    format!("T#{tenant}#FOLLOWUP#{id}")
}

fn followup_list_pk(tenant: &TenantId, status: FollowUpStatus, shard: u32) -> String {
    format!("T#{tenant}#FOLLOWUPS#{}#{shard}", status.as_str())
}

/// The sort key of a response's copy in the customer's partition.
fn copy_sk(r: &SurveyResponse) -> String {
    format!("SURVEY#{}#{}", r.survey_id, r.response_id)
}

fn item_to_response(item: &Item) -> Result<SurveyResponse, StoreError> {
    let doc = get_s(item, "doc").ok_or_else(|| corrupt("survey response", "no doc"))?;
    let mut r: SurveyResponse =
        serde_json::from_str(doc).map_err(|e| corrupt("survey response", e))?;
    r.fingerprint = get_s(item, "fingerprint").unwrap_or_default().to_owned();
    Ok(r)
}

pub(crate) fn item_to_followup(item: &Item) -> Result<FollowUp, StoreError> {
    let doc = get_s(item, "doc").ok_or_else(|| corrupt("follow-up", "no doc"))?;
    serde_json::from_str(doc).map_err(|e| corrupt("follow-up", e))
}

impl DynamoStore {
    fn followup_item(&self, tenant: &TenantId, f: &FollowUp) -> Result<Item, StoreError> {
        let mut item = key(followup_pk(tenant, &f.id), "FOLLOWUP");
        item.insert("doc".into(), av_s(to_json("follow-up", f)?));
        item.insert("status".into(), av_s(f.status.as_str()));
        item.insert(
            "gsi3pk".into(),
            av_s(followup_list_pk(tenant, f.status, shard_of(&f.id))),
        );
        item.insert("gsi3sk".into(), av_s(f.id.clone()));
        Ok(item)
    }

    fn record_items(
        &self,
        tenant: &TenantId,
        r: &SurveyResponse,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut items = Vec::new();
        let mut resp = key(
            response_pk(tenant, &r.survey_id, r.response_id.as_str()),
            "RESPONSE",
        );
        let doc = to_json("survey response", r)?;
        resp.insert("doc".into(), av_s(doc.clone()));
        resp.insert("fingerprint".into(), av_s(r.fingerprint.clone()));
        items.push(self.put(resp, Some("attribute_not_exists(pk)"))?);

        let keys = r.counter_keys();
        let adds: Vec<String> = (0..keys.len()).map(|i| format!("#k{i} :one")).collect();
        let names: HashMap<String, String> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (format!("#k{i}"), format!("{COUNTER_PREFIX}{k}")))
            .collect();
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(
                counter_pk(tenant, &r.survey_id, r.shard()),
                &format!("D#{}", r.day),
            )))
            .update_expression(format!("ADD {}", adds.join(", ")))
            .set_expression_attribute_names(Some(names))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .build()
            .map_err(build_err)?;
        items.push(TransactWriteItem::builder().update(update).build());

        if let Some(c) = &r.customer_id {
            // The customer must exist; an NPS answer also marks them (a churn trait).
            let profile = key(profile_pk(tenant, c), "PROFILE");
            if r.nps.is_some() {
                let mark = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(profile))
                    .update_expression("SET nps_answered = :t")
                    .condition_expression("attribute_exists(pk)")
                    .expression_attribute_values(":t", AttributeValue::Bool(true))
                    .build()
                    .map_err(build_err)?;
                items.push(TransactWriteItem::builder().update(mark).build());
            } else {
                let check = ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(profile))
                    .condition_expression("attribute_exists(pk)")
                    .build()
                    .map_err(build_err)?;
                items.push(TransactWriteItem::builder().condition_check(check).build());
            }
            let mut copy = key(profile_pk(tenant, c), &copy_sk(r));
            copy.insert("doc".into(), av_s(doc));
            items.push(self.put(copy, None)?);
        }
        if let Some(f) = r.followup() {
            items.push(self.put(self.followup_item(tenant, &f)?, None)?);
            if let Some(c) = &r.customer_id {
                items.push(self.put(
                    key(profile_pk(tenant, c), &format!("FOLLOWUP#{}", f.id)),
                    None,
                )?);
            }
        }
        Ok(items)
    }

    /// Reads a follow-up, changes it with `f` (`false`: nothing to change), and writes it only
    /// if nobody wrote it since the read; otherwise again.
    async fn modify_followup(
        &self,
        tenant: &TenantId,
        id: &str,
        f: impl Fn(&mut FollowUp) -> bool,
    ) -> Result<Option<FollowUp>, StoreError> {
        for _ in 0..OPTIMISTIC_ATTEMPTS {
            let Some(item) = self.get(followup_pk(tenant, id), "FOLLOWUP").await? else {
                return Ok(None);
            };
            let mut fu = item_to_followup(&item)?;
            let old = get_s(&item, "doc").unwrap_or_default().to_owned();
            if !f(&mut fu) {
                return Ok(Some(fu));
            }
            let res = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(self.followup_item(tenant, &fu)?))
                .condition_expression("doc = :old")
                .expression_attribute_values(":old", av_s(old))
                .send()
                .await;
            match res {
                Ok(_) => return Ok(Some(fu)),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_conditional_check_failed_exception()) => {}
                Err(e) => return Err(sdk_err(e)),
            }
        }
        Err(StoreError::Conflict)
    }

    /// The customer's responses and follow-ups from the partition's items (export).
    pub(crate) async fn surveys_from_items(
        &self,
        tenant: &TenantId,
        items: &[Item],
    ) -> Result<(Vec<SurveyResponse>, Vec<FollowUp>), StoreError> {
        let mut responses = items
            .iter()
            .filter(|i| get_s(i, "sk").is_some_and(|sk| sk.starts_with("SURVEY#")))
            .map(item_to_response)
            .collect::<Result<Vec<_>, _>>()?;
        responses.sort_by_key(|r| (r.received_at, r.response_id.clone()));
        let mut followups = Vec::new();
        for id in items
            .iter()
            .filter_map(|i| get_s(i, "sk").and_then(|sk| sk.strip_prefix("FOLLOWUP#")))
        {
            if let Some(f) = self.followup(tenant, id).await? {
                followups.push(f);
            }
        }
        followups.sort_by(|a, b| a.id.cmp(&b.id));
        Ok((responses, followups))
    }

    /// Erasure: the customer's responses and follow-ups lose the customer and their words
    /// (scores stay, so the counters still match). Idempotent, run before the partition goes.
    pub(crate) async fn anonymise_surveys(
        &self,
        tenant: &TenantId,
        items: &[Item],
    ) -> Result<(), StoreError> {
        for item in items {
            let sk = get_s(item, "sk").unwrap_or_default();
            if sk.starts_with("SURVEY#") {
                let mut r = item_to_response(item)?;
                r.anonymise();
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(key(
                        response_pk(tenant, &r.survey_id, r.response_id.as_str()),
                        "RESPONSE",
                    )))
                    .update_expression("SET doc = :d REMOVE fingerprint")
                    .condition_expression("attribute_exists(pk)")
                    .expression_attribute_values(":d", av_s(to_json("survey response", &r)?))
                    .send()
                    .await
                    .map_err(sdk_err)?;
            } else if let Some(id) = sk.strip_prefix("FOLLOWUP#") {
                self.modify_followup(tenant, id, FollowUp::anonymise)
                    .await?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl SurveyStore for DynamoStore {
    async fn record_response(
        &self,
        tenant: &TenantId,
        response: &SurveyResponse,
    ) -> Result<Recorded, RecordError> {
        let items = self.record_items(tenant, response)?;
        // Writers of one counter shard collide (`TransactionConflict`): `transact_counted`
        // backs off and retries them.
        let Some(failed) = self.transact_counted(items).await? else {
            return Ok(Recorded::Created);
        };
        if failed.first().copied().unwrap_or(false) {
            let pk = response_pk(tenant, &response.survey_id, response.response_id.as_str());
            return match self.get(pk, "RESPONSE").await? {
                Some(item) => Ok(Recorded::Duplicate(Box::new(item_to_response(&item)?))),
                None => Err(StoreError::Conflict.into()),
            };
        }
        if response.customer_id.is_some() && failed.get(2).copied().unwrap_or(false) {
            return Err(RecordError::UnknownCustomer);
        }
        Err(StoreError::Conflict.into())
    }

    async fn customer_surveys(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<(Vec<SurveyResponse>, Vec<FollowUp>), StoreError> {
        let pk = profile_pk(tenant, customer);
        let mut items = self
            .query_items(None, pk.clone(), Some("SURVEY#"), false)
            .await?;
        items.extend(self.query_items(None, pk, Some("FOLLOWUP#"), true).await?);
        self.surveys_from_items(tenant, &items).await
    }

    async fn survey_tallies(
        &self,
        tenant: &TenantId,
        survey: &SurveyId,
        from: Date,
        to: Date,
    ) -> Result<Vec<Tally>, StoreError> {
        let mut out = Vec::new();
        for (day, item) in self
            .day_rows(SHARDS, |shard| counter_pk(tenant, survey, shard), from, to)
            .await?
        {
            let mut t = Tally {
                day: Some(day),
                ..Tally::default()
            };
            for (name, v) in &item {
                if let (Some(k), AttributeValue::N(n)) = (name.strip_prefix(COUNTER_PREFIX), v) {
                    t.add(k, n.parse().map_err(|e| corrupt("survey counter", e))?);
                }
            }
            out.push(t);
        }
        Ok(out)
    }

    async fn followup(&self, tenant: &TenantId, id: &str) -> Result<Option<FollowUp>, StoreError> {
        self.get(followup_pk(tenant, id), "FOLLOWUP")
            .await?
            .map(|i| item_to_followup(&i))
            .transpose()
    }

    async fn followups(
        &self,
        tenant: &TenantId,
        status: FollowUpStatus,
        after: Option<&str>,
        limit: usize,
    ) -> Result<FollowUpPage, StoreError> {
        // Each shard's first `limit + 1` after the cursor hold the first `limit` of all.
        let page_size = i32::try_from(limit + 1).unwrap_or(i32::MAX);
        let mut all = Vec::new();
        for shard in 0..SHARDS {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(FOLLOWUP_INDEX)
                .expression_attribute_values(":pk", av_s(followup_list_pk(tenant, status, shard)))
                .limit(page_size);
            q = match after {
                Some(a) => q
                    .key_condition_expression("gsi3pk = :pk AND gsi3sk > :after")
                    .expression_attribute_values(":after", av_s(a)),
                None => q.key_condition_expression("gsi3pk = :pk"),
            };
            let out = q.send().await.map_err(sdk_err)?;
            for item in out.items.unwrap_or_default() {
                let f = item_to_followup(&item)?;
                // The index is eventually consistent: trust the item's own status.
                if f.status == status {
                    all.push(f);
                }
            }
        }
        all.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(FollowUpPage::from_overfetch(all, limit))
    }

    async fn close_followup(
        &self,
        tenant: &TenantId,
        id: &str,
        note: Option<String>,
        now: Timestamp,
    ) -> Result<Option<FollowUp>, StoreError> {
        self.modify_followup(tenant, id, |f| f.close(note.clone(), now))
            .await
    }

    async fn set_followup_recovery(
        &self,
        tenant: &TenantId,
        id: &str,
        recovery: &str,
    ) -> Result<(), StoreError> {
        self.modify_followup(tenant, id, |f| f.set_recovery(recovery))
            .await
            .map(|_| ())
    }
}
