//! Staff accounts, sessions and the audit log through the store port, on SQLite and DynamoDB:
//! a login address is taken once (whatever its case), concurrent account updates from one
//! version let exactly one through, sessions are kept and ended, an audit entry is written
//! once under 20 concurrent retries, the log reads newest first in pages, and a customer's
//! entries are in their export and blanked by their erasure.

use std::sync::Arc;

use fanloop_domain::ports::Store;
use fanloop_domain::staff::{
    AuditAction, AuditEntry, Role, Session, StaffAccount, Token, login_key, token_hash,
};
use fanloop_domain::tenant::OsRandom;
use fanloop_domain::values::Email;
use fanloop_domain::{CustomerId, TenantId};
use fanloop_tests::{Backend, both_stores, ts};
use serde_json::json;

both_stores!(
    a_login_address_is_taken_once,
    concurrent_updates_from_one_version_let_one_through,
    sessions_are_kept_and_ended,
    an_audit_entry_is_written_once_under_concurrent_retries,
    the_audit_log_reads_newest_first_in_pages,
    a_customers_audit_is_exported_and_blanked_by_erasure,
);

const NOW: &str = "2026-06-01T12:00:00Z";

fn invite(t: &TenantId, email: &str, role: Role) -> StaffAccount {
    let token = Token::generate(&OsRandom).unwrap();
    let id = fanloop_domain::campaigns::new_message_id(ts(NOW), &OsRandom).unwrap();
    StaffAccount::invite(
        id,
        Email::parse(email).unwrap(),
        t.clone(),
        role,
        &token,
        ts(NOW),
    )
}

async fn tenant(b: &Backend) -> (Arc<dyn Store>, TenantId) {
    let (t, _) = b.tenant().await;
    (b.store(), t)
}

async fn a_login_address_is_taken_once(b: Backend) {
    let (store, t) = tenant(&b).await;
    let email = format!("Mei.{t}@Example.com");
    let mei = invite(&t, &email, Role::Agent);
    assert!(store.create_staff(&mei).await.unwrap());
    let again = invite(&t, &email.to_uppercase(), Role::Admin);
    assert!(
        !store.create_staff(&again).await.unwrap(),
        "same address, other case"
    );
    assert!(
        store.staff(&again.staff_id).await.unwrap().is_none(),
        "nothing written"
    );
    let viewer = invite(&t, &format!("lin.{t}@example.com"), Role::Viewer);
    assert!(store.create_staff(&viewer).await.unwrap());

    let found = store
        .staff_by_login(&login_key(&mei.email))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.staff_id.as_str(), found.role),
        (mei.staff_id.as_str(), Role::Agent)
    );
    assert_eq!(
        store.staff(&mei.staff_id).await.unwrap().unwrap().email,
        mei.email
    );
    assert!(
        store
            .staff_by_login("nobody@example.com")
            .await
            .unwrap()
            .is_none()
    );
    let mut ids: Vec<_> = store
        .staff_of(&t)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.staff_id)
        .collect();
    let mut expected = vec![mei.staff_id.clone(), viewer.staff_id.clone()];
    ids.sort();
    expected.sort();
    assert_eq!(ids, expected);
    let (other, _) = b.tenant().await;
    assert!(store.staff_of(&other).await.unwrap().is_empty());
}

async fn concurrent_updates_from_one_version_let_one_through(b: Backend) {
    let (store, t) = tenant(&b).await;
    let a = invite(&t, &format!("kai.{t}@example.com"), Role::Agent);
    store.create_staff(&a).await.unwrap();
    let stored = store.staff(&a.staff_id).await.unwrap().unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (store, mut a) = (store.clone(), stored.clone());
            tokio::spawn(async move {
                a.failed_logins = i + 1;
                store.replace_staff(&a).await.unwrap()
            })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        won += usize::from(task.await.unwrap());
    }
    assert_eq!(won, 1, "one update per version");
    let after = store.staff(&a.staff_id).await.unwrap().unwrap();
    assert_eq!(after.version, stored.version + 1);
    assert!(after.failed_logins >= 1);
    // The next update goes from the new version.
    let mut next = after.clone();
    next.end_sessions();
    assert!(store.replace_staff(&next).await.unwrap());
    assert!(
        !store.replace_staff(&after).await.unwrap(),
        "a stale version is refused"
    );
    assert_eq!(store.staff(&a.staff_id).await.unwrap().unwrap().epoch, 1);
}

