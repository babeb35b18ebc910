//! The reports the analytics, survey and campaign APIs answer and the console's dashboards
//! draw: each reads a bounded number of counter rows for the days in range (never one per
//! customer, mail or response) and applies the domain's pure report function.

use fanloop_domain::analytics::{self, ItemsReport, Overview, Scope, StreamersReport};
use fanloop_domain::campaigns::CampaignRef;
use fanloop_domain::campaigns::definition::CampaignRecord;
use fanloop_domain::campaigns::outcomes::{CampaignReport, DEFAULT_ATTRIBUTION_DAYS, report};
use fanloop_domain::ports::{AnalyticsStore, Store, StoreError, SurveyStore, documents};
use fanloop_domain::surveys::{Summary, SurveyId, summarize};
use fanloop_domain::{TenantId, TenantSettings};
use jiff::civil::Date;

/// Figures per tenant-local day of `from..=to` and the liability; `today` is the tenant's
/// (days after `to` up to today tell how the liability got to where it is now).
pub async fn overview(
    store: &dyn AnalyticsStore,
    tenant: &TenantId,
    settings: &TenantSettings,
    from: Date,
    to: Date,
    today: Date,
) -> Result<Overview, StoreError> {
    let rows = store
        .counter_rows(tenant, Scope::Overview, from, to.max(today))
        .await?;
    let now = store.counter_totals(tenant).await?.get("liability");
    Ok(analytics::overview(
        from,
        to,
        settings.timezone.as_str(),
        &rows,
        now,
    ))
}

/// The top `limit` items by revenue (reporting currency) and by buyers.
pub async fn items(
    store: &dyn AnalyticsStore,
    tenant: &TenantId,
    settings: &TenantSettings,
    from: Date,
    to: Date,
    limit: usize,
) -> Result<ItemsReport, StoreError> {
    let rows = store.counter_rows(tenant, Scope::Item, from, to).await?;
    Ok(analytics::items(from, to, &rows, &settings.rfm, limit))
}

/// The top `limit` streamers by gift coins, gifters and watch minutes.
pub async fn streamers(
    store: &dyn AnalyticsStore,
    tenant: &TenantId,
    from: Date,
    to: Date,
    limit: usize,
) -> Result<StreamersReport, StoreError> {
    let rows = store
        .counter_rows(tenant, Scope::Streamer, from, to)
        .await?;
    Ok(analytics::streamers(from, to, &rows, limit))
}

/// NPS and CSAT of a survey over tenant-local days, per day and by segment.
pub async fn survey_summary(
    store: &dyn SurveyStore,
    tenant: &TenantId,
    settings: &TenantSettings,
    survey: SurveyId,
    from: Date,
    to: Date,
) -> Result<Summary, StoreError> {
    let tallies = store.survey_tallies(tenant, &survey, from, to).await?;
    Ok(summarize(
        survey,
        from,
        to,
        settings.timezone.as_str(),
        &tallies,
    ))
}

/// A campaign's funnel, conversions and lift per UTC day; `None` when a definition's id names
/// no campaign.
pub async fn campaign_report(
    store: &dyn Store,
    tenant: &TenantId,
    campaign: CampaignRef,
    from: Date,
    to: Date,
) -> Result<Option<CampaignReport>, StoreError> {
    let attribution_days = match campaign.kind() {
        Some(_) => DEFAULT_ATTRIBUTION_DAYS,
        None => {
            let found: Option<CampaignRecord> =
                documents::get(store, tenant, campaign.as_str()).await?;
            let Some(record) = found else {
                return Ok(None);
            };
            record
                .definition
                .get("attribution_days")
                .and_then(serde_json::Value::as_u64)
                .and_then(|d| u16::try_from(d).ok())
                .unwrap_or(DEFAULT_ATTRIBUTION_DAYS)
        }
    };
    let rows = store.campaign_tallies(tenant, &campaign, from, to).await?;
    Ok(Some(report(campaign, from, to, attribution_days, &rows)))
}
