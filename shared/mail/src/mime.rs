//! RFC 5322 messages, built with lettre: `multipart/alternative` (plain text, then HTML),
//! UTF-8 headers encoded per RFC 2047, and the one-click unsubscribe headers of RFC 8058.

use fanloop_domain::ports::{MailError, Mailbox, OutgoingMail};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox as LettreMailbox, MultiPart};

/// The domain of Fanloop's `Message-ID`s (`<{id}@fanloop.mail>`).
pub const MESSAGE_ID_DOMAIN: &str = "fanloop.mail";

fn mailbox(m: &Mailbox) -> Result<LettreMailbox, MailError> {
    let address =
        m.email.as_str().parse().map_err(|_| {
            MailError::Rejected("an address the MIME builder does not accept".into())
        })?;
    Ok(LettreMailbox::new(m.name.clone(), address))
}

/// The message as bytes, ready for SES `SendEmail` (raw) or an `.eml` file.
pub fn build(mail: &OutgoingMail) -> Result<Vec<u8>, MailError> {
    Ok(message(mail)?.formatted())
}

/// The message, for a transport that signs or sends lettre's own (SMTP with DKIM).
pub fn message(mail: &OutgoingMail) -> Result<lettre::Message, MailError> {
    let date = std::time::SystemTime::UNIX_EPOCH
        + std::time::Duration::from_millis(u64::try_from(mail.date.as_millisecond()).unwrap_or(0));
    let message = lettre::Message::builder()
        .from(mailbox(&mail.from)?)
        .to(mailbox(&mail.to)?)
        .subject(mail.subject.clone())
        .date(date)
        .message_id(Some(format!("<{}@{MESSAGE_ID_DOMAIN}>", mail.id)))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe"),
            format!("<{}>", mail.unsubscribe_url),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".to_owned(),
        ))
        .multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            mail.html.clone(),
        ))
        .map_err(|e| MailError::Rejected(format!("message could not be built: {e}")))?;
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fanloop_domain::values::Email;

    pub(crate) fn sample() -> OutgoingMail {
        OutgoingMail {
            id: "01JDTESTMESSAGE".into(),
            from: Mailbox {
                email: Email::parse("hello@star-arena.example").unwrap(),
                name: Some("Star Arena".into()),
            },
            to: Mailbox {
                email: Email::parse("li.wei@example.com").unwrap(),
                name: Some("李伟".into()),
            },
            subject: "李伟，生日快乐！Star Arena为你准备了一份礼物".into(),
            html: "<p>生日快乐</p>".into(),
            text: "生日快乐".into(),
            unsubscribe_url: "https://fanloop.example/unsubscribe/v1.abc.def".into(),
            date: "2026-11-25T02:00:00Z".parse().unwrap(),
            tags: vec![("fl_message".into(), "01KTESTMAIL".into())],
        }
    }

    #[test]
    fn headers_are_encoded_and_carry_one_click_unsubscribe() {
        let raw = String::from_utf8(build(&sample()).unwrap()).unwrap();
        let headers = raw.split("\r\n\r\n").next().unwrap();
        assert!(headers.is_ascii(), "UTF-8 only in encoded words: {headers}");
        assert!(headers.contains("Subject: =?utf-8?"), "{headers}");
        assert!(
            headers.contains("List-Unsubscribe: <https://fanloop.example/unsubscribe/v1.abc.def>")
        );
        assert!(headers.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(headers.contains("Message-ID: <01JDTESTMESSAGE@fanloop.mail>"));
        assert!(headers.contains("Date: Wed, 25 Nov 2026 02:00:00"));
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.contains("text/plain; charset=utf-8"));
        assert!(raw.contains("text/html; charset=utf-8"));
    }
}
