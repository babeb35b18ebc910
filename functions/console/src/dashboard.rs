//! The dashboard: NPS and CSAT by day and by segment (for a survey named in the form), points
//! issued, redeemed and expired with the liability, customers by tier and lifecycle stage
//! (the daily snapshot), revenue and the top items, the top streamers, and a campaign's
//! funnel and lift — the reports the API answers (`fanloop_services::reports`), drawn as SVG.
//! A chart whose data is not there yet says so instead of drawing zeros.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use fanloop_domain::campaigns::CampaignRef;
use fanloop_domain::surveys::{Nps, SurveyId};
use fanloop_services::reports;
use serde_json::{Value, json};

use crate::Console;
use crate::auth::{Staff, failure, staff};
use crate::charts::{Chart, Kind};
use crate::customers::{PageError, invalid_all};

#[derive(serde::Deserialize)]
pub struct DashboardQuery {
    from: Option<String>,
    to: Option<String>,
    survey: Option<String>,
    campaign: Option<String>,
}

const TOP: usize = 10;

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn score(n: &Nps) -> Option<f64> {
    n.score.map(|s| s as f64)
}

fn bars(id: &'static str, title: &str, name: &str, items: Vec<(String, f64)>) -> Option<Value> {
    let (labels, values): (Vec<_>, Vec<_>) = items.into_iter().map(|(l, v)| (l, Some(v))).unzip();
    Chart::new(id, title, Kind::Bars, labels)
        .series(name, values)
        .context()
}

pub async fn dashboard(
    State(console): State<Console>,
    headers: HeaderMap,
    Query(q): Query<DashboardQuery>,
) -> Response {
    let s = match staff(&console, &headers).await {
        Ok(s) => s,
        Err(r) => return *r,
    };
    match context(&console, &s, &q).await {
        Ok(Ok(ctx)) => console
            .templates
            .page(StatusCode::OK, "dashboard.html", s.lang, ctx),
        Ok(Err(invalid)) => invalid,
        Err(e) => failure(&console, s.lang, &e),
    }
}

