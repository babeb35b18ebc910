//! Behaviour events: what a customer did in the game or on the stream (logins, sessions, level
//! ups, watching, chatting, voting, gifts without points, custom events), kept for the tenant's
//! `events.retention_days` and moving the customer's last activity like `/activities` does.

pub mod event;
pub mod input;

pub use event::{BehaviourEvent, EventKind, EventsSettings, StoredEvent};
pub use input::{BATCH_MAX, EventBatch, EventInput};
