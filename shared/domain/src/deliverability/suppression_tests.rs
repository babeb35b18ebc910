use serde_json::Value;

use super::*;
use crate::deliverability::{AddressKey, FeedbackKind, parse_event};
use crate::values::Email;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../../tests/fixtures/ses/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("RECIPIENT", "Ann@Example.com")
        .replace("TIMESTAMP", "2026-11-22T10:00:04.000Z")
        .replace("TENANT", "t1")
        .replace("CUSTOMER", "player-42")
        .replace("MESSAGE", "01JD");
    serde_json::from_str(&text).unwrap()
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn hash() -> AddressHash {
    AddressKey::from_hex(&"11".repeat(32))
        .unwrap()
        .address_hash(&Email::parse("ann@example.com").unwrap())
}

#[test]
fn the_four_fixtures_read_as_their_events() {
    let kinds: Vec<FeedbackKind> = [
        "bounce-permanent",
        "bounce-transient",
        "complaint",
        "delivery",
    ]
    .iter()
    .map(|f| {
        let e = parse_event(&fixture(f)).unwrap().unwrap();
        assert_eq!(e.recipients.len(), 1, "{f}");
        let m = e.mail.expect("tags");
        assert_eq!(
            (
                m.tenant.as_str(),
                m.customer.as_str(),
                m.message_id.as_str()
            ),
            ("t1", "player-42", "01JD")
        );
        e.kind
    })
    .collect();
    assert_eq!(
        kinds,
        [
            FeedbackKind::Bounced { permanent: true },
            FeedbackKind::Bounced { permanent: false },
            FeedbackKind::Complained {
                feedback_type: Some("abuse".into())
            },
            FeedbackKind::Delivered,
        ]
    );
    let e = parse_event(&fixture("complaint")).unwrap().unwrap();
    assert_eq!(e.at, ts("2026-11-22T12:29:58Z"));
    // An event Fanloop does not act on, and something that is no event.
    let open = serde_json::json!({"eventType": "Open", "mail": {}});
    assert_eq!(parse_event(&open), Ok(None));
    assert!(parse_event(&serde_json::json!({"hello": 1})).is_err());
}

#[test]
fn the_hash_is_keyed_and_case_blind() {
    let k = AddressKey::from_hex(&"11".repeat(32)).unwrap();
    let other = AddressKey::from_hex(&"22".repeat(32)).unwrap();
    let a = Email::parse("Ann@Example.com").unwrap();
    assert_eq!(k.address_hash(&a), hash());
    assert_ne!(other.address_hash(&a), hash());
    assert_eq!(hash().as_str().len(), 64);
    assert!(!format!("{k:?}").contains("11"));
    assert_eq!(AddressKey::from_hex(&k.to_hex()), Some(k));
}

#[test]
fn hard_bounces_and_complaints_suppress_at_once() {
    let s = AddressState::new(hash());
    let at = ts("2026-11-22T10:00:00Z");
    let hard = s
        .after(&FeedbackKind::Bounced { permanent: true }, at)
        .unwrap();
    assert_eq!(
        hard.suppressed.as_ref().unwrap().reason,
        SuppressionReason::HardBounce
    );
    let c = s
        .after(
            &FeedbackKind::Complained {
                feedback_type: Some("abuse".into()),
            },
            at,
        )
        .unwrap();
    assert_eq!(
        c.suppressed.as_ref().unwrap().feedback_type.as_deref(),
        Some("abuse")
    );
    assert_eq!(s.after(&FeedbackKind::Delivered, at), None);
    assert_eq!(
        hard.after(
            &FeedbackKind::Complained {
                feedback_type: None
            },
            at
        ),
        None,
        "once"
    );
}

#[test]
fn three_soft_bounces_within_thirty_days_suppress() {
    let soft = FeedbackKind::Bounced { permanent: false };
    let mut s = AddressState::new(hash());
    for day in ["2026-10-01", "2026-10-20"] {
        s = s.after(&soft, ts(&format!("{day}T00:00:00Z"))).unwrap();
    }
    assert!(!s.is_suppressed());
    assert_eq!(
        s.after(&soft, ts("2026-10-20T00:00:00Z")),
        None,
        "the same bounce twice counts once"
    );
    // 1 Oct is out of the window by 5 Nov: two within it, not suppressed.
    let later = s.after(&soft, ts("2026-11-05T00:00:00Z")).unwrap();
    assert!(!later.is_suppressed());
    assert_eq!(later.soft_bounces.len(), 2);
    let third = later.after(&soft, ts("2026-11-06T00:00:00Z")).unwrap();
    assert_eq!(
        third.suppressed.unwrap().reason,
        SuppressionReason::SoftBounces
    );
}

#[test]
fn a_message_keeps_its_worst_news() {
    let at = ts("2026-11-22T10:00:00Z");
    let delivered = MessageDelivery::of(&FeedbackKind::Delivered, at);
    let complained = MessageDelivery::of(
        &FeedbackKind::Complained {
            feedback_type: None,
        },
        at,
    );
    assert!(delivered.replaces(None));
    assert!(complained.replaces(Some(&delivered)));
    assert!(!delivered.replaces(Some(&complained)));
    assert!(!delivered.replaces(Some(&delivered)));
    let b = MessageDelivery::of(&FeedbackKind::Bounced { permanent: true }, at);
    assert_eq!(
        (b.status, b.detail.as_deref()),
        (DeliveryStatus::Bounced, Some("permanent"))
    );
}
