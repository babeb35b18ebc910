//! Scoped, rotatable API keys: what each key may do, which scope each route needs, and when a
//! key stops working (revoked, expired). The secret is never stored (its SHA-256 is, see
//! [`crate::tenant`]); a key is named by an id derived from that hash and shown by a prefix.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::TenantId;
use crate::tenant::{ApiKey, ApiKeyHash};
use crate::values::Title;
use crate::wire::DateTime;

/// What a key may do.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Profiles, behaviour events, accruals and their reversals, survey answers.
    Ingest,
    /// Points redemptions and coupon uses.
    Redeem,
    /// Every read: customers, points, coupons, timelines, analytics, campaigns, segments.
    Read,
    /// Settings, erasure and export, adjustments, campaigns and segments, runs, keys.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Scope::Ingest, Scope::Redeem, Scope::Read, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ingest => "ingest",
            Self::Redeem => "redeem",
            Self::Read => "read",
            Self::Admin => "admin",
        }
    }
}

/// The scopes that open a route, any one of them (`route`: the matched path template,
/// `/v1/customers/{customer_id}`); the first is the one a refusal names.
pub fn accepted_scopes(method: &str, route: &str) -> &'static [Scope] {
    let r = route.strip_prefix("/v1").unwrap_or(route);
    match (method, r) {
        // Support staff void a coupon as the shop's backend may.
        ("POST", "/coupons/{code}/void") => &[Scope::Redeem, Scope::Admin],
        // Free-form points (the caller naming the value) are for admin keys; the handler checks
        // which kind a redemption is.
        ("POST", "/customers/{customer_id}/points/redemptions") => &[Scope::Redeem, Scope::Admin],
        _ => match required_scope(method, route) {
            Scope::Ingest => &[Scope::Ingest],
            Scope::Redeem => &[Scope::Redeem],
            Scope::Read => &[Scope::Read],
            Scope::Admin => &[Scope::Admin],
        },
    }
}

/// The scope a route needs (`route`: the matched path template, `/v1/customers/{customer_id}`).
/// A write not listed needs `admin`: a new route is closed until it is placed here.
pub fn required_scope(method: &str, route: &str) -> Scope {
    let r = route.strip_prefix("/v1").unwrap_or(route);
    match method {
        "GET" | "HEAD" => match r {
            "/keys" | "/ingest-secrets" | "/suppressions" | "/customers/{customer_id}/export" => {
                Scope::Admin
            }
            _ => Scope::Read,
        },
        "PUT" | "PATCH" if r == "/customers/{customer_id}" => Scope::Ingest,
        "DELETE" if r == "/customers/{customer_id}/identities/{platform}/{external_id}" => {
            Scope::Ingest
        }
        "POST" => match r {
            "/customers/{customer_id}/events"
            | "/customers/{customer_id}/contacts"
            | "/cases"
            | "/customers/{customer_id}/events/batch"
            | "/customers/{customer_id}/activities"
            | "/customers/{customer_id}/points/accruals"
            | "/customers/{customer_id}/points/reversals"
            | "/surveys/{survey_id}/responses"
            | "/surveys/{survey_id}/responses/batch" => Scope::Ingest,
            "/customers/{customer_id}/points/redemptions" | "/coupons/{code}/redemptions" => {
                Scope::Redeem
            }
            // Reads that take a body.
            "/segments/preview" => Scope::Read,
            _ => Scope::Admin,
        },
        _ => Scope::Admin,
    }
}

/// A key as stored and listed: never the secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KeyInfo {
    /// `k_` and 16 hex digits of the key's hash: names the key, reveals nothing of it.
    pub key_id: String,
    #[serde(skip)]
    #[schema(ignore)]
    pub tenant: Option<TenantId>,
    pub name: String,
    pub scopes: BTreeSet<Scope>,
    /// The key's first characters (`flk_1a2b3c4d`), to recognise it; empty for a key made before
    /// keys had names.
    pub prefix: String,
    #[serde(with = "crate::time::serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "crate::time::serde_ts::option", default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    #[serde(with = "crate::time::serde_ts::option", default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
    /// When the key was last used, to the minute at best (recorded once per cache fill).
    #[serde(with = "crate::time::serde_ts::option", default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<Timestamp>,
}

