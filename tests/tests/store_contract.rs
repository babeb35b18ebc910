//! The store contract: every behaviour of the store port, run against SQLite and DynamoDB.

use fanloop_domain::ports::{CreateTenantError, StoreError, UpsertError};
use fanloop_domain::profile::{Identity, ProfilePatch};
use fanloop_domain::tenant::{ApiKey, OsRandom, Tenant};
use fanloop_domain::{CustomerId, ExternalId, Platform, TenantId};
use fanloop_tests::{Backend, active, both_stores, ts};
use serde_json::{Value, json};

both_stores!(
    tenants_and_api_keys,
    settings_are_versioned,
    upsert_creates_then_merges,
    every_field_round_trips,
    unknown_customer_is_none,
    identities_resolve_and_belong_to_one_customer,
    identities_unlink,
    too_many_identities_are_refused,
    activity_moves_forward_only,
    export_holds_everything_stored,
    erasure_leaves_no_personal_data,
    tenants_never_mix,
    concurrent_creates_make_one_customer,
    concurrent_identity_claims_have_one_winner,
);

fn patch(v: Value) -> ProfilePatch {
    ProfilePatch::from_json(v, jiff::civil::date(2026, 11, 22)).unwrap()
}

fn cid(s: &str) -> CustomerId {
    CustomerId::parse(s).unwrap()
}

fn ident(p: &str, e: &str) -> Identity {
    Identity {
        platform: Platform::parse(p).unwrap(),
        external_id: ExternalId::parse(e).unwrap(),
    }
}

