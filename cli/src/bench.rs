//! `fanloop bench`: throughput and latency figures printed for `docs/benchmarks.md`.
//!
//! - the pure earning/tier rules (an account in memory),
//! - accruals through the SQLite store (the path `fanloop serve` runs), one at a time,
//! - raw SQLite: one small INSERT per transaction in the same WAL settings — the floor the
//!   accrual path is compared with,
//! - a birthday campaign over 10,000 due customers: claim, render, `.eml` to the outbox, record,
//! - 100,000 survey responses ingested through the surveys use case, then summaries over 30 and
//!   366 days read from the daily counters,
//! - analytics `overview` over 30 and 366 days after 10,000 and after 50 × `operations`
//!   behaviour events (`bench_analytics`).

use std::path::Path;
use std::time::{Duration, Instant};

use fanloop_domain::points::{Account, AccrualRequest};
use fanloop_domain::ports::{ProfileStore, TenantStore};
use fanloop_domain::settings::TenantSettings;
use fanloop_domain::tenant::{ApiKey, OsRandom, Tenant};
use fanloop_domain::{CustomerId, ProfilePatch, TenantId, time};
use fanloop_store_sqlite::SqliteStore;
use serde_json::json;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub(crate) fn report(name: &str, n: usize, elapsed: Duration, mut lat: Vec<Duration>) {
    lat.sort();
    let rate = n as f64 / elapsed.as_secs_f64();
    if lat.is_empty() {
        println!("| {name} | {n} | {rate:.0}/s | – | – |");
    } else {
        let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
        println!(
            "| {name} | {n} | {rate:.0}/s | {:.3} ms | {:.3} ms |",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3
        );
    }
}

pub async fn run(dir: &Path, n: usize) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let now = time::parse("2026-06-01T12:00:00Z").map_err(|e| e.to_string())?;
    let settings = TenantSettings::default();
    let tz = settings.timezone.tz();
    println!("| benchmark | operations | throughput | p50 | p99 |\n|---|---|---|---|---|");

    // Pure rules: parse + earn + tier + view, in memory.
    let mut account = Account::default();
    let started = Instant::now();
    for i in 0..n * 10 {
        let body = json!({"event_id": format!("e{i}"), "kind": "purchase", "amount_minor": 999 + i % 1000, "currency": "USD"});
        let req = AccrualRequest::from_json(body, &settings.points.earning, now)
            .map_err(|e| format!("{e:?}"))?;
        account.accrue(&req, &settings.points, now, &tz);
        std::hint::black_box(account.view(&settings.points, now, &tz));
    }
    report(
        "pure rules: parse + accrue + view",
        n * 10,
        started.elapsed(),
        vec![],
    );

    raw_sqlite(dir, n)?;

    // Accruals through the store, as `fanloop serve` runs them.
    let path = dir.join("bench.db");
    let _ = std::fs::remove_file(&path);
    let store = SqliteStore::open(&path).map_err(|e| e.to_string())?;
    let tenant = TenantId::parse("bench").map_err(|e| e.to_string())?;
    let key = ApiKey::generate(&OsRandom).map_err(|e| e.to_string())?;
    store
        .create_tenant(
            &Tenant {
                id: tenant.clone(),
                name: "bench".into(),
                created_at: now,
            },
            &key,
        )
        .await
        .map_err(|e| e.to_string())?;
    let customers: Vec<CustomerId> = (0..100)
        .map(|i| CustomerId::parse(format!("c{i}")))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    for c in &customers {
        let patch = ProfilePatch::from_json(
            json!({"email": "bench@example.com"}),
            jiff::civil::date(2026, 1, 1),
        )
        .map_err(|e| format!("{e:?}"))?;
        store
            .upsert_profile(&tenant, c, &patch, now)
            .await
            .map_err(|e| e.to_string())?;
    }
    let mut lat = Vec::with_capacity(n);
    let started = Instant::now();
    for i in 0..n {
        let body = json!({"event_id": format!("e{i}"), "kind": "purchase", "amount_minor": 1999, "currency": "USD"});
        let req = AccrualRequest::from_json(body, &settings.points.earning, now)
            .map_err(|e| format!("{e:?}"))?;
        let t0 = Instant::now();
        fanloop_points::service::accrue(
            &store,
            &settings,
            &tenant,
            &customers[i % customers.len()],
            req,
            now,
        )
        .await
        .map_err(|e| e.to_string())?;
        lat.push(t0.elapsed());
    }
    report(
        "accrual via SQLite store (100 customers)",
        n,
        started.elapsed(),
        lat,
    );
    facts_and_events(&store, &tenant, &customers, n, now).await?;
    import_rows(dir, &store, n).await?;
    campaign(dir, &store, &tenant).await?;
    surveys(dir, &store, &tenant).await?;
    // 50 events per operation: 1,000,000 at the documented `--operations 20000`.
    crate::bench_analytics::run(&store, n * 50).await
}