/// The id of the key with this hash.
pub fn key_id(hash: &ApiKeyHash) -> String {
    format!("k_{}", &hash.as_str()[..16])
}

impl KeyInfo {
    /// A new key's record.
    pub fn new(
        tenant: &TenantId,
        key: &ApiKey,
        name: String,
        scopes: BTreeSet<Scope>,
        now: Timestamp,
        expires_at: Option<Timestamp>,
    ) -> Self {
        Self {
            key_id: key_id(&key.hash()),
            tenant: Some(tenant.clone()),
            name,
            scopes,
            prefix: key.expose().chars().take(12).collect(),
            created_at: now,
            expires_at,
            revoked_at: None,
            last_used_at: None,
        }
    }

    /// A tenant's first key, made with the tenant: every scope.
    pub fn first(tenant: &TenantId, key: &ApiKey, now: Timestamp) -> Self {
        Self::new(
            tenant,
            key,
            "first key".into(),
            Scope::ALL.into(),
            now,
            None,
        )
    }

    /// A key stored before keys had scopes: it keeps every scope (the migration).
    pub fn legacy(tenant: &TenantId, hash: &ApiKeyHash, created_at: Timestamp) -> Self {
        Self {
            key_id: key_id(hash),
            tenant: Some(tenant.clone()),
            name: "first key".into(),
            scopes: Scope::ALL.into(),
            prefix: String::new(),
            created_at,
            expires_at: None,
            revoked_at: None,
            last_used_at: None,
        }
    }

