//! The points part of the SQLite store: the account lives on the customer row (with its own
//! revision), ledger entries carry the posting of the request that made them, coupons have
//! their own table.

use async_trait::async_trait;
use fanloop_domain::campaigns::tally::coupon_used;
use fanloop_domain::points::{Coupon, CouponCode, CouponRedemption, CouponVoid, LedgerEntry};
use fanloop_domain::ports::{
    AccountChange, AccountFn, AccountRecord, PointsStore, Posting, StoreError, UpdateError,
};
use fanloop_domain::profile::Profile;
use fanloop_domain::{CustomerId, ExternalId, TenantId};
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use crate::{SqliteStore, begin, corrupt, db_err, load_profile};

pub(crate) fn json<T: serde::Serialize>(what: &str, v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| corrupt(what, e))
}

fn posting(conn: &Connection, t: &str, c: &str, key: &str) -> Result<Option<Posting>, StoreError> {
    let row: Option<(Option<String>, Option<String>)> = conn.prepare_cached("SELECT fingerprint, result FROM ledger WHERE tenant_id = ?1 AND customer_id = ?2 AND key = ?3").map_err(db_err)?.query_row(params![t, c, key],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db_err)?;
    match row {
        None => Ok(None),
        Some((f, r)) => Ok(Some(Posting {
            key: key.to_owned(),
            fingerprint: f.unwrap_or_default(),
            result: match r {
                Some(r) => serde_json::from_str(&r).map_err(|e| corrupt("posting", e))?,
                None => serde_json::Value::Null,
            },
        })),
    }
}

fn load_coupon(conn: &Connection, t: &str, code: &str) -> Result<Option<Coupon>, StoreError> {
    let doc: Option<String> = conn
        .prepare_cached("SELECT coupon FROM coupons WHERE tenant_id = ?1 AND code = ?2")
        .map_err(db_err)?
        .query_row(params![t, code], |r| r.get(0))
        .optional()
        .map_err(db_err)?;
    doc.map(|d| serde_json::from_str(&d).map_err(|e| corrupt("coupon", e)))
        .transpose()
}