/// Raw SQLite: one INSERT per transaction, WAL, synchronous=NORMAL — the floor the accrual
/// path is compared with (also alone: `fanloop bench --raw-only`, for `scripts/bench-http`).
pub fn raw_sqlite(dir: &Path, n: usize) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let raw_path = dir.join("raw.db");
    let _ = std::fs::remove_file(&raw_path);
    let conn = rusqlite::Connection::open(&raw_path).map_err(|e| e.to_string())?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(|e| e.to_string())?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(|e| e.to_string())?;
    conn.execute_batch("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID")
        .map_err(|e| e.to_string())?;
    let mut lat = Vec::with_capacity(n);
    let started = Instant::now();
    for i in 0..n {
        let t0 = Instant::now();
        conn.execute("BEGIN IMMEDIATE", [])
            .map_err(|e| e.to_string())?;
        conn.execute(
            "INSERT INTO t VALUES (?1, ?2)",
            rusqlite::params![format!("k{i}"), "x".repeat(200)],
        )
        .map_err(|e| e.to_string())?;
        conn.execute("COMMIT", []).map_err(|e| e.to_string())?;
        lat.push(t0.elapsed());
    }
    report(
        "raw SQLite: 1 INSERT per transaction",
        n,
        started.elapsed(),
        lat,
    );
    Ok(())
}

/// Campaigns on the bench store, writing to `dir/outbox`, with the clock at `at`.
pub(crate) fn bench_campaigns(
    dir: &Path,
    store: &SqliteStore,
    at: jiff::Timestamp,
) -> Result<fanloop_campaigns::Campaigns, String> {
    let outbox = dir.join("outbox");
    let _ = std::fs::remove_dir_all(&outbox);
    Ok(fanloop_campaigns::Campaigns {
        store: std::sync::Arc::new(store.clone()),
        mailer: std::sync::Arc::new(
            fanloop_mail::OutboxMailer::new(&outbox).map_err(|e| e.to_string())?,
        ),
        clock: std::sync::Arc::new(fanloop_domain::ManualClock::new(at)),
        templates: std::sync::Arc::new(fanloop_mail::Templates::new()),
        unsubscribe_key: fanloop_domain::campaigns::unsubscribe::UnsubscribeKey::new(&[7u8; 32])
            .map_err(|e| e.to_string())?,
        public_url: "https://fanloop.example".into(),
        default_sender: fanloop_domain::values::Email::parse("bench@fanloop.example").ok(),
        pacer: std::sync::Arc::new(fanloop_campaigns::Pacer::new(0)),
        item_rows: Default::default(),
        queue: None,
    })
}

