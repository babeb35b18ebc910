//! A mail in the communication log (also the send marker), the contact state that the cap and
//! cooldowns read, and why a candidate got no mail.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::CampaignRef;
use crate::points::CouponCode;
use crate::values::Locale;

/// Where a message stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    /// Claimed by a run, not yet handed to the provider (or the run crashed: see [`SEND_LEASE`]).
    Pending,
    /// Accepted by the provider (SES) or written to the outbox.
    Sent,
    /// Refused by the provider; retried by later runs up to [`MAX_ATTEMPTS`].
    Failed,
    /// In the campaign's control group: recorded, never sent (the same on every run).
    #[serde(rename = "held_out")]
    HeldOut,
    /// Due and reachable but not mailed, for `reason` (frequency cap, quiet hours, too late);
    /// not final: a later run decides again and may send it.
    Skipped,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::HeldOut => "held_out",
            Self::Skipped => "skipped",
        }
    }
}

/// One mail in the communication log. It is also the send marker: at most one exists per
/// customer, campaign and period, written conditionally before the mail is sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    /// Also the mail's `Message-ID` and the outbox file name.
    pub id: String,
    /// `birthday`, `winback`, `recovery`, or a campaign definition's id.
    pub campaign: CampaignRef,
    /// The campaign period: the birthday's year, the win-back lapse (`2026-09-01+0`), `ever`
    /// for a broadcast.
    pub period: String,
    /// `{campaign}/{locale}`, with `+tenant` when the tenant's own wording was used.
    pub template: String,
    #[schema(value_type = String)]
    pub locale: Locale,
    pub subject: Option<String>,
    #[schema(value_type = Option<String>)]
    pub coupon: Option<CouponCode>,
    /// `ses` or `outbox`.
    pub provider: Option<String>,
    pub provider_message_id: Option<String>,
    pub status: MessageStatus,
    pub attempts: u32,
    /// Why the provider refused it (no personal data).
    pub error: Option<String>,
    /// Why it was not mailed (status `skipped`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<SkipReason>,
    /// What the mail provider said of it since (delivered, bounced, complained, rejected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<crate::deliverability::MessageDelivery>,
    #[serde(with = "crate::time::serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "crate::time::serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl Message {
    /// The marker key: one per customer, campaign and period.
    pub fn key(&self) -> String {
        send_key(&self.campaign, &self.period)
    }
}

pub fn send_key(campaign: &CampaignRef, period: &str) -> String {
    format!("{campaign}#{period}")
}

/// The customer's recent marketing mail, kept on the customer record so the frequency cap and
/// the cooldown are checked in the same atomic step as the send marker.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactState {
    /// When marketing mails were claimed, oldest first (the last year, at most 64).
    #[serde(default)]
    pub recent: Vec<i64>,
    /// The last mail of each campaign: period and time (ms since the epoch).
    #[serde(default)]
    pub last: BTreeMap<CampaignRef, (String, i64)>,
    /// Mails (and control-group records) whose attribution window is still open, for the
    /// campaign reports' conversions ([`super::tally`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub touches: Vec<Touch>,
}

/// A campaign's contact with the customer — mailed, or held out as control — that a purchase
/// before `until` converts (once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Touch {
    pub campaign: CampaignRef,
    /// When the mail was claimed (ms since the epoch): its report day.
    pub at: i64,
    /// The end of the attribution window (ms since the epoch).
    pub until: i64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub held_out: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub converted: bool,
}

/// Open attribution windows kept per customer (the oldest go first).
pub const MAX_TOUCHES: usize = 32;

impl ContactState {
    pub(super) fn sent_since(&self, since: Timestamp) -> usize {
        let since = since.as_millisecond();
        self.recent.iter().filter(|t| **t > since).count()
    }

    pub(super) fn record(&mut self, campaign: &CampaignRef, period: &str, now: Timestamp) {
        let year_ago = now.as_millisecond() - 366 * 86_400_000;
        self.recent.retain(|t| *t > year_ago);
        self.recent.push(now.as_millisecond());
        if self.recent.len() > 64 {
            let extra = self.recent.len() - 64;
            self.recent.drain(..extra);
        }
        self.last
            .insert(campaign.clone(), (period.to_owned(), now.as_millisecond()));
    }

    /// Opens the campaign's attribution window of `days` from `now`.
    pub(super) fn touch(
        &mut self,
        campaign: &CampaignRef,
        now: Timestamp,
        days: u16,
        held_out: bool,
    ) {
        let at = now.as_millisecond();
        self.touches.retain(|t| t.until >= at);
        self.touches.push(Touch {
            campaign: campaign.clone(),
            at,
            until: at + i64::from(days) * 86_400_000,
            held_out,
            converted: false,
        });
        if self.touches.len() > MAX_TOUCHES {
            let extra = self.touches.len() - MAX_TOUCHES;
            self.touches.drain(..extra);
        }
    }
}

/// Why a candidate got no mail.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    NoConsent,
    NoEmail,
    /// Held back by the frequency cap or the win-back cooldown.
    Suppressed,
    AlreadySent,
    /// Another run holds the send (claimed within [`SEND_LEASE`]).
    InProgress,
    /// The provider refused it (this run or, after [`MAX_ATTEMPTS`], earlier ones).
    Failed,
    /// The customer changed between the index read and the claim (new birthday, new activity,
    /// out of the audience).
    NoLongerDue,
    /// In the campaign's control group: recorded, not mailed.
    HeldOut,
    /// Inside the quiet hours in the customer's zone: a later run sends it.
    QuietHours,
    /// A triggered mail that quiet hours would hold past its `max_delay`: dropped.
    TooLate,
    /// The address bounced or complained: on the tenant's suppression list.
    SuppressedAddress,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoConsent => "no_consent",
            Self::NoEmail => "no_email",
            Self::Suppressed => "suppressed",
            Self::AlreadySent => "already_sent",
            Self::InProgress => "in_progress",
            Self::Failed => "failed",
            Self::NoLongerDue => "no_longer_due",
            Self::HeldOut => "held_out",
            Self::QuietHours => "quiet_hours",
            Self::TooLate => "too_late",
            Self::SuppressedAddress => "suppressed_address",
        }
    }

    pub const ALL: [SkipReason; 11] = [
        Self::NoConsent,
        Self::NoEmail,
        Self::Suppressed,
        Self::AlreadySent,
        Self::InProgress,
        Self::Failed,
        Self::NoLongerDue,
        Self::HeldOut,
        Self::QuietHours,
        Self::TooLate,
        Self::SuppressedAddress,
    ];
}