async fn context(
    console: &Console,
    s: &Staff,
    q: &DashboardQuery,
) -> Result<Result<Value, Response>, PageError> {
    let t = s.lang.strings();
    let store = console.state.store.as_ref();
    let tenant = &s.account.tenant;
    let settings = console
        .state
        .settings(tenant)
        .await
        .map_err(|_| PageError::Settings)?;
    let today = console
        .state
        .clock
        .now()
        .to_zoned(settings.timezone.tz())
        .date();
    let (from, to) = match fanloop_domain::time::day_range(given(&q.from), given(&q.to), today) {
        Ok(r) => r,
        Err(e) => return Ok(Err(invalid_all(console, s, &e))),
    };
    let mut ctx = s.context();
    ctx["from"] = json!(from.to_string());
    ctx["to"] = json!(to.to_string());
    let mut charts = serde_json::Map::new();

    if let Some(raw) = given(&q.survey) {
        ctx["survey"] = json!(raw);
        match SurveyId::parse(raw) {
            Ok(id) => {
                let sum = reports::survey_summary(store, tenant, &settings, id, from, to).await?;
                ctx["nps"] = json!(sum.nps.score);
                ctx["nps_responses"] = json!(sum.nps.responses);
                let days: Vec<String> = sum.days.iter().map(|d| d.date.to_string()).collect();
                let nps: Vec<_> = sum.days.iter().map(|d| score(&d.nps)).collect();
                let nps_chart = Chart::new("nps-trend", t["nps_trend"], Kind::Line, days.clone())
                    .series("NPS", nps)
                    .scores(-100.0, 100.0);
                charts.insert("nps_trend".into(), json!(nps_chart.context()));
                let csat: Vec<_> = sum.days.iter().map(|d| d.csat.satisfied_percent).collect();
                let csat_chart = Chart::new("csat-trend", t["csat_trend"], Kind::Line, days)
                    .series("CSAT %", csat)
                    .scores(0.0, 100.0);
                charts.insert("csat_trend".into(), json!(csat_chart.context()));
                for (key, id, title, by) in [
                    (
                        "nps_by_tier",
                        "nps-tier",
                        t["nps_by_tier"],
                        &sum.segments.by_tier,
                    ),
                    (
                        "nps_by_stage",
                        "nps-stage",
                        t["nps_by_stage"],
                        &sum.segments.by_lifecycle,
                    ),
                ] {
                    let (labels, values): (Vec<_>, Vec<_>) =
                        by.iter().map(|(k, n)| (k.clone(), score(n))).unzip();
                    let chart = Chart::new(id, title, Kind::Bars, labels)
                        .series("NPS", values)
                        .scores(-100.0, 100.0);
                    charts.insert(key.into(), json!(chart.context()));
                }
            }
            Err(e) => ctx["survey_error"] = json!(e.to_string()),
        }
    }

    let overview = reports::overview(store, tenant, &settings, from, to, today).await?;
    let days: Vec<String> = overview.days.iter().map(|d| d.day.to_string()).collect();
    let figure = |f: fn(&fanloop_domain::analytics::OverviewDay) -> i64| {
        overview
            .days
            .iter()
            .map(|d| Some(f(d) as f64))
            .collect::<Vec<_>>()
    };
    let points = Chart::new("points", t["points_flow"], Kind::Line, days.clone())
        .series(t["issued"], figure(|d| d.figures.points_issued))
        .series(t["redeemed"], figure(|d| d.figures.points_redeemed))
        .series(t["expired"], figure(|d| d.figures.points_expired));
    charts.insert("points".into(), json!(points.context()));
    let liability = Chart::new("liability", t["liability"], Kind::Line, days.clone())
        .series(t["liability"], figure(|d| d.liability));
    charts.insert("liability".into(), json!(liability.context()));
    ctx["liability_now"] = json!(overview.liability);
    let mut revenue = Chart::new("revenue", t["revenue"], Kind::Line, days);
    let currencies: std::collections::BTreeSet<&String> = overview
        .days
        .iter()
        .flat_map(|d| d.figures.revenue.keys())
        .collect();
    for cur in currencies {
        let values = overview
            .days
            .iter()
            .map(|d| Some(d.figures.revenue.get(cur).copied().unwrap_or(0) as f64 / 100.0))
            .collect();
        revenue = revenue.series(cur, values);
    }
    charts.insert("revenue".into(), json!(revenue.context()));

    let items = reports::items(store, tenant, &settings, from, to, TOP).await?;
    let top_items = items
        .by_revenue
        .iter()
        .map(|i| {
            (
                i.name.clone().unwrap_or_else(|| i.sku.clone()),
                i.revenue_reporting as f64 / 100.0,
            )
        })
        .collect();
    charts.insert(
        "top_items".into(),
        json!(bars(
            "top-items",
            t["top_items"],
            &items.currency,
            top_items
        )),
    );
    let streamers = reports::streamers(store, tenant, from, to, TOP).await?;
    let top_streamers = streamers
        .by_gift_coins
        .iter()
        .map(|s| {
            (
                s.streamer_id.clone(),
                s.gift_coins.values().sum::<i64>() as f64,
            )
        })
        .collect();
    charts.insert(
        "top_streamers".into(),
        json!(bars(
            "top-streamers",
            t["top_streamers"],
            "coins",
            top_streamers
        )),
    );

    if let Some(snapshot) = store.latest_snapshot(tenant).await? {
        ctx["as_of"] = json!(fanloop_domain::time::format(snapshot.as_of));
        let dist = |m: &std::collections::BTreeMap<String, u64>| {
            m.iter().map(|(k, v)| (k.clone(), *v as f64)).collect()
        };
        charts.insert(
            "tiers".into(),
            json!(bars(
                "tiers",
                t["tier_distribution"],
                t["customers"],
                dist(&snapshot.tiers)
            )),
        );
        charts.insert(
            "lifecycle".into(),
            json!(bars(
                "lifecycle",
                t["lifecycle_distribution"],
                t["customers"],
                dist(&snapshot.lifecycle)
            )),
        );
    }

    if let Some(raw) = given(&q.campaign) {
        ctx["campaign"] = json!(raw);
        let found = match CampaignRef::parse(raw) {
            Ok(c) => reports::campaign_report(store, tenant, c, from, to).await?,
            Err(_) => None,
        };
        match found {
            Some(r) => {
                let f = &r.totals;
                let funnel = vec![
                    ("eligible".to_owned(), f.eligible as f64),
                    ("held_out".to_owned(), f.held_out as f64),
                    ("sent".to_owned(), f.sent as f64),
                    ("converted_mailed".to_owned(), f.converted_mailed as f64),
                    ("coupons_redeemed".to_owned(), f.coupons_redeemed as f64),
                ];
                charts.insert(
                    "funnel".into(),
                    json!(bars("funnel", t["campaign_funnel"], t["customers"], funnel)),
                );
                let pct = |v: Option<f64>| v.map(|v| (v * 1000.0).round() / 10.0);
                ctx["lift"] = json!({
                    "mailed": pct(f.conversion_mailed),
                    "held_out": pct(f.conversion_held_out),
                    "lift": pct(f.lift),
                });
            }
            None => ctx["campaign_error"] = json!(t["not_found"]),
        }
    }
    ctx["charts"] = Value::Object(charts);
    Ok(Ok(ctx))
}

/// `GET /console/campaigns`: the built-in campaigns and the tenant's definitions, each with a
/// link to its funnel and lift on the dashboard. Definitions are written through the API.
pub async fn campaigns(State(console): State<Console>, headers: HeaderMap) -> Response {
    let s = match staff(&console, &headers).await {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let store = console.state.store.as_ref();
    let records: Vec<fanloop_domain::campaigns::definition::CampaignRecord> =
        match fanloop_domain::ports::documents::list(store, &s.account.tenant).await {
            Ok(r) => r,
            Err(e) => return failure(&console, s.lang, &e),
        };
    let mut rows: Vec<Value> = fanloop_domain::campaigns::CampaignKind::ALL
        .iter()
        .map(|k| json!({"id": k.as_str(), "name": k.as_str(), "status": "built-in", "updated_at": null}))
        .collect();
    rows.extend(records.iter().map(|r| {
        json!({
            "id": r.campaign_id.as_str(),
            "name": r.definition.get("name").and_then(Value::as_str).unwrap_or(r.campaign_id.as_str()),
            "status": serde_json::to_value(r.status).unwrap_or(Value::Null),
            "updated_at": fanloop_domain::time::format(r.updated_at),
        })
    }));
    let mut ctx = s.context();
    ctx["campaigns"] = json!(rows);
    console
        .templates
        .page(StatusCode::OK, "campaigns.html", s.lang, ctx)
}
