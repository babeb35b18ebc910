//! `fanloop key create|list|revoke`: a tenant's API keys from the command line (as `/v1/keys`
//! does over HTTP). `create` prints the new key's secret alone on stdout, once.

use clap::Subcommand;
use fanloop_domain::keys::{KeyInfo, NewKey};
use fanloop_domain::ports::{Store, StoreError};
use fanloop_domain::tenant::{ApiKey, OsRandom};
use fanloop_domain::{Clock, ValidationErrors};
use fanloop_domain::{SystemClock, TenantId};
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("--tenant {0}")]
    Tenant(String),
    #[error("no tenant {0}")]
    NoTenant(String),
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("no key {0} for this tenant")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

async fn tenant(store: &dyn Store, t: &str) -> Result<TenantId, KeyError> {
    let id = TenantId::parse(t).map_err(|e| KeyError::Tenant(e.to_string()))?;
    match store.tenant(&id).await? {
        Some(_) => Ok(id),
        None => Err(KeyError::NoTenant(t.to_owned())),
    }
}

fn invalid(e: ValidationErrors) -> KeyError {
    KeyError::Invalid(e.summary())
}

/// Creates a key; returns its record and its secret.
pub async fn create(
    store: &dyn Store,
    clock: &dyn Clock,
    t: &str,
    name: &str,
    scopes: &[String],
    expires_at: Option<&str>,
) -> Result<(KeyInfo, ApiKey), KeyError> {
    let tenant = tenant(store, t).await?;
    let mut body = json!({"name": name, "scopes": scopes});
    if let Some(e) = expires_at {
        body["expires_at"] = json!(e);
    }
    let now = clock.now();
    let (name, scopes, expires_at) = NewKey::read(body, now).map_err(invalid)?;
    let secret = ApiKey::generate(&OsRandom).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let key = KeyInfo::new(&tenant, &secret, name, scopes, now, expires_at);
    store.create_key(&tenant, &key, &secret.hash()).await?;
    Ok((key, secret))
}

/// One JSON line per key, oldest first.
pub async fn list(store: &dyn Store, t: &str) -> Result<Vec<Value>, KeyError> {
    let tenant = tenant(store, t).await?;
    Ok(store
        .keys(&tenant)
        .await?
        .into_iter()
        .map(|k| serde_json::to_value(k).unwrap_or(Value::Null))
        .collect())
}

pub async fn revoke(
    store: &dyn Store,
    clock: &dyn Clock,
    t: &str,
    id: &str,
) -> Result<KeyInfo, KeyError> {
    let tenant = tenant(store, t).await?;
    store
        .revoke_key(&tenant, id, clock.now())
        .await?
        .map(|(k, _)| k)
        .ok_or_else(|| KeyError::NotFound(id.to_owned()))
}

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Create a key and print its secret (alone, on stdout; it is not shown again).
    Create {
        /// What the key is for.
        #[arg(long)]
        name: String,
        /// One or more of ingest, redeem, read, admin (comma-separated).
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<String>,
        /// RFC 3339; the key is refused after it.
        #[arg(long)]
        expires_at: Option<String>,
        #[command(flatten)]
        target: crate::Target,
    },
    /// The tenant's keys, one JSON line each (never a secret).
    List {
        #[command(flatten)]
        target: crate::Target,
    },
    /// Revoke a key by its id (`k_…`, from `key list`).
    Revoke {
        id: String,
        #[command(flatten)]
        target: crate::Target,
    },
}

/// Runs a `fanloop key` command.
pub async fn run(data_dir: &std::path::Path, command: KeyCommand) -> Result<(), String> {
    let target = match &command {
        KeyCommand::Create { target, .. }
        | KeyCommand::List { target }
        | KeyCommand::Revoke { target, .. } => target,
    };
    let store = crate::open_any(data_dir, target.store, target.table.clone()).await?;
    let store = store.as_ref();
    match &command {
        KeyCommand::Create {
            name,
            scopes,
            expires_at,
            target,
        } => {
            let (key, secret) = create(
                store,
                &SystemClock,
                &target.tenant,
                name,
                scopes,
                expires_at.as_deref(),
            )
            .await
            .map_err(|e| e.to_string())?;
            eprintln!(
                "Created key {} ({}); its secret, once:",
                key.key_id, key.prefix
            );
            println!("{}", secret.expose());
        }
        KeyCommand::List { target } => {
            for k in list(store, &target.tenant)
                .await
                .map_err(|e| e.to_string())?
            {
                println!("{k}");
            }
        }
        KeyCommand::Revoke { id, target } => {
            let k = revoke(store, &SystemClock, &target.tenant, id)
                .await
                .map_err(|e| e.to_string())?;
            eprintln!("Revoked {} (refused everywhere within 60 s).", k.key_id);
        }
    }
    Ok(())
}
