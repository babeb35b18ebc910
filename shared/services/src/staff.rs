//! Staff use cases: invite (the one-time password-set link), set the password, log in (with
//! the throttle), authenticate a request's session, log out here or everywhere. Each writes
//! its audit entry. Argon2id runs on the blocking pool, not on the request threads.

use fanloop_domain::TenantId;
use fanloop_domain::ports::StoreError;
use fanloop_domain::staff::{
    AuditAction, AuditEntry, LoginCheck, Password, PasswordError, Role, Session, SessionState,
    StaffAccount, StaffStore, Token, hash_password, login_key, token_hash,
};
use fanloop_domain::tenant::{Random, RandomError};
use fanloop_domain::values::Email;
use jiff::Timestamp;
use serde_json::json;

/// How many times a read-modify-write of an account is tried against concurrent ones.
const ATTEMPTS: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("an account with this e-mail address exists")]
    Taken,
    #[error("the link is not valid (used, expired or mistyped)")]
    BadLink,
    #[error("wrong e-mail address or password")]
    WrongCredentials,
    #[error("too many wrong passwords; try again after {until}")]
    Throttled { until: Timestamp },
    #[error("not logged in")]
    NoSession,
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Random(#[from] RandomError),
    #[error("the account kept changing under concurrent requests")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new account and the secret of its password-set link (shown once).
pub struct Invited {
    pub account: StaffAccount,
    /// `{staff_id}.{secret}`: the `token` of `/console/set-password`.
    pub link_token: String,
}

fn new_id(now: Timestamp, random: &dyn Random) -> Result<String, StaffError> {
    Ok(fanloop_domain::campaigns::new_message_id(now, random)?)
}

async fn audit(
    store: &dyn StaffStore,
    tenant: &TenantId,
    entry: AuditEntry,
) -> Result<(), StaffError> {
    store.record_audit(tenant, &entry).await?;
    Ok(())
}

/// Creates an account for `email` (its password unset) and its link.
pub async fn invite(
    store: &dyn StaffStore,
    random: &dyn Random,
    tenant: &TenantId,
    email: Email,
    role: Role,
    by: &str,
    now: Timestamp,
) -> Result<Invited, StaffError> {
    let secret = Token::generate(random)?;
    let id = new_id(now, random)?;
    let account = StaffAccount::invite(id.clone(), email, tenant.clone(), role, &secret, now);
    if !store.create_staff(&account).await? {
        return Err(StaffError::Taken);
    }
    let entry = AuditEntry::new(new_id(now, random)?, now, by, AuditAction::StaffCreated)
        .detail(format!("{} {}", account.staff_id, role.as_str()));
    audit(store, tenant, entry).await?;
    Ok(Invited {
        link_token: format!("{id}.{}", secret.as_str()),
        account,
    })
}

/// Reads, changes and writes an account until no concurrent update intervenes.
async fn update<T>(
    store: &dyn StaffStore,
    staff_id: &str,
    mut change: impl FnMut(&mut StaffAccount) -> Result<T, StaffError>,
) -> Result<(StaffAccount, T), StaffError> {
    for _ in 0..ATTEMPTS {
        let Some(mut a) = store.staff(staff_id).await? else {
            return Err(StaffError::NoSession);
        };
        let out = change(&mut a)?;
        if store.replace_staff(&a).await? {
            a.version += 1;
            return Ok((a, out));
        }
    }
    Err(StaffError::Busy)
}

async fn hashed(password: Password) -> Result<String, StaffError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|_| StaffError::Password(PasswordError::Hash))?
        .map_err(Into::into)
}

