//! `fanloop staff create EMAIL --role admin|agent|viewer [--tenant T]`: a console account,
//! printed as its one-time password-set link (alone on stdout; valid 72 hours).

use clap::Subcommand;
use fanloop_domain::SystemClock;
use fanloop_domain::staff::Role;
use fanloop_domain::tenant::OsRandom;
use fanloop_domain::values::Email;
use fanloop_domain::{Clock, TenantId};
use fanloop_services::staff::{StaffError, invite, setup_link};

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum RoleArg {
    Admin,
    Agent,
    Viewer,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Admin => Role::Admin,
            RoleArg::Agent => Role::Agent,
            RoleArg::Viewer => Role::Viewer,
        }
    }
}

#[derive(Subcommand)]
pub enum StaffCommand {
    /// Create a staff account and print its password-set link (shown once).
    Create {
        /// The address the staff member logs in with.
        email: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Base URL the console is reached at (the link's host).
        #[arg(
            long,
            env = "FANLOOP_PUBLIC_URL",
            default_value = "http://127.0.0.1:3000"
        )]
        public_url: String,
        #[command(flatten)]
        target: crate::Target,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("--tenant: {0}")]
    Tenant(String),
    #[error("no tenant {0}")]
    NoTenant(String),
    #[error("EMAIL {0}")]
    Email(String),
    #[error(transparent)]
    Staff(#[from] StaffError),
    #[error(transparent)]
    Store(#[from] fanloop_domain::ports::StoreError),
}

/// Runs a `fanloop staff` command.
pub async fn run(data_dir: &std::path::Path, command: StaffCommand) -> Result<(), String> {
    let StaffCommand::Create {
        email,
        role,
        public_url,
        target,
    } = command;
    let store = crate::open_any(data_dir, target.store, target.table.clone()).await?;
    let link = create(
        store.as_ref(),
        &target.tenant,
        &email,
        role.into(),
        &public_url,
    )
    .await
    .map_err(|e| e.to_string())?;
    eprintln!(
        "Created a {} account; its password-set link, once (72 hours):",
        Role::from(role).as_str()
    );
    println!("{link}");
    Ok(())
}

/// Creates the account; returns its password-set link.
pub async fn create(
    store: &dyn fanloop_domain::ports::Store,
    tenant: &str,
    email: &str,
    role: Role,
    public_url: &str,
) -> Result<String, CreateError> {
    let id = TenantId::parse(tenant).map_err(|e| CreateError::Tenant(e.to_string()))?;
    if store.tenant(&id).await?.is_none() {
        return Err(CreateError::NoTenant(tenant.to_owned()));
    }
    let email = Email::parse(email).map_err(|e| CreateError::Email(e.to_string()))?;
    let invited = invite(store, &OsRandom, &id, email, role, "cli", SystemClock.now()).await?;
    Ok(setup_link(public_url, &invited))
}
