//! `fanloop`: the local binary. `serve` runs every function's router in one process on an
//! embedded SQLite store; `tenant create` makes a tenant and prints its API key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

mod bench;
mod bench_analytics;
mod bench_campaigns;
mod campaign;
mod import;
mod key;
mod local;
mod segment;
mod staff;

/// mimalloc instead of glibc's malloc: buffers the SQLite writer thread allocates are freed on
/// the HTTP worker threads, and glibc's arena locks made that cross-thread traffic the
/// bottleneck of concurrent writes (measured with perf under `scripts/bench-http`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use fanloop_domain::ports::{CreateTenantError, Store, TenantStore};
use fanloop_domain::tenant::{ApiKey, OsRandom, Tenant};
use fanloop_domain::{Clock, SystemClock, TenantId};
use fanloop_http::telemetry::{LogTarget, init};
use fanloop_http::{AppState, assemble};
use fanloop_store_sqlite::SqliteStore;

#[derive(Parser)]
#[command(
    name = "fanloop",
    version,
    about = "Loyalty and marketing automation for game studios and streaming platforms"
)]
struct Cli {
    /// Where the SQLite database (and the e-mail outbox) live.
    #[arg(
        long,
        env = "FANLOOP_DATA_DIR",
        default_value = "fanloop-data",
        global = true
    )]
    data_dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the whole API on one address, on the local SQLite store.
    Serve {
        #[arg(long, env = "FANLOOP_LISTEN", default_value = "127.0.0.1:3000")]
        listen: SocketAddr,
        /// API key of the `demo` tenant; if unset and there is no demo tenant yet, one is made
        /// and its key printed once.
        #[arg(long, env = "FANLOOP_API_KEY", hide_env_values = true)]
        api_key: Option<String>,
        /// Base URL of links in mails (unsubscribe); default `http://{listen}`.
        #[arg(long, env = "FANLOOP_PUBLIC_URL")]
        public_url: Option<String>,
        /// `off` disables the in-process campaign scheduler and trigger worker (several
        /// instances, tests).
        #[arg(long, env = "FANLOOP_SCHEDULER", default_value = "on", value_parser = ["on", "off"])]
        scheduler: String,
    },
    /// Campaigns: `list`, `show ID`, and `run ID` now on the local store (mail goes to the
    /// outbox; prints the report).
    Campaign {
        #[command(subcommand)]
        command: CampaignCommand,
    },
    /// Print benchmark figures (pure rules, raw SQLite, accruals on SQLite) as a Markdown table.
    Bench {
        /// Operations per benchmark.
        #[arg(long, default_value_t = 20_000)]
        operations: usize,
        /// Only the raw SQLite row (the baseline of `scripts/bench-http`).
        #[arg(long)]
        raw_only: bool,
        /// Only the campaign engine: triggered mails, and a broadcast over `--customers`.
        #[arg(long)]
        campaigns: bool,
        /// Customers of the broadcast benchmark (with `--campaigns`).
        #[arg(long, default_value_t = 1_000_000)]
        customers: usize,
    },
    /// Import customers or behaviour events from a CSV file (resumable; a rerun changes nothing).
    Import {
        /// `customers` or `events`.
        #[arg(value_enum)]
        kind: import::Kind,
        /// The CSV file (a header row, then one row per customer or event).
        file: PathBuf,
        #[command(flatten)]
        target: Target,
    },
    /// Segments: `preview FILE.json` counts the consenting customers a filter selects.
    Segment {
        #[command(subcommand)]
        command: SegmentCommand,
    },
    /// Manage tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Manage a tenant's API keys (scopes: ingest, redeem, read, admin).
    Key {
        #[command(subcommand)]
        command: key::KeyCommand,
    },
    /// Staff accounts of the console.
    Staff {
        #[command(subcommand)]
        command: staff::StaffCommand,
    },
}

#[derive(Subcommand)]
enum CampaignCommand {
    /// The tenant's campaigns: the built-ins and the saved definitions, one JSON line each.
    List {
        #[command(flatten)]
        target: Target,
    },
    /// A built-in campaign's settings or a definition as saved, as JSON.
    Show {
        /// `birthday`, `winback`, `recovery` or a definition's id.
        id: String,
        #[command(flatten)]
        target: Target,
    },
    /// Run `birthday`, `winback` or a broadcast definition for one tenant, or for all (those
    /// that have it).
    Run {
        /// `birthday`, `winback` or a definition's id.
        kind: String,
        /// The moment to act for (RFC 3339); default now. A past one is a backfill.
        #[arg(long)]
        as_of: Option<String>,
        /// Report who would receive the mail; send and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Only this tenant (default: every tenant).
        #[arg(long)]
        tenant: Option<String>,
    },
}

