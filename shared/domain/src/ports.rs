//! The store port: what every function needs from storage, implemented by the DynamoDB and the
//! SQLite adapters and held to one contract (`tests/`).

use async_trait::async_trait;
use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};

use crate::analytics::{CounterRow, Counters, Scope, Snapshot};
use crate::campaigns::backlog::{Activity, LateActive, WinbackBacklog};
use crate::campaigns::{Message, Recipient, SendClaim, SendPlan, SkipReason};
use crate::events::{BehaviourEvent, StoredEvent};
use crate::export::CustomerExport;
use crate::ids::{CustomerId, ExternalId, TenantId};
use crate::keys::KeyInfo;
use crate::points::{Account, Coupon, CouponCode, CouponRedemption, LedgerEntry};
use crate::profile::{IDENTITIES_MAX, Identity, Profile, ProfilePatch};
use crate::settings::TenantSettings;
use crate::surveys::{FollowUp, FollowUpStatus, SurveyId, SurveyResponse, Tally};
use crate::tenant::{ApiKey, ApiKeyHash, Tenant};

/// Failures every store call can have. The text is for logs, never for responses.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a concurrent write won; retry")]
    Conflict,
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

#[derive(Debug, thiserror::Error)]
pub enum CreateTenantError {
    #[error("tenant already exists")]
    Exists,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum UpsertError {
    #[error("identity belongs to another customer")]
    IdentityTaken(Identity),
    #[error("a customer may have at most {IDENTITIES_MAX} identities")]
    TooManyIdentities,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Upserted {
    pub profile: Profile,
    pub created: bool,
}

/// Settings with the version they were read at, for optimistic updates.
#[derive(Clone, Debug, PartialEq)]
pub struct VersionedSettings {
    pub settings: TenantSettings,
    /// 0 when the tenant never saved settings (the defaults apply).
    pub version: u64,
}

#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Creates a tenant with its first API key (every scope:
    /// [`KeyInfo::first`](crate::keys::KeyInfo::first)); `Exists` if the id is taken.
    async fn create_tenant(&self, tenant: &Tenant, key: &ApiKey) -> Result<(), CreateTenantError>;
    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError>;
    /// The key with this hash, with its tenant (a key stored before keys had scopes: every
    /// scope, [`KeyInfo::legacy`](crate::keys::KeyInfo::legacy)).
    async fn key(&self, hash: &ApiKeyHash) -> Result<Option<KeyInfo>, StoreError>;
    /// Stores a new key of `tenant`.
    async fn create_key(
        &self,
        tenant: &TenantId,
        key: &KeyInfo,
        hash: &ApiKeyHash,
    ) -> Result<(), StoreError>;
    /// The tenant's keys, oldest first, revoked ones included.
    async fn keys(&self, tenant: &TenantId) -> Result<Vec<KeyInfo>, StoreError>;
    /// Revokes the tenant's key `key_id` at `at` (a second revoke keeps the first time) and
    /// returns it with the hash it is stored under; `None` if the tenant has no such key.
    async fn revoke_key(
        &self,
        tenant: &TenantId,
        key_id: &str,
        at: Timestamp,
    ) -> Result<Option<(KeyInfo, ApiKeyHash)>, StoreError>;
    /// The tenant's ingest secrets, oldest first (none for a tenant made before them).
    async fn ingest_secrets(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<crate::ingest::IngestSecret>, StoreError>;
    /// Replaces the tenant's ingest secrets.
    async fn put_ingest_secrets(
        &self,
        tenant: &TenantId,
        secrets: &[crate::ingest::IngestSecret],
    ) -> Result<(), StoreError>;
    /// Records that the key was used at `at` (best effort: the auth cache calls it once per
    /// fill, so "last used" is right to the cache's lifetime).
    async fn key_used(&self, hash: &ApiKeyHash, at: Timestamp) -> Result<(), StoreError>;
    async fn settings(&self, tenant: &TenantId) -> Result<VersionedSettings, StoreError>;
    /// Saves settings if they are still at `expected_version`; `Conflict` otherwise.
    async fn put_settings(
        &self,
        tenant: &TenantId,
        settings: &TenantSettings,
        expected_version: u64,
    ) -> Result<u64, StoreError>;
}

#[async_trait]
pub trait ProfileStore: Send + Sync {
    /// Creates or merges a profile (rules: [`Profile::apply`]). Identities are claimed in the
    /// same atomic write; one held by another customer fails the whole upsert.
    async fn upsert_profile(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        patch: &ProfilePatch,
        now: Timestamp,
    ) -> Result<Upserted, UpsertError>;
    async fn profile(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Option<Profile>, StoreError>;
    async fn customer_for_identity(
        &self,
        tenant: &TenantId,
        identity: &Identity,
    ) -> Result<Option<CustomerId>, StoreError>;
    /// Customers the tenant can find by `query` (e-mail, phone or tag), in id order after
    /// `after`, at most `limit`; from an index, never a scan.
    async fn find_customers(
        &self,
        tenant: &TenantId,
        query: &crate::lookup::CustomerQuery,
        after: Option<&CustomerId>,
        limit: usize,
    ) -> Result<CustomerPage, StoreError>;
    /// `false` if the identity is not linked to this customer.
    async fn unlink_identity(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        identity: &Identity,
        now: Timestamp,
    ) -> Result<bool, StoreError>;
    /// Moves `last_active_at` forward to `activity.at` (never back), marking the customer for
    /// the win-back backlog when the activity is late; `false` if the customer is unknown.
    async fn record_activity(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        activity: Activity,
    ) -> Result<bool, StoreError>;
    async fn export_customer(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Option<CustomerExport>, StoreError>;
    /// Removes the customer's personal data everywhere; `None` if there was no such customer.
    /// The points ledger is kept, consistent, under `anonymous` (an id no customer can have),
    /// so the tenant's points liability still adds up; coupons are voided. What was erased
    /// names the copies kept outside the store ([`MailCopies`]), for the caller to remove.
    async fn erase_customer(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        anonymous: &str,
    ) -> Result<Option<Erased>, StoreError>;
}

/// A page of a customer search.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomerPage {
    pub customers: Vec<Profile>,
    /// The id to continue after, when there may be more.
    pub next: Option<CustomerId>,
}

/// What an erasure removed that copies outside the store are named by.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Erased {
    /// The ids of the customer's messages (their communication log).
    pub message_ids: Vec<String>,
}

/// An account as loaded, with the revision a write must still find.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountRecord {
    pub account: Account,
    /// Changes with every account write and every activity, so a commit never overwrites either.
    pub rev: u64,
    /// The customer's last activity as of `rev` (what an activity of the change counts from).
    pub last_active_at: Option<Timestamp>,
}

/// The idempotency record of an accrual or redemption: what was asked (a digest) and what was
/// answered, kept with its ledger entry, so a retry gets the same answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Posting {
    /// `accrual:{event_id}` or `redemption:{redemption_id}`: the key of its ledger entry.
    pub key: String,
    pub fingerprint: String,
    pub result: serde_json::Value,
}

