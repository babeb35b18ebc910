//! Deliverability: what the mail provider says became of a mail (SES events: delivery,
//! bounce, complaint, reject), the suppression list it feeds, and the tags that tie an event
//! back to its tenant, customer and message.

mod address;
mod ses;
mod suppression;
mod tags;

pub use address::{AddressHash, AddressKey};
pub use ses::{FeedbackEvent, FeedbackKind, parse_event};
pub use suppression::{
    AddressState, DeliveryStatus, FeedbackOutcome, MessageDelivery, SOFT_BOUNCE_LIMIT,
    SOFT_BOUNCE_WINDOW_DAYS, Suppression, SuppressionReason,
};
pub use tags::{MailRef, TAG_CUSTOMER, TAG_MESSAGE, TAG_TENANT, mail_tags};