/// 100,000 survey responses spread over 29 days (half from 1,000 known customers, about a third
/// unhappy, so follow-ups open), ingested one at a time through the surveys use case; then the
/// 30-day and the 366-day summary, read repeatedly.
async fn surveys(dir: &Path, store: &SqliteStore, tenant: &TenantId) -> Result<(), String> {
    use fanloop_domain::surveys::{ResponseInput, SurveyId};
    const RESPONSES: usize = 100_000;
    const CUSTOMERS: usize = 1_000;
    let now = time::parse("2026-11-22T12:00:00Z").map_err(|e| e.to_string())?;
    let patch = ProfilePatch::from_json(json!({}), jiff::civil::date(2026, 1, 1))
        .map_err(|e| format!("{e:?}"))?;
    for i in 0..CUSTOMERS {
        let c = CustomerId::parse(format!("s{i}")).map_err(|e| e.to_string())?;
        store
            .upsert_profile(tenant, &c, &patch, now)
            .await
            .map_err(|e| e.to_string())?;
    }
    let campaigns = bench_campaigns(dir, store, now)?;
    let settings = TenantSettings::default();
    let survey = SurveyId::parse("bench").map_err(|e| e.to_string())?;
    let mut lat = Vec::with_capacity(RESPONSES);
    let started = Instant::now();
    for i in 0..RESPONSES {
        let mut body = json!({
            "response_id": format!("r{i}"),
            "nps": i % 11,
            "csat": 1 + i % 5,
            "submitted_at": time::format(now - jiff::SignedDuration::from_secs((i * 25 % (30 * 86_400)) as i64)),
        });
        if i % 2 == 0 {
            body["customer_id"] = json!(format!("s{}", i % CUSTOMERS));
        }
        let (_, input) =
            ResponseInput::from_json(body, "", now, false).map_err(|e| format!("{e:?}"))?;
        let t0 = Instant::now();
        fanloop_surveys::service::ingest(&campaigns, tenant, &settings, survey.clone(), input)
            .await
            .map_err(|e| e.to_string())?;
        lat.push(t0.elapsed());
    }
    report(
        "survey responses via SQLite store (100,000, one at a time)",
        RESPONSES,
        started.elapsed(),
        lat,
    );
    let today = now.to_zoned(settings.timezone.tz()).date();
    for (name, days) in [("30 days", 29), ("366 days", 365)] {
        let from = today
            .checked_sub(jiff::Span::new().days(days))
            .map_err(|e| e.to_string())?;
        let mut lat = Vec::new();
        let started = Instant::now();
        let mut last = None;
        for _ in 0..200 {
            let t0 = Instant::now();
            let s = fanloop_services::reports::survey_summary(
                campaigns.store.as_ref(),
                tenant,
                &settings,
                survey.clone(),
                from,
                today,
            )
            .await
            .map_err(|e| e.to_string())?;
            lat.push(t0.elapsed());
            last = Some(s.responses);
        }
        if last != Some(RESPONSES as u64) {
            return Err(format!(
                "summary counted {last:?} responses, expected {RESPONSES}"
            ));
        }
        report(
            &format!("survey summary over {name} of 100,000 responses"),
            200,
            started.elapsed(),
            lat,
        );
    }
    Ok(())
}

/// 10,000 customers with today's birthday, consent and an address; one birthday run sends to
/// all of them through the outbox (the throughput is mails claimed, rendered, written and
/// recorded per second, end to end).
async fn campaign(dir: &Path, store: &SqliteStore, tenant: &TenantId) -> Result<(), String> {
    const CANDIDATES: usize = 10_000;
    let at = time::parse("2026-11-25T10:00:00Z").map_err(|e| e.to_string())?;
    let patch = ProfilePatch::from_json(
        json!({"email": "fan@example.com", "display_name": "Fan", "birthday": "--11-25",
               "consent": {"email_marketing": true}}),
        jiff::civil::date(2026, 1, 1),
    )
    .map_err(|e| format!("{e:?}"))?;
    for i in 0..CANDIDATES {
        let c = CustomerId::parse(format!("b{i}")).map_err(|e| e.to_string())?;
        store
            .upsert_profile(tenant, &c, &patch, at)
            .await
            .map_err(|e| e.to_string())?;
    }
    let outbox = dir.join("outbox");
    let campaigns = bench_campaigns(dir, store, at)?;
    let started = Instant::now();
    let report_ = campaigns
        .run(
            tenant,
            fanloop_domain::campaigns::CampaignKind::Birthday,
            None,
            false,
        )
        .await
        .map_err(|e| e.to_string())?;
    let elapsed = started.elapsed();
    let files = std::fs::read_dir(&outbox)
        .map_err(|e| e.to_string())?
        .count();
    if report_.sent as usize != CANDIDATES || files != CANDIDATES {
        return Err(format!(
            "campaign bench sent {} and wrote {files} files, expected {CANDIDATES}",
            report_.sent
        ));
    }
    report(
        "birthday run: 10,000 mails rendered to the outbox",
        CANDIDATES,
        elapsed,
        vec![],
    );
    Ok(())
}