/// One atomic change of a points account.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountChange {
    pub account: Account,
    /// New ledger entries; the one whose key is `posting.key` carries the posting.
    pub entries: Vec<LedgerEntry>,
    pub posting: Posting,
    pub coupon: Option<Coupon>,
    /// Moves the customer's `last_active_at` forward to this, if later (marking a late one for
    /// the win-back backlog, as [`ProfileStore::record_activity`] does).
    pub active_at: Option<Activity>,
    /// What the change adds to the tenant's analytics counters, written in the same step
    /// (the store adds the activity's own, [`crate::analytics::activity_counters`]).
    pub counters: Counters,
    /// The campaign triggers the change causes (a purchase, a tier up), stored in the same
    /// step ([`crate::campaigns::triggers`]).
    pub triggers: Vec<crate::campaigns::triggers::TriggerRecord>,
    /// A claim on a catalogue reward's stock, counted in the same step; the step fails with
    /// [`AccountDecline::Reward`]`(OutOfStock)` once the stock is taken.
    pub stock: Option<crate::points::StockClaim>,
}

/// Why an account function refused to change the account (nothing is written).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccountDecline {
    #[error("insufficient points: {balance} available")]
    Insufficient { balance: i64 },
    /// A reversal named an entry that is not an accrual.
    #[error("only an accrual can be reversed")]
    NotAnAccrual,
    /// A catalogue redemption the reward's rules refuse.
    #[error(transparent)]
    Reward(#[from] crate::points::RewardDecline),
}

