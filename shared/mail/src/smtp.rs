//! The SMTP mailer of `fanloop serve` (feature `smtp`): lettre's async SMTP transport
//! (`smtp://host:587?tls=required` for STARTTLS, `smtps://user:pass@host:465` for TLS, plain
//! `smtp://` only for a relay on the same host), each message DKIM-signed (RSA or Ed25519,
//! relaxed/relaxed) over the headers a receiver checks, the one-click unsubscribe pair
//! included. Transient refusals (4xx, a dropped connection) are retried with backoff like SES
//! throttling; a permanent refusal of the recipient (550/551/553) is a bounce the send path
//! puts on the suppression list; other permanent errors are the provider's refusal.

use std::time::Duration;

use async_trait::async_trait;
use fanloop_domain::ports::{Delivery, MailError, Mailer, OutgoingMail};
use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey, dkim_sign,
};
use lettre::message::header::HeaderName;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// Transient refusals are tried this many times in all, as with SES.
const ATTEMPTS: u32 = 6;

/// Why the SMTP mailer could not be set up (no secret in the text).
#[derive(Debug, thiserror::Error)]
pub enum SmtpConfigError {
    #[error("FANLOOP_SMTP_URL is not an smtp:// or smtps:// URL: {0}")]
    Url(String),
    #[error("the DKIM key: {0}")]
    Key(String),
}

/// Where DKIM signatures come from: the key (PEM) and the DNS name of its public half
/// (`{selector}._domainkey.{domain}`).
pub struct DkimSettings {
    pub key_pem: String,
    pub selector: String,
    pub domain: String,
}

/// The headers signed: what a receiver shows or acts on, and what a forwarder must not
/// change, the RFC 8058 pair among them. Not `Content-Type`: lettre writes a multipart's
/// `Content-Type` with the body, so its signer would list the header in `h=` without hashing
/// it and no receiver could verify the signature (found by the dkimpy check in
/// tests/tests/smtp_dkim.rs); the body hash covers the parts and their boundaries.
const SIGNED: [&str; 8] = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
];

/// The signing key of a PEM: RSA (`RSA PRIVATE KEY`, or PKCS#8 `PRIVATE KEY`) or Ed25519
/// (PKCS#8 `PRIVATE KEY`).
fn signing_key(pem: &str) -> Result<DkimSigningKey, SmtpConfigError> {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    let key = |e: String| SmtpConfigError::Key(e);
    if pem.contains("BEGIN RSA PRIVATE KEY") {
        return DkimSigningKey::new(pem, DkimSigningAlgorithm::Rsa).map_err(|e| key(e.to_string()));
    }
    if let Ok(rsa_key) = rsa::RsaPrivateKey::from_pkcs8_pem(pem) {
        let pkcs1 = rsa_key
            .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
            .map_err(|e| key(e.to_string()))?;
        return DkimSigningKey::new(&pkcs1, DkimSigningAlgorithm::Rsa)
            .map_err(|e| key(e.to_string()));
    }
    let ed = ed25519_dalek::SigningKey::from_pkcs8_pem(pem)
        .map_err(|_| key("neither an RSA nor an Ed25519 private key in PEM".into()))?;
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD.encode(ed.to_bytes());
    DkimSigningKey::new(&raw, DkimSigningAlgorithm::Ed25519).map_err(|e| key(e.to_string()))
}

pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    dkim: Option<DkimConfig>,
}

impl SmtpMailer {
    pub fn new(url: &str, dkim: Option<DkimSettings>) -> Result<Self, SmtpConfigError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| SmtpConfigError::Url(e.to_string()))?
            .timeout(Some(Duration::from_secs(30)))
            .build();
        let dkim = match dkim {
            Some(d) => Some(DkimConfig::new(
                d.selector,
                d.domain,
                signing_key(&d.key_pem)?,
                SIGNED
                    .iter()
                    .map(|h| HeaderName::new_from_ascii_str(h))
                    .collect(),
                DkimCanonicalization {
                    header: DkimCanonicalizationType::Relaxed,
                    body: DkimCanonicalizationType::Relaxed,
                },
            )),
            None => None,
        };
        Ok(Self { transport, dkim })
    }
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(100u64 << attempt.min(6))
}

/// A permanent refusal of the recipient's mailbox (not of the sender or the session).
fn is_bounce(code: &str) -> bool {
    ["550", "551", "553"].contains(&code)
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<Delivery, MailError> {
        let mut message = crate::mime::message(mail)?;
        if let Some(cfg) = &self.dkim {
            dkim_sign(&mut message, cfg);
        }
        let mut attempt = 0;
        loop {
            match self.transport.send(message.clone()).await {
                Ok(_) => {
                    return Ok(Delivery {
                        provider: "smtp",
                        provider_message_id: format!(
                            "<{}@{}>",
                            mail.id,
                            crate::mime::MESSAGE_ID_DOMAIN
                        ),
                    });
                }
                Err(e) if e.is_permanent() => {
                    let code = e.status().map(|c| c.to_string()).unwrap_or_default();
                    return Err(if is_bounce(&code) {
                        MailError::Bounced(format!("smtp {code}"))
                    } else {
                        MailError::Rejected(format!("smtp {code}"))
                    });
                }
                // Transient (4xx), or the connection failed: again after a pause.
                Err(_) if attempt + 1 < ATTEMPTS => {
                    attempt += 1;
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(e) if e.is_transient() => return Err(MailError::Throttled),
                Err(_) => return Err(MailError::Unavailable("smtp connection failed".into())),
            }
        }
    }
}
