//! The contact log as a use case: a contact logged once per `(customer, contact_id)`, by the
//! API (the tenant's support tools) and by the staff console.

use fanloop_domain::contacts::{Contact, ContactAuthor, ContactInput};
use fanloop_domain::ports::{ContactRecorded, ContactStore, RecordError, StoreError};
use fanloop_domain::tenant::Random;
use fanloop_domain::{CustomerId, TenantId};
use jiff::Timestamp;

/// How logging one contact went.
#[derive(Debug)]
pub enum Logged {
    Created(Contact),
    /// The same request again: the contact as first logged.
    Duplicate(Contact),
}

#[derive(Debug, thiserror::Error)]
pub enum ContactError {
    #[error("no such customer")]
    NotFound,
    #[error("the contact id was logged with a different body")]
    Reused,
    #[error("no random id")]
    Random,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Logs one contact once per `(customer, contact_id)` (a generated id when the input has
/// none).
pub async fn log_contact(
    store: &dyn ContactStore,
    random: &dyn Random,
    tenant: &TenantId,
    customer: &CustomerId,
    input: ContactInput,
    author: ContactAuthor,
    now: Timestamp,
) -> Result<Logged, ContactError> {
    let generated =
        fanloop_domain::campaigns::new_message_id(now, random).map_err(|_| ContactError::Random)?;
    let contact = input.into_contact(customer, generated, author, now);
    match store.record_contact(tenant, customer, &contact).await {
        Ok(ContactRecorded::Created) => Ok(Logged::Created(contact)),
        Ok(ContactRecorded::Duplicate(earlier)) if earlier.fingerprint == contact.fingerprint => {
            Ok(Logged::Duplicate(earlier))
        }
        Ok(ContactRecorded::Duplicate(_)) => Err(ContactError::Reused),
        Err(RecordError::UnknownCustomer) => Err(ContactError::NotFound),
        Err(RecordError::Store(e)) => Err(e.into()),
    }
}
