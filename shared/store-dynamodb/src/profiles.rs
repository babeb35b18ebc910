//! Profiles and identity claims: the upsert (one `UpdateItem`, or a read and a transaction when
//! it links identities), activity, export and erasure.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, DeleteRequest, Put, PutRequest, ReturnValue,
    ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update, WriteRequest,
};
use fanloop_domain::campaigns::backlog::Activity;
use fanloop_domain::export::CustomerExport;
use fanloop_domain::lookup::CustomerQuery;
use fanloop_domain::ports::{
    CustomerPage, Erased, ProfileStore, StoreError, UpsertError, Upserted,
};
use fanloop_domain::profile::{IDENTITIES_MAX, Identity, Profile, ProfilePatch};
use fanloop_domain::{CustomerId, TenantId, time};
use jiff::Timestamp;

use crate::item::{self, av_s, get_s, item_to_profile};
use crate::update::UpdateBuilder;
use crate::{
    DynamoStore, OPTIMISTIC_ATTEMPTS, active_pk, backlog, build_err, campaigns,
    cancelled_conditions, events, identity_pk, key, lookups, points, profile_pk, sdk_err,
};

impl DynamoStore {
    /// The plain upsert: one `UpdateItem` round trip, merge done by the update expression.
    async fn upsert_plain(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        patch: &ProfilePatch,
        now: Timestamp,
    ) -> Result<Upserted, UpsertError> {
        let u = UpdateBuilder::for_upsert(tenant, customer, patch, now);
        let (expr, names, values) = u.finish();
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(profile_pk(tenant, customer), "PROFILE")))
            .update_expression(expr)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(sdk_err)?;
        let item = out.attributes.unwrap_or_default();
        let created = item::get_n(&item, "rev") == Some(1);
        Ok(Upserted {
            profile: item_to_profile(&item)?,
            created,
        })
    }

    /// An upsert that links identities: read, merge with the domain rule, then one transaction
    /// that claims each new identity (`attribute_not_exists` or already ours) and updates the
    /// profile only if nobody changed it since the read (`rev`).
    async fn upsert_linking(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        patch: &ProfilePatch,
        now: Timestamp,
    ) -> Result<Upserted, UpsertError> {
        let pk = profile_pk(tenant, customer);
        let lookup_key = self.lookup_key(tenant).await?;
        for _ in 0..OPTIMISTIC_ATTEMPTS {
            let existing = self.get(pk.clone(), "PROFILE").await?;
            let rev = existing.as_ref().and_then(|i| item::get_n(i, "rev"));
            let before = match &existing {
                Some(i) => Some(item_to_profile(i)?),
                None => None,
            };
            let created = before.is_none();
            let mut profile = before
                .clone()
                .unwrap_or_else(|| Profile::new(customer.clone(), now));
            let old_ids = profile.identities.clone();
            profile.apply(patch, now);
            if profile.identities.len() > IDENTITIES_MAX {
                return Err(UpsertError::TooManyIdentities);
            }
            let new_ids: Vec<Identity> = profile
                .identities
                .iter()
                .filter(|i| !old_ids.contains(i))
                .cloned()
                .collect();

            let mut u = UpdateBuilder::for_upsert(tenant, customer, patch, now);
            u.add_identities(&new_ids);
            match rev {
                Some(r) => u.condition_rev(r),
                None => u.condition_new(),
            }
            let (expr, names, values, cond) = u.finish_with_condition();
            let lookups =
                self.lookup_changes(tenant, customer, before.as_ref(), &profile, &lookup_key)?;
            let mut items = vec![
                TransactWriteItem::builder()
                    .update(
                        Update::builder()
                            .table_name(&self.table)
                            .set_key(Some(key(pk.clone(), "PROFILE")))
                            .update_expression(expr)
                            .set_expression_attribute_names(Some(names))
                            .set_expression_attribute_values(Some(values))
                            .condition_expression(cond)
                            .build()
                            .map_err(build_err)?,
                    )
                    .build(),
            ];
            for id in &new_ids {
                let mut it = key(identity_pk(tenant, id), "IDENTITY");
                it.insert("customer_id".into(), av_s(customer.as_str()));
                it.insert("platform".into(), av_s(id.platform.as_str()));
                it.insert("external_id".into(), av_s(id.external_id.as_str()));
                items.push(
                    TransactWriteItem::builder()
                        .put(
                            Put::builder()
                                .table_name(&self.table)
                                .set_item(Some(it))
                                .condition_expression(
                                    "attribute_not_exists(pk) OR customer_id = :c",
                                )
                                .expression_attribute_values(":c", av_s(customer.as_str()))
                                .build()
                                .map_err(build_err)?,
                        )
                        .build(),
                );
            }
            // The identity claims' positions are 1..=n, the index changes come after them.
            // A transaction holds 100 items: index changes beyond that go right after it
            // (searches check each hit against the profile, so a late one is never wrong).
            let room = 100usize.saturating_sub(items.len());
            let mut lookups = lookups.into_iter();
            items.extend(lookups.by_ref().take(room));
            let late: Vec<TransactWriteItem> = lookups.collect();
            match self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await
            {
                Ok(_) => {
                    self.write_late_lookups(late).await?;
                    return Ok(Upserted { profile, created });
                }
                Err(e) => match cancelled_conditions(&e) {
                    Some(failed) => {
                        if let Some(pos) =
                            failed.iter().skip(1).take(new_ids.len()).position(|f| *f)
                        {
                            return Err(UpsertError::IdentityTaken(new_ids[pos].clone()));
                        }
                        // The profile changed under us: read again and retry.
                        continue;
                    }
                    None => return Err(sdk_err(e).into()),
                },
            }
        }
        Err(StoreError::Conflict.into())
    }
}

