//! What a segment filter reads of one customer, computed from the profile and the points
//! account as of `now` with the tenant's rules (the same tier, lifecycle and RFM the API shows).

use jiff::Timestamp;

use crate::lifecycle::{Stage, lifecycle};
use crate::points::Account;
use crate::profile::Profile;
use crate::rfm::{RfmView, rfm};
use crate::settings::TenantSettings;
use crate::values::{AttrValue, Attributes};

#[derive(Clone, Debug)]
pub struct Facts {
    pub tier: String,
    pub lifecycle: Stage,
    pub rfm: RfmView,
    pub tags: Vec<String>,
    pub attributes: Attributes,
    pub locale: Option<String>,
    /// The platforms of the customer's identities.
    pub platforms: Vec<String>,
    pub points_balance: i64,
    /// Whole days since the last activity; `None` if never active.
    pub last_active_days: Option<i64>,
    /// Lifetime spend in the tenant's reporting currency (RFM `currency`, converted with its
    /// rates; spend in a currency without a rate is left out).
    pub spend_minor: i64,
    pub purchases: u64,
    /// Consent to marketing e-mail (required by every marketing audience, not by the filter).
    pub email_marketing: bool,
}

impl Facts {
    pub fn of(profile: &Profile, account: &Account, s: &TenantSettings, now: Timestamp) -> Self {
        let tz = s.timezone.tz();
        let spend_minor = account
            .totals
            .spend
            .iter()
            .filter_map(|(c, v)| s.rfm.convert(c.as_str(), i64::try_from(*v).ok()?))
            .fold(0i64, i64::saturating_add);
        Self {
            tier: account.view(&s.points, now, &tz).tier.to_string(),
            lifecycle: lifecycle(profile, &s.lifecycle, now).stage,
            rfm: rfm(&account.totals, &s.rfm, now, &tz),
            tags: profile.tags.iter().map(ToString::to_string).collect(),
            attributes: profile.attributes.clone(),
            locale: profile.locale.as_ref().map(|l| l.as_str().to_owned()),
            platforms: profile
                .identities
                .iter()
                .map(|i| i.platform.to_string())
                .collect(),
            points_balance: account.balance(),
            last_active_days: profile
                .last_active_at
                .map(|t| (now.as_second() - t.as_second()).max(0) / 86_400),
            spend_minor,
            purchases: account.totals.purchases,
            email_marketing: profile.consent.email_marketing_granted(),
        }
    }

    pub(super) fn attribute(&self, key: &str) -> Option<&AttrValue> {
        self.attributes
            .iter()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v)
    }
}
