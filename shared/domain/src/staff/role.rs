//! What each staff role may do.

use serde::{Deserialize, Serialize};

/// A staff member's role: viewer reads; agent also acts on customers; admin also runs the
/// tenant (settings, campaigns, keys, staff, the audit log).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Agent,
    Viewer,
}

/// One thing a console page or form does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Look customers up and read everything about them.
    Read,
    /// Edit a profile, log a contact, work a case.
    ActOnCustomers,
    /// Adjust a customer's points (within the tenant's per-adjustment limit).
    AdjustPoints,
    /// Settings, campaigns, keys, staff and the audit log.
    Administer,
}

impl Role {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Self::Admin),
            "agent" => Some(Self::Agent),
            "viewer" => Some(Self::Viewer),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Agent => "agent",
            Self::Viewer => "viewer",
        }
    }

    pub fn can(self, p: Permission) -> bool {
        match p {
            Permission::Read => true,
            Permission::ActOnCustomers | Permission::AdjustPoints => self != Self::Viewer,
            Permission::Administer => self == Self::Admin,
        }
    }
}

/// The most points an agent may move in one adjustment by default (admins have no limit).
pub const AGENT_ADJUST_LIMIT: u64 = 10_000;

/// The `console` section of the tenant's settings.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleSettings {
    /// The most points an agent may add or take in one adjustment (0–10,000,000; admins have
    /// no limit).
    pub agent_adjust_limit: u64,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        Self {
            agent_adjust_limit: AGENT_ADJUST_LIMIT,
        }
    }
}

impl ConsoleSettings {
    pub fn validate(&self, errs: &mut crate::ValidationErrors) {
        if self.agent_adjust_limit > 10_000_000 {
            errs.push("console.agent_adjust_limit", "must be at most 10000000");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewers_read_agents_act_admins_administer() {
        use Permission::*;
        let table = [
            (Role::Viewer, [true, false, false, false]),
            (Role::Agent, [true, true, true, false]),
            (Role::Admin, [true, true, true, true]),
        ];
        for (role, expected) in table {
            let got = [Read, ActOnCustomers, AdjustPoints, Administer].map(|p| role.can(p));
            assert_eq!(got, expected, "{role:?}");
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
