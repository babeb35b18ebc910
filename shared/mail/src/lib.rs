//! Mail for Fanloop: the campaign templates (zh-CN, en, tenant overrides), RFC 5322 messages
//! built with lettre, and the two mailers behind the domain's `Mailer` port: the outbox (one
//! `.eml` file per mail, local mode's default), SES v2 (feature `ses`) and SMTP with DKIM
//! (feature `smtp`, for `fanloop serve`).

pub mod context;
pub mod mime;
pub mod outbox;
#[cfg(feature = "ses")]
pub mod ses;
#[cfg(feature = "smtp")]
pub mod smtp;
pub mod templates;

pub use outbox::OutboxMailer;
#[cfg(feature = "ses")]
pub use ses::SesMailer;
#[cfg(feature = "smtp")]
pub use smtp::{DkimSettings, SmtpMailer};
pub use templates::{MailContext, Rendered, Templates};