/// Uses a password-set link: sets the password and ends every session of the account.
pub async fn set_password(
    store: &dyn StaffStore,
    random: &dyn Random,
    link_token: &str,
    password: Password,
    now: Timestamp,
) -> Result<StaffAccount, StaffError> {
    let (id, secret) = link_token.split_once('.').ok_or(StaffError::BadLink)?;
    let secret = Token::from_browser(secret);
    match store.staff(id).await? {
        Some(a) if a.setup_matches(&secret, now) => {}
        _ => return Err(StaffError::BadLink),
    }
    let phc = hashed(password).await?;
    let (a, ()) = update(store, id, |a| {
        if !a.setup_matches(&secret, now) {
            return Err(StaffError::BadLink);
        }
        a.set_password(phc.clone());
        Ok(())
    })
    .await
    .map_err(|e| match e {
        StaffError::NoSession => StaffError::BadLink,
        e => e,
    })?;
    let entry = AuditEntry::new(
        new_id(now, random)?,
        now,
        &a.staff_id,
        AuditAction::PasswordSet,
    );
    audit(store, &a.tenant, entry).await?;
    Ok(a)
}

/// A new session: the cookie's token (the store keeps its hash only).
pub struct LoggedIn {
    pub cookie: Token,
    pub session: Session,
    pub account: StaffAccount,
}

/// Checks the password (throttled after repeated failures) and opens a new session: a new
/// token every login, so a session id planted before it is worth nothing.
pub async fn login(
    store: &dyn StaffStore,
    random: &dyn Random,
    email: &str,
    password: &str,
    now: Timestamp,
) -> Result<LoggedIn, StaffError> {
    let attempt = Password::attempt(password.to_owned());
    let account = match Email::parse(email) {
        Ok(e) => store.staff_by_login(&login_key(&e)).await?,
        Err(_) => None,
    };
    let Some(account) = account else {
        // As slow as a wrong password, so addresses cannot be told apart by time.
        if let Some(p) = attempt {
            let _ = tokio::task::spawn_blocking(move || {
                fanloop_domain::staff::verify_password(
                    &p,
                    fanloop_domain::staff::password::decoy_hash(),
                )
            })
            .await;
        }
        return Err(StaffError::WrongCredentials);
    };
    let check = {
        let (a, p) = (account.clone(), attempt.clone());
        tokio::task::spawn_blocking(move || a.check_login(p.as_ref(), now))
            .await
            .map_err(|_| StaffError::Busy)?
    };
    match check {
        LoginCheck::Locked { until } => return Err(StaffError::Throttled { until }),
        LoginCheck::Wrong => {
            let (a, ()) = update(store, &account.staff_id, |a| {
                a.record_failure(now);
                Ok(())
            })
            .await?;
            if let Some(until) = a.locked_until.filter(|u| *u > now) {
                if a.failed_logins == fanloop_domain::staff::account::LOCK_AFTER_FAILURES {
                    let entry = AuditEntry::new(
                        new_id(now, random)?,
                        now,
                        &a.staff_id,
                        AuditAction::LoginLocked,
                    );
                    audit(store, &a.tenant, entry).await?;
                }
                return Err(StaffError::Throttled { until });
            }
            return Err(StaffError::WrongCredentials);
        }
        LoginCheck::Ok => {}
    }
    let account = if account.failed_logins == 0 && account.locked_until.is_none() {
        account
    } else {
        update(store, &account.staff_id, |a| {
            a.record_success();
            Ok(())
        })
        .await?
        .0
    };
    let cookie = Token::generate(random)?;
    let session = Session {
        id_hash: token_hash(&cookie),
        staff_id: account.staff_id.clone(),
        tenant: account.tenant.clone(),
        epoch: account.epoch,
        csrf: Token::generate(random)?.as_str().to_owned(),
        created_at: now,
        last_seen: now,
    };
    store.put_session(&session).await?;
    let entry = AuditEntry::new(
        new_id(now, random)?,
        now,
        &account.staff_id,
        AuditAction::LoggedIn,
    );
    audit(store, &account.tenant, entry).await?;
    Ok(LoggedIn {
        cookie,
        session,
        account,
    })
}

