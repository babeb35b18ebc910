//! A campaign's audience as the send rules check it on the customer read in the claim.

use std::sync::Arc;

use jiff::Timestamp;

use crate::points::Account;
use crate::profile::Profile;
use crate::segments::{Facts, Filter};
use crate::settings::TenantSettings;

#[derive(Clone, Debug)]
pub struct AudienceCheck {
    /// `None`: every consenting customer (consent is checked by the send rules).
    pub filter: Option<Filter>,
    /// The rules the facts (tier, lifecycle, RFM) are computed with.
    pub settings: Arc<TenantSettings>,
}

impl AudienceCheck {
    pub fn includes(&self, p: &Profile, account: &Account, now: Timestamp) -> bool {
        match &self.filter {
            None => true,
            Some(f) => f.matches(&Facts::of(p, account, &self.settings, now)),
        }
    }
}
