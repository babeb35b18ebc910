//! The contact log: items of the customer's partition, `sk = CONTACT#{contact_id}`, with
//! `lsi1sk = K#{sort key}` so the `by-seq` index reads them newest first (beside the ledger's
//! `L#` and the events' `E#`). Erasure deletes them with the rest of the partition.
//!
//! Logging is one transaction: the customer must exist (condition check) and the contact id
//! must be new (conditional put).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{ConditionCheck, TransactWriteItem};
use fanloop_domain::contacts::Contact;
use fanloop_domain::ports::{ContactRecorded, ContactStore, RecordError, StoreError};
use fanloop_domain::{CustomerId, TenantId};

use crate::item::{Item, av_s, get_s};
use crate::points::corrupt;
use crate::{DynamoStore, build_err, cancelled_conditions, key, profile_pk, sdk_err};

pub(crate) const CONTACT_PREFIX: &str = "CONTACT#";

fn contact_sk(id: &str) -> String {
    format!("{CONTACT_PREFIX}{id}")
}

pub(crate) fn item_to_contact(item: &Item) -> Result<Contact, StoreError> {
    let mut c: Contact = serde_json::from_str(get_s(item, "contact").unwrap_or_default())
        .map_err(|e| corrupt("contact", e))?;
    c.fingerprint = get_s(item, "fingerprint").unwrap_or_default().to_owned();
    Ok(c)
}

/// The contacts among a partition's items, oldest first (the export).
pub(crate) fn contacts_from(items: &[Item]) -> Result<Vec<Contact>, StoreError> {
    crate::item::parsed_with_prefix(items, CONTACT_PREFIX, item_to_contact, Contact::sort_key)
}

#[async_trait]
impl ContactStore for DynamoStore {
    async fn record_contact(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        contact: &Contact,
    ) -> Result<ContactRecorded, RecordError> {
        let pk = profile_pk(tenant, customer);
        let sk = contact_sk(&contact.contact_id);
        let mut item = key(pk.clone(), &sk);
        let doc = serde_json::to_string(contact).map_err(|e| corrupt("contact", e))?;
        item.insert("contact".into(), av_s(doc));
        item.insert("fingerprint".into(), av_s(contact.fingerprint.clone()));
        item.insert("lsi1sk".into(), av_s(format!("K#{}", contact.sort_key())));
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk.clone(), "PROFILE")))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(build_err)?;
        let items = vec![
            TransactWriteItem::builder().condition_check(check).build(),
            self.put(item, Some("attribute_not_exists(pk)"))?,
        ];
        let res = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        let Err(e) = res else {
            return Ok(ContactRecorded::Created);
        };
        let Some(failed) = cancelled_conditions(&e) else {
            return Err(RecordError::Store(sdk_err(e)));
        };
        if failed.first().copied().unwrap_or(false) {
            return Err(RecordError::UnknownCustomer);
        }
        if !failed.get(1).copied().unwrap_or(false) {
            return Err(StoreError::Conflict.into());
        }
        match self.get(pk, &sk).await? {
            Some(item) => Ok(ContactRecorded::Duplicate(item_to_contact(&item)?)),
            None => Err(StoreError::Conflict.into()),
        }
    }

    async fn contacts(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Contact>, StoreError> {
        // `~` sorts after every key (digits, `#` and the id alphabet); BETWEEN is inclusive,
        // so the cursor's own item is skipped.
        let hi = format!("K#{}", before.unwrap_or("~"));
        let page = self
            .newest_first(profile_pk(tenant, customer), "K#", &hi, limit + 1)
            .send()
            .await
            .map_err(sdk_err)?;
        page.items
            .unwrap_or_default()
            .iter()
            .filter(|i| get_s(i, "lsi1sk") != Some(hi.as_str()))
            .take(limit)
            .map(item_to_contact)
            .collect()
    }
}