    /// Neither revoked nor expired at `now`.
    pub fn usable(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

crate::wire_struct! {
    /// The body of `POST /v1/keys`.
    pub struct NewKey {
        /// What the key is for (`game backend`, `support console`).
        pub name: Title,
        /// One or more of `ingest`, `redeem`, `read`, `admin`.
        pub scopes: Vec<Scope>,
        /// After this moment the key is refused; default never.
        pub expires_at: Option<DateTime>,
    }
}

impl NewKey {
    /// Reads the body and checks what serde cannot: scopes not empty, expiry in the future.
    pub fn read(
        body: serde_json::Value,
        now: Timestamp,
    ) -> Result<(String, BTreeSet<Scope>, Option<Timestamp>), crate::ValidationErrors> {
        let k = Self::parse(body)?;
        let mut errs = crate::ValidationErrors::default();
        if k.scopes.is_empty() {
            errs.push(
                "scopes",
                "needs at least one of ingest, redeem, read, admin",
            );
        }
        let expires = k.expires_at.map(|d| d.0);
        if expires.is_some_and(|e| e <= now) {
            errs.push("expires_at", "must be in the future");
        }
        errs.into_result()?;
        Ok((
            k.name.as_str().to_owned(),
            k.scopes.into_iter().collect(),
            expires,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_need_the_scope_their_kind_of_work_needs() {
        let cases = [
            ("GET", "/v1/customers/{customer_id}", Scope::Read),
            ("GET", "/v1/analytics/overview", Scope::Read),
            ("GET", "/v1/keys", Scope::Admin),
            ("GET", "/v1/ingest-secrets", Scope::Admin),
            ("POST", "/v1/ingest-secrets", Scope::Admin),
            ("GET", "/v1/customers/{customer_id}/export", Scope::Admin),
            ("PUT", "/v1/customers/{customer_id}", Scope::Ingest),
            (
                "POST",
                "/v1/customers/{customer_id}/points/accruals",
                Scope::Ingest,
            ),
            ("POST", "/v1/surveys/{survey_id}/responses", Scope::Ingest),
            ("POST", "/v1/coupons/{code}/redemptions", Scope::Redeem),
            ("POST", "/v1/segments/preview", Scope::Read),
            ("PUT", "/v1/settings", Scope::Admin),
            ("DELETE", "/v1/customers/{customer_id}", Scope::Admin),
            ("POST", "/v1/campaigns/{campaign_id}/runs", Scope::Admin),
            (
                "POST",
                "/v1/customers/{customer_id}/points/adjustments",
                Scope::Admin,
            ),
            ("POST", "/v1/keys", Scope::Admin),
            ("POST", "/v1/something/new", Scope::Admin),
        ];
        for (m, r, want) in cases {
            assert_eq!(required_scope(m, r), want, "{m} {r}");
            assert_eq!(accepted_scopes(m, r), [want], "{m} {r}");
        }
        for r in [
            "/v1/coupons/{code}/void",
            "/v1/customers/{customer_id}/points/redemptions",
        ] {
            assert_eq!(accepted_scopes("POST", r), [Scope::Redeem, Scope::Admin]);
        }
    }

    #[test]
    fn a_key_stops_when_revoked_or_expired() {
        let t = TenantId::parse("t1").unwrap();
        let key = ApiKey::generate(&crate::tenant::OsRandom).unwrap();
        let now: Timestamp = "2027-01-01T00:00:00Z".parse().unwrap();
        let later: Timestamp = "2027-02-01T00:00:00Z".parse().unwrap();
        let mut k = KeyInfo::new(&t, &key, "x".into(), [Scope::Read].into(), now, Some(later));
        assert!(k.usable(now) && !k.usable(later));
        assert_eq!(k.prefix.len(), 12);
        assert!(key.expose().starts_with(&k.prefix));
        assert_eq!(k.key_id, key_id(&key.hash()));
        k.expires_at = None;
        k.revoked_at = Some(now);
        assert!(!k.usable(now));
        let (_, scopes, _) = NewKey::read(
            serde_json::json!({"name": "backend", "scopes": ["ingest", "read", "ingest"]}),
            now,
        )
        .unwrap();
        assert_eq!(scopes, [Scope::Ingest, Scope::Read].into());
        let e = NewKey::read(
            serde_json::json!({"name": "b", "scopes": [], "expires_at": "2026-01-01T00:00:00Z"}),
            now,
        )
        .unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["scopes", "expires_at"]);
        assert!(NewKey::read(serde_json::json!({"name": "b", "scopes": ["root"]}), now).is_err());
    }
}

/// The highest `api.rate_per_s` a tenant may set.
pub const MAX_RATE_PER_S: u32 = 100_000;

/// Settings section `api`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ApiSettings {
    /// Requests per second each API key may make (per running instance: a burst of one
    /// second's worth, refilled continuously); 0, the default, is no limit.
    #[schema(minimum = 0, maximum = 100_000)]
    pub rate_per_s: u32,
}

/// A token bucket: `rate` requests a second, up to `rate` at once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    tokens: f64,
    at: Timestamp,
}

impl Bucket {
    pub fn full(rate: u32, now: Timestamp) -> Self {
        Self {
            tokens: f64::from(rate),
            at: now,
        }
    }

    /// Takes one request's token, or says how long until one is there.
    pub fn take(&mut self, rate: u32, now: Timestamp) -> Result<(), jiff::SignedDuration> {
        let rate_f = f64::from(rate.max(1));
        let elapsed = (now - self.at)
            .total(jiff::Unit::Second)
            .unwrap_or(0.0)
            .max(0.0);
        self.tokens = (self.tokens + elapsed * rate_f).min(rate_f);
        self.at = self.at.max(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - self.tokens) / rate_f;
            Err(jiff::SignedDuration::from_secs_f64(wait))
        }
    }
}

#[cfg(test)]
mod bucket_tests {
    use super::*;

    #[test]
    fn a_bucket_allows_a_seconds_burst_then_refills_at_the_rate() {
        let t0: Timestamp = "2027-01-01T00:00:00Z".parse().unwrap();
        let mut b = Bucket::full(5, t0);
        for _ in 0..5 {
            assert!(b.take(5, t0).is_ok());
        }
        let wait = b.take(5, t0).unwrap_err();
        assert_eq!(wait, jiff::SignedDuration::from_millis(200));
        let later = t0 + jiff::SignedDuration::from_millis(200);
        assert!(b.take(5, later).is_ok(), "one token back after 1/rate s");
        assert!(b.take(5, later).is_err());
        let much_later = t0 + jiff::SignedDuration::from_secs(60);
        for _ in 0..5 {
            assert!(b.take(5, much_later).is_ok());
        }
        assert!(
            b.take(5, much_later).is_err(),
            "never more than a second's burst"
        );
    }
}
