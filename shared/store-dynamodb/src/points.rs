//! The points part of the DynamoDB store.
//!
//! - The account is a JSON document on the profile item (`account`, `account_rev`), so reading it
//!   also proves the customer exists, and `GET /customers/{id}` needs no second read.
//! - Each ledger entry is an item of the customer's partition, `sk = POST#{key}` (the key is
//!   the idempotency key: `accrual:{event_id}`, …), carrying the posting (request digest and
//!   answer) on the entry the request made; `lsi1sk = L#{seq}` orders the ledger (LSI `by-seq`).
//! - A coupon is `T#{tenant}#COUPON#{code}` / `COUPON`, plus a pointer `COUPON#{code}` in the
//!   customer's partition for export and erasure.
//!
//! A commit is one `TransactWriteItems`: the account update conditioned on `account_rev`, one
//! `Put` per ledger entry conditioned on `attribute_not_exists` (a reused key cancels the lot),
//! and the coupon items.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use fanloop_domain::campaigns::tally::coupon_used;
use fanloop_domain::points::{
    Coupon, CouponCode, CouponRedemption, CouponUse, CouponVoid, LedgerEntry, RewardDecline,
};
use fanloop_domain::ports::{
    AccountChange, AccountDecline, AccountFn, AccountRecord, PointsStore, Posting, StoreError,
    UpdateError,
};
use fanloop_domain::profile::Profile;
use fanloop_domain::{CustomerId, ExternalId, TenantId, time};
use jiff::Timestamp;

use crate::item::{Item, av_s, get_n, get_s};
use crate::{DynamoStore, build_err, cancelled_conditions, key, profile_pk, sdk_err};

pub(crate) fn coupon_pk(tenant: &TenantId, code: &str) -> String {
    format!("T#{tenant}#COUPON#{code}")
}

fn seq_key(seq: u64) -> String {
    format!("L#{seq:012}")
}

pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

pub(crate) fn to_json<T: serde::Serialize>(what: &str, v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| corrupt(what, e))
}

pub(crate) fn item_to_account(item: &Item) -> Result<AccountRecord, StoreError> {
    let account = match get_s(item, "account") {
        Some(doc) => serde_json::from_str(doc).map_err(|e| corrupt("account", e))?,
        None => Default::default(),
    };
    let last_active_at = get_s(item, "last_active_at")
        .map(|t| fanloop_domain::time::parse(t).map_err(|e| corrupt("last_active_at", e)))
        .transpose()?;
    Ok(AccountRecord {
        account,
        rev: get_n(item, "account_rev").unwrap_or(0),
        last_active_at,
    })
}

pub(crate) fn item_to_posting(item: &Item) -> Result<Posting, StoreError> {
    let key = get_s(item, "sk")
        .and_then(|s| s.strip_prefix("POST#"))
        .unwrap_or_default()
        .to_owned();
    let result = match get_s(item, "result") {
        Some(r) => serde_json::from_str(r).map_err(|e| corrupt("posting", e))?,
        None => serde_json::Value::Null,
    };
    Ok(Posting {
        key,
        fingerprint: get_s(item, "fingerprint").unwrap_or_default().to_owned(),
        result,
    })
}

pub(crate) fn item_to_entry(item: &Item) -> Result<LedgerEntry, StoreError> {
    serde_json::from_str(get_s(item, "entry").unwrap_or_default())
        .map_err(|e| corrupt("ledger entry", e))
}

/// A coupon item: the minted coupon as JSON, its use in attributes of their own (so using it is
/// one conditional update).
pub(crate) fn item_to_coupon(item: &Item) -> Result<Coupon, StoreError> {
    let mut coupon: Coupon = serde_json::from_str(get_s(item, "coupon").unwrap_or_default())
        .map_err(|e| corrupt("coupon", e))?;
    if let Some(at) = get_s(item, "voided_at") {
        coupon.voided_at = Some(time::parse(at).map_err(|e| corrupt("coupon void", e))?);
    }
    if let (Some(order), Some(at)) = (get_s(item, "redeemed_order"), get_s(item, "redeemed_at")) {
        coupon.redeemed = Some(CouponUse {
            order_id: ExternalId::parse(order).map_err(|e| corrupt("coupon order", e))?,
            amount_minor: get_n(item, "redeemed_amount"),
            at: time::parse(at).map_err(|e| corrupt("coupon use", e))?,
        });
    }
    Ok(coupon)
}

const UPDATE_ATTEMPTS: usize = 60;

