//! The built-in campaigns, and how a mail names the campaign it belongs to.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The automated campaigns.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum CampaignKind {
    Birthday,
    Winback,
    /// The apology with a recovery coupon after an unhappy survey answer (sent by the surveys
    /// function, never by a scheduled run).
    Recovery,
}

impl CampaignKind {
    pub const ALL: [CampaignKind; 3] = [
        CampaignKind::Birthday,
        CampaignKind::Winback,
        CampaignKind::Recovery,
    ];

    /// The campaigns a run (scheduled, HTTP or CLI) can start.
    pub const SCHEDULED: [CampaignKind; 2] = [CampaignKind::Birthday, CampaignKind::Winback];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Birthday => "birthday",
            Self::Winback => "winback",
            Self::Recovery => "recovery",
        }
    }

    /// A campaign that runs on a schedule (`birthday`, `winback`).
    pub fn parse(s: &str) -> Option<Self> {
        Self::SCHEDULED.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for CampaignKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
