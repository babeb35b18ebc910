//! `fanloop serve`'s SMTP mailer against a real local SMTP server (aiosmtpd from .venv,
//! scripts/smtp_sink.py): each mail arrives DKIM-signed — RSA (PKCS#1 and PKCS#8 PEM) and
//! Ed25519 — and verifies with its public key (dkimpy), the signature covering the one-click
//! unsubscribe pair; a transient refusal is retried until it goes through; a permanent refusal
//! of the address is a bounce, which the send path puts on the suppression list (both stores).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use fanloop_domain::campaigns::CampaignKind;
use fanloop_domain::clock::ManualClock;
use fanloop_domain::ports::{MailError, Mailbox, Mailer, OutgoingMail};
use fanloop_domain::values::Email;
use fanloop_mail::{DkimSettings, SmtpMailer};
use fanloop_tests::{Backend, both_stores, ts};
use serde_json::json;

both_stores!(a_permanent_refusal_is_a_bounce_the_list_keeps);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The SMTP server of scripts/smtp_sink.py on a free loopback port, and where it writes.
struct Sink {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Sink {
    fn start() -> Self {
        let python = root().join(".venv/bin/python");
        assert!(
            python.exists(),
            "{} is missing: run the tests with scripts/test (it installs aiosmtpd and dkimpy)",
            python.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("fanloop-smtp-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut child = Command::new(python)
            .arg(root().join("scripts/smtp_sink.py"))
            .args(["serve", &port.to_string()])
            .arg(&dir)
            .stdout(Stdio::piped())
            .spawn()
            .expect("the SMTP sink starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP sink did not start");
        Self { child, port, dir }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages received, in order.
    fn received(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(root().join("tests/fixtures/dkim").join(name)).unwrap()
}

fn mail(to: &str) -> OutgoingMail {
    OutgoingMail {
        id: format!("01KSMTP{}", to.len()),
        from: Mailbox {
            email: Email::parse("hello@star-arena.example").unwrap(),
            name: Some("Star Arena".into()),
        },
        to: Mailbox {
            email: Email::parse(to).unwrap(),
            name: Some("李伟".into()),
        },
        subject: "生日快乐！".into(),
        html: "<p>生日快乐</p>".into(),
        text: "生日快乐".into(),
        unsubscribe_url: "https://fanloop.test/unsubscribe/v1.abc.def".into(),
        date: ts("2026-11-22T10:00:00Z"),
        tags: Vec::new(),
    }
}

fn dkim(key: &str) -> Option<DkimSettings> {
    Some(DkimSettings {
        key_pem: fixture(key),
        selector: "fl1".into(),
        domain: "star-arena.example".into(),
    })
}

/// dkimpy's verdict on a received message: `verified=… a=… h=…`, and whether it verified.
fn verify(file: &Path, public_key: &str) -> (bool, String) {
    let out = Command::new(root().join(".venv/bin/python"))
        .arg(root().join("scripts/smtp_sink.py"))
        .arg("verify")
        .arg(file)
        .arg(fixture(public_key))
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test]
async fn mail_arrives_dkim_signed_and_verifies() {
    let sink = Sink::start();
    for (key, public, algorithm) in [
        ("rsa.pem", "rsa.pub.b64", "rsa-sha256"),
        ("rsa-pkcs8.pem", "rsa.pub.b64", "rsa-sha256"),
        ("ed25519.pem", "ed25519.pub.b64", "ed25519-sha256"),
    ] {
        let mailer = SmtpMailer::new(&sink.url(), dkim(key)).unwrap();
        let before = sink.received().len();
        let d = mailer.send(&mail("li.wei@example.com")).await.unwrap();
        assert_eq!(d.provider, "smtp");
        let files = sink.received();
        assert_eq!(files.len(), before + 1);
        let (ok, verdict) = verify(files.last().unwrap(), public);
        assert!(ok, "{key}: {verdict}");
        assert!(verdict.contains(&format!("a={algorithm}")), "{verdict}");
        let signed: Vec<&str> = verdict
            .split("h=")
            .nth(1)
            .unwrap()
            .trim()
            .split(':')
            .collect();
        for h in [
            "from",
            "to",
            "subject",
            "date",
            "message-id",
            "list-unsubscribe",
            "list-unsubscribe-post",
        ] {
            assert!(signed.contains(&h), "{key}: {h} is not signed: {verdict}");
        }
        // The wrong public key does not verify it: the check can fail.
        let other = if public == "rsa.pub.b64" {
            "ed25519.pub.b64"
        } else {
            "rsa.pub.b64"
        };
        assert!(
            !verify(files.last().unwrap(), other).0,
            "{key} verified with {other}"
        );
    }
    // Without a key the mail goes unsigned.
    let plain = SmtpMailer::new(&sink.url(), None).unwrap();
    plain.send(&mail("sam@example.com")).await.unwrap();
    let raw = std::fs::read_to_string(sink.received().last().unwrap()).unwrap();
    assert!(!raw.contains("DKIM-Signature"));
    assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));

    // A transient refusal is tried again; a permanent one of the address is a bounce.
    let mailer = SmtpMailer::new(&sink.url(), dkim("rsa.pem")).unwrap();
    let before = sink.received().len();
    mailer.send(&mail("busy@example.com")).await.unwrap();
    assert_eq!(sink.received().len(), before + 1, "delivered on the retry");
    match mailer.send(&mail("bounce@example.com")).await {
        Err(MailError::Bounced(why)) => assert_eq!(why, "smtp 550"),
        other => panic!("not a bounce: {other:?}"),
    }
    assert!(SmtpMailer::new("http://example.com", None).is_err());
    assert!(
        SmtpMailer::new(
            &sink.url(),
            Some(DkimSettings {
                key_pem: "not a key".into(),
                selector: "s".into(),
                domain: "d.example".into()
            })
        )
        .is_err()
    );
}

async fn a_permanent_refusal_is_a_bounce_the_list_keeps(b: Backend) {
    let sink = Sink::start();
    let clock = Arc::new(ManualClock::new(ts("2026-11-22T10:00:00Z")));
    let mailer = Arc::new(SmtpMailer::new(&sink.url(), dkim("ed25519.pem")).unwrap());
    let (campaigns, _) = fanloop_tests::campaigns(&b, clock, Some(mailer));
    let store = b.store();
    let (t, _) = b.tenant().await;
    for (id, email) in [
        ("gone", "bounce-me@example.com"),
        ("fan", "fan@example.com"),
    ] {
        let p = fanloop_domain::ProfilePatch::from_json(
            json!({"email": email, "birthday": "1998-11-22", "consent": {"email_marketing": true}}),
            jiff::civil::date(2026, 1, 1),
        )
        .unwrap();
        let c = fanloop_domain::CustomerId::parse(id).unwrap();
        store
            .upsert_profile(&t, &c, &p, ts("2026-11-01T00:00:00Z"))
            .await
            .unwrap();
    }
    let r = campaigns
        .run(&t, CampaignKind::Birthday, None, false)
        .await
        .unwrap();
    assert_eq!(
        (
            r.sent,
            r.skipped[&fanloop_domain::campaigns::SkipReason::Failed]
        ),
        (1, 1),
        "{r:?}"
    );
    assert_eq!(sink.received().len(), 1);
    let gone = fanloop_domain::CustomerId::parse("gone").unwrap();
    let m = &store.messages(&t, &gone).await.unwrap()[0];
    assert_eq!(m.error.as_deref(), Some("bounced: smtp 550"));
    assert_eq!(
        m.delivery.as_ref().map(|d| (d.status, d.detail.as_deref())),
        Some((
            fanloop_domain::deliverability::DeliveryStatus::Bounced,
            Some("permanent")
        ))
    );
    let hash = fanloop_engine::suppression::address_hash(
        store.as_ref(),
        &t,
        &Email::parse("bounce-me@example.com").unwrap(),
    )
    .await
    .unwrap();
    let s = store.address(&t, &hash).await.unwrap().unwrap();
    assert_eq!(
        s.suppressed.map(|s| s.reason),
        Some(fanloop_domain::deliverability::SuppressionReason::HardBounce)
    );
    // The next run does not try the address again.
    let again = campaigns
        .run(&t, CampaignKind::Birthday, None, false)
        .await
        .unwrap();
    assert_eq!(
        again.skipped[&fanloop_domain::campaigns::SkipReason::SuppressedAddress],
        1,
        "{again:?}"
    );
    assert_eq!(sink.received().len(), 1);
}