enum Commit {
    Done,
    Duplicate,
    /// The account moved on: here it is as it is now (from `ALL_OLD`), or `None` if the
    /// customer is gone.
    Raced(Option<Box<AccountRecord>>),
    /// Only the reward's stock condition failed: the stock is taken.
    OutOfStock,
}

/// The last account state this process wrote, per customer, so the next accrual or redemption
/// can write straight away (one request) instead of reading first. A stale entry is harmless:
/// the write is conditioned on its revision, and a failed condition returns the current item,
/// which the retry uses. Bounded; cleared when full.
#[derive(Debug, Default)]
pub(crate) struct AccountCache(std::sync::Mutex<HashMap<String, AccountRecord>>);

const ACCOUNT_CACHE_MAX: usize = 50_000;

impl AccountCache {
    fn get(&self, pk: &str) -> Option<AccountRecord> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(pk)
            .cloned()
    }

    fn put(&self, pk: String, record: AccountRecord) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= ACCOUNT_CACHE_MAX {
            map.clear();
        }
        map.insert(pk, record);
    }

    pub(crate) fn forget(&self, pk: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(pk);
    }
}

/// A delay between `ms / 2` and `ms` milliseconds, so racing writers spread out.
pub(crate) fn jitter(ms: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    ms / 2 + u64::from(nanos) % (ms / 2 + 1)
}

