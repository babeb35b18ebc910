//! Local mode's campaign setup: the mailer (the outbox, or SMTP with DKIM), the unsubscribe secret kept in the data
//! directory, and the in-process scheduler.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use fanloop_campaigns::{Campaigns, Pacer};
use fanloop_domain::campaigns::CampaignKind;
use fanloop_domain::campaigns::unsubscribe::UnsubscribeKey;
use fanloop_domain::ports::{Mailer, Store};
use fanloop_domain::values::Email;
use fanloop_domain::{Clock, SystemClock};
use fanloop_mail::{DkimSettings, OutboxMailer, SmtpMailer, Templates};
use fanloop_store_sqlite::SqliteStore;

/// The sender of local mail when a tenant set none.
const LOCAL_SENDER: &str = "no-reply@fanloop.localhost";

/// `FANLOOP_UNSUBSCRIBE_SECRET`, else a secret made once and kept in `unsubscribe.key` (mode
/// 0600), so links in mails already written keep working after a restart.
fn unsubscribe_key(data_dir: &Path) -> Result<UnsubscribeKey, String> {
    if let Ok(secret) = std::env::var("FANLOOP_UNSUBSCRIBE_SECRET") {
        return UnsubscribeKey::new(secret.as_bytes())
            .map_err(|e| format!("FANLOOP_UNSUBSCRIBE_SECRET: {e}"));
    }
    let path = data_dir.join("unsubscribe.key");
    let secret = match std::fs::read_to_string(&path) {
        Ok(s) => s.trim().to_owned(),
        Err(_) => {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).map_err(|e| format!("no randomness: {e}"))?;
            let s = hex::encode(bytes);
            write_private(&path, &s)?;
            s
        }
    };
    UnsubscribeKey::new(secret.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))
}

