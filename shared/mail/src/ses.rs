//! The SES v2 mailer: `SendEmail` with the raw MIME message (so the List-Unsubscribe headers
//! travel as built), retried with exponential backoff and jitter while SES throttles.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{EmailContent, RawMessage};
use fanloop_domain::ports::{Delivery, MailError, Mailer, OutgoingMail};

/// Throttled sends are tried this many times in all before the run counts the mail as failed
/// (the marker lets a later run try again).
const ATTEMPTS: u32 = 6;

#[derive(Clone, Debug)]
pub struct SesMailer {
    client: Client,
    configuration_set: Option<String>,
}

impl SesMailer {
    pub fn new(client: Client, configuration_set: Option<String>) -> Self {
        Self {
            client,
            configuration_set,
        }
    }

    /// A client from the environment (`endpoint` for tests against moto).
    pub async fn connect(endpoint: Option<String>, configuration_set: Option<String>) -> Self {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(url) = endpoint {
            loader = loader.endpoint_url(url);
        }
        Self::new(Client::new(&loader.load().await), configuration_set)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}

fn classify<E: ProvideErrorMetadata + std::fmt::Debug>(e: &SdkError<E>) -> MailError {
    match e {
        SdkError::ServiceError(s) => match s.err().code() {
            Some("TooManyRequestsException" | "Throttling" | "ThrottlingException")
            | Some("LimitExceededException") => MailError::Throttled,
            Some(
                code @ ("MessageRejected"
                | "AccountSuspendedException"
                | "SendingPausedException"
                | "MailFromDomainNotVerifiedException"
                | "BadRequestException"
                | "NotFoundException"),
            ) => MailError::Rejected(code.to_owned()),
            code => MailError::Unavailable(format!("ses: {}", code.unwrap_or("unknown error"))),
        },
        other => MailError::Unavailable(format!("ses: {}", sdk_kind(other))),
    }
}

fn sdk_kind<E>(e: &SdkError<E>) -> &'static str {
    match e {
        SdkError::ConstructionFailure(_) => "request construction failed",
        SdkError::TimeoutError(_) => "timeout",
        SdkError::DispatchFailure(_) => "connection failed",
        SdkError::ResponseError(_) => "unreadable response",
        _ => "service error",
    }
}

fn backoff(attempt: u32) -> Duration {
    let base = 100u64 << attempt.min(6);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()))
        .unwrap_or(0);
    Duration::from_millis(base + nanos % base)
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<Delivery, MailError> {
        let raw = crate::mime::build(mail)?;
        let content = EmailContent::builder()
            .raw(
                RawMessage::builder()
                    .data(Blob::new(raw))
                    .build()
                    .map_err(|e| MailError::Rejected(format!("raw message: {e}")))?,
            )
            .build();
        let tags = mail
            .tags
            .iter()
            .map(|(name, value)| {
                aws_sdk_sesv2::types::MessageTag::builder()
                    .name(name)
                    .value(value)
                    .build()
                    .map_err(|e| MailError::Rejected(format!("message tag: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut attempt = 0;
        loop {
            let res = self
                .client
                .send_email()
                .from_email_address(mail.from.email.as_str())
                .destination(
                    aws_sdk_sesv2::types::Destination::builder()
                        .to_addresses(mail.to.email.as_str())
                        .build(),
                )
                .content(content.clone())
                .set_configuration_set_name(self.configuration_set.clone())
                .set_email_tags(Some(tags.clone()))
                .send()
                .await;
            match res {
                Ok(out) => {
                    return Ok(Delivery {
                        provider: "ses",
                        provider_message_id: out.message_id.unwrap_or_default(),
                    });
                }
                Err(e) => match classify(&e) {
                    MailError::Throttled if attempt + 1 < ATTEMPTS => {
                        attempt += 1;
                        tokio::time::sleep(backoff(attempt)).await;
                    }
                    err => return Err(err),
                },
            }
        }
    }
}