pub(crate) fn load_account(
    conn: &Connection,
    t: &str,
    c: &str,
) -> Result<Option<AccountRecord>, StoreError> {
    let row: Option<(Option<String>, i64, Option<String>)> = conn
        .prepare_cached(
            "SELECT account, account_rev, json_extract(profile, '$.last_active_at') FROM customers
             WHERE tenant_id = ?1 AND customer_id = ?2",
        )
        .map_err(db_err)?
        .query_row(params![t, c], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
        .map_err(db_err)?;
    row.map(|(doc, rev, active)| {
        let active = active
            .map(|a| fanloop_domain::time::parse(&a).map_err(|e| corrupt("last_active_at", e)))
            .transpose()?;
        account_record(doc, rev, active)
    })
    .transpose()
}

/// The account stored on a customer row (none yet: an empty account).
fn account_record(
    doc: Option<String>,
    rev: i64,
    last_active_at: Option<jiff::Timestamp>,
) -> Result<AccountRecord, StoreError> {
    let account = match doc {
        Some(d) => serde_json::from_str(&d).map_err(|e| corrupt("account", e))?,
        None => Default::default(),
    };
    Ok(AccountRecord {
        account,
        rev: u64::try_from(rev).map_err(|e| corrupt("account rev", e))?,
        last_active_at,
    })
}

/// The account with the profile beside it on the same row, for a change that may also move
/// the last activity.
fn load_account_and_profile(
    conn: &Connection,
    t: &str,
    c: &str,
) -> Result<Option<(AccountRecord, Profile)>, StoreError> {
    let row: Option<(Option<String>, i64, String)> = conn
        .prepare_cached(
            "SELECT account, account_rev, profile FROM customers
             WHERE tenant_id = ?1 AND customer_id = ?2",
        )
        .map_err(db_err)?
        .query_row(params![t, c], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
        .map_err(db_err)?;
    row.map(|(doc, rev, profile)| {
        let profile: Profile = serde_json::from_str(&profile).map_err(|e| corrupt("profile", e))?;
        let record = account_record(doc, rev, profile.last_active_at)?;
        Ok((record, profile))
    })
    .transpose()
}

/// Writes the account (and the profile an activity moved) in one row update; the last-active
/// index is written only when its day changed.
fn save_account(
    conn: &Connection,
    t: &str,
    c: &str,
    account: &str,
    touched: Option<&crate::backlog::Touched>,
) -> Result<(), StoreError> {
    macro_rules! update {
        ($($set:literal)?) => {
            concat!(
                "UPDATE customers SET account = ?3, account_rev = account_rev + 1",
                $($set,)?
                " WHERE tenant_id = ?1 AND customer_id = ?2"
            )
        };
    }
    match touched {
        None => conn
            .prepare_cached(update!())
            .map_err(db_err)?
            .execute(params![t, c, account]),
        Some(crate::backlog::Touched { profile, day: None }) => conn
            .prepare_cached(update!(", profile = ?4"))
            .map_err(db_err)?
            .execute(params![t, c, account, profile]),
        Some(crate::backlog::Touched {
            profile,
            day: Some(day),
        }) => conn
            .prepare_cached(update!(", profile = ?4, last_active_day = ?5"))
            .map_err(db_err)?
            .execute(params![t, c, account, profile, day]),
    }
    .map_err(db_err)?;
    Ok(())
}

/// Moves a customer's ledger under `anon`, each entry anonymised ([`LedgerEntry::anonymised`]),
/// without the stored answers (they may name the customer; an erased ledger needs no replays).
pub(crate) fn anonymise_ledger(
    tx: &Connection,
    tenant: &str,
    customer: &str,
    anon: &str,
) -> Result<(), StoreError> {
    let entries: Vec<(String, String)> = {
        let mut stmt = tx
            .prepare("SELECT key, entry FROM ledger WHERE tenant_id = ?1 AND customer_id = ?2")
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![tenant, customer], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(db_err)?;
        rows.collect::<Result<_, _>>().map_err(db_err)?
    };
    let mut update = tx
        .prepare(
            "UPDATE ledger SET customer_id = ?4, entry = ?5, fingerprint = NULL, result = NULL
             WHERE tenant_id = ?1 AND customer_id = ?2 AND key = ?3",
        )
        .map_err(db_err)?;
    for (key, entry) in entries {
        let e: LedgerEntry =
            serde_json::from_str(&entry).map_err(|e| corrupt("ledger entry", e))?;
        let e = serde_json::to_string(&e.anonymised()).map_err(|e| corrupt("ledger entry", e))?;
        update
            .execute(params![tenant, customer, key, anon, e])
            .map_err(db_err)?;
    }
    Ok(())
}

#[async_trait]
impl PointsStore for SqliteStore {
    async fn account(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Option<AccountRecord>, StoreError> {
        let (t, c) = (tenant.to_string(), customer.to_string());
        self.read(move |conn| load_account(conn, &t, &c)).await
    }

    async fn profile_and_account(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Option<(Profile, AccountRecord)>, StoreError> {
        let (t, c) = (tenant.to_string(), customer.to_string());
        self.read(move |conn| {
            let tx = conn.transaction().map_err(db_err)?;
            match (load_profile(&tx, &t, &c)?, load_account(&tx, &t, &c)?) {
                (Some(p), Some(a)) => Ok(Some((p, a))),
                _ => Ok(None),
            }
        })
        .await
    }

    async fn update_account(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        posting_key: &str,
        change: AccountFn,
    ) -> Result<AccountChange, UpdateError> {
        let (t, c, key) = (
            tenant.to_string(),
            customer.to_string(),
            posting_key.to_owned(),
        );
        self.write(move |conn| {
            // One IMMEDIATE transaction: nobody else writes between the read and the write.
            let tx = begin(conn)?;
            if let Some(existing) = posting(&tx, &t, &c, &key)? {
                return Err(UpdateError::Duplicate(existing));
            }
            let Some((record, profile)) = load_account_and_profile(&tx, &t, &c)? else {
                return Err(UpdateError::NotFound);
            };
            let ch = change(&record)?;
            if let Some(claim) = &ch.stock {
                crate::rewards::take(&tx, &t, claim)?;
            }
            let touched = match ch.active_at {
                Some(activity) => crate::backlog::advance(&tx, &t, profile, activity)?,
                None => None,
            };
            save_account(&tx, &t, &c, &json("account", &ch.account)?, touched.as_ref())?;
            crate::lots::sync(&tx, &t, &c, &record.account.lot_months(), &ch.account.lot_months())?;
            for e in &ch.entries {
                let (fingerprint, result) = if e.key == ch.posting.key {
                    (Some(ch.posting.fingerprint.clone()), Some(json("posting", &ch.posting.result)?))
                } else {
                    (None, None)
                };
                let seq = i64::try_from(e.seq).map_err(|e| corrupt("ledger seq", e))?;
                tx.prepare_cached("INSERT INTO ledger (tenant_id, customer_id, key, seq, entry, fingerprint, result)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)").map_err(db_err)?.execute(params![t, c, e.key, seq, json("ledger entry", e)?, fingerprint, result],
                )
                .map_err(db_err)?;
            }
            crate::analytics::add(&tx, &t, &c, &ch.counters)?;
            for trigger in &ch.triggers {
                crate::triggers::put(&tx, &t, trigger)?;
            }
            if let Some(coupon) = &ch.coupon {
                tx.prepare_cached("INSERT INTO coupons (tenant_id, code, customer_id, coupon) VALUES (?1, ?2, ?3, ?4)").map_err(db_err)?.execute(params![t, coupon.code.as_str(), c, json("coupon", coupon)?],
                )
                .map_err(db_err)?;
            }
            tx.commit().map_err(db_err)?;
            Ok(ch)
        })
        .await
    }

    async fn ledger_entry(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        key: &str,
    ) -> Result<Option<LedgerEntry>, StoreError> {
        let (t, c, k) = (tenant.to_string(), customer.to_string(), key.to_owned());
        self.read(move |conn| {
            let entry: Option<String> = conn
                .query_row(
                    "SELECT entry FROM ledger WHERE tenant_id = ?1 AND customer_id = ?2 AND key = ?3",
                    params![t, c, k],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db_err)?;
            entry
                .map(|d| serde_json::from_str(&d).map_err(|e| corrupt("ledger entry", e)))
                .transpose()
        })
        .await
    }

    async fn ledger(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<LedgerEntry>, StoreError> {
        let (t, c) = (tenant.to_string(), customer.to_string());
        let before = before.map_or(i64::MAX, |b| i64::try_from(b).unwrap_or(i64::MAX));
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT entry FROM ledger WHERE tenant_id = ?1 AND customer_id = ?2 AND seq < ?3
                     ORDER BY seq DESC LIMIT ?4",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map(params![t, c, before, limit], |r| r.get::<_, String>(0))
                .map_err(db_err)?;
            rows.map(|r| {
                r.map_err(db_err)
                    .and_then(|d| serde_json::from_str(&d).map_err(|e| corrupt("ledger entry", e)))
            })
            .collect()
        })
        .await
    }

    async fn coupon(
        &self,
        tenant: &TenantId,
        code: &CouponCode,
    ) -> Result<Option<Coupon>, StoreError> {
        let (t, code) = (tenant.to_string(), code.to_string());
        self.read(move |conn| load_coupon(conn, &t, &code)).await
    }

    async fn redeem_coupon(
        &self,
        tenant: &TenantId,
        code: &CouponCode,
        customer: &CustomerId,
        order: &ExternalId,
        amount_minor: Option<u64>,
        now: Timestamp,
    ) -> Result<CouponRedemption, StoreError> {
        let (t, code, customer, order) = (
            tenant.to_string(),
            code.to_string(),
            customer.clone(),
            order.clone(),
        );
        self.write(move |conn| {
            let tx = begin(conn)?;
            let Some(coupon) = load_coupon(&tx, &t, &code)? else {
                return Ok(CouponRedemption::NotFound);
            };
            let outcome = coupon.redeem(&customer, &order, amount_minor, now);
            if let CouponRedemption::Redeemed(used) = &outcome {
                tx.prepare_cached(
                    "UPDATE coupons SET coupon = ?1 WHERE tenant_id = ?2 AND code = ?3",
                )
                .map_err(db_err)?
                .execute(params![json("coupon", used)?, t, code])
                .map_err(db_err)?;
                crate::tallies::apply(&tx, &t, &coupon_used(used, amount_minor))?;
                tx.commit().map_err(db_err)?;
            }
            Ok(outcome)
        })
        .await
    }

    async fn void_coupon(
        &self,
        tenant: &TenantId,
        code: &CouponCode,
        now: Timestamp,
    ) -> Result<CouponVoid, StoreError> {
        let (t, code) = (tenant.to_string(), code.to_string());
        self.write(move |conn| {
            let tx = begin(conn)?;
            let Some(coupon) = load_coupon(&tx, &t, &code)? else {
                return Ok(CouponVoid::NotFound);
            };
            let outcome = coupon.void(now);
            if let CouponVoid::Voided(c) = &outcome {
                tx.prepare_cached(
                    "UPDATE coupons SET coupon = ?1 WHERE tenant_id = ?2 AND code = ?3",
                )
                .map_err(db_err)?
                .execute(params![json("coupon", c)?, t, code])
                .map_err(db_err)?;
                tx.commit().map_err(db_err)?;
            }
            Ok(outcome)
        })
        .await
    }

    async fn customer_coupons(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Vec<Coupon>, StoreError> {
        let (t, c) = (tenant.to_string(), customer.to_string());
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT coupon FROM coupons WHERE tenant_id = ?1 AND customer_id = ?2",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map(params![t, c], |r| r.get::<_, String>(0))
                .map_err(db_err)?;
            let mut out = rows
                .map(|r| {
                    let d = r.map_err(db_err)?;
                    serde_json::from_str::<Coupon>(&d).map_err(|e| corrupt("coupon", e))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Coupon::newest_first(&mut out);
            Ok(out)
        })
        .await
    }
}

impl SqliteStore {
    /// The ledger kept under an erased customer's anonymous id, oldest first (for audits/tests).
    pub async fn anonymous_ledger(
        &self,
        tenant: &TenantId,
        anonymous: &str,
    ) -> Result<Vec<LedgerEntry>, StoreError> {
        let (t, a) = (tenant.to_string(), anonymous.to_owned());
        self.read(move |conn| {
            let mut stmt = conn
                .prepare("SELECT entry FROM ledger WHERE tenant_id = ?1 AND customer_id = ?2 ORDER BY seq")
                .map_err(db_err)?;
            let rows = stmt.query_map(params![t, a], |r| r.get::<_, String>(0)).map_err(db_err)?;
            rows.map(|r| r.map_err(db_err).and_then(|d| serde_json::from_str(&d).map_err(|e| corrupt("ledger entry", e))))
                .collect()
        })
        .await
    }
}