async fn sessions_are_kept_and_ended(b: Backend) {
    let (store, t) = tenant(&b).await;
    let token = Token::generate(&OsRandom).unwrap();
    let s = Session {
        id_hash: token_hash(&token),
        staff_id: "s1".into(),
        tenant: t.clone(),
        epoch: 0,
        csrf: Token::generate(&OsRandom).unwrap().as_str().to_owned(),
        created_at: ts(NOW),
        last_seen: ts(NOW),
    };
    store.put_session(&s).await.unwrap();
    assert_eq!(store.session(&s.id_hash).await.unwrap().as_ref(), Some(&s));
    let mut touched = s.clone();
    touched.last_seen = ts("2026-06-01T12:05:00Z");
    store.put_session(&touched).await.unwrap();
    assert_eq!(store.session(&s.id_hash).await.unwrap(), Some(touched));
    store.delete_session(&s.id_hash).await.unwrap();
    assert!(store.session(&s.id_hash).await.unwrap().is_none());
    assert!(
        store.session(token.as_str()).await.unwrap().is_none(),
        "kept by hash only"
    );
}

fn entry(id: &str, at: &str, customer: Option<&CustomerId>) -> AuditEntry {
    let e = AuditEntry::new(id.into(), ts(at), "s1", AuditAction::ProfileEdited);
    match customer {
        Some(c) => e.about(c),
        None => e,
    }
}

async fn an_audit_entry_is_written_once_under_concurrent_retries(b: Backend) {
    let (store, t) = tenant(&b).await;
    let c = CustomerId::parse("audited").unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (store, t, c) = (store.clone(), t.clone(), c.clone());
            tokio::spawn(async move {
                // A retry comes a moment later: its time differs, its id does not.
                let at = format!("2026-06-01T12:00:{i:02}Z");
                store
                    .record_audit(&t, &entry("form-1", &at, Some(&c)))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut written = 0;
    for task in tasks {
        written += usize::from(task.await.unwrap());
    }
    assert_eq!(written, 1);
    assert_eq!(store.audit_log(&t, None, 50).await.unwrap().len(), 1);
    assert_eq!(store.customer_audit(&t, &c, 50).await.unwrap().len(), 1);
}

async fn the_audit_log_reads_newest_first_in_pages(b: Backend) {
    let (store, t) = tenant(&b).await;
    for i in 0..7 {
        let at = format!("2026-06-01T12:{i:02}:00Z");
        store
            .record_audit(&t, &entry(&format!("e{i}"), &at, None))
            .await
            .unwrap();
    }
    let whole: Vec<_> = store.audit_log(&t, None, 50).await.unwrap();
    let ids: Vec<_> = whole.iter().map(|e| e.audit_id.as_str()).collect();
    assert_eq!(ids, ["e6", "e5", "e4", "e3", "e2", "e1", "e0"]);
    let mut paged = Vec::new();
    let mut before = None;
    loop {
        let page = store.audit_log(&t, before.as_deref(), 3).await.unwrap();
        if page.is_empty() {
            break;
        }
        before = page.last().map(AuditEntry::sort_key);
        paged.extend(page);
    }
    assert_eq!(paged, whole);
}

async fn a_customers_audit_is_exported_and_blanked_by_erasure(b: Backend) {
    let (store, t) = tenant(&b).await;
    let c = CustomerId::parse("erase-my-audit").unwrap();
    let p = fanloop_domain::ProfilePatch::from_json(
        json!({"phone": "+8613800138000"}),
        jiff::civil::date(2026, 1, 1),
    )
    .unwrap();
    store.upsert_profile(&t, &c, &p, ts(NOW)).await.unwrap();
    let edit = entry("edit-1", NOW, Some(&c))
        .change(
            json!({"phone": "+8613800138000"}),
            json!({"phone": "+8613900139000"}),
        )
        .detail("customer asked by phone");
    store.record_audit(&t, &edit).await.unwrap();
    store
        .record_audit(&t, &entry("other", NOW, None))
        .await
        .unwrap();
    let export = store.export_customer(&t, &c).await.unwrap().unwrap();
    assert_eq!(export.audit, vec![edit.clone()]);

    store
        .erase_customer(&t, &c, "~erased-audit")
        .await
        .unwrap()
        .unwrap();
    let dump = b.dump(&t).await.join("\n");
    assert!(!dump.contains("13900139000"), "the after value is gone");
    assert!(!dump.contains("13800138000"), "the before value is gone");
    assert!(!dump.contains("asked by phone"));
    let log = store.audit_log(&t, None, 10).await.unwrap();
    let kept = log.iter().find(|e| e.audit_id == "edit-1").unwrap();
    assert_eq!(kept, &edit.redacted(), "who did what when stays");
    assert!(store.customer_audit(&t, &c, 10).await.unwrap().is_empty());
}
