//! Campaigns as data (issue 13): a tenant-defined campaign — what triggers it, who it is for,
//! what it offers, its wording per locale and its send rules — parsed and checked once, every
//! invalid part named by its path. The engine that runs these definitions is not built yet.

mod campaign;
mod trigger;

pub use campaign::{
    Audience, CampaignId, CampaignStatus, CampaignTemplate, NewCampaign, Offer, OncePer,
    RESERVED_IDS, Templates,
};
pub use trigger::{LocalDateTime, Trigger, TriggerClass};

#[cfg(test)]
mod tests;
