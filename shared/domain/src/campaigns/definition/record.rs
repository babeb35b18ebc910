//! A stored campaign definition: the body as the tenant saved it (checked by
//! [`super::NewCampaign::read`]) with its status and times.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::campaign::{CampaignId, CampaignStatus};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CampaignRecord {
    pub campaign_id: CampaignId,
    pub status: CampaignStatus,
    /// The definition as saved (`status` in it is the one at the last save; this record's
    /// `status` is the current one).
    #[schema(value_type = Object)]
    pub definition: Value,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl crate::ports::Document for CampaignRecord {
    const COLLECTION: crate::ports::Collection = crate::ports::Collection::Campaigns;
    fn id(&self) -> &str {
        self.campaign_id.as_str()
    }
}