async fn tenants_and_api_keys(b: Backend) {
    use fanloop_domain::keys::{KeyInfo, Scope, key_id};
    let store = b.store();
    let (tenant, key) = b.tenant().await;
    let first = store.key(&key.hash()).await.unwrap().unwrap();
    assert_eq!(first.tenant.as_ref(), Some(&tenant));
    assert_eq!(
        first.scopes,
        Scope::ALL.into(),
        "the first key has every scope"
    );
    assert!(key.expose().starts_with(&first.prefix) && first.prefix.len() == 12);
    assert_eq!(
        store.tenant(&tenant).await.unwrap().unwrap().name,
        tenant.to_string()
    );

    let again = Tenant {
        id: tenant.clone(),
        name: "other".into(),
        created_at: ts("2026-01-01T00:00:00Z"),
    };
    let other_key = ApiKey::generate(&OsRandom).unwrap();
    assert!(matches!(
        store.create_tenant(&again, &other_key).await,
        Err(CreateTenantError::Exists)
    ));
    assert_eq!(
        store.key(&other_key.hash()).await.unwrap(),
        None,
        "a refused tenant adds no key"
    );

    // A scoped key: stored, listed (without the secret), used, revoked once.
    let now = ts("2030-06-01T00:00:00Z");
    let ingest = KeyInfo::new(
        &tenant,
        &other_key,
        "game backend".into(),
        [Scope::Ingest].into(),
        now,
        Some(ts("2031-06-01T00:00:00Z")),
    );
    store
        .create_key(&tenant, &ingest, &other_key.hash())
        .await
        .unwrap();
    store
        .create_key(&tenant, &ingest, &other_key.hash())
        .await
        .unwrap();
    assert_eq!(
        store.key(&other_key.hash()).await.unwrap().as_ref(),
        Some(&ingest)
    );
    let listed = store.keys(&tenant).await.unwrap();
    assert_eq!(
        listed.iter().map(|k| k.key_id.as_str()).collect::<Vec<_>>(),
        [first.key_id.as_str(), ingest.key_id.as_str()],
        "oldest first, once each"
    );
    let later = ts("2030-06-02T00:00:00Z");
    store.key_used(&other_key.hash(), later).await.unwrap();
    assert_eq!(
        store
            .key(&other_key.hash())
            .await
            .unwrap()
            .unwrap()
            .last_used_at,
        Some(later)
    );
    let (revoked, hash) = store
        .revoke_key(&tenant, &key_id(&other_key.hash()), later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((revoked.revoked_at, hash), (Some(later), other_key.hash()));
    let (again, _) = store
        .revoke_key(&tenant, &ingest.key_id, ts("2030-07-01T00:00:00Z"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.revoked_at, Some(later), "the first revocation stands");
    assert!(
        !store
            .key(&other_key.hash())
            .await
            .unwrap()
            .unwrap()
            .usable(later)
    );
    // Another tenant's key id, or none: not found.
    let (stranger, _) = b.tenant().await;
    assert!(
        store
            .revoke_key(&stranger, &ingest.key_id, later)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .revoke_key(&tenant, "k_0000000000000000", later)
            .await
            .unwrap()
            .is_none()
    );
    let unknown = ApiKey::generate(&OsRandom).unwrap();
    assert_eq!(store.key(&unknown.hash()).await.unwrap(), None);

    // Made with one ingest secret; replaced whole.
    let secrets = store.ingest_secrets(&tenant).await.unwrap();
    assert_eq!(secrets.len(), 1);
    let next = fanloop_domain::ingest::IngestSecret::generate(&OsRandom, later).unwrap();
    let both = fanloop_domain::ingest::rotated(secrets.clone(), next.clone());
    store.put_ingest_secrets(&tenant, &both).await.unwrap();
    assert_eq!(store.ingest_secrets(&tenant).await.unwrap(), both);
    assert!(
        store.ingest_secrets(&stranger).await.unwrap() != both,
        "another tenant's are its own"
    );
}

async fn settings_are_versioned(b: Backend) {
    let store = b.store();
    let (tenant, _) = b.tenant().await;
    let initial = store.settings(&tenant).await.unwrap();
    assert_eq!(
        (initial.version, initial.settings.timezone.as_str()),
        (0, "UTC")
    );

    let changed = initial
        .settings
        .merged(json!({"timezone": "Asia/Shanghai"}))
        .unwrap();
    assert_eq!(store.put_settings(&tenant, &changed, 0).await.unwrap(), 1);
    let read = store.settings(&tenant).await.unwrap();
    assert_eq!((read.version, read.settings), (1, changed.clone()));
    // A writer that read version 0 lost the race.
    assert!(matches!(
        store.put_settings(&tenant, &changed, 0).await,
        Err(StoreError::Conflict)
    ));
}

async fn upsert_creates_then_merges(b: Backend) {
    let store = b.store();
    let (t, _) = b.tenant().await;
    let c = cid("player-1");
    let t0 = ts("2026-03-01T10:00:00Z");
    let first = store
        .upsert_profile(
            &t,
            &c,
            &patch(
                json!({"email": "li@example.com", "display_name": "Li Wei", "tags": ["vip", "eu"],
                          "birthday": "--02-29", "consent": {"email_marketing": true}}),
            ),
            t0,
        )
        .await
        .unwrap();
    assert!(first.created);
    assert_eq!(first.profile.created_at, t0);

    let t1 = ts("2026-03-02T10:00:00Z");
    let second = store
        .upsert_profile(
            &t,
            &c,
            &patch(json!({"display_name": null, "tags": ["whale"], "locale": "zh-CN"})),
            t1,
        )
        .await
        .unwrap();
    assert!(!second.created);
    let p = second.profile;
    assert_eq!(
        p.email.as_ref().unwrap().as_str(),
        "li@example.com",
        "absent fields are untouched"
    );
    assert_eq!(p.display_name, None, "null clears");
    assert_eq!(
        p.tags.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        ["whale"],
        "tags are replaced"
    );
    assert_eq!(p.locale.as_ref().unwrap().as_str(), "zh-CN");
    assert_eq!(p.birthday.unwrap().to_string(), "--02-29");
    assert_eq!((p.created_at, p.updated_at), (t0, t1));
    let consent = p.consent.email_marketing.clone().unwrap();
    assert!(consent.granted && consent.at == t0 && consent.source == "api");
    assert_eq!(
        store.profile(&t, &c).await.unwrap().unwrap(),
        p,
        "what the upsert returned is what is stored"
    );

    let cleared = store
        .upsert_profile(&t, &c, &patch(json!({"birthday": null, "tags": null, "consent": {"email_marketing": false, "source": "support-desk"}})), t1)
        .await
        .unwrap()
        .profile;
    assert_eq!((cleared.birthday, cleared.tags.len()), (None, 0));
    let consent = cleared.consent.email_marketing.unwrap();
    assert!(!consent.granted && consent.source == "support-desk" && consent.at == t1);
}

async fn every_field_round_trips(b: Backend) {
    let store = b.store();
    let (t, _) = b.tenant().await;
    let c = cid("p.2:eu@main");
    let body = json!({
        "email": "Wei.Zhang@Example.CN", "display_name": "张伟", "locale": "zh_cn", "timezone": "Asia/Shanghai",
        "birthday": "1994-07-04", "phone": "+86 138 1234 5678", "tags": ["b", "a"],
        "attributes": {"level": 42, "ratio": 0.5, "vip": true, "guild": "夜猫"},
        "consent": {"email_marketing": true}, "identities": [{"platform": "steam", "external_id": "7656"}]
    });
    let up = store
        .upsert_profile(&t, &c, &patch(body), ts("2026-05-05T05:05:05.123Z"))
        .await
        .unwrap();
    let read = store.profile(&t, &c).await.unwrap().unwrap();
    assert_eq!(read, up.profile);
    let v = serde_json::to_value(&read).unwrap();
    assert_eq!(v["email"], "Wei.Zhang@example.cn");
    assert_eq!(v["locale"], "zh-CN");
    assert_eq!(v["phone"], "+8613812345678");
    assert_eq!(v["tags"], json!(["a", "b"]));
    assert_eq!(
        v["attributes"],
        json!({"guild": "夜猫", "level": 42, "ratio": 0.5, "vip": true})
    );
    assert_eq!(v["created_at"], "2026-05-05T05:05:05.123Z");
    assert_eq!(
        v["identities"],
        json!([{"platform": "steam", "external_id": "7656"}])
    );
}

async fn unknown_customer_is_none(b: Backend) {
    let store = b.store();
    let (t, _) = b.tenant().await;
    assert_eq!(store.profile(&t, &cid("nobody")).await.unwrap(), None);
    assert!(
        store
            .export_customer(&t, &cid("nobody"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .erase_customer(&t, &cid("nobody"), "~erased-test")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !store
            .record_activity(&t, &cid("nobody"), active("2026-01-01T00:00:00Z"))
            .await
            .unwrap()
    );
    assert_eq!(
        store.profile(&t, &cid("nobody")).await.unwrap(),
        None,
        "activity never creates a customer"
    );
}

async fn identities_resolve_and_belong_to_one_customer(b: Backend) {
    let store = b.store();
    let (t, _) = b.tenant().await;
    let now = ts("2026-01-01T00:00:00Z");
    let body = json!({"identities": [{"platform": "steam", "external_id": "1"}, {"platform": "apple", "external_id": "a"}]});
    store
        .upsert_profile(&t, &cid("alice"), &patch(body), now)
        .await
        .unwrap();
    assert_eq!(
        store
            .customer_for_identity(&t, &ident("steam", "1"))
            .await
            .unwrap(),
        Some(cid("alice"))
    );
    assert_eq!(
        store
            .customer_for_identity(&t, &ident("steam", "2"))
            .await
            .unwrap(),
        None
    );

    // Re-sending your own identity is fine.
    let again =
        json!({"identities": [{"platform": "steam", "external_id": "1"}], "display_name": "Alice"});
    let p = store
        .upsert_profile(&t, &cid("alice"), &patch(again), now)
        .await
        .unwrap()
        .profile;
    assert_eq!(p.identities.len(), 2);

    // Bob cannot take Alice's identity, and the failed upsert writes nothing at all.
    let steal = json!({"email": "bob@example.com", "identities": [{"platform": "xbox", "external_id": "b"}, {"platform": "steam", "external_id": "1"}]});
    match store
        .upsert_profile(&t, &cid("bob"), &patch(steal), now)
        .await
    {
        Err(UpsertError::IdentityTaken(id)) => assert_eq!(id, ident("steam", "1")),
        other => panic!("expected IdentityTaken, got {other:?}"),
    }
    assert_eq!(store.profile(&t, &cid("bob")).await.unwrap(), None);
    assert_eq!(
        store
            .customer_for_identity(&t, &ident("xbox", "b"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .customer_for_identity(&t, &ident("steam", "1"))
            .await
            .unwrap(),
        Some(cid("alice"))
    );
}

async fn identities_unlink(b: Backend) {
    let store = b.store();
    let (t, _) = b.tenant().await;
    let now = ts("2026-01-01T00:00:00Z");
    let body = json!({"identities": [{"platform": "steam", "external_id": "1"}, {"platform": "apple", "external_id": "a"}]});
    store
        .upsert_profile(&t, &cid("alice"), &patch(body), now)
        .await
        .unwrap();
    assert!(
        !store
            .unlink_identity(&t, &cid("bob"), &ident("steam", "1"), now)
            .await
            .unwrap(),
        "not Bob's"
    );
    assert!(
        store
            .unlink_identity(&t, &cid("alice"), &ident("steam", "1"), now)
            .await
            .unwrap()
    );
    assert!(
        !store
            .unlink_identity(&t, &cid("alice"), &ident("steam", "1"), now)
            .await
            .unwrap(),
        "already gone"
    );
    let p = store.profile(&t, &cid("alice")).await.unwrap().unwrap();
    assert_eq!(p.identities, vec![ident("apple", "a")]);
    assert_eq!(
        store
            .customer_for_identity(&t, &ident("steam", "1"))
            .await
            .unwrap(),
        None
    );
    // Now free for someone else.
    let body = json!({"identities": [{"platform": "steam", "external_id": "1"}]});
    store
        .upsert_profile(&t, &cid("bob"), &patch(body), now)
        .await
        .unwrap();
    assert_eq!(
        store
            .customer_for_identity(&t, &ident("steam", "1"))
            .await
            .unwrap(),
        Some(cid("bob"))
    );
}

async fn too_many_identities_are_refused(b: Backend) {
    let store = b.store();
    let (t, _) = b.tenant().await;
    let now = ts("2026-01-01T00:00:00Z");
    let batch = |from: usize, n: usize| {
        let ids: Vec<Value> = (from..from + n)
            .map(|i| json!({"platform": "p", "external_id": format!("{i}")}))
            .collect();
        patch(json!({ "identities": ids }))
    };
    store
        .upsert_profile(&t, &cid("c"), &batch(0, 15), now)
        .await
        .unwrap();
    assert!(matches!(
        store
            .upsert_profile(&t, &cid("c"), &batch(15, 6), now)
            .await,
        Err(UpsertError::TooManyIdentities)
    ));
    assert_eq!(
        store
            .customer_for_identity(&t, &ident("p", "15"))
            .await
            .unwrap(),
        None
    );
    let p = store
        .upsert_profile(&t, &cid("c"), &batch(15, 5), now)
        .await
        .unwrap()
        .profile;
    assert_eq!(p.identities.len(), 20);
}

async fn activity_moves_forward_only(b: Backend) {
    let store = b.store();
    let (t, _) = b.tenant().await;
    let c = cid("c");
    store
        .upsert_profile(&t, &c, &patch(json!({})), ts("2026-01-01T00:00:00Z"))
        .await
        .unwrap();
    assert!(
        store
            .record_activity(&t, &c, active("2026-02-01T12:00:00Z"))
            .await
            .unwrap()
    );
    assert!(
        store
            .record_activity(&t, &c, active("2026-01-15T12:00:00Z"))
            .await
            .unwrap(),
        "known customer, older event"
    );
    let p = store.profile(&t, &c).await.unwrap().unwrap();
    assert_eq!(p.last_active_at, Some(ts("2026-02-01T12:00:00Z")));
    // Profile upserts leave activity alone.
    store
        .upsert_profile(
            &t,
            &c,
            &patch(json!({"display_name": "C"})),
            ts("2026-03-01T00:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(
        store.profile(&t, &c).await.unwrap().unwrap().last_active_at,
        Some(ts("2026-02-01T12:00:00Z"))
    );
}

async fn export_holds_everything_stored(b: Backend) {
    let store = b.store();
    let (t, _) = b.tenant().await;
    let c = cid("c");
    let body = json!({"email": "c@example.com", "identities": [{"platform": "twitch", "external_id": "c1"}]});
    store
        .upsert_profile(&t, &c, &patch(body), ts("2026-01-01T00:00:00Z"))
        .await
        .unwrap();
    store
        .record_activity(&t, &c, active("2026-01-02T00:00:00Z"))
        .await
        .unwrap();
    let export = store.export_customer(&t, &c).await.unwrap().unwrap();
    assert_eq!(
        export.profile,
        store.profile(&t, &c).await.unwrap().unwrap()
    );
    assert_eq!(
        export.profile.last_active_at,
        Some(ts("2026-01-02T00:00:00Z"))
    );
    assert_eq!(export.profile.identities, vec![ident("twitch", "c1")]);
}

async fn erasure_leaves_no_personal_data(b: Backend) {
    let store = b.store();
    let (t, _) = b.tenant().await;
    let c = cid("erase-me");
    let body = json!({"email": "secret.person@example.com", "display_name": "Secret Person", "phone": "+14155550123",
                      "birthday": "1990-01-02", "identities": [{"platform": "steam", "external_id": "SECRETID"}],
                      "attributes": {"nickname": "SecretNick"}});
    store
        .upsert_profile(&t, &c, &patch(body), ts("2026-01-01T00:00:00Z"))
        .await
        .unwrap();
    store
        .upsert_profile(
            &t,
            &cid("keeper"),
            &patch(json!({"email": "keeper@example.com"})),
            ts("2026-01-01T00:00:00Z"),
        )
        .await
        .unwrap();
    store
        .record_activity(&t, &c, active("2026-01-05T00:00:00Z"))
        .await
        .unwrap();
    assert!(
        b.dump(&t).await.iter().any(|s| s.contains("SECRETID")),
        "the dump sees stored data"
    );

    assert_eq!(
        store.erase_customer(&t, &c, "~erased-test").await.unwrap(),
        Some(Default::default()),
        "erased, and no mail was ever sent to name"
    );
    assert_eq!(store.profile(&t, &c).await.unwrap(), None);
    assert!(store.export_customer(&t, &c).await.unwrap().is_none());
    assert_eq!(
        store
            .customer_for_identity(&t, &ident("steam", "SECRETID"))
            .await
            .unwrap(),
        None
    );
    let dump = b.dump(&t).await.join("\n");
    for pii in [
        "secret.person",
        "Secret Person",
        "+14155550123",
        "1990-01-02",
        "SECRETID",
        "SecretNick",
        "erase-me",
    ] {
        assert!(!dump.contains(pii), "{pii} is still stored after erasure");
    }
    assert!(
        dump.contains("keeper@example.com"),
        "other customers are untouched"
    );
    assert!(
        store
            .erase_customer(&t, &c, "~erased-test")
            .await
            .unwrap()
            .is_none(),
        "erasing twice finds nothing"
    );
}

async fn tenants_never_mix(b: Backend) {
    let store = b.store();
    let (t1, _) = b.tenant().await;
    let (t2, _) = b.tenant().await;
    let c = cid("same-id");
    let now = ts("2026-01-01T00:00:00Z");
    let body = |e: &str| {
        patch(json!({"email": e, "identities": [{"platform": "steam", "external_id": "42"}]}))
    };
    assert!(
        store
            .upsert_profile(&t1, &c, &body("one@example.com"), now)
            .await
            .unwrap()
            .created
    );
    assert!(
        store
            .upsert_profile(&t2, &c, &body("two@example.com"), now)
            .await
            .unwrap()
            .created,
        "same id, other tenant: a new customer"
    );
    assert_eq!(
        store
            .profile(&t1, &c)
            .await
            .unwrap()
            .unwrap()
            .email
            .unwrap()
            .as_str(),
        "one@example.com"
    );
    assert_eq!(
        store
            .profile(&t2, &c)
            .await
            .unwrap()
            .unwrap()
            .email
            .unwrap()
            .as_str(),
        "two@example.com"
    );
    assert!(
        store
            .erase_customer(&t1, &c, "~erased-test")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store.profile(&t2, &c).await.unwrap().is_some(),
        "erasure in one tenant leaves the other alone"
    );
    assert_eq!(
        store
            .customer_for_identity(&t2, &ident("steam", "42"))
            .await
            .unwrap(),
        Some(c)
    );
    let untouched = TenantId::parse("t-never-used").unwrap();
    assert_eq!(store.settings(&untouched).await.unwrap().version, 0);
}

async fn concurrent_creates_make_one_customer(b: Backend) {
    let store = b.store();
    let (t, _) = b.tenant().await;
    for round in 0..5 {
        let c = cid(&format!("racer-{round}"));
        let with_ids = round % 2 == 1; // both upsert paths of the DynamoDB adapter
        let body_a = if with_ids {
            json!({"email": "a@example.com", "identities": [{"platform": "p", "external_id": format!("a{round}")}]})
        } else {
            json!({"email": "a@example.com"})
        };
        let body_b = json!({"display_name": "Racer"});
        let (pa, pb) = (patch(body_a), patch(body_b));
        let now = ts("2026-01-01T00:00:00Z");
        let (a, b2) = tokio::join!(
            store.upsert_profile(&t, &c, &pa, now),
            store.upsert_profile(&t, &c, &pb, now)
        );
        let (a, b2) = (a.unwrap(), b2.unwrap());
        assert!(
            a.created ^ b2.created,
            "exactly one of two concurrent creates is the creation (round {round})"
        );
        let p = store.profile(&t, &c).await.unwrap().unwrap();
        assert_eq!(p.email.unwrap().as_str(), "a@example.com");
        assert_eq!(
            p.display_name.unwrap().as_str(),
            "Racer",
            "neither write is lost"
        );
    }
}

async fn concurrent_identity_claims_have_one_winner(b: Backend) {
    let store = b.store();
    let (t, _) = b.tenant().await;
    let now = ts("2026-01-01T00:00:00Z");
    let body = patch(json!({"identities": [{"platform": "steam", "external_id": "contested"}]}));
    let mut tasks = Vec::new();
    for i in 0..6 {
        let (store, t, body) = (store.clone(), t.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            store
                .upsert_profile(&t, &cid(&format!("claimant-{i}")), &body, now)
                .await
        }));
    }
    let mut winners = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => winners += 1,
            Err(UpsertError::IdentityTaken(_)) => {}
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!(winners, 1);
    let owner = store
        .customer_for_identity(&t, &ident("steam", "contested"))
        .await
        .unwrap()
        .unwrap();
    let p = store.profile(&t, &owner).await.unwrap().unwrap();
    assert_eq!(p.identities, vec![ident("steam", "contested")]);
}