/// Accruals that carry commercial facts, and behaviour events, through the store (issue 12).
async fn facts_and_events(
    store: &SqliteStore,
    tenant: &TenantId,
    customers: &[CustomerId],
    n: usize,
    now: jiff::Timestamp,
) -> Result<(), String> {
    let settings = TenantSettings::default();
    let mut lat = Vec::with_capacity(n);
    let started = Instant::now();
    for i in 0..n {
        let body = json!({"event_id": format!("f{i}"), "kind": "purchase", "amount_minor": 1999, "currency": "USD",
            "item": {"sku": format!("sku-{}", i % 40), "name": "Gem pack", "category": "gems"},
            "platform": "ios", "order_id": format!("GPA.{i}")});
        let req = AccrualRequest::from_json(body, &settings.points.earning, now)
            .map_err(|e| format!("{e:?}"))?;
        let t0 = Instant::now();
        fanloop_points::service::accrue(
            store,
            &settings,
            tenant,
            &customers[i % customers.len()],
            req,
            now,
        )
        .await
        .map_err(|e| e.to_string())?;
        lat.push(t0.elapsed());
    }
    report(
        "accrual with facts via SQLite store",
        n,
        started.elapsed(),
        lat,
    );

    let mut lat = Vec::with_capacity(n);
    let started = Instant::now();
    for i in 0..n {
        let body = json!({"event_id": format!("ev{i}"), "kind": "stream_watch",
            "properties": {"streamer_id": format!("s{}", i % 20), "minutes": 30}});
        let input = fanloop_domain::events::EventInput::from_json(body, "", now)
            .map_err(|e| format!("{e:?}"))?;
        let t0 = Instant::now();
        fanloop_profiles::events::record(
            store,
            &settings,
            tenant,
            &customers[i % customers.len()],
            input,
            now,
        )
        .await
        .map_err(|e| e.to_string())?;
        lat.push(t0.elapsed());
    }
    report(
        "behaviour event via SQLite store",
        n,
        started.elapsed(),
        lat,
    );
    Ok(())
}

/// `fanloop import customers` of an `n`-row file into a fresh tenant.
async fn import_rows(dir: &Path, store: &SqliteStore, n: usize) -> Result<(), String> {
    let tenant = TenantId::parse("bench-import").map_err(|e| e.to_string())?;
    let key = ApiKey::generate(&OsRandom).map_err(|e| e.to_string())?;
    let t = Tenant {
        id: tenant.clone(),
        name: "bench-import".into(),
        created_at: jiff::Timestamp::now(),
    };
    store
        .create_tenant(&t, &key)
        .await
        .map_err(|e| e.to_string())?;
    let file = dir.join("import.csv");
    let mut doc = String::from("customer_id,email,tags,identities,email_marketing\n");
    for i in 0..n {
        doc.push_str(&format!(
            "imp{i},imp{i}@example.com,vip;pc,steam:{i},true\n"
        ));
    }
    std::fs::write(&file, doc).map_err(|e| e.to_string())?;
    let shared: std::sync::Arc<dyn fanloop_domain::ports::Store> =
        std::sync::Arc::new(store.clone());
    let started = Instant::now();
    let summary = crate::import::import(
        shared,
        tenant.as_str(),
        crate::import::Kind::Customers,
        &file,
    )
    .await
    .map_err(|e| e.to_string())?;
    if summary.created != n as u64 {
        return Err(format!(
            "import bench: {} of {n} rows created",
            summary.created
        ));
    }
    report("import customers (CSV rows)", n, started.elapsed(), vec![]);
    Ok(())
}
