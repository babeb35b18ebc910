//! `fanloop segment preview FILE.json`: how many consenting customers a filter selects, and the
//! first of them — what `POST /v1/segments/preview` answers, from the command line.

use std::path::Path;

use fanloop_domain::ports::Store;
use fanloop_domain::segments::Filter;
use fanloop_domain::{Clock, SystemClock, TenantId};

/// Why a preview could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    #[error("{0} is not JSON: {1}")]
    Json(String, serde_json::Error),
    #[error("invalid filter:\n{0}")]
    Filter(String),
    #[error("--tenant {0}")]
    Tenant(String),
    #[error(transparent)]
    Store(#[from] fanloop_domain::ports::StoreError),
}

/// The file holds a filter, or a segment body with a `filter` field.
pub async fn preview(store: &dyn Store, tenant: &str, file: &Path) -> Result<String, PreviewError> {
    let name = file.display().to_string();
    let raw = std::fs::read_to_string(file).map_err(|e| PreviewError::Read(name.clone(), e))?;
    let doc: serde_json::Value =
        serde_json::from_str(&raw).map_err(|e| PreviewError::Json(name.clone(), e))?;
    let filter_doc = doc.get("filter").cloned().unwrap_or(doc);
    let filter = Filter::parse(&filter_doc, "filter").map_err(|e| {
        PreviewError::Filter(
            e.0.iter()
                .map(|f| format!("  {}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("\n"),
        )
    })?;
    let tenant = TenantId::parse(tenant).map_err(|e| PreviewError::Tenant(e.to_string()))?;
    let settings = store.settings(&tenant).await?.settings;
    let p =
        fanloop_profiles::segments::preview(store, &tenant, &settings, &filter, SystemClock.now())
            .await?;
    Ok(serde_json::to_string_pretty(&p).unwrap_or_default())
}
