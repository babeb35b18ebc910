//! The SES mailer keeps trying while SES throttles, and gives up with `Throttled` when it does
//! not stop. A local HTTP endpoint answers as SES v2 does (429 `TooManyRequestsException`, then
//! 200 with a `MessageId`); moto cannot throttle, so this endpoint stands in for that one answer.
#![cfg(feature = "ses")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use fanloop_domain::ports::{MailError, Mailbox, Mailer, OutgoingMail};
use fanloop_domain::values::Email;
use fanloop_mail::SesMailer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Serves `throttles` 429 answers, then 200s; returns the endpoint and the request counter.
async fn fake_ses(throttles: usize) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let c = c.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 1 << 16];
                let mut req = Vec::new();
                // Read headers and the body (Content-Length) of one request.
                loop {
                    let n = s.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    req.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&req).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let len = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length: ")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if body.len() >= len {
                            break;
                        }
                    }
                }
                let i = c.fetch_add(1, Ordering::SeqCst);
                let (status, extra, body) = if i < throttles {
                    (
                        "429 Too Many Requests",
                        "x-amzn-ErrorType: TooManyRequestsException\r\n",
                        r#"{"message":"Maximum sending rate exceeded."}"#,
                    )
                } else {
                    ("200 OK", "", r#"{"MessageId":"ses-message-1"}"#)
                };
                let res = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(res.as_bytes()).await;
            });
        }
    });
    (format!("http://{addr}"), count)
}

fn client(endpoint: &str) -> aws_sdk_sesv2::Client {
    use aws_sdk_sesv2::config::{BehaviorVersion, Credentials, Region};
    let conf = aws_sdk_sesv2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .build();
    aws_sdk_sesv2::Client::from_conf(conf)
}

fn mail() -> OutgoingMail {
    OutgoingMail {
        id: "01KTESTMAIL".into(),
        from: Mailbox {
            email: Email::parse("hello@star-arena.example").unwrap(),
            name: None,
        },
        to: Mailbox {
            email: Email::parse("fan@example.com").unwrap(),
            name: None,
        },
        subject: "Hi".into(),
        html: "<p>Hi</p>".into(),
        text: "Hi".into(),
        unsubscribe_url: "https://fanloop.test/unsubscribe/x".into(),
        date: "2026-11-22T10:00:00Z".parse().unwrap(),
        tags: vec![("fl_message".into(), "01KTESTMAIL".into())],
    }
}

#[tokio::test]
async fn throttled_sends_are_retried_until_ses_accepts() {
    let (endpoint, count) = fake_ses(4).await;
    let mailer = SesMailer::new(client(&endpoint), None);
    let d = mailer.send(&mail()).await.unwrap();
    assert_eq!(
        (d.provider, d.provider_message_id.as_str()),
        ("ses", "ses-message-1")
    );
    assert_eq!(
        count.load(Ordering::SeqCst),
        5,
        "4 throttled answers, then the accepted send"
    );
}

#[tokio::test]
async fn endless_throttling_ends_as_throttled() {
    let (endpoint, count) = fake_ses(usize::MAX).await;
    let mailer = SesMailer::new(client(&endpoint), None);
    assert!(matches!(
        mailer.send(&mail()).await,
        Err(MailError::Throttled)
    ));
    assert!(
        count.load(Ordering::SeqCst) > 3,
        "retried beyond the SDK's own attempts"
    );
}
