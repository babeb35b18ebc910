//! The campaigns part of the DynamoDB store.
//!
//! - Send marker and log entry: `T#{tenant}#C#{customer}` / `SENT#{campaign}#{period}` (the
//!   message as JSON, `attempts`, `status`), in the customer's partition, so export and erasure
//!   include it.
//! - Contact state (`contact` JSON, `contact_rev`) on the profile item.
//! - Tenant registry: `TENANTS` / `T#{tenant}`, written with the tenant, read by scheduled runs.
//!
//! A claim is one `TransactWriteItems`: the marker (`attribute_not_exists`, or still at the
//! attempt being taken over), the coupon and its pointer, and the profile's contact state,
//! conditioned on the profile, account and contact revisions read — so consent withdrawn, a
//! mail claimed by another run, or activity after the read make it fail, and the claim reads
//! again and decides again.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use fanloop_domain::campaigns::backlog::{LateActive, WinbackBacklog};
use fanloop_domain::campaigns::tally::{Expect, TallyField, marker_change, skip_marker};
use fanloop_domain::campaigns::{
    CampaignRef, ContactState, Message, MessageStatus, Recipient, SendPlan, SkipReason, decide,
    send_key,
};
use fanloop_domain::ports::{CampaignStore, ClaimOutcome, IndexedRecipient, StoreError};
use fanloop_domain::{CustomerId, TenantId};

use crate::item::{Item, av_s, get_n, get_s, item_to_profile};
use crate::points::{item_to_account, to_json};
use crate::{DynamoStore, OPTIMISTIC_ATTEMPTS, build_err, key, profile_pk};

pub(crate) const TENANTS_PK: &str = "TENANTS";

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn marker_sk(k: &str) -> String {
    format!("SENT#{k}")
}

fn item_to_recipient(item: &Item) -> Result<IndexedRecipient, StoreError> {
    let account = item_to_account(item)?;
    let contact = match get_s(item, "contact") {
        Some(doc) => serde_json::from_str(doc).map_err(|e| corrupt("contact", e))?,
        None => ContactState::default(),
    };
    Ok(IndexedRecipient {
        recipient: Recipient {
            profile: item_to_profile(item)?,
            account: account.account,
            contact,
        },
        version: format!(
            "{}:{}:{}",
            get_n(item, "rev").unwrap_or(0),
            account.rev,
            get_n(item, "contact_rev").unwrap_or(0)
        ),
    })
}

fn item_to_message(item: &Item) -> Result<Message, StoreError> {
    let doc = get_s(item, "msg").ok_or_else(|| corrupt("message", "no document"))?;
    let m = serde_json::from_str(doc).map_err(|e| corrupt("message", e))?;
    crate::suppressions::with_delivery(m, item)
}

/// `#a = :a`, or absent when the expected value is 0 (revisions start absent).
fn rev_condition(attr: &str, v: u64) -> String {
    if v == 0 {
        format!("(attribute_not_exists({attr}) OR {attr} = :{attr})")
    } else {
        format!("{attr} = :{attr}")
    }
}

impl DynamoStore {
    /// The put of a send marker, conditioned on the marker it expects to find.
    fn marker_put(
        &self,
        pk: &str,
        marker: &str,
        message: &Message,
        expect: Expect,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut m = key(pk.to_owned(), marker);
        m.insert("msg".into(), av_s(to_json("message", message)?));
        m.insert(
            "attempts".into(),
            AttributeValue::N(message.attempts.to_string()),
        );
        m.insert("status".into(), av_s(message.status.as_str()));
        if let Some(r) = message.reason {
            m.insert("skip_reason".into(), av_s(r.as_str()));
        }
        let (condition, values): (&str, Vec<(&str, AttributeValue)>) = match expect {
            Expect::Absent => ("attribute_not_exists(pk)", vec![]),
            Expect::Attempt(prev) => (
                "attempts = :prev",
                vec![(":prev", AttributeValue::N(prev.to_string()))],
            ),
            Expect::Skipped(r) => (
                "#s = :skipped AND skip_reason = :reason",
                vec![
                    (":skipped", av_s(MessageStatus::Skipped.as_str())),
                    (":reason", av_s(r.as_str())),
                ],
            ),
        };
        let mut put = self.put(m, Some(condition))?;
        if let Some(p) = put.put.as_mut() {
            if !values.is_empty() {
                p.expression_attribute_values =
                    Some(values.into_iter().map(|(k, v)| (k.to_owned(), v)).collect());
            }
            if matches!(expect, Expect::Skipped(_)) {
                p.expression_attribute_names =
                    Some([("#s".to_owned(), "status".to_owned())].into());
            }
        }
        Ok(put)
    }

    async fn query_index(
        &self,
        index: &str,
        attr: &str,
        value: String,
    ) -> Result<Vec<IndexedRecipient>, StoreError> {
        self.query_items(Some((index, attr)), value, None, false)
            .await?
            .iter()
            .map(item_to_recipient)
            .collect()
    }