impl DynamoStore {
    async fn commit(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        record: &AccountRecord,
        change: &AccountChange,
    ) -> Result<Commit, StoreError> {
        let pk = profile_pk(tenant, customer);
        let rev = record.rev;
        let rev_cond = if rev == 0 {
            "attribute_exists(pk) AND (attribute_not_exists(account_rev) OR account_rev = :rev)"
        } else {
            "attribute_exists(pk) AND account_rev = :rev"
        };
        let mut expr = "SET account = :acct, account_rev = :next".to_owned();
        let mut values = HashMap::from([
            (
                ":acct".to_owned(),
                av_s(to_json("account", &change.account)?),
            ),
            (":rev".to_owned(), AttributeValue::N(rev.to_string())),
            (":next".to_owned(), AttributeValue::N((rev + 1).to_string())),
        ]);
        // Only an activity later than the last one moves it (as on SQLite).
        let activity = change
            .active_at
            .filter(|a| a.moves_from(record.last_active_at));
        if let Some(activity) = activity {
            let at = activity.at;
            self.mark_late(tenant, customer, activity).await?;
            // Safe without its own condition: activity bumps account_rev too, so a later
            // activity since our read fails the revision check and we re-read.
            expr.push_str(", last_active_at = :active, gsi2pk = :day, gsi2sk = :cid");
            values.insert(":active".into(), av_s(time::format(at)));
            values.insert(":day".into(), av_s(crate::active_pk(tenant, at)));
            values.insert(":cid".into(), av_s(customer.as_str()));
        }
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk.clone(), "PROFILE")))
            .update_expression(expr)
            .condition_expression(rev_cond)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(build_err)?;
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        let mut posting_index = None;
        for e in &change.entries {
            let mut it = key(pk.clone(), &format!("POST#{}", e.key));
            it.insert("lsi1sk".into(), av_s(seq_key(e.seq)));
            it.insert("entry".into(), av_s(to_json("ledger entry", e)?));
            if e.key == change.posting.key {
                posting_index = Some(items.len());
                it.insert(
                    "fingerprint".into(),
                    av_s(change.posting.fingerprint.clone()),
                );
                it.insert(
                    "result".into(),
                    av_s(to_json("posting", &change.posting.result)?),
                );
            }
            items.push(self.put(it, Some("attribute_not_exists(pk)"))?);
        }
        if let Some(c) = &change.coupon {
            items.extend(self.coupon_items(tenant, c)?);
        }
        let mut stock_index = None;
        if let Some(claim) = &change.stock {
            stock_index = Some(items.len());
            items.push(self.stock_item(tenant, claim)?);
        }
        items.extend(self.trigger_items(tenant, customer, &change.triggers)?);
        items.extend(self.lot_items(
            tenant,
            customer,
            &record.account.lot_months(),
            &change.account.lot_months(),
        )?);
        // The activity counts from the last activity as of `rev` (activity bumps it too).
        let mut counters = change.counters.clone();
        if let Some(activity) = activity {
            counters.merge(fanloop_domain::analytics::activity_counters(
                &activity,
                record.last_active_at,
            ));
        }
        items.extend(self.counter_updates(tenant, customer, &counters)?);
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(Commit::Done),
            Err(e) => {
                let Some(failed) = cancelled_conditions(&e) else {
                    return Err(sdk_err(e));
                };
                if posting_index.is_some_and(|i| failed.get(i) == Some(&true)) {
                    return Ok(Commit::Duplicate);
                }
                let stock_taken = stock_index.is_some_and(|i| failed.get(i) == Some(&true));
                if stock_taken && failed.iter().filter(|f| **f).count() == 1 {
                    return Ok(Commit::OutOfStock);
                }
                // The revision moved (or an expiry entry or coupon code collided): the account
                // as it is now came back with the cancellation, if the customer still exists.
                let current = match e.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(c)) => c
                        .cancellation_reasons()
                        .first()
                        .and_then(|r| r.item())
                        .filter(|i| !i.is_empty())
                        .map(item_to_account)
                        .transpose()?
                        .map(Box::new),
                    _ => None,
                };
                Ok(Commit::Raced(current))
            }
        }
    }

    /// A `Query` of the `by-seq` index of a customer's partition, newest first: sort keys from
    /// `lo` to `hi` (both included), at most `limit` items, strongly consistent.
    pub(crate) fn newest_first(
        &self,
        pk: String,
        lo: &str,
        hi: &str,
        limit: usize,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .index_name("by-seq")
            .key_condition_expression("pk = :pk AND lsi1sk BETWEEN :lo AND :hi")
            .expression_attribute_values(":pk", av_s(pk))
            .expression_attribute_values(":lo", av_s(lo))
            .expression_attribute_values(":hi", av_s(hi))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .consistent_read(true)
    }

    pub(crate) fn put(
        &self,
        item: Item,
        condition: Option<&str>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut p = Put::builder().table_name(&self.table).set_item(Some(item));
        if let Some(c) = condition {
            p = p.condition_expression(c);
        }
        Ok(TransactWriteItem::builder()
            .put(p.build().map_err(build_err)?)
            .build())
    }

    pub(crate) fn coupon_items(
        &self,
        tenant: &TenantId,
        coupon: &Coupon,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let code = coupon.code.as_str();
        let mut main = key(coupon_pk(tenant, code), "COUPON");
        main.insert("coupon".into(), av_s(to_json("coupon", coupon)?));
        main.insert("customer_id".into(), av_s(coupon.customer_id.as_str()));
        // `valid_until` is what a use is conditioned on; `expires_at` (epoch seconds, the
        // table's TTL attribute) lets DynamoDB delete the coupon a grace period after it.
        main.insert("valid_until".into(), av_s(time::format(coupon.expires_at)));
        let ttl = AttributeValue::N(coupon.delete_after().to_string());
        main.insert("expires_at".into(), ttl.clone());
        let mut pointer = key(
            profile_pk(tenant, &coupon.customer_id),
            &format!("COUPON#{code}"),
        );
        pointer.insert("code".into(), av_s(code));
        pointer.insert("expires_at".into(), ttl);
        Ok(vec![
            self.put(main, Some("attribute_not_exists(pk)"))?,
            self.put(pointer, None)?,
        ])
    }

    async fn get_posting(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        key_: &str,
    ) -> Result<Option<Posting>, StoreError> {
        self.get(profile_pk(tenant, customer), &format!("POST#{key_}"))
            .await?
            .map(|i| item_to_posting(&i))
            .transpose()
    }
}

