//! `fanloop bench --campaigns --customers N`: the campaign engine on SQLite (issue 13).
//!
//! - triggered mails end to end: purchases through the points use case (each writes its
//!   trigger record in the accrual's transaction), then the outbox worker claims, renders and
//!   writes a thank-you `.eml` for each;
//! - a broadcast over `N` customers (1 in 1,000 in its audience): the planning pass reads the
//!   tenant's customers a page at a time and claims the due ones; its time and the process's
//!   peak memory during the run (`VmHWM`, reset before it through `/proc/self/clear_refs`), to
//!   show the audience is streamed, never held whole.

use std::path::Path;
use std::time::Instant;

use fanloop_domain::campaigns::definition::{CampaignRecord, CampaignStatus, NewCampaign};
use fanloop_domain::points::AccrualRequest;
use fanloop_domain::ports::{ProfileStore, TenantStore, documents};
use fanloop_domain::settings::TenantSettings;
use fanloop_domain::tenant::{ApiKey, OsRandom, Tenant};
use fanloop_domain::{CustomerId, ProfilePatch, TenantId, time};
use fanloop_store_sqlite::SqliteStore;
use serde_json::{Value, json};

use crate::bench::{bench_campaigns, report};

/// Purchases (and so triggered mails) in the first benchmark.
const TRIGGERED: usize = 5_000;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

async fn tenant(store: &SqliteStore, name: &str, at: jiff::Timestamp) -> Result<TenantId, String> {
    let tenant = TenantId::parse(name).map_err(err)?;
    let key = ApiKey::generate(&OsRandom).map_err(err)?;
    store
        .create_tenant(
            &Tenant {
                id: tenant.clone(),
                name: name.into(),
                created_at: at,
            },
            &key,
        )
        .await
        .map_err(err)?;
    Ok(tenant)
}

async fn define(
    store: &SqliteStore,
    tenant: &TenantId,
    def: Value,
    at: jiff::Timestamp,
) -> Result<(), String> {
    let c = NewCampaign::read(def.clone()).map_err(|e| format!("{e:?}"))?;
    let record = CampaignRecord {
        campaign_id: c.campaign_id,
        status: CampaignStatus::Active,
        definition: def,
        created_at: at,
        updated_at: at,
    };
    documents::create(store, tenant, &record)
        .await
        .map_err(err)?;
    Ok(())
}

fn template() -> Value {
    json!({"en": {"subject": "Thanks, {{ name }}", "html": "<p>{{ purchase.item }}</p>",
                  "text": "{{ purchase.item }}"}})
}

/// A `/proc/self/status` figure in KiB: `VmHWM` (peak resident since the last reset) or
/// `VmRSS` (resident now).
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

