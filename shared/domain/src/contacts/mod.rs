//! The contact log: every conversation staff had with a customer (phone, e-mail, chat, a
//! meeting, in the game), so the next agent sees it — written by the tenant's support tools
//! through the API and by the staff console, shown in the timeline and the communication log,
//! exported and erased with the customer.

pub mod contact;

pub use contact::{
    Contact, ContactAuthor, ContactChannel, ContactInput, ContactOutcome, ContactSummary,
    Direction, SUMMARY_MAX_CHARS,
};