    async fn read_for_claim(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        marker: &str,
    ) -> Result<Option<(IndexedRecipient, Option<Message>)>, StoreError> {
        let pk = profile_pk(tenant, customer);
        let Some(profile) = self.get(pk.clone(), "PROFILE").await? else {
            return Ok(None);
        };
        let existing = self
            .get(pk, marker)
            .await?
            .map(|i| item_to_message(&i))
            .transpose()?;
        Ok(Some((item_to_recipient(&profile)?, existing)))
    }
}

pub(crate) fn messages_from(items: &[Item]) -> Result<Vec<Message>, StoreError> {
    let mut out = items
        .iter()
        .filter(|i| get_s(i, "sk").is_some_and(|sk| sk.starts_with("SENT#")))
        .map(item_to_message)
        .collect::<Result<Vec<_>, _>>()?;
    out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.key().cmp(&b.key())));
    Ok(out)
}

#[async_trait]
impl CampaignStore for DynamoStore {
    async fn tenant_ids(&self) -> Result<Vec<TenantId>, StoreError> {
        self.query_partition(TENANTS_PK.to_owned(), false)
            .await?
            .iter()
            .map(|i| {
                TenantId::parse(get_s(i, "tenant").unwrap_or_default())
                    .map_err(|e| corrupt("tenant id", e))
            })
            .collect()
    }

    async fn recipients_by_birthday(
        &self,
        tenant: &TenantId,
        month_day: &str,
    ) -> Result<Vec<IndexedRecipient>, StoreError> {
        self.query_index(
            "by-birthday",
            "gsi1pk",
            format!("T#{tenant}#BDAY#{month_day}"),
        )
        .await
    }

    async fn recipients_last_active_on(
        &self,
        tenant: &TenantId,
        day: jiff::civil::Date,
    ) -> Result<Vec<IndexedRecipient>, StoreError> {
        self.query_index(
            "by-last-active",
            "gsi2pk",
            format!("T#{tenant}#ACTIVE#{day}"),
        )
        .await
    }