#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// The posting key was used before: here is what it was used for.
    #[error("the posting key was used before")]
    Duplicate(Posting),
    #[error("no such customer")]
    NotFound,
    #[error(transparent)]
    Declined(#[from] AccountDecline),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The pure change to make, given the account as it is: the stores call it inside their
/// atomic step (SQLite: within one transaction; DynamoDB: read, call, conditional write, and
/// again if another write came first), so it may run more than once.
pub type AccountFn =
    Box<dyn Fn(&AccountRecord) -> Result<AccountChange, AccountDecline> + Send + Sync>;

#[async_trait]
pub trait PointsStore: Send + Sync {
    /// The profile and the account, read together (one item on DynamoDB).
    async fn profile_and_account(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Option<(Profile, AccountRecord)>, StoreError>;
    /// The customer's account (empty if never used); `None` if there is no such customer.
    async fn account(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Option<AccountRecord>, StoreError>;
    /// Applies `change` atomically, exactly once per `posting_key`: if that key was posted
    /// before, nothing is written and the earlier posting is returned as `Duplicate`.
    async fn update_account(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        posting_key: &str,
        change: AccountFn,
    ) -> Result<AccountChange, UpdateError>;
    /// The customer's ledger entry `key` (`accrual:{event_id}`, …), if there is one.
    async fn ledger_entry(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        key: &str,
    ) -> Result<Option<LedgerEntry>, StoreError>;
    /// Ledger entries, newest first, with `seq` below `before` (all when `None`).
    async fn ledger(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<LedgerEntry>, StoreError>;
    async fn coupon(
        &self,
        tenant: &TenantId,
        code: &CouponCode,
    ) -> Result<Option<Coupon>, StoreError>;
    /// Uses a customer's coupon for an order, atomically (rule: [`Coupon::redeem`]).
    async fn redeem_coupon(
        &self,
        tenant: &TenantId,
        code: &CouponCode,
        customer: &CustomerId,
        order: &ExternalId,
        amount_minor: Option<u64>,
        now: Timestamp,
    ) -> Result<CouponRedemption, StoreError>;
    /// Voids a coupon, atomically (rule: [`Coupon::void`](crate::points::Coupon::void)).
    async fn void_coupon(
        &self,
        tenant: &TenantId,
        code: &CouponCode,
        now: Timestamp,
    ) -> Result<crate::points::CouponVoid, StoreError>;
    /// The customer's coupons, newest first (expired ones until the store deletes them, at
    /// the earliest [`COUPON_GRACE_DAYS`](crate::points::COUPON_GRACE_DAYS) after expiry).
    async fn customer_coupons(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Vec<Coupon>, StoreError>;
}

/// The change of an address's suppression state, given the state as stored (`None`: unknown);
/// `None` back means nothing to write. Pure: the store may call it more than once.
pub type AddressFn = Box<
    dyn Fn(
            Option<&crate::deliverability::AddressState>,
        ) -> Option<crate::deliverability::AddressState>
        + Send
        + Sync,
>;

/// The suppression list (keyed hashes of addresses, never the addresses) and the provider's
/// news on messages.
#[async_trait]
pub trait SuppressionStore: Send + Sync {
    async fn address(
        &self,
        tenant: &TenantId,
        hash: &crate::deliverability::AddressHash,
    ) -> Result<Option<crate::deliverability::AddressState>, StoreError>;
    /// Applies `change` atomically (read, change, write only if nothing changed since, else
    /// again); the state as written, or `None` if there was nothing to write.
    async fn update_address(
        &self,
        tenant: &TenantId,
        hash: &crate::deliverability::AddressHash,
        change: AddressFn,
    ) -> Result<Option<crate::deliverability::AddressState>, StoreError>;
    /// Suppressed addresses in hash order, after `after`, at most `limit`.
    async fn suppressions(
        &self,
        tenant: &TenantId,
        after: Option<&crate::deliverability::AddressHash>,
        limit: usize,
    ) -> Result<Vec<crate::deliverability::AddressState>, StoreError>;
    /// Forgets an address (suppression and soft bounces); `false` if it was not known.
    async fn delete_address(
        &self,
        tenant: &TenantId,
        hash: &crate::deliverability::AddressHash,
    ) -> Result<bool, StoreError>;
    /// Records the provider's news on the customer's message `message_id` if it
    /// [replaces](crate::deliverability::MessageDelivery::replaces) what is recorded; `false`
    /// if there is no such message (erased, or never sent by this store).
    async fn record_delivery(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        message_id: &str,
        delivery: &crate::deliverability::MessageDelivery,
    ) -> Result<bool, StoreError>;
}

/// The redemptions counted against catalogue rewards' stock.
#[async_trait]
pub trait RewardStock: Send + Sync {
    /// Per reward id, how many redemptions took from its stock (rewards never claimed absent).
    async fn rewards_redeemed(
        &self,
        tenant: &TenantId,
    ) -> Result<BTreeMap<String, u64>, StoreError>;
}

/// The result of a send claim.
#[derive(Clone, Debug, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "one value per send, moved once; boxing the claim would buy nothing"
)]
pub enum ClaimOutcome {
    /// The marker is written (pending), with the coupon and the contact state: send now, to
    /// the recipient as read in the claim.
    Claimed(SendClaim, Box<Recipient>),
    Skipped(SkipReason),
    /// No such customer (erased since the index read).
    NotFound,
}

/// A recipient as read from a campaign index, with the version the claim must still find.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexedRecipient {
    pub recipient: Recipient,
    /// Opaque to callers: the stores' optimistic-concurrency token.
    pub version: String,
}

#[async_trait]
pub trait CampaignStore: Send + Sync {
    /// Every tenant, for scheduled runs.
    async fn tenant_ids(&self) -> Result<Vec<TenantId>, StoreError>;
    /// Customers whose birthday is `month_day` (`MM-DD`), from the birthday index.
    async fn recipients_by_birthday(
        &self,
        tenant: &TenantId,
        month_day: &str,
    ) -> Result<Vec<IndexedRecipient>, StoreError>;
    /// Customers last active on the UTC day `day`, from the last-active index.
    async fn recipients_last_active_on(
        &self,
        tenant: &TenantId,
        day: jiff::civil::Date,
    ) -> Result<Vec<IndexedRecipient>, StoreError>;
    /// Where the tenant's win-back backlog pass stands, as last saved.
    async fn winback_backlog(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<WinbackBacklog>, StoreError>;
    /// Saves where the pass stands, or with `None` forgets it (win-back switched off).
    async fn save_winback_backlog(
        &self,
        tenant: &TenantId,
        pass: Option<&WinbackBacklog>,
    ) -> Result<(), StoreError>;
    /// Up to `limit` customers marked by late activity.
    async fn late_actives(
        &self,
        tenant: &TenantId,
        limit: usize,
    ) -> Result<Vec<LateActive>, StoreError>;
    /// Clears these markers, each only if it is still for the same day.
    async fn clear_late_actives(
        &self,
        tenant: &TenantId,
        done: &[LateActive],
    ) -> Result<(), StoreError>;
    /// Decides and claims a send in one atomic step: reads the customer and the marker of
    /// `(plan.kind, plan.period)` (starting from `known` when given), applies
    /// [`crate::campaigns::decide`], and writes the marker, the coupon and the contact state
    /// only if nothing changed since the read; otherwise reads again and decides again.
    async fn claim_send(
        &self,
        tenant: &TenantId,
        plan: &SendPlan,
        customer: &CustomerId,
        known: Option<&IndexedRecipient>,
    ) -> Result<ClaimOutcome, StoreError>;
    /// Records how the send went (status, provider id, subject) on the marker of an attempt.
    async fn finish_send(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        message: &Message,
    ) -> Result<(), StoreError>;
    /// The customer's communication log, newest first.
    async fn messages(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Vec<Message>, StoreError>;
    /// A purchase at `at`: converts the customer's open campaign contacts
    /// ([`ContactState::convert`](crate::campaigns::ContactState::convert)) and counts them, in
    /// one atomic step; returns how many it converted (0 when delivered again).
    async fn attribute_purchase(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        at: Timestamp,
    ) -> Result<usize, StoreError>;
    /// The report counters of `campaign` from `from` to `to` (UTC days, inclusive): `(day,
    /// field, n)`, a day's field possibly in several rows (shards) to be summed.
    async fn campaign_tallies(
        &self,
        tenant: &TenantId,
        campaign: &crate::campaigns::CampaignRef,
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> Result<Vec<(jiff::civil::Date, crate::campaigns::tally::TallyField, i64)>, StoreError>;
}

/// How recording a response went.
#[derive(Clone, Debug, PartialEq)]
pub enum Recorded {
    /// Stored, counted, its follow-up opened: all in one atomic step.
    Created,
    /// The `response_id` was recorded before (nothing written): the stored response.
    Duplicate(Box<SurveyResponse>),
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The response names a customer the tenant does not have (or no longer has).
    #[error("no such customer")]
    UnknownCustomer,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One page of follow-ups, in the order they were opened.
#[derive(Clone, Debug, PartialEq)]
pub struct FollowUpPage {
    pub items: Vec<FollowUp>,
    /// The id to continue after, when there may be more.
    pub next: Option<String>,
}

impl FollowUpPage {
    /// A page from up to `limit + 1` follow-ups in id order: one more than asked means more.
    pub fn from_overfetch(mut items: Vec<FollowUp>, limit: usize) -> Self {
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|f| f.id.clone())
        } else {
            None
        };
        Self { items, next }
    }
}

#[async_trait]
pub trait SurveyStore: Send + Sync {
    /// Records a response exactly once per `(survey, response_id)`: the response, the increment
    /// of its day's counters (shard [`SurveyResponse::shard`]) and its follow-up, if any, in one
    /// atomic step, which also checks that the customer it names exists.
    async fn record_response(
        &self,
        tenant: &TenantId,
        response: &SurveyResponse,
    ) -> Result<Recorded, RecordError>;
    /// The counters of every day in `from..=to` that has any, summed over the shards.
    /// The customer's answers and the follow-ups they opened, oldest first.
    async fn customer_surveys(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<(Vec<SurveyResponse>, Vec<FollowUp>), StoreError>;
    async fn survey_tallies(
        &self,
        tenant: &TenantId,
        survey: &SurveyId,
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> Result<Vec<Tally>, StoreError>;
    async fn followup(&self, tenant: &TenantId, id: &str) -> Result<Option<FollowUp>, StoreError>;
    /// Follow-ups with `status`, oldest first, after the id `after`.
    async fn followups(
        &self,
        tenant: &TenantId,
        status: FollowUpStatus,
        after: Option<&str>,
        limit: usize,
    ) -> Result<FollowUpPage, StoreError>;
    /// Closes a follow-up ([`FollowUp::close`]); `None` if there is no such follow-up.
    async fn close_followup(
        &self,
        tenant: &TenantId,
        id: &str,
        note: Option<String>,
        now: Timestamp,
    ) -> Result<Option<FollowUp>, StoreError>;
    /// Notes what became of the recovery mail of a follow-up.
    async fn set_followup_recovery(
        &self,
        tenant: &TenantId,
        id: &str,
        recovery: &str,
    ) -> Result<(), StoreError>;
}

/// Failures of a mail provider.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The provider asks to slow down (SES throttling); retryable.
    #[error("throttled")]
    Throttled,
    /// The provider refused this mail (a reason without personal data); not retryable now.
    #[error("rejected: {0}")]
    Rejected(String),
    /// The recipient's server refused the address for good (SMTP 550/551/553): a hard
    /// bounce, which the send path puts on the suppression list.
    #[error("bounced: {0}")]
    Bounced(String),
    #[error("mail provider unavailable: {0}")]
    Unavailable(String),
}

/// A mailbox: address and optional display name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mailbox {
    pub email: crate::values::Email,
    pub name: Option<String>,
}

/// One rendered marketing mail, ready for a provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Fanloop's message id: the `Message-ID` left part and the outbox file name.
    pub id: String,
    pub from: Mailbox,
    pub to: Mailbox,
    pub subject: String,
    pub html: String,
    pub text: String,
    /// The one-click unsubscribe URL (RFC 8058 headers and the visible link).
    pub unsubscribe_url: String,
    pub date: Timestamp,
    /// Tags the provider hands back with its events about the mail
    /// ([`crate::deliverability::mail_tags`]): SES message tags.
    pub tags: Vec<(String, String)>,
}

/// Where a provider put the mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub provider: &'static str,
    pub provider_message_id: String,
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &OutgoingMail) -> Result<Delivery, MailError>;
}

/// Copies of sent mail kept beside the store — local mode's outbox keeps every mail as a
/// file — which an erasure must remove with the rest of the customer.
#[async_trait]
pub trait MailCopies: Send + Sync {
    /// Removes the copies of these messages; a message without a copy is fine.
    async fn forget(&self, message_ids: &[String]) -> Result<(), MailError>;
}

/// A mail provider that keeps no copy Fanloop could read back (SES).
pub struct NoMailCopies;

#[async_trait]
impl MailCopies for NoMailCopies {
    async fn forget(&self, _message_ids: &[String]) -> Result<(), MailError> {
        Ok(())
    }
}

/// Everything a function needs from storage.
/// How recording a behaviour event went.
#[derive(Clone, Debug, PartialEq)]
pub enum EventRecorded {
    /// Stored, and the customer's last activity moved, in one atomic step.
    Created,
    /// The `event_id` was recorded for this customer before (nothing written): what was stored.
    Duplicate(StoredEvent),
}

#[async_trait]
pub trait EventStore: Send + Sync {
    /// Records `event` once per `(customer, event_id)` with the digest of its request, and
    /// moves the customer's `last_active_at` forward to `activity` (as
    /// [`ProfileStore::record_activity`] does) in the same step; `UnknownCustomer` when the
    /// tenant has no such customer.
    async fn record_event(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        event: &StoredEvent,
        activity: Activity,
        counters: &Counters,
    ) -> Result<EventRecorded, RecordError>;
    /// The customer's events not expired at `now`, newest first ([`BehaviourEvent::sort_key`]
    /// order), those with a sort key below `before` when given.
    async fn events(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        before: Option<&str>,
        limit: usize,
        now: Timestamp,
    ) -> Result<Vec<BehaviourEvent>, StoreError>;
}

/// How logging a contact went.
#[derive(Clone, Debug, PartialEq)]
pub enum ContactRecorded {
    Created,
    /// The `contact_id` was logged for this customer before (nothing written): what was stored.
    Duplicate(crate::contacts::Contact),
}

/// The contact log (rules: [`crate::contacts`]).
#[async_trait]
pub trait ContactStore: Send + Sync {
    /// Logs `contact` once per `(customer, contact_id)`; `UnknownCustomer` when the tenant has
    /// no such customer. Erasure of the customer removes their contacts.
    async fn record_contact(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        contact: &crate::contacts::Contact,
    ) -> Result<ContactRecorded, RecordError>;
    /// The customer's contacts newest first ([`crate::contacts::Contact::sort_key`] order),
    /// those with a sort key below `before` when given.
    async fn contacts(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<crate::contacts::Contact>, StoreError>;
}

/// A customer as the daily snapshot reads them.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotCustomer {
    pub profile: Profile,
    pub account: Account,
    /// Where the previous snapshot placed the customer.
    pub segments: crate::lookup::Segments,
    /// The customer has answered an NPS question.
    pub nps_answered: bool,
}

/// A page of customers for the daily snapshot, and where the next page starts.
pub type CustomerBatch = (Vec<SnapshotCustomer>, Option<String>);

#[async_trait]
pub trait AnalyticsStore: Send + Sync {
    /// The counter rows of `scope` for the days `from..=to` (a row may come once per shard:
    /// reports add them up).
    async fn counter_rows(
        &self,
        tenant: &TenantId,
        scope: Scope,
        from: Date,
        to: Date,
    ) -> Result<Vec<CounterRow>, StoreError>;
    /// The tenant's all-time counters (the points liability).
    async fn counter_totals(&self, tenant: &TenantId) -> Result<CounterRow, StoreError>;
    /// Up to `limit` customers with their accounts, from where `cursor` says (a pass over
    /// every customer, for the daily snapshot job only).
    async fn snapshot_customers(
        &self,
        tenant: &TenantId,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<CustomerBatch, StoreError>;
    /// Records that the snapshot found `customer` in the segments `to` where the previous one
    /// found `from`: stores them, moves the customer's segment lookup tokens
    /// ([`crate::lookup::Segments::tokens`]) and adds `counters` (the stage move) in the same
    /// atomic step; `false` (nothing written) when the stored segments are no longer `from` or
    /// the customer is gone, so a rerun never counts a move twice.
    async fn move_segments(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        from: &crate::lookup::Segments,
        to: &crate::lookup::Segments,
        counters: &Counters,
    ) -> Result<bool, StoreError>;
    /// Stores the snapshot of its day (a rerun replaces it).
    async fn put_snapshot(&self, tenant: &TenantId, snapshot: &Snapshot) -> Result<(), StoreError>;
    /// The newest snapshot.
    async fn latest_snapshot(&self, tenant: &TenantId) -> Result<Option<Snapshot>, StoreError>;
}

/// The tenant's own documents that staff edit (saved segments, campaign definitions): JSON
/// the domain validated and (de)serialises, stored and listed by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Collection {
    Segments,
    Campaigns,
    /// The tenant's own secrets (the address-hashing key of the suppression list).
    Secrets,
}

impl Collection {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Segments => "segments",
            Self::Campaigns => "campaigns",
            Self::Secrets => "secrets",
        }
    }
}

