//! Mail for Fanloop: the campaign templates (zh-CN, en, tenant overrides), RFC 5322 messages
//! built with lettre, and the two mailers behind the domain's `Mailer` port: the outbox (one
//! `.eml` file per mail, local mode) and SES v2 (feature `ses`).

pub mod context;
pub mod mime;
pub mod outbox;
#[cfg(feature = "ses")]
pub mod ses;
pub mod templates;

pub use outbox::OutboxMailer;
#[cfg(feature = "ses")]
pub use ses::SesMailer;
pub use templates::{MailContext, Rendered, Templates};