#[derive(Subcommand)]
enum SegmentCommand {
    /// Print `{count, sample, customers}` for the filter in FILE (a filter, or a segment body
    /// with a `filter` field), as `POST /v1/segments/preview` would.
    Preview {
        file: PathBuf,
        #[command(flatten)]
        target: Target,
    },
}

/// Which tenant, in which store.
#[derive(clap::Args)]
struct Target {
    /// The tenant.
    #[arg(long, default_value = "demo")]
    tenant: String,
    /// Where: the local SQLite store (in --data-dir) or a deployed DynamoDB table.
    #[arg(long, value_enum, default_value_t = StoreKind::Sqlite)]
    store: StoreKind,
    /// The DynamoDB table (with --store dynamodb).
    #[arg(long, required_if_eq("store", "dynamodb"))]
    table: Option<String>,
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create a tenant and print its new API key (alone, on stdout; it is not shown again).
    Create {
        /// The tenant id: a-z 0-9 -, starting with a letter (e.g. `star-arena`).
        name: String,
        /// Where: the local SQLite store (in --data-dir) or a deployed DynamoDB table.
        #[arg(long, value_enum, default_value_t = StoreKind::Sqlite)]
        store: StoreKind,
        /// The DynamoDB table (with --store dynamodb), e.g. `fanloop-prod`. Region and
        /// credentials come from the usual AWS environment; `FANLOOP_DYNAMODB_ENDPOINT`
        /// overrides the endpoint.
        #[arg(long, required_if_eq("store", "dynamodb"))]
        table: Option<String>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum StoreKind {
    Sqlite,
    Dynamodb,
}

/// The local SQLite store in `dir`, or the DynamoDB `table`.
async fn open_any(
    dir: &Path,
    kind: StoreKind,
    table: Option<String>,
) -> Result<Arc<dyn Store>, String> {
    match (kind, table) {
        (StoreKind::Dynamodb, Some(table)) => dynamodb_store(table).await,
        (StoreKind::Dynamodb, None) => Err("--store dynamodb needs --table".into()),
        (StoreKind::Sqlite, _) => open_store(dir).map(|s| Arc::new(s) as Arc<dyn Store>),
    }
}

fn open_store(dir: &Path) -> Result<SqliteStore, String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create data directory {}: {e}", dir.display()))?;
    SqliteStore::open(&dir.join("fanloop.db")).map_err(|e| format!("cannot open the database: {e}"))
}

async fn create_tenant(
    store: &dyn TenantStore,
    id: TenantId,
    clock: &dyn Clock,
) -> Result<ApiKey, CreateTenantError> {
    let key = ApiKey::generate(&OsRandom).map_err(|e| {
        CreateTenantError::Store(fanloop_domain::ports::StoreError::Unavailable(
            e.to_string(),
        ))
    })?;
    let tenant = Tenant {
        name: id.to_string(),
        id,
        created_at: clock.now(),
    };
    store.create_tenant(&tenant, &key).await?;
    Ok(key)
}

/// Makes sure the `demo` tenant exists and, if a key is configured, that it opens it.
async fn bootstrap_demo(store: &SqliteStore, configured: Option<String>) -> Result<(), String> {
    let demo = TenantId::parse("demo").map_err(|e| e.to_string())?;
    let clock = SystemClock;
    match configured {
        Some(raw) => {
            let key = ApiKey::parse(raw.trim()).map_err(|_| {
                "FANLOOP_API_KEY must look like flk_ followed by 64 hex digits (e.g. flk_$(openssl rand -hex 32))"
                    .to_owned()
            })?;
            let tenant = Tenant {
                id: demo.clone(),
                name: "demo".into(),
                created_at: clock.now(),
            };
            match store.create_tenant(&tenant, &key).await {
                Ok(()) | Err(CreateTenantError::Exists) => {}
                Err(CreateTenantError::Store(e)) => return Err(e.to_string()),
            }
            // Every scope, as a tenant's first key (a no-op when it is stored already).
            store
                .create_key(
                    &demo,
                    &fanloop_domain::keys::KeyInfo::first(&demo, &key, clock.now()),
                    &key.hash(),
                )
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(
                tenant = "demo",
                "demo tenant ready with the configured API key"
            );
        }
        None => {
            if store
                .tenant(&demo)
                .await
                .map_err(|e| e.to_string())?
                .is_none()
            {
                let key = create_tenant(store, demo, &clock)
                    .await
                    .map_err(|e| e.to_string())?;
                eprintln!("Created tenant `demo`. Its API key is printed below, once; keep it:");
                println!("{}", key.expose());
            }
        }
    }
    Ok(())
}

async fn serve(
    data_dir: &Path,
    listen: SocketAddr,
    api_key: Option<String>,
    public_url: Option<String>,
    scheduler: bool,
) -> Result<(), String> {
    let store = open_store(data_dir)?;
    bootstrap_demo(&store, api_key).await?;
    let sqlite = Arc::new(store);
    let store: Arc<dyn fanloop_domain::ports::Store> = sqlite.clone();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let public_url = public_url.unwrap_or_else(|| format!("http://{listen}"));
    let campaigns = Arc::new(local::campaigns(
        store.clone(),
        clock.clone(),
        data_dir,
        public_url.clone(),
    )?);
    // Erasing a customer removes their mail from the outbox too.
    let state = AppState::new(store, clock).with_mail_copies(Arc::new(local::outbox(data_dir)?));
    let console = fanloop_console::Console::new(state.clone(), &public_url);
    let (router, _) = assemble(
        fanloop_profiles::routes()
            .merge(fanloop_points::routes())
            .merge(fanloop_campaigns::routes(campaigns.clone()))
            .merge(fanloop_surveys::routes(campaigns.clone())),
        fanloop_campaigns::public_routes(campaigns.clone()),
        state,
    );
    let router = router.merge(fanloop_console::router(console));
    if scheduler {
        tokio::spawn(local::trigger_worker(campaigns.clone(), sqlite.clone()));
        tokio::spawn(local::scheduler(campaigns, sqlite));
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(%addr, data_dir = %data_dir.display(), "fanloop listening on http://{addr}");
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())
}

async fn campaign_run(
    data_dir: &Path,
    kind: &str,
    as_of: Option<String>,
    dry_run: bool,
    tenant: Option<String>,
) -> Result<(), String> {
    use fanloop_domain::campaigns::CampaignKind;
    use fanloop_domain::campaigns::definition::CampaignId;
    use fanloop_domain::ports::CampaignStore;
    let builtin = CampaignKind::parse(kind);
    let defined =
        match builtin {
            Some(_) => None,
            None => Some(CampaignId::parse(kind).map_err(|_| {
                format!("no campaign {kind}: birthday, winback or a definition's id")
            })?),
        };
    let only = tenant.is_some();
    let as_of = as_of
        .map(|s| fanloop_domain::time::parse(&s).map_err(|e| format!("--as-of {e}")))
        .transpose()?;
    let store = open_store(data_dir)?;
    let tenants = match tenant {
        Some(t) => vec![TenantId::parse(t).map_err(|e| format!("--tenant {e}"))?],
        None => store.tenant_ids().await.map_err(|e| e.to_string())?,
    };
    let public_url =
        std::env::var("FANLOOP_PUBLIC_URL").unwrap_or_else(|_| "http://127.0.0.1:3000".to_owned());
    let campaigns = local::campaigns(Arc::new(store), Arc::new(SystemClock), data_dir, public_url)?;
    let mut failed = None;
    for t in tenants {
        let result = match (&builtin, &defined) {
            (Some(k), _) => campaigns.run(&t, *k, as_of, dry_run).await,
            (None, Some(id)) => campaigns.run_defined(&t, id, as_of, dry_run).await,
            (None, None) => unreachable!("one of the two was parsed"),
        };
        match result {
            // Over every tenant, those without the definition are left alone.
            Err(fanloop_engine::RunError::NoCampaign) if !only => {}
            Ok(report) => {
                let line = serde_json::json!({"tenant": t, "report": report});
                println!("{line}");
            }
            Err(e) => {
                eprintln!("fanloop: tenant {t}: {e}");
                failed = Some(e.to_string());
            }
        }
    }
    failed.map_or(Ok(()), Err)
}

/// The deployed table, when this build links the AWS SDK (feature `dynamodb`).
#[cfg(feature = "dynamodb")]
async fn dynamodb_store(table: String) -> Result<Arc<dyn Store>, String> {
    Ok(Arc::new(
        fanloop_store_dynamodb::DynamoStore::connect(
            table,
            std::env::var("FANLOOP_DYNAMODB_ENDPOINT").ok(),
        )
        .await,
    ))
}

#[cfg(not(feature = "dynamodb"))]
async fn dynamodb_store(_table: String) -> Result<Arc<dyn Store>, String> {
    Err(
        "this build of fanloop has no DynamoDB support; build it with \
         `cargo build --release -p fanloop --features dynamodb`"
            .into(),
    )
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // Logs go to stderr so stdout carries only what a command prints on purpose (API keys).
    init(LogTarget::Stderr);
    let result = match cli.command {
        Command::Serve {
            listen,
            api_key,
            public_url,
            scheduler,
        } => {
            serve(
                &cli.data_dir,
                listen,
                api_key,
                public_url,
                scheduler == "on",
            )
            .await
        }
        Command::Campaign {
            command: CampaignCommand::List { target },
        } => match open_any(&cli.data_dir, target.store, target.table).await {
            Err(e) => Err(e),
            Ok(store) => match campaign::list(store.as_ref(), &target.tenant).await {
                Ok(lines) => {
                    for l in lines {
                        println!("{l}");
                    }
                    Ok(())
                }
                Err(e) => Err(e.to_string()),
            },
        },
        Command::Campaign {
            command: CampaignCommand::Show { id, target },
        } => match open_any(&cli.data_dir, target.store, target.table).await {
            Err(e) => Err(e),
            Ok(store) => match campaign::show(store.as_ref(), &target.tenant, &id).await {
                Ok(v) => {
                    println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
                    Ok(())
                }
                Err(e) => Err(e.to_string()),
            },
        },
        Command::Campaign {
            command:
                CampaignCommand::Run {
                    kind,
                    as_of,
                    dry_run,
                    tenant,
                },
        } => campaign_run(&cli.data_dir, &kind, as_of, dry_run, tenant).await,
        Command::Bench {
            operations,
            raw_only: true,
            ..
        } => bench::raw_sqlite(&cli.data_dir.join("bench"), operations),
        Command::Bench {
            campaigns: true,
            customers,
            ..
        } => bench_campaigns::run(&cli.data_dir.join("bench"), customers).await,
        Command::Bench { operations, .. } => {
            bench::run(&cli.data_dir.join("bench"), operations).await
        }
        Command::Import { kind, file, target } => {
            match open_any(&cli.data_dir, target.store, target.table).await {
                Err(e) => Err(e),
                Ok(store) => match import::import(store, &target.tenant, kind, &file).await {
                    Ok(summary) => {
                        print!("{}", summary.render(&format!("{}", file.display())));
                        Ok(())
                    }
                    Err(e) => Err(e.to_string()),
                },
            }
        }
        Command::Segment {
            command: SegmentCommand::Preview { file, target },
        } => match open_any(&cli.data_dir, target.store, target.table).await {
            Err(e) => Err(e),
            Ok(store) => match segment::preview(store.as_ref(), &target.tenant, &file).await {
                Ok(out) => {
                    println!("{out}");
                    Ok(())
                }
                Err(e) => Err(e.to_string()),
            },
        },
        Command::Key { command } => key::run(&cli.data_dir, command).await,
        Command::Staff { command } => staff::run(&cli.data_dir, command).await,
        Command::Tenant {
            command: TenantCommand::Create { name, store, table },
        } => {
            let id = match TenantId::parse(name) {
                Ok(id) => id,
                Err(e) => {
                    eprintln!("fanloop: invalid tenant name: {e}");
                    return ExitCode::from(2);
                }
            };
            match open_any(&cli.data_dir, store, table).await {
                Err(e) => Err(e),
                Ok(store) => match create_tenant(store.as_ref(), id, &SystemClock).await {
                    Ok(key) => {
                        println!("{}", key.expose());
                        Ok(())
                    }
                    Err(CreateTenantError::Exists) => {
                        Err("a tenant with that name already exists".into())
                    }
                    Err(CreateTenantError::Store(e)) => Err(e.to_string()),
                },
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fanloop: {e}");
            ExitCode::FAILURE
        }
    }
}