#[async_trait]
pub trait DocumentStore: Send + Sync {
    /// `false` (nothing written) if the id is taken.
    async fn create_document(
        &self,
        tenant: &TenantId,
        collection: Collection,
        id: &str,
        doc: &str,
    ) -> Result<bool, StoreError>;
    /// Replaces a stored document; `false` (nothing written) if there is none.
    async fn replace_document(
        &self,
        tenant: &TenantId,
        collection: Collection,
        id: &str,
        doc: &str,
    ) -> Result<bool, StoreError>;
    async fn document(
        &self,
        tenant: &TenantId,
        collection: Collection,
        id: &str,
    ) -> Result<Option<String>, StoreError>;
    /// Every document of the collection, by id (a tenant keeps tens, not thousands).
    async fn documents(
        &self,
        tenant: &TenantId,
        collection: Collection,
    ) -> Result<Vec<String>, StoreError>;
    /// `false` if there was none.
    async fn delete_document(
        &self,
        tenant: &TenantId,
        collection: Collection,
        id: &str,
    ) -> Result<bool, StoreError>;
}

/// The customers holding points of a lot month: the points-expiring reminders' index, kept by
/// the stores with every account write ([`crate::points::Account::lot_months`]).
#[async_trait]
pub trait LotIndex: Send + Sync {
    /// Every customer indexed under `month` (`YYYY-MM`), in no particular order. An entry may
    /// be stale (the lot spent by a write the index has seen, or expired): the caller checks the
    /// account.
    async fn customers_with_lot(
        &self,
        tenant: &TenantId,
        month: &str,
    ) -> Result<Vec<CustomerId>, StoreError>;
}