fn write_private(path: &Path, content: &str) -> Result<(), String> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    f.write_all(content.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The outbox of local mode, `{data_dir}/outbox`: one `.eml` per mail.
pub fn outbox(data_dir: &Path) -> Result<OutboxMailer, String> {
    OutboxMailer::new(data_dir.join("outbox")).map_err(|e| format!("cannot create the outbox: {e}"))
}

/// The mailer of local mode and its rate: with `FANLOOP_SMTP_URL`, SMTP (DKIM-signed when
/// `FANLOOP_DKIM_KEY_FILE`, `FANLOOP_DKIM_SELECTOR` and `FANLOOP_DKIM_DOMAIN` are set), paced
/// at `FANLOOP_SEND_RATE` mails per second (default 10); else the outbox, unpaced.
fn mailer(data_dir: &Path) -> Result<(Arc<dyn Mailer>, u32), String> {
    let Some(url) = std::env::var("FANLOOP_SMTP_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        return Ok((Arc::new(outbox(data_dir)?), 0));
    };
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    let dkim = match var("FANLOOP_DKIM_KEY_FILE") {
        Some(path) => Some(DkimSettings {
            key_pem: std::fs::read_to_string(&path)
                .map_err(|e| format!("FANLOOP_DKIM_KEY_FILE {path}: {e}"))?,
            selector: var("FANLOOP_DKIM_SELECTOR")
                .ok_or("FANLOOP_DKIM_SELECTOR is required with FANLOOP_DKIM_KEY_FILE")?,
            domain: var("FANLOOP_DKIM_DOMAIN")
                .ok_or("FANLOOP_DKIM_DOMAIN is required with FANLOOP_DKIM_KEY_FILE")?,
        }),
        None => None,
    };
    let rate = match var("FANLOOP_SEND_RATE") {
        Some(r) => r
            .parse()
            .map_err(|_| "FANLOOP_SEND_RATE must be a whole number".to_owned())?,
        None => 10,
    };
    let smtp = SmtpMailer::new(&url, dkim).map_err(|e| e.to_string())?;
    Ok((Arc::new(smtp), rate))
}

/// Campaigns on the local store, mailing through [`mailer`].
pub fn campaigns(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    data_dir: &Path,
    public_url: String,
) -> Result<Campaigns, String> {
    let (mailer, rate) = mailer(data_dir)?;
    let sender = std::env::var("FANLOOP_SENDER").unwrap_or_else(|_| LOCAL_SENDER.to_owned());
    Ok(Campaigns {
        store,
        mailer,
        clock,
        templates: Arc::new(Templates::new()),
        unsubscribe_key: unsubscribe_key(data_dir)?,
        public_url,
        default_sender: Some(Email::parse(sender).map_err(|e| format!("FANLOOP_SENDER {e}"))?),
        pacer: Arc::new(Pacer::new(rate)),
        item_rows: Default::default(),
        queue: None,
    })
}

/// The UTC hour of the daily win-back run (`FANLOOP_WINBACK_HOUR`, default 9).
fn winback_hour() -> i8 {
    std::env::var("FANLOOP_WINBACK_HOUR")
        .ok()
        .and_then(|h| h.parse().ok())
        .filter(|h| (0..24).contains(h))
        .unwrap_or(9)
}

/// Deletes the behaviour events whose retention has ended (reads never show them; this frees
/// the disk).
async fn purge_events(store: &SqliteStore) {
    match store.purge_expired_events(SystemClock.now()).await {
        Ok(n) if n > 0 => tracing::info!(events = n, "expired events purged"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "event purge failed; the next hour tries again"),
    }
}

/// Drains the trigger outbox every second: the mails event-triggered campaigns send (a
/// purchase's thank-you, a tier up, a signup), written in the event's own transaction, so a
/// crash loses none; several instances on one database share it through leases.
pub async fn trigger_worker(campaigns: Arc<Campaigns>, store: Arc<SqliteStore>) {
    loop {
        if let Err(e) = fanloop_engine::drain_outbox(&campaigns, store.as_ref()).await {
            tracing::error!(error = %e, "trigger outbox failed; retried in a second");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Runs the birthday campaign at start (making good a downtime of up to 24 hours) and a few
/// seconds after every full hour; the win-back campaign daily at `FANLOOP_WINBACK_HOUR` UTC;
/// the active broadcasts at start and every hour (each recipient at the broadcast's local time
/// in their zone); the purge of expired behaviour events and each tenant's first analytics
/// snapshot of its local day at start and every hour.
pub async fn scheduler(campaigns: Arc<Campaigns>, store: Arc<SqliteStore>) {
    let winback_at = winback_hour();
    let run = |kind| {
        let c = campaigns.clone();
        async move {
            if let Err(e) = c.run_all(kind, None).await {
                tracing::error!(campaign = %kind, error = %e, "scheduled run failed; the next run catches up");
            }
        }
    };
    let snapshots = || {
        let c = campaigns.clone();
        async move {
            if let Err(e) = c.snapshot_all(false).await {
                tracing::error!(error = %e, "analytics snapshot failed; the next hour tries again");
            }
        }
    };
    let broadcasts = || {
        let c = campaigns.clone();
        async move {
            if let Err(e) = c.run_defined_all(None, None).await {
                tracing::error!(error = %e, "broadcast run failed; the next hour catches up");
            }
        }
    };
    purge_events(&store).await;
    snapshots().await;
    run(CampaignKind::Birthday).await;
    broadcasts().await;
    loop {
        let now = SystemClock.now();
        let next_hour = (now.as_second().div_euclid(3600) + 1) * 3600 + 5;
        let wait = u64::try_from(next_hour - now.as_second()).unwrap_or(60);
        tokio::time::sleep(Duration::from_secs(wait)).await;
        purge_events(&store).await;
        snapshots().await;
        run(CampaignKind::Birthday).await;
        broadcasts().await;
        let hour = SystemClock.now().to_zoned(jiff::tz::TimeZone::UTC).hour();
        if hour == winback_at {
            run(CampaignKind::Winback).await;
        }
    }
}
