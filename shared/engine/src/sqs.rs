//! The broadcast queue on AWS: batches as SQS messages (JSON bodies of ids), up to 10 per
//! `SendMessageBatch`; the `broadcasts` function consumes them at the SES rate.

use async_trait::async_trait;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use crate::fanout::{QueueError, SendBatch, SendQueue};

/// Messages per `SendMessageBatch` (the SQS maximum).
const PER_CALL: usize = 10;

pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: String) -> Self {
        Self { client, url }
    }

    /// The queue at `url`; `endpoint` overrides SQS's (tests: moto).
    pub async fn connect(
        conf: &aws_config::SdkConfig,
        url: String,
        endpoint: Option<String>,
    ) -> Self {
        let mut b = aws_sdk_sqs::config::Builder::from(conf);
        if let Some(e) = endpoint {
            b = b.endpoint_url(e);
        }
        Self {
            client: aws_sdk_sqs::Client::from_conf(b.build()),
            url,
        }
    }
}

#[async_trait]
impl SendQueue for SqsQueue {
    async fn enqueue(&self, batches: &[SendBatch]) -> Result<(), QueueError> {
        for chunk in batches.chunks(PER_CALL) {
            let mut entries = Vec::with_capacity(chunk.len());
            for (i, b) in chunk.iter().enumerate() {
                let body = serde_json::to_string(b).map_err(|e| QueueError(e.to_string()))?;
                entries.push(
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(body)
                        .build()
                        .map_err(|e| QueueError(e.to_string()))?,
                );
            }
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| QueueError(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))?;
            // Entries refused within an accepted call fail the run too: its retry queues them.
            if let Some(f) = out.failed().first() {
                return Err(QueueError(format!(
                    "{} of {} messages refused: {}",
                    out.failed().len(),
                    chunk.len(),
                    f.code()
                )));
            }
        }
        Ok(())
    }
}