/// Trigger records whose mail waits for the end of quiet hours, taken up by the hourly run.
#[async_trait]
pub trait TriggerParking: Send + Sync {
    /// Keeps `record` until `not_before` (parking it again moves it).
    async fn park_trigger(
        &self,
        tenant: &TenantId,
        record: &crate::campaigns::triggers::TriggerRecord,
        not_before: Timestamp,
    ) -> Result<(), StoreError>;
    /// Up to `limit` parked records due by `now`, soonest first.
    async fn parked_triggers(
        &self,
        tenant: &TenantId,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<(Timestamp, crate::campaigns::triggers::TriggerRecord)>, StoreError>;
    /// Removes the record parked until `not_before`.
    async fn unpark_trigger(
        &self,
        tenant: &TenantId,
        record: &crate::campaigns::triggers::TriggerRecord,
        not_before: Timestamp,
    ) -> Result<(), StoreError>;
}

/// The local trigger outbox (SQLite; on DynamoDB the table's stream delivers the records).
#[async_trait]
pub trait TriggerOutbox: Send + Sync {
    /// Leases up to `limit` records due at `now` (never leased, or their lease ran out) for
    /// `lease`, oldest first; records older than their time to live are dropped.
    async fn lease_triggers(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        limit: usize,
    ) -> Result<Vec<(TenantId, crate::campaigns::triggers::TriggerRecord)>, StoreError>;
    /// The record is handled: removed.
    async fn finish_trigger(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        id: &str,
    ) -> Result<(), StoreError>;
}

/// A type kept as a document of one collection.
pub trait Document: serde::Serialize + serde::de::DeserializeOwned + Send + Sync {
    const COLLECTION: Collection;
    fn id(&self) -> &str;
}

fn encode<T: Document>(d: &T) -> Result<String, StoreError> {
    serde_json::to_string(d)
        .map_err(|e| StoreError::Corrupt(format!("{}: {e}", T::COLLECTION.as_str())))
}

fn decode<T: Document>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s)
        .map_err(|e| StoreError::Corrupt(format!("{}: {e}", T::COLLECTION.as_str())))
}