#[async_trait]
impl PointsStore for DynamoStore {
    async fn account(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Option<AccountRecord>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(profile_pk(tenant, customer), "PROFILE")))
            .projection_expression("pk, account, account_rev")
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_err)?;
        out.item.map(|i| item_to_account(&i)).transpose()
    }

    async fn profile_and_account(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Option<(Profile, AccountRecord)>, StoreError> {
        let Some(item) = self.get(profile_pk(tenant, customer), "PROFILE").await? else {
            return Ok(None);
        };
        Ok(Some((
            crate::item::item_to_profile(&item)?,
            item_to_account(&item)?,
        )))
    }

    async fn update_account(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        posting_key: &str,
        change: AccountFn,
    ) -> Result<AccountChange, UpdateError> {
        let pk = profile_pk(tenant, customer);
        let mut delay_ms = 2u64;
        // Warm: the state this process last wrote (write at once). Cold: read it first.
        let mut known = self.accounts.get(&pk).map(|r| (r, false));
        for _ in 0..UPDATE_ATTEMPTS {
            let (record, fresh) = match known.take() {
                Some(k) => k,
                None => match self.account(tenant, customer).await? {
                    Some(r) => (r, true),
                    None => {
                        self.accounts.forget(&pk);
                        return Err(UpdateError::NotFound);
                    }
                },
            };
            let ch = match change(&record) {
                Ok(ch) => ch,
                // A refusal must rest on the account as it is, not on a cached copy.
                Err(_) if !fresh => continue,
                Err(decline) => {
                    // A retry of a request that went through must get its answer, not a refusal
                    // computed on today's account (SQLite checks the posting first, so must we).
                    return match self.get_posting(tenant, customer, posting_key).await? {
                        Some(p) => Err(UpdateError::Duplicate(p)),
                        None => Err(decline.into()),
                    };
                }
            };
            match self.commit(tenant, customer, &record, &ch).await? {
                Commit::Done => {
                    let active = ch.active_at.map(|a| a.at);
                    self.accounts.put(
                        pk,
                        AccountRecord {
                            account: ch.account.clone(),
                            rev: record.rev + 1,
                            last_active_at: record.last_active_at.max(active),
                        },
                    );
                    return Ok(ch);
                }
                Commit::Duplicate => {
                    return match self.get_posting(tenant, customer, posting_key).await? {
                        Some(p) => Err(UpdateError::Duplicate(p)),
                        None => Err(StoreError::Conflict.into()),
                    };
                }
                // Our copy was merely stale: retry at once on the state that came back.
                Commit::Raced(Some(current)) if !fresh => known = Some((*current, true)),
                // We lost a race with a live writer: back off (jittered), retry on its state.
                Commit::Raced(Some(current)) => {
                    tokio::time::sleep(std::time::Duration::from_millis(jitter(delay_ms))).await;
                    // Capped at 256 ms: a hot account under a burst (hundreds of writers) settles without
                    // exhausting the attempts; jitter spreads the retries.
                    delay_ms = (delay_ms * 2).min(256);
                    known = Some((*current, true));
                }
                Commit::OutOfStock => {
                    return Err(AccountDecline::Reward(RewardDecline::OutOfStock).into());
                }
                // Gone, or a conflict with another transaction (a reward's stock item that many
                // redeem at once): read again after a pause.
                Commit::Raced(None) => {
                    self.accounts.forget(&pk);
                    tokio::time::sleep(std::time::Duration::from_millis(jitter(delay_ms))).await;
                    delay_ms = (delay_ms * 2).min(256);
                }
            }
        }
        Err(StoreError::Conflict.into())
    }

    async fn ledger_entry(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        key_: &str,
    ) -> Result<Option<LedgerEntry>, StoreError> {
        self.get(profile_pk(tenant, customer), &format!("POST#{key_}"))
            .await?
            .map(|i| item_to_entry(&i))
            .transpose()
    }

    async fn ledger(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<LedgerEntry>, StoreError> {
        let bound = before.map_or_else(|| "L#~".to_owned(), seq_key);
        let out = self
            .newest_first(profile_pk(tenant, customer), "L#", &bound, limit + 1)
            .send()
            .await
            .map_err(sdk_err)?;
        out.items
            .unwrap_or_default()
            .iter()
            .filter(|i| get_s(i, "lsi1sk") != Some(bound.as_str()))
            .take(limit)
            .map(item_to_entry)
            .collect()
    }

    async fn coupon(
        &self,
        tenant: &TenantId,
        code: &CouponCode,
    ) -> Result<Option<Coupon>, StoreError> {
        self.get(coupon_pk(tenant, code.as_str()), "COUPON")
            .await?
            .map(|i| item_to_coupon(&i))
            .transpose()
    }

    async fn redeem_coupon(
        &self,
        tenant: &TenantId,
        code: &CouponCode,
        customer: &CustomerId,
        order: &ExternalId,
        amount_minor: Option<u64>,
        now: Timestamp,
    ) -> Result<CouponRedemption, StoreError> {
        // One conditional update: this customer's, unused and unexpired (the domain rule, as a
        // condition); on failure the coupon as stored says which, through the same rule. A
        // campaign's coupon (read first) is counted for its report in the same transaction.
        let pk = coupon_pk(tenant, code.as_str());
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk.clone(), "COUPON")))
            .update_expression("SET redeemed_order = :o, redeemed_at = :now")
            // Coupons minted before `valid_until` keep their expiry as a time string in
            // `expires_at`.
            .condition_expression(
                "attribute_exists(pk) AND customer_id = :c AND attribute_not_exists(redeemed_order) AND attribute_not_exists(voided_at) AND (valid_until > :now OR (attribute_not_exists(valid_until) AND expires_at > :now))",
            )
            .expression_attribute_values(":c", av_s(customer.as_str()))
            .expression_attribute_values(":o", av_s(order.as_str()))
            .expression_attribute_values(":now", av_s(time::format(now)));
        if let Some(a) = amount_minor {
            update = update
                .update_expression(
                    "SET redeemed_order = :o, redeemed_at = :now, redeemed_amount = :a",
                )
                .expression_attribute_values(":a", AttributeValue::N(a.to_string()));
        }
        let Some(stored) = self.get(pk.clone(), "COUPON").await? else {
            return Ok(CouponRedemption::NotFound);
        };
        let stored = item_to_coupon(&stored)?;
        let outcome = stored.redeem(customer, order, amount_minor, now);
        let CouponRedemption::Redeemed(used) = outcome else {
            // Already used, expired or not this customer's: decided on the coupon as read.
            return Ok(outcome);
        };
        let update = update.build().map_err(build_err)?;
        let tallies = coupon_used(&used, amount_minor);
        let written = if tallies.is_empty() {
            // Not a campaign's: the update alone (a transaction would cost twice the writes).
            let res = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(update.key))
                .update_expression(update.update_expression)
                .set_condition_expression(update.condition_expression)
                .set_expression_attribute_values(update.expression_attribute_values)
                .send()
                .await;
            match res {
                Ok(_) => true,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
                {
                    false
                }
                Err(e) => return Err(sdk_err(e)),
            }
        } else {
            let mut items = vec![TransactWriteItem::builder().update(update).build()];
            items.extend(self.tally_updates(tenant, customer, &tallies)?);
            self.transact_counted(items).await?.is_none()
        };
        if written {
            return Ok(CouponRedemption::Redeemed(used));
        }
        // Used (or changed) since the read: decide on it as it is now.
        match self.get(pk, "COUPON").await? {
            Some(item) => Ok(item_to_coupon(&item)?.redeem(customer, order, amount_minor, now)),
            None => Ok(CouponRedemption::NotFound),
        }
    }

    async fn void_coupon(
        &self,
        tenant: &TenantId,
        code: &CouponCode,
        now: Timestamp,
    ) -> Result<CouponVoid, StoreError> {
        let pk = coupon_pk(tenant, code.as_str());
        for _ in 0..crate::OPTIMISTIC_ATTEMPTS {
            let Some(item) = self.get(pk.clone(), "COUPON").await? else {
                return Ok(CouponVoid::NotFound);
            };
            let outcome = item_to_coupon(&item)?.void(now);
            if !matches!(outcome, CouponVoid::Voided(_)) {
                return Ok(outcome);
            }
            let res = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(pk.clone(), "COUPON")))
                .update_expression("SET voided_at = :now")
                .condition_expression(
                    "attribute_exists(pk) AND attribute_not_exists(redeemed_order) AND attribute_not_exists(voided_at)",
                )
                .expression_attribute_values(":now", av_s(time::format(now)))
                .send()
                .await;
            match res {
                Ok(_) => return Ok(outcome),
                // Used or voided since the read: decide again on it as it is.
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_conditional_check_failed_exception()) => {}
                Err(e) => return Err(sdk_err(e)),
            }
        }
        Err(StoreError::Conflict)
    }

    async fn customer_coupons(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Vec<Coupon>, StoreError> {
        let pointers = self
            .query_items(None, profile_pk(tenant, customer), Some("COUPON#"), false)
            .await?;
        let keys = pointers
            .iter()
            .filter_map(|p| get_s(p, "code"))
            .map(|code| key(coupon_pk(tenant, code), "COUPON"))
            .collect();
        let mut out = self
            .batch_get(keys)
            .await?
            .iter()
            .map(item_to_coupon)
            .collect::<Result<Vec<_>, _>>()?;
        Coupon::newest_first(&mut out);
        Ok(out)
    }
}

impl DynamoStore {
    /// The ledger kept under an erased customer's anonymous id, oldest first (for audits/tests).
    pub async fn anonymous_ledger(
        &self,
        tenant: &TenantId,
        anonymous: &str,
    ) -> Result<Vec<LedgerEntry>, StoreError> {
        let items = self
            .query_partition(format!("T#{tenant}#C#{anonymous}"), false)
            .await?;
        let mut entries = items
            .iter()
            .map(item_to_entry)
            .collect::<Result<Vec<_>, _>>()?;
        entries.sort_by_key(|e| e.seq);
        Ok(entries)
    }
}