pub async fn run(dir: &Path, customers: usize) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(err)?;
    let path = dir.join("campaigns.db");
    let _ = std::fs::remove_file(&path);
    let store = SqliteStore::open(&path).map_err(err)?;
    let at = time::parse("2027-02-10T10:00:00Z").map_err(err)?;
    println!("| benchmark | operations | throughput | p50 | p99 |\n|---|---|---|---|---|");

    // Triggered mails end to end.
    let shop = tenant(&store, "shop", at).await?;
    define(
        &store,
        &shop,
        json!({"campaign_id": "thank-you", "name": "Thank you", "status": "active",
               "trigger": {"type": "purchase"}, "frequency_cap_exempt": true,
               "templates": template()}),
        at,
    )
    .await?;
    let settings = TenantSettings::default();
    let patch = ProfilePatch::from_json(
        json!({"email": "fan@example.com", "display_name": "Fan", "consent": {"email_marketing": true}}),
        jiff::civil::date(2026, 1, 1),
    )
    .map_err(|e| format!("{e:?}"))?;
    let buyers: Vec<CustomerId> = (0..TRIGGERED)
        .map(|i| CustomerId::parse(format!("buyer{i}")))
        .collect::<Result<_, _>>()
        .map_err(err)?;
    for c in &buyers {
        store
            .upsert_profile(&shop, c, &patch, at)
            .await
            .map_err(err)?;
    }
    let campaigns = bench_campaigns(dir, &store, at)?;
    // The signups' records first (no signup campaign: nothing to send).
    fanloop_engine::drain_outbox(&campaigns, &store)
        .await
        .map_err(err)?;
    let started = Instant::now();
    for (i, c) in buyers.iter().enumerate() {
        let body = json!({"event_id": format!("o{i}"), "kind": "purchase", "amount_minor": 999,
                          "currency": "USD", "item": {"sku": "gems", "name": "Gems"}});
        let req = AccrualRequest::from_json(body, &settings.points.earning, at)
            .map_err(|e| format!("{e:?}"))?;
        fanloop_points::service::accrue(&store, &settings, &shop, c, req, at)
            .await
            .map_err(err)?;
    }
    let accrued = started.elapsed();
    let drained = Instant::now();
    let handled = fanloop_engine::drain_outbox(&campaigns, &store)
        .await
        .map_err(err)?;
    let drain = drained.elapsed();
    let mails = std::fs::read_dir(dir.join("outbox")).map_err(err)?.count();
    if handled != TRIGGERED || mails != TRIGGERED {
        return Err(format!(
            "triggered bench handled {handled} records and wrote {mails} mails, expected {TRIGGERED}"
        ));
    }
    report(
        "purchases with their trigger record (accrual transaction)",
        TRIGGERED,
        accrued,
        vec![],
    );
    report(
        "triggered thank-you mails: outbox record → .eml",
        TRIGGERED,
        drain,
        vec![],
    );
    report(
        "triggered mails end to end (purchase + mail)",
        TRIGGERED,
        accrued + drain,
        vec![],
    );

    // A broadcast planned over `customers`.
    let fans = tenant(&store, "fans", at).await?;
    let vip = ProfilePatch::from_json(
        json!({"email": "vip@example.com", "tags": ["vip"], "consent": {"email_marketing": true}}),
        jiff::civil::date(2026, 1, 1),
    )
    .map_err(|e| format!("{e:?}"))?;
    let loaded = Instant::now();
    for i in 0..customers {
        let c = CustomerId::parse(format!("f{i:07}")).map_err(err)?;
        let p = if i % 1000 == 0 { &vip } else { &patch };
        store.upsert_profile(&fans, &c, p, at).await.map_err(err)?;
    }
    let load = loaded.elapsed();
    define(
        &store,
        &fans,
        json!({"campaign_id": "lny", "name": "Lunar New Year", "status": "active",
               "trigger": {"type": "broadcast", "at": "2027-02-10T10:00"},
               "audience": {"filter": {"field": "tags", "op": "contains", "value": "vip"}},
               "templates": {"en": {"subject": "Happy new year", "html": "<p>Hi</p>", "text": "Hi"}}}),
        at,
    )
    .await?;
    let campaigns = bench_campaigns(dir, &store, at)?;
    let id = fanloop_domain::campaigns::definition::CampaignId::parse("lny").map_err(err)?;
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = status_kib("VmRSS");
    let planned = Instant::now();
    let r = campaigns
        .run_defined(&fans, &id, None, false)
        .await
        .map_err(err)?;
    let plan = planned.elapsed();
    let peak = status_kib("VmHWM");
    let expected = customers.div_ceil(1000) as u64;
    if r.sent != expected {
        return Err(format!("broadcast sent {}, expected {expected}", r.sent));
    }
    report(
        &format!("load {customers} customers (upserts)"),
        customers,
        load,
        vec![],
    );
    report(
        &format!("broadcast pass over {customers} customers ({expected} mailed)"),
        customers,
        plan,
        vec![],
    );
    println!(
        "\npeak resident memory during the broadcast run: {} MiB (resident before it: {} MiB)",
        peak.map_or("?".into(), |k| (k / 1024).to_string()),
        before.map_or("?".into(), |k| (k / 1024).to_string()),
    );
    Ok(())
}