/// Typed access to [`DocumentStore`]: `create(&store, &tenant, &segment)`.
pub mod documents {
    use super::*;

    pub async fn create<T: Document>(
        store: &dyn DocumentStore,
        tenant: &TenantId,
        d: &T,
    ) -> Result<bool, StoreError> {
        store
            .create_document(tenant, T::COLLECTION, d.id(), &encode(d)?)
            .await
    }

    pub async fn replace<T: Document>(
        store: &dyn DocumentStore,
        tenant: &TenantId,
        d: &T,
    ) -> Result<bool, StoreError> {
        store
            .replace_document(tenant, T::COLLECTION, d.id(), &encode(d)?)
            .await
    }

    pub async fn get<T: Document>(
        store: &dyn DocumentStore,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<T>, StoreError> {
        store
            .document(tenant, T::COLLECTION, id)
            .await?
            .as_deref()
            .map(decode)
            .transpose()
    }

    pub async fn list<T: Document>(
        store: &dyn DocumentStore,
        tenant: &TenantId,
    ) -> Result<Vec<T>, StoreError> {
        store
            .documents(tenant, T::COLLECTION)
            .await?
            .iter()
            .map(|s| decode(s))
            .collect()
    }

    pub async fn delete<T: Document>(
        store: &dyn DocumentStore,
        tenant: &TenantId,
        id: &str,
    ) -> Result<bool, StoreError> {
        store.delete_document(tenant, T::COLLECTION, id).await
    }
}

pub trait Store:
    TenantStore
    + ProfileStore
    + PointsStore
    + CampaignStore
    + SurveyStore
    + EventStore
    + AnalyticsStore
    + DocumentStore
    + TriggerParking
    + LotIndex
    + RewardStock
    + SuppressionStore
    + ContactStore
    + crate::staff::StaffStore
    + crate::cases::CaseStore
{
}
impl<
    T: TenantStore
        + ProfileStore
        + PointsStore
        + CampaignStore
        + SurveyStore
        + EventStore
        + AnalyticsStore
        + DocumentStore
        + TriggerParking
        + LotIndex
        + RewardStock
        + SuppressionStore
        + ContactStore
        + crate::staff::StaffStore
        + crate::cases::CaseStore,
> Store for T
{
}
