//! Campaigns: the birthday and win-back mails, their settings, the send rules (consent, one mail
//! per campaign period, frequency cap, cooldown) and the communication log entries. Pure: the
//! engine (`shared/engine`) does the reading, claiming, rendering and sending.

pub mod audience;
pub mod backlog;
pub mod broadcast;
pub mod definition;
pub mod expiring;
pub mod holdout;
pub mod outcomes;
pub mod periodic;
pub mod quiet;
pub mod recommend;
pub mod schedule;
pub mod tally;
pub mod triggers;
pub mod unsubscribe;

mod kind;
mod message;
mod report;
mod send;
mod settings;

pub use kind::{CampaignKind, CampaignRef};
pub use message::{ContactState, MAX_TOUCHES, Message, MessageStatus, SkipReason, Touch, send_key};
pub use report::{DryRunRecipient, RunReport, new_message_id};
pub use send::{
    AS_OF_MAX_AHEAD, MAX_ATTEMPTS, Recipient, SEND_LEASE, SendClaim, SendPlan, SendPlanDue,
    SendRule, birthday_period, decide, period_for, winback_period,
};
pub use settings::{
    BirthdaySettings, CampaignSettings, CouponOffer, FrequencyCap, RecoverySettings,
    TEMPLATE_MAX_LEN, TemplateOverride, WinbackSettings,
};

#[cfg(test)]
mod tests;
