//! The outbox mailer of local mode: every mail becomes `{outbox}/{message id}.eml`, written to a
//! temporary name and renamed, so a reader never sees half a file and a retried send of the same
//! message replaces its file instead of adding a second one.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use fanloop_domain::ports::{Delivery, MailCopies, MailError, Mailer, OutgoingMail};

pub struct OutboxMailer {
    dir: PathBuf,
}

impl OutboxMailer {
    /// Creates the directory if needed.
    pub fn new(dir: impl Into<PathBuf>) -> std::io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Message ids are ULIDs; anything else is refused rather than used in a path.
fn file_stem(id: &str) -> Result<&str, MailError> {
    if !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(id)
    } else {
        Err(MailError::Rejected(
            "message id is not a plain token".into(),
        ))
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<Delivery, MailError> {
        let bytes = crate::mime::build(mail)?;
        let stem = file_stem(&mail.id)?.to_owned();
        let (tmp, path) = (
            self.dir.join(format!(".{stem}.eml.tmp")),
            self.dir.join(format!("{stem}.eml")),
        );
        tokio::task::spawn_blocking(move || {
            std::fs::write(&tmp, bytes)?;
            std::fs::rename(&tmp, &path)
        })
        .await
        .map_err(|e| MailError::Unavailable(format!("outbox task: {e}")))?
        .map_err(|e| MailError::Unavailable(format!("outbox: {}", e.kind())))?;
        Ok(Delivery {
            provider: "outbox",
            provider_message_id: format!("{stem}.eml"),
        })
    }
}

#[async_trait]
impl MailCopies for OutboxMailer {
    async fn forget(&self, message_ids: &[String]) -> Result<(), MailError> {
        let mut paths = Vec::with_capacity(message_ids.len() * 2);
        for id in message_ids {
            let stem = file_stem(id)?;
            paths.push(self.dir.join(format!("{stem}.eml")));
            paths.push(self.dir.join(format!(".{stem}.eml.tmp")));
        }
        tokio::task::spawn_blocking(move || {
            for path in paths {
                match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
            Ok(())
        })
        .await
        .map_err(|e| MailError::Unavailable(format!("outbox task: {e}")))?
        .map_err(|e| MailError::Unavailable(format!("outbox: {}", e.kind())))
    }
}