    async fn winback_backlog(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<WinbackBacklog>, StoreError> {
        self.load_pass(tenant).await
    }

    async fn save_winback_backlog(
        &self,
        tenant: &TenantId,
        pass: Option<&WinbackBacklog>,
    ) -> Result<(), StoreError> {
        self.save_pass(tenant, pass).await
    }

    async fn late_actives(
        &self,
        tenant: &TenantId,
        limit: usize,
    ) -> Result<Vec<LateActive>, StoreError> {
        self.late(tenant, limit).await
    }

    async fn clear_late_actives(
        &self,
        tenant: &TenantId,
        done: &[LateActive],
    ) -> Result<(), StoreError> {
        self.clear_late(tenant, done).await
    }

    async fn claim_send(
        &self,
        tenant: &TenantId,
        plan: &SendPlan,
        customer: &CustomerId,
        known: Option<&IndexedRecipient>,
    ) -> Result<ClaimOutcome, StoreError> {
        let marker = marker_sk(&send_key(&plan.campaign, &plan.period));
        let pk = profile_pk(tenant, customer);
        // The index copy is tried first, assuming no marker: a new send costs one transaction.
        let mut snapshot = known.map(|k| (k.clone(), None));
        for _ in 0..OPTIMISTIC_ATTEMPTS {
            let from_index = snapshot.is_some();
            let (read, existing) = match snapshot.take() {
                Some(s) => s,
                None => match self.read_for_claim(tenant, customer, &marker).await? {
                    Some(s) => s,
                    None => return Ok(ClaimOutcome::NotFound),
                },
            };
            // A skip decided on the index copy stands (the copy is at most a moment old, and
            // skipping is the safe side); a send is only written if the copy is still current.
            // Except "already sent": the copy knows the period was claimed but not the
            // marker's state, and a crashed or failed send must be taken over — read it.
            let claim = match decide(plan, &read.recipient, existing.as_ref()) {
                Ok(c) => c,
                Err(SkipReason::AlreadySent) if from_index => continue,
                Err(reason) => {
                    let Some(m) = skip_marker(plan, reason, existing.as_ref()) else {
                        return Ok(ClaimOutcome::Skipped(reason));
                    };
                    // Recorded once: the marker's condition fails if another run wrote it (or,
                    // from the index copy, a marker exists): read again and decide again.
                    let mut items =
                        vec![self.marker_put(&pk, &marker, &m, Expect::of(existing.as_ref()))?];
                    items.extend(self.tally_updates(
                        tenant,
                        customer,
                        &marker_change(existing.as_ref(), &m),
                    )?);
                    match self.transact_counted(items).await? {
                        None => return Ok(ClaimOutcome::Skipped(reason)),
                        Some(_) => continue,
                    }
                }
            };
            let revs: Vec<u64> = read
                .version
                .split(':')
                .map(|v| v.parse().map_err(|e| corrupt("version", e)))
                .collect::<Result<_, _>>()?;
            let [rev, account_rev, contact_rev] = revs[..] else {
                return Err(corrupt("version", "three parts expected"));
            };
            let mut items = vec![self.marker_put(&pk, &marker, &claim.message, claim.expect)?];
            items.extend(self.tally_updates(
                tenant,
                customer,
                &marker_change(existing.as_ref(), &claim.message),
            )?);
            if let Some(c) = &claim.coupon {
                items.extend(self.coupon_items(tenant, c)?);
            }
            let condition = format!(
                "{} AND {} AND {}",
                rev_condition("rev", rev),
                rev_condition("account_rev", account_rev),
                rev_condition("contact_rev", contact_rev)
            );
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(pk.clone(), "PROFILE")))
                .update_expression("SET contact = :contact ADD contact_rev :one")
                .condition_expression(condition)
                .expression_attribute_values(":contact", av_s(to_json("contact", &claim.contact)?))
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .expression_attribute_values(":rev", AttributeValue::N(rev.to_string()))
                .expression_attribute_values(
                    ":account_rev",
                    AttributeValue::N(account_rev.to_string()),
                )
                .expression_attribute_values(
                    ":contact_rev",
                    AttributeValue::N(contact_rev.to_string()),
                )
                .build()
                .map_err(build_err)?;
            items.push(TransactWriteItem::builder().update(update).build());
            if self.transact_counted(items).await?.is_none() {
                return Ok(ClaimOutcome::Claimed(claim, Box::new(read.recipient)));
            }
            // Someone else wrote first (another run, an unsubscribe, an activity): read again
            // and decide again.
        }
        Err(StoreError::Conflict)
    }

    async fn finish_send(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        message: &Message,
    ) -> Result<(), StoreError> {
        // Only the attempt that holds the marker, still pending, may finish it (once: its count
        // moves from pending with it); a customer erased meanwhile stays erased.
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(
                profile_pk(tenant, customer),
                &marker_sk(&message.key()),
            )))
            .update_expression("SET msg = :m, #s = :s")
            .condition_expression("attempts = :a AND #s = :pending")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":m", av_s(to_json("message", message)?))
            .expression_attribute_values(":s", av_s(message.status.as_str()))
            .expression_attribute_values(":pending", av_s(MessageStatus::Pending.as_str()))
            .expression_attribute_values(":a", AttributeValue::N(message.attempts.to_string()))
            .build()
            .map_err(build_err)?;
        let pending = Message {
            status: MessageStatus::Pending,
            ..message.clone()
        };
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        items.extend(self.tally_updates(
            tenant,
            customer,
            &marker_change(Some(&pending), message),
        )?);
        // A failed condition: taken over by a later attempt, finished before, or erased.
        self.transact_counted(items).await.map(|_| ())
    }

    async fn messages(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Vec<Message>, StoreError> {
        let items = self
            .query_items(None, profile_pk(tenant, customer), Some("SENT#"), false)
            .await?;
        messages_from(&items)
    }

    async fn attribute_purchase(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        at: jiff::Timestamp,
    ) -> Result<usize, StoreError> {
        let pk = profile_pk(tenant, customer);
        for _ in 0..OPTIMISTIC_ATTEMPTS {
            let Some(item) = self.get(pk.clone(), "PROFILE").await? else {
                return Ok(0);
            };
            let Some(doc) = get_s(&item, "contact") else {
                return Ok(0);
            };
            let mut contact: ContactState =
                serde_json::from_str(doc).map_err(|e| corrupt("contact", e))?;
            let changes = contact.convert(at);
            if changes.is_empty() {
                return Ok(0);
            }
            let rev = get_n(&item, "contact_rev").unwrap_or(0);
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(pk.clone(), "PROFILE")))
                .update_expression("SET contact = :contact ADD contact_rev :one")
                .condition_expression(rev_condition("contact_rev", rev))
                .expression_attribute_values(":contact", av_s(to_json("contact", &contact)?))
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .expression_attribute_values(":contact_rev", AttributeValue::N(rev.to_string()))
                .build()
                .map_err(build_err)?;
            let mut items = vec![TransactWriteItem::builder().update(update).build()];
            items.extend(self.tally_updates(tenant, customer, &changes)?);
            // A failed condition: a claim or another delivery changed the contact state; read
            // again (a redelivery then finds the contacts converted).
            if self.transact_counted(items).await?.is_none() {
                return Ok(changes.len());
            }
        }
        Err(StoreError::Conflict)
    }

    async fn campaign_tallies(
        &self,
        tenant: &TenantId,
        campaign: &CampaignRef,
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> Result<Vec<(jiff::civil::Date, TallyField, i64)>, StoreError> {
        self.tally_rows(tenant, campaign, from, to).await
    }
}
