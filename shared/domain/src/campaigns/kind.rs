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

crate::string_newtype!(
    /// The campaign a mail belongs to: a built-in one (`birthday`, `winback`, `recovery`) or a
    /// tenant's definition by its id (ids of definitions never take the built-in names).
    CampaignRef,
    schema: { pattern: crate::ids::ID_PATTERN },
    |s| crate::ids::check_id(&s, crate::ids::ID_MAX_LEN).map(|_| s)
);

impl CampaignRef {
    /// The built-in campaign this names, if it is one.
    pub fn kind(&self) -> Option<CampaignKind> {
        CampaignKind::ALL
            .into_iter()
            .find(|k| k.as_str() == self.as_str())
    }
}

impl From<CampaignKind> for CampaignRef {
    fn from(k: CampaignKind) -> Self {
        Self(k.as_str().to_owned())
    }
}

impl From<&super::definition::CampaignId> for CampaignRef {
    fn from(id: &super::definition::CampaignId) -> Self {
        Self(id.as_str().to_owned())
    }
}

impl PartialEq<CampaignKind> for CampaignRef {
    fn eq(&self, k: &CampaignKind) -> bool {
        self.as_str() == k.as_str()
    }
}
