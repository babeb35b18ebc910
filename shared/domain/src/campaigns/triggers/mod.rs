//! Event triggers: what a customer did that starts a campaign (a purchase, a move up a tier, a
//! signup, an unhappy survey answer), recorded by the store in the same atomic step as the event itself — an outbox row
//! on SQLite, an item the table's stream delivers on DynamoDB — and matched here against the
//! tenant's active definitions. Delivery is at least once; the send markers (one per campaign
//! and trigger record) make the sends exactly once.

mod matching;
mod record;

pub use matching::{EventRule, matches};
pub use record::{
    TRIGGER_TTL_DAYS, TriggerEvent, TriggerRecord, account_triggers, signup_trigger,
    unhappy_trigger,
};

#[cfg(test)]
mod tests;