/// The session and account of a request's cookie; an expired or ended session is deleted.
pub async fn authenticate(
    store: &dyn StaffStore,
    cookie: &str,
    now: Timestamp,
) -> Result<(Session, StaffAccount), StaffError> {
    let id_hash = token_hash(&Token::from_browser(cookie));
    let Some(mut session) = store.session(&id_hash).await? else {
        return Err(StaffError::NoSession);
    };
    let Some(account) = store.staff(&session.staff_id).await? else {
        store.delete_session(&id_hash).await?;
        return Err(StaffError::NoSession);
    };
    match session.state(now, account.epoch) {
        SessionState::Expired => {
            store.delete_session(&id_hash).await?;
            Err(StaffError::NoSession)
        }
        SessionState::ValidTouch => {
            session.last_seen = now;
            store.put_session(&session).await?;
            Ok((session, account))
        }
        SessionState::Valid => Ok((session, account)),
    }
}

/// Ends this session.
pub async fn logout(store: &dyn StaffStore, session: &Session) -> Result<(), StaffError> {
    Ok(store.delete_session(&session.id_hash).await?)
}

/// Ends every session of the account (this one included).
pub async fn logout_everywhere(
    store: &dyn StaffStore,
    random: &dyn Random,
    session: &Session,
    now: Timestamp,
) -> Result<(), StaffError> {
    let (a, ()) = update(store, &session.staff_id, |a| {
        a.end_sessions();
        Ok(())
    })
    .await?;
    store.delete_session(&session.id_hash).await?;
    let entry = AuditEntry::new(
        new_id(now, random)?,
        now,
        &a.staff_id,
        AuditAction::LoggedOutEverywhere,
    );
    audit(store, &a.tenant, entry).await
}

/// Keeps the staff member's language (`en` or `zh-CN`).
pub async fn set_locale(
    store: &dyn StaffStore,
    staff_id: &str,
    locale: &str,
) -> Result<(), StaffError> {
    update(store, staff_id, |a| {
        a.locale = Some(locale.to_owned());
        Ok(())
    })
    .await
    .map(|_| ())
}

/// What an admin does to another member of their tenant.
pub enum StaffChange {
    Role(Role),
    /// Remove: no password, no session, no login ([`StaffAccount::disable`]).
    Remove,
    /// A new password-set link (returned once).
    Reinvite,
}

/// Applies `change` to the member `staff_id` of `tenant` (another tenant's member is
/// `NoSession`: not found), audited as `by`'s; `Some(link token)` for a re-invitation, `None`
/// when nothing changed or no link was made.
pub async fn change_staff(
    store: &dyn StaffStore,
    random: &dyn Random,
    tenant: &TenantId,
    staff_id: &str,
    change: StaffChange,
    by: &str,
    now: Timestamp,
) -> Result<Option<Invited>, StaffError> {
    let secret = Token::generate(random)?;
    let (before_role, before_disabled) = match store.staff(staff_id).await? {
        Some(a) if &a.tenant == tenant => (a.role, a.disabled),
        _ => return Err(StaffError::NoSession),
    };
    let (a, changed) = update(store, staff_id, |a| {
        Ok(match &change {
            StaffChange::Role(r) => a.set_role(*r),
            StaffChange::Remove => a.disable(),
            StaffChange::Reinvite => {
                a.reinvite(&secret, now);
                true
            }
        })
    })
    .await?;
    if !changed {
        return Ok(None);
    }
    let state = |role: Role, disabled: bool| json!({"role": role.as_str(), "removed": disabled});
    let entry = AuditEntry::new(new_id(now, random)?, now, by, AuditAction::StaffChanged)
        .change(
            state(before_role, before_disabled),
            state(a.role, a.disabled),
        )
        .detail(a.staff_id.clone());
    audit(store, tenant, entry).await?;
    Ok(matches!(change, StaffChange::Reinvite).then(|| Invited {
        link_token: format!("{}.{}", a.staff_id, secret.as_str()),
        account: a,
    }))
}

/// The password-set page's address for an invitation, under the console's public URL.
pub fn setup_link(public_url: &str, invited: &Invited) -> String {
    format!(
        "{}/console/set-password?token={}",
        public_url.trim_end_matches('/'),
        invited.link_token
    )
}
