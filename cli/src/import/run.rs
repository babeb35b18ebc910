//! The import loop: read a chunk of rows, handle them concurrently, count, save where it
//! stands, repeat; then print the summary.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use fanloop_domain::Clock;
use fanloop_domain::ports::{Store, StoreError};
use fanloop_domain::{SystemClock, TenantId};
use serde::{Deserialize, Serialize};

use super::state::{self, ImportState};

/// Rows handled at once (and between two saves of the state).
const CHUNK: usize = 64;
/// Refused rows kept for the summary; the rest are counted.
const REFUSALS_SHOWN: usize = 1_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// One customer per row: profile fields, identities as `platform:id;…`, consent.
    Customers,
    /// One behaviour event per row: `customer_id`, `event_id`, `kind`, `occurred_at`,
    /// `properties` (a JSON object).
    Events,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Customers => "customers",
            Kind::Events => "events",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {0}: {1}")]
    File(String, String),
    #[error("the header is not one this import reads: {0}")]
    Header(String),
    #[error("no tenant {0} in this store (create it with `fanloop tenant create`)")]
    UnknownTenant(String),
    #[error("the store failed; run the same command again to resume: {0}")]
    Store(#[from] StoreError),
}

/// What one row came to.
#[derive(Debug)]
pub enum RowOutcome {
    Created,
    Updated,
    Unchanged,
    Refused(String),
}

/// The counts of an import, and the refused rows (line and reason).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub refused: u64,
    pub refusals: Vec<(u64, String)>,
}

impl Summary {
    fn count(&mut self, line: u64, outcome: RowOutcome) {
        self.rows += 1;
        match outcome {
            RowOutcome::Created => self.created += 1,
            RowOutcome::Updated => self.updated += 1,
            RowOutcome::Unchanged => self.unchanged += 1,
            RowOutcome::Refused(why) => {
                self.refused += 1;
                if self.refusals.len() < REFUSALS_SHOWN {
                    self.refusals.push((line, why));
                }
            }
        }
    }

    pub fn render(&self, what: &str) -> String {
        let mut out = format!(
            "{what}: {} rows, {} created, {} updated, {} unchanged, {} refused\n",
            self.rows, self.created, self.updated, self.unchanged, self.refused
        );
        for (line, why) in &self.refusals {
            out.push_str(&format!("refused line {line}: {why}\n"));
        }
        if self.refused > self.refusals.len() as u64 {
            out.push_str(&format!(
                "… and {} more refused lines\n",
                self.refused - self.refusals.len() as u64
            ));
        }
        out
    }
}

/// One row as the column names and their (non-empty) values.
pub type Row = Vec<(String, String)>;

/// Imports `file` into `tenant`; the summary, also when rows were refused.
pub async fn import(
    store: Arc<dyn Store>,
    tenant: &str,
    kind: Kind,
    file: &Path,
) -> Result<Summary, ImportError> {
    let file_err =
        |e: &dyn std::fmt::Display| ImportError::File(file.display().to_string(), e.to_string());
    let tenant = TenantId::parse(tenant).map_err(|e| ImportError::UnknownTenant(e.to_string()))?;
    if store.tenant(&tenant).await?.is_none() {
        return Err(ImportError::UnknownTenant(tenant.to_string()));
    }
    let settings = Arc::new(store.settings(&tenant).await?.settings);
    let meta = std::fs::metadata(file).map_err(|e| file_err(&e))?;
    let modified_ms = meta
        .modified()
        .ok()
        .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let job = format!("{}:{tenant}", kind.name());

    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(File::open(file).map_err(|e| file_err(&e))?);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| file_err(&e))?
        .iter()
        .map(str::to_owned)
        .collect();
    match kind {
        Kind::Customers => super::customers::check_headers(&headers)?,
        Kind::Events => super::events::check_headers(&headers)?,
    }
    let mut summary = Summary::default();
    if let Some(s) = state::load(file, &job, meta.len(), modified_ms) {
        let mut pos = csv::Position::new();
        pos.set_byte(s.byte).set_line(s.line).set_record(s.record);
        reader.seek(pos).map_err(|e| file_err(&e))?;
        eprintln!("resuming at line {} ({} rows done)", s.line, s.summary.rows);
        summary = s.summary;
    }

    let bar = indicatif::ProgressBar::new(meta.len());
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({eta}) {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut record = csv::StringRecord::new();
    loop {
        let mut chunk = Vec::with_capacity(CHUNK);
        while chunk.len() < CHUNK {
            let more = match reader.read_record(&mut record) {
                Ok(more) => more,
                Err(e) => {
                    // A malformed row (e.g. a stray quote) is refused; the reader goes on.
                    let line = e.position().map_or(0, csv::Position::line);
                    summary.count(line, RowOutcome::Refused(format!("not CSV: {e}")));
                    continue;
                }
            };
            if !more {
                break;
            }
            let line = record.position().map_or(0, csv::Position::line);
            let row: Row = headers
                .iter()
                .zip(record.iter())
                .filter(|(_, v)| !v.is_empty())
                .map(|(h, v)| (h.clone(), v.to_owned()))
                .collect();
            chunk.push((line, row));
        }
        if chunk.is_empty() {
            break;
        }
        let now = SystemClock.now();
        let mut tasks = tokio::task::JoinSet::new();
        for (i, (line, row)) in chunk.into_iter().enumerate() {
            let (store, tenant, settings) = (store.clone(), tenant.clone(), settings.clone());
            tasks.spawn(async move {
                let outcome = match kind {
                    Kind::Customers => {
                        super::customers::row(store.as_ref(), &tenant, row, now).await
                    }
                    Kind::Events => {
                        super::events::row(store.as_ref(), &tenant, &settings, row, now).await
                    }
                };
                (i, line, outcome)
            });
        }
        let mut done = Vec::new();
        while let Some(r) = tasks.join_next().await {
            done.push(r.map_err(|e| StoreError::Unavailable(e.to_string()))?);
        }
        done.sort_by_key(|(i, _, _)| *i);
        for (_, line, outcome) in done {
            summary.count(line, outcome?);
        }
        let pos = reader.position().clone();
        state::save(
            file,
            &ImportState {
                job: job.clone(),
                file_len: meta.len(),
                file_modified_ms: modified_ms,
                byte: pos.byte(),
                line: pos.line(),
                record: pos.record(),
                summary: summary.clone(),
            },
        )
        .map_err(|e| file_err(&e))?;
        bar.set_position(pos.byte());
        bar.set_message(format!("{} rows", summary.rows));
    }
    bar.finish_and_clear();
    state::clear(file);
    Ok(summary)
}
