//! Schema migrations, tracked in `PRAGMA user_version`.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 1: tenants, keys, customers, identities.
    "CREATE TABLE tenants (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        settings TEXT,
        settings_version INTEGER NOT NULL DEFAULT 0
     ) WITHOUT ROWID;
     CREATE TABLE api_keys (
        key_hash TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        created_at TEXT NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE customers (
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        customer_id TEXT NOT NULL,
        profile TEXT NOT NULL,
        birthday_md TEXT,
        last_active_day TEXT NOT NULL,
        PRIMARY KEY (tenant_id, customer_id)
     ) WITHOUT ROWID;
     CREATE INDEX customers_by_birthday ON customers (tenant_id, birthday_md) WHERE birthday_md IS NOT NULL;
     CREATE INDEX customers_by_last_active ON customers (tenant_id, last_active_day);
     CREATE TABLE identities (
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        platform TEXT NOT NULL,
        external_id TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        PRIMARY KEY (tenant_id, platform, external_id)
     ) WITHOUT ROWID;
     CREATE INDEX identities_by_customer ON identities (tenant_id, customer_id);",
    // 2: points accounts (on the customer row), ledger with postings, coupons.
    "ALTER TABLE customers ADD COLUMN account TEXT;
     ALTER TABLE customers ADD COLUMN account_rev INTEGER NOT NULL DEFAULT 0;
     CREATE TABLE ledger (
        tenant_id TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        key TEXT NOT NULL,
        seq INTEGER NOT NULL,
        entry TEXT NOT NULL,
        fingerprint TEXT,
        result TEXT,
        PRIMARY KEY (tenant_id, customer_id, key)
     ) WITHOUT ROWID;
     CREATE UNIQUE INDEX ledger_by_seq ON ledger (tenant_id, customer_id, seq);
     CREATE TABLE coupons (
        tenant_id TEXT NOT NULL,
        code TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        coupon TEXT NOT NULL,
        PRIMARY KEY (tenant_id, code)
     ) WITHOUT ROWID;
     CREATE INDEX coupons_by_customer ON coupons (tenant_id, customer_id);",
    // 3: campaigns: contact state on the customer row, messages (send markers + log).
    "ALTER TABLE customers ADD COLUMN contact TEXT;
     CREATE TABLE messages (
        tenant_id TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        key TEXT NOT NULL,
        message TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, customer_id, key)
     ) WITHOUT ROWID;",
    // 4: surveys: responses, per-day counters, follow-ups.
    "CREATE TABLE survey_responses (
        tenant_id TEXT NOT NULL,
        survey_id TEXT NOT NULL,
        response_id TEXT NOT NULL,
        customer_id TEXT,
        response TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        PRIMARY KEY (tenant_id, survey_id, response_id)
     ) WITHOUT ROWID;
     CREATE INDEX survey_responses_by_customer ON survey_responses (tenant_id, customer_id)
        WHERE customer_id IS NOT NULL;
     CREATE TABLE survey_counters (
        tenant_id TEXT NOT NULL,
        survey_id TEXT NOT NULL,
        day TEXT NOT NULL,
        key TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, survey_id, day, key)
     ) WITHOUT ROWID;
     CREATE TABLE followups (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        status TEXT NOT NULL,
        customer_id TEXT,
        followup TEXT NOT NULL,
        PRIMARY KEY (tenant_id, id)
     ) WITHOUT ROWID;
     CREATE INDEX followups_by_status ON followups (tenant_id, status, id);
     CREATE INDEX followups_by_customer ON followups (tenant_id, customer_id)
        WHERE customer_id IS NOT NULL;",
    // 5: the win-back backlog: where the day pass stands, customers marked by late activity.
    "CREATE TABLE winback_backlog (
        tenant_id TEXT PRIMARY KEY,
        pass TEXT NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE winback_late (
        tenant_id TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        day TEXT NOT NULL,
        PRIMARY KEY (tenant_id, customer_id)
     ) WITHOUT ROWID;",
    // 6: behaviour events, newest first per customer, purged after their retention.
    "CREATE TABLE events (
        tenant_id TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        sort_key TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        event TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        PRIMARY KEY (tenant_id, customer_id, event_id)
     ) WITHOUT ROWID;
     CREATE INDEX events_by_time ON events (tenant_id, customer_id, sort_key);
     CREATE INDEX events_by_expiry ON events (expires_at);",
    // 7: customer search: the tenant's lookup key and the index of lookup tokens.
    "ALTER TABLE tenants ADD COLUMN lookup_key TEXT;
     CREATE TABLE lookups (
        tenant_id TEXT NOT NULL,
        token TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        PRIMARY KEY (tenant_id, token, customer_id)
     ) WITHOUT ROWID;
     CREATE INDEX lookups_by_customer ON lookups (tenant_id, customer_id);",
    // 8: analytics: counters per tenant-local day (`day` = 'total' for all-time), the labels
    // of their rows, the daily snapshots, and each customer's stage as the last one found it.
    "ALTER TABLE customers ADD COLUMN stage TEXT;
     CREATE TABLE analytics_counters (
        tenant_id TEXT NOT NULL,
        scope TEXT NOT NULL,
        day TEXT NOT NULL,
        dim TEXT NOT NULL,
        key TEXT NOT NULL,
        value INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, scope, day, dim, key)
     ) WITHOUT ROWID;
     CREATE TABLE analytics_labels (
        tenant_id TEXT NOT NULL,
        scope TEXT NOT NULL,
        day TEXT NOT NULL,
        dim TEXT NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (tenant_id, scope, day, dim, name)
     ) WITHOUT ROWID;
     CREATE TABLE analytics_snapshots (
        tenant_id TEXT NOT NULL,
        day TEXT NOT NULL,
        snapshot TEXT NOT NULL,
        PRIMARY KEY (tenant_id, day)
     ) WITHOUT ROWID;",
    // 9: the tier and RFM segment the last snapshot found, beside its stage (their lookup
    // tokens are in `lookups`).
    "ALTER TABLE customers ADD COLUMN tier_segment TEXT;
     ALTER TABLE customers ADD COLUMN rfm_segment TEXT;",
    // 10: saved segments (issue 13).
    "CREATE TABLE segments (
        tenant_id TEXT NOT NULL,
        segment_id TEXT NOT NULL,
        segment TEXT NOT NULL,
        PRIMARY KEY (tenant_id, segment_id)
     ) WITHOUT ROWID;",
    // 11: the tenant's documents by collection (saved segments, campaign definitions).
    "CREATE TABLE documents (
        tenant_id TEXT NOT NULL,
        collection TEXT NOT NULL,
        id TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (tenant_id, collection, id)
     ) WITHOUT ROWID;
     INSERT INTO documents (tenant_id, collection, id, doc)
        SELECT tenant_id, 'segments', segment_id, segment FROM segments;
     DROP TABLE segments;",
    // 12: the outbox of campaign trigger records (issue 13), written in the transaction of
    // the event that caused them, deleted once handled.
    "CREATE TABLE trigger_outbox (
        tenant_id TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        id TEXT NOT NULL,
        record TEXT NOT NULL,
        not_before INTEGER NOT NULL,
        leased_until INTEGER NOT NULL DEFAULT 0,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, customer_id, id)
     ) WITHOUT ROWID;
     CREATE INDEX trigger_outbox_due ON trigger_outbox (not_before);
     CREATE TABLE parked_triggers (
        tenant_id TEXT NOT NULL,
        not_before INTEGER NOT NULL,
        customer_id TEXT NOT NULL,
        id TEXT NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (tenant_id, not_before, customer_id, id)
     ) WITHOUT ROWID;",
    // 13: who holds points of which lot month (the points-expiring reminders' index; accounts
    // written before join it on their next write).
    "CREATE TABLE lot_index (
        tenant_id TEXT NOT NULL,
        month TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        PRIMARY KEY (tenant_id, month, customer_id)
     ) WITHOUT ROWID;",
    // 14: the campaign reports' counters, per campaign, UTC day and field.
    "CREATE TABLE campaign_tallies (
        tenant_id TEXT NOT NULL,
        campaign TEXT NOT NULL,
        day TEXT NOT NULL,
        field TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, campaign, day, field)
     ) WITHOUT ROWID;",
    // 15: scoped keys — each key's record (name, scopes, prefix, expiry, revocation, last use)
    // as JSON; a key from before has none and keeps every scope.
    "ALTER TABLE api_keys ADD COLUMN info TEXT;
     CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);",
    // 16: the tenant's ingest secrets (JSON), that queue messages are signed with.
    "ALTER TABLE tenants ADD COLUMN ingest_secrets TEXT;",
    // 17: catalogue rewards' stock — redemptions counted per reward.
    "CREATE TABLE reward_stock (
        tenant_id TEXT NOT NULL,
        reward_id TEXT NOT NULL,
        redeemed INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, reward_id)
     ) WITHOUT ROWID;",
    // 18: the suppression list (keyed address hashes, never addresses) and the provider's news
    // on each message.
    "CREATE TABLE suppressions (
        tenant_id TEXT NOT NULL,
        address_hash TEXT NOT NULL,
        suppressed INTEGER NOT NULL,
        state TEXT NOT NULL,
        PRIMARY KEY (tenant_id, address_hash)
     ) WITHOUT ROWID;
     ALTER TABLE messages ADD COLUMN delivery TEXT;",
    // 19: the contact log (what staff and the customer said), newest first by sort key.
    "CREATE TABLE contacts (
        tenant_id TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        contact_id TEXT NOT NULL,
        sort_key TEXT NOT NULL,
        contact TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        PRIMARY KEY (tenant_id, customer_id, contact_id)
     ) WITHOUT ROWID;
     CREATE INDEX contacts_by_time ON contacts (tenant_id, customer_id, sort_key);",
    // 20: staff of the console, their sessions (by the token's hash), the audit log.
    "CREATE TABLE staff (
        staff_id TEXT PRIMARY KEY,
        login TEXT NOT NULL UNIQUE,
        tenant_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        account TEXT NOT NULL
     );
     CREATE INDEX staff_by_tenant ON staff (tenant_id, staff_id);
     CREATE TABLE staff_sessions (
        id_hash TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL,
        session TEXT NOT NULL
     ) WITHOUT ROWID;
     CREATE INDEX staff_sessions_by_expiry ON staff_sessions (expires_at);
     CREATE TABLE audit (
        tenant_id TEXT NOT NULL,
        audit_id TEXT NOT NULL,
        sort_key TEXT NOT NULL,
        customer_id TEXT,
        entry TEXT NOT NULL,
        PRIMARY KEY (tenant_id, audit_id)
     ) WITHOUT ROWID;
     CREATE INDEX audit_by_time ON audit (tenant_id, sort_key);
     CREATE INDEX audit_by_customer ON audit (tenant_id, customer_id, sort_key);",
    // 21: cases (the complaint and feedback queue), listed by `list_key` (active ones by due
    // time, resolved ones by when) and by customer.
    "CREATE TABLE cases (
        tenant_id TEXT NOT NULL,
        case_id TEXT NOT NULL,
        customer_id TEXT,
        list_key TEXT NOT NULL,
        version INTEGER NOT NULL,
        fingerprint TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (tenant_id, case_id)
     ) WITHOUT ROWID;
     CREATE INDEX cases_by_list ON cases (tenant_id, list_key);
     CREATE INDEX cases_by_customer ON cases (tenant_id, customer_id, case_id);",
];

pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (version, sql) in (1i64..).zip(MIGRATIONS) {
        if version > current {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version)?;
        }
    }
    tx.commit()
}
