//! Campaigns as data (issue 13): a tenant-defined campaign — what triggers it, who it is for,
//! what it offers, its wording per locale and its send rules — parsed and checked once, every
//! invalid part named by its path, stored as a [`CampaignRecord`], and run by the engine
//! (`shared/engine`). The built-in campaigns are shown and changed as definitions too
//! ([`builtin`]).

pub mod builtin;
mod campaign;
mod record;
mod trigger;

pub use campaign::{
    Audience, CampaignId, CampaignStatus, CampaignTemplate, NewCampaign, Offer, OncePer,
    RESERVED_IDS, Templates,
};
pub use record::CampaignRecord;
pub use trigger::{LocalDateTime, Trigger, TriggerClass};

#[cfg(test)]
mod tests;