#[async_trait]
impl ProfileStore for DynamoStore {
    async fn upsert_profile(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        patch: &ProfilePatch,
        now: Timestamp,
    ) -> Result<Upserted, UpsertError> {
        // What the search index holds changes only with e-mail, phone and tags; identities
        // have claims of their own: both need the read-and-transaction path.
        let indexed = !(patch.email.is_keep() && patch.phone.is_keep() && patch.tags.is_keep());
        if patch.identities.is_empty() && !indexed {
            self.upsert_plain(tenant, customer, patch, now).await
        } else {
            self.upsert_linking(tenant, customer, patch, now).await
        }
    }

    async fn profile(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Option<Profile>, StoreError> {
        self.get(profile_pk(tenant, customer), "PROFILE")
            .await?
            .map(|i| item_to_profile(&i))
            .transpose()
    }

    async fn customer_for_identity(
        &self,
        tenant: &TenantId,
        identity: &Identity,
    ) -> Result<Option<CustomerId>, StoreError> {
        let Some(item) = self.get(identity_pk(tenant, identity), "IDENTITY").await? else {
            return Ok(None);
        };
        CustomerId::parse(get_s(&item, "customer_id").unwrap_or_default())
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("identity: {e}")))
    }

    async fn find_customers(
        &self,
        tenant: &TenantId,
        query: &CustomerQuery,
        after: Option<&CustomerId>,
        limit: usize,
    ) -> Result<CustomerPage, StoreError> {
        self.find(tenant, query, after, limit).await
    }

    async fn unlink_identity(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        identity: &Identity,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let del = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(identity_pk(tenant, identity), "IDENTITY")))
            .condition_expression("customer_id = :c")
            .expression_attribute_values(":c", av_s(customer.as_str()))
            .build()
            .map_err(build_err)?;
        let upd = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(profile_pk(tenant, customer), "PROFILE")))
            .update_expression("DELETE idents :id SET updated_at = :now, rev = rev + :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(
                ":id",
                AttributeValue::Ss(vec![item::identity_token(identity)]),
            )
            .expression_attribute_values(":now", av_s(time::format(now)))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .build()
            .map_err(build_err)?;
        let items = vec![
            TransactWriteItem::builder().delete(del).build(),
            TransactWriteItem::builder().update(upd).build(),
        ];
        self.transact_applied(items).await
    }

    async fn record_activity(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        activity: Activity,
    ) -> Result<bool, StoreError> {
        self.mark_late(tenant, customer, activity).await?;
        // Already active that local day: one conditional update. Otherwise the condition fails,
        // the item comes back, and the move into a new day is a transaction with its counters.
        let same_day = "attribute_exists(pk) AND last_active_at < :t AND last_active_at >= :start";
        let mut prev = match self
            .move_activity(tenant, customer, activity, same_day, None)
            .await?
        {
            Moved::Done => return Ok(true),
            Moved::Found(item) => item,
        };
        for _ in 0..8 {
            let Some(item) = prev else {
                return Ok(false);
            };
            let last = crate::item::item_to_profile(&item)?.last_active_at;
            if !activity.moves_from(last) {
                return Ok(true);
            }
            let cond = match last {
                None => "attribute_exists(pk) AND attribute_not_exists(last_active_at)",
                Some(_) => "attribute_exists(pk) AND last_active_at = :prev",
            };
            let counters = fanloop_domain::analytics::activity_counters(&activity, last);
            let items = self.counter_updates(tenant, customer, &counters)?;
            match self
                .move_activity(tenant, customer, activity, cond, Some((last, items)))
                .await?
            {
                Moved::Done => return Ok(true),
                Moved::Found(_) => {
                    prev = self.get(profile_pk(tenant, customer), "PROFILE").await?;
                }
            }
        }
        Err(StoreError::Conflict)
    }

    async fn export_customer(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Option<CustomerExport>, StoreError> {
        let items = self
            .query_partition(profile_pk(tenant, customer), false)
            .await?;
        let Some(profile_item) = items.iter().find(|i| get_s(i, "sk") == Some("PROFILE")) else {
            return Ok(None);
        };
        let mut ledger = items
            .iter()
            .filter(|i| get_s(i, "sk").is_some_and(|sk| sk.starts_with("POST#")))
            .map(points::item_to_entry)
            .collect::<Result<Vec<_>, _>>()?;
        ledger.sort_by_key(|e| e.seq);
        let mut coupons = Vec::new();
        for code in items
            .iter()
            .filter_map(|i| get_s(i, "sk").and_then(|sk| sk.strip_prefix("COUPON#")))
        {
            if let Some(c) = self.get(points::coupon_pk(tenant, code), "COUPON").await? {
                coupons.push(points::item_to_coupon(&c)?);
            }
        }
        let (survey_responses, followups) = self.surveys_from_items(tenant, &items).await?;
        let mut events = items
            .iter()
            .filter(|i| get_s(i, "sk").is_some_and(|sk| sk.starts_with("EVENT#")))
            .map(events::item_to_event)
            .collect::<Result<Vec<_>, _>>()?;
        events.sort_by_key(|e| e.sort_key());
        Ok(Some(CustomerExport {
            profile: item_to_profile(profile_item)?,
            ledger,
            coupons,
            messages: campaigns::messages_from(&items)?,
            survey_responses,
            followups,
            events,
            contacts: crate::contacts::contacts_from(&items)?,
            audit: crate::staff::audit_from(&items)?,
            cases: self.cases_from(tenant, &items).await?,
        }))
    }

    async fn erase_customer(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        anonymous: &str,
    ) -> Result<Option<Erased>, StoreError> {
        let pk = profile_pk(tenant, customer);
        self.accounts.forget(&pk);
        let Some(profile) = self.profile(tenant, customer).await? else {
            return Ok(None);
        };
        // Identity claims first (each only if still ours), then the ledger copied under the
        // anonymous id, coupons voided, and the customer's partition last with the profile at
        // the very end, so an interrupted erasure is finished by running it again.
        for id in &profile.identities {
            let res = self
                .client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(key(identity_pk(tenant, id), "IDENTITY")))
                .condition_expression("customer_id = :c")
                .expression_attribute_values(":c", av_s(customer.as_str()))
                .send()
                .await;
            crate::unless_condition_failed(res)?;
        }
        let items = self.query_partition(pk, false).await?;
        let message_ids = campaigns::messages_from(&items)?
            .into_iter()
            .map(|m| m.id)
            .collect();
        self.anonymise_surveys(tenant, &items).await?;
        self.redact_audit(tenant, &items).await?;
        self.anonymise_cases(tenant, &items).await?;
        let anon_pk = format!("T#{tenant}#C#{anonymous}");
        let mut writes = Vec::new();
        let mut deletes = Vec::new();
        for item in &items {
            let sk = get_s(item, "sk").unwrap_or_default();
            if sk.starts_with("POST#") {
                let mut copy = item.clone();
                copy.insert("pk".into(), av_s(anon_pk.clone()));
                // The stored answer may name the customer; an erased ledger needs no replays.
                copy.remove("result");
                copy.remove("fingerprint");
                let entry = points::item_to_entry(item)?.anonymised();
                copy.insert(
                    "entry".into(),
                    av_s(points::to_json("ledger entry", &entry)?),
                );
                writes.push(
                    WriteRequest::builder()
                        .put_request(
                            PutRequest::builder()
                                .set_item(Some(copy))
                                .build()
                                .map_err(build_err)?,
                        )
                        .build(),
                );
            }
            if let Some(code) = sk.strip_prefix("COUPON#") {
                deletes.push(key(points::coupon_pk(tenant, code), "COUPON"));
            }
            if sk.starts_with("PARKED#")
                && let Some(k) = crate::triggers::parked_key_of(tenant, item)
            {
                deletes.push(k);
            }
            if sk == "PROFILE" {
                for t in crate::analytics::segments_of(item).tokens() {
                    deletes.push(lookups::lookup_key_of(tenant, &t, customer));
                }
                if let Some(acct) = get_s(item, "account")
                    && let Ok(a) = serde_json::from_str::<fanloop_domain::points::Account>(acct)
                {
                    for m in a.lot_months() {
                        deletes.push(crate::lots::lot_key(tenant, &m, customer));
                    }
                }
            } else {
                deletes.push(
                    item.iter()
                        .filter(|(k, _)| *k == "pk" || *k == "sk")
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                );
            }
        }
        deletes.push(backlog::late_key(tenant, customer));
        let lookup_key = self.lookup_key(tenant).await?;
        for t in fanloop_domain::lookup::tokens(&profile, &lookup_key) {
            deletes.push(lookups::lookup_key_of(tenant, &t, customer));
        }
        deletes.push(key(profile_pk(tenant, customer), "PROFILE"));
        self.batch_write(writes).await?;
        let deletes = deletes
            .into_iter()
            .map(|k| {
                DeleteRequest::builder()
                    .set_key(Some(k))
                    .build()
                    .map(|d| WriteRequest::builder().delete_request(d).build())
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(build_err)?;
        self.batch_write(deletes).await?;
        Ok(Some(Erased { message_ids }))
    }
}

/// How a conditional move of the last activity went.
enum Moved {
    Done,
    /// The condition failed: the item as it is (`None`: no such customer).
    Found(Option<crate::item::Item>),
}

impl DynamoStore {
    /// Moves the customer's last activity to `activity.at` under `cond`: alone (`with` is
    /// `None`), or in a transaction with counter updates, conditioned on the last activity
    /// being the one given.
    async fn move_activity(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        activity: Activity,
        cond: &str,
        with: Option<(Option<Timestamp>, Vec<TransactWriteItem>)>,
    ) -> Result<Moved, StoreError> {
        let at = activity.at;
        let mut values = std::collections::HashMap::from([
            (":t".to_owned(), av_s(time::format(at))),
            (":day".to_owned(), av_s(active_pk(tenant, at))),
            (":c".to_owned(), av_s(customer.as_str())),
            (":one".to_owned(), AttributeValue::N("1".into())),
        ]);
        let expr = "SET last_active_at = :t, gsi2pk = :day, gsi2sk = :c ADD account_rev :one";
        let pk = profile_pk(tenant, customer);
        let Some((prev, counters)) = with else {
            values.insert(":start".into(), av_s(time::format(activity.day_start)));
            let res = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(pk, "PROFILE")))
                .update_expression(expr)
                .condition_expression(cond)
                .set_expression_attribute_values(Some(values))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            return match res {
                Ok(_) => Ok(Moved::Done),
                Err(e) => match e.as_service_error() {
                    Some(aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c)) => {
                        Ok(Moved::Found(c.item().filter(|i| !i.is_empty()).cloned()))
                    }
                    _ => Err(sdk_err(e)),
                },
            };
        };
        if let Some(p) = prev {
            values.insert(":prev".into(), av_s(time::format(p)));
        }
        let update = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk, "PROFILE")))
            .update_expression(expr)
            .condition_expression(cond)
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(build_err)?;
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        items.extend(counters);
        Ok(if self.transact_applied(items).await? {
            Moved::Done
        } else {
            Moved::Found(None)
        })
    }
}
