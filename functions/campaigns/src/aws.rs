//! The scheduled-event handler (EventBridge Scheduler delivers the schedule's input as the
//! event, e.g. `{"kind": "birthday"}`); the configuration from the environment is the engine's
//! ([`fanloop_engine::aws`]).

use fanloop_domain::campaigns::CampaignKind;
use fanloop_domain::{TenantId, time};
use fanloop_engine::{Campaigns, RunError};
use serde::{Deserialize, Serialize};

/// The input of a schedule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledRun {
    /// `birthday`, `winback`, `campaigns` (every active broadcast definition), or `snapshot`
    /// (the daily analytics snapshot).
    pub kind: String,
    /// Default: now. For backfills started by hand.
    pub as_of: Option<String>,
    /// Default: every tenant.
    pub tenant: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ScheduledResult {
    pub runs: Vec<TenantRun>,
    /// The tenants whose analytics snapshot was taken (`kind: snapshot`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub snapshots: Vec<TenantId>,
}

#[derive(Debug, Serialize)]
pub struct TenantRun {
    pub tenant: TenantId,
    pub report: fanloop_domain::campaigns::RunReport,
}

/// Why a scheduled event failed.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// The scheduler's retries cannot fix it: the event ends in the dead-letter queue.
    #[error("invalid schedule input: {0}")]
    Invalid(String),
    /// Retried by the scheduler (runs are idempotent).
    #[error(transparent)]
    Run(#[from] RunError),
}

/// Handles one scheduled event.
pub async fn handle_scheduled(
    campaigns: &Campaigns,
    event: serde_json::Value,
) -> Result<ScheduledResult, ScheduleError> {
    let invalid = ScheduleError::Invalid;
    let run: ScheduledRun = serde_json::from_value(event).map_err(|e| invalid(e.to_string()))?;
    if run.kind == "snapshot" {
        // Hourly: each tenant's snapshot is taken in the first run of its local day.
        let tenants = campaigns.snapshot_all(false).await?;
        return Ok(ScheduledResult {
            runs: Vec::new(),
            snapshots: tenants,
        });
    }
    let as_of = run
        .as_of
        .as_deref()
        .map(time::parse)
        .transpose()
        .map_err(|e| invalid(format!("as_of {e}")))?;
    if run.kind == "campaigns" {
        // Hourly: every active broadcast of every tenant.
        let only = run
            .tenant
            .as_deref()
            .map(TenantId::parse)
            .transpose()
            .map_err(|e| invalid(format!("tenant {e}")))?;
        let runs = campaigns
            .run_defined_all(as_of, only.as_ref())
            .await?
            .into_iter()
            .map(|(tenant, report)| TenantRun { tenant, report })
            .collect();
        return Ok(ScheduledResult {
            runs,
            snapshots: Vec::new(),
        });
    }
    let kind = CampaignKind::parse(&run.kind)
        .ok_or_else(|| invalid(format!("unknown campaign {:?}", run.kind)))?;
    let runs = match run.tenant {
        Some(t) => {
            let tenant = TenantId::parse(t).map_err(|e| invalid(format!("tenant {e}")))?;
            let report = campaigns.run(&tenant, kind, as_of, false).await?;
            vec![TenantRun { tenant, report }]
        }
        None => campaigns
            .run_all(kind, as_of)
            .await?
            .into_iter()
            .map(|(tenant, report)| TenantRun { tenant, report })
            .collect(),
    };
    Ok(ScheduledResult {
        runs,
        snapshots: Vec::new(),
    })
}

/// Lambda reports the kind: `NonRetryable` (a bad event, for the dead-letter queue) or
/// `Retryable` (a store failure the scheduler's retry may clear).
impl From<ScheduleError> for lambda_runtime::Diagnostic {
    fn from(e: ScheduleError) -> Self {
        let error_type = match e {
            ScheduleError::Invalid(_) => "NonRetryable",
            ScheduleError::Run(_) => "Retryable",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.to_owned(),
            error_message: e.to_string(),
        }
    }
}
