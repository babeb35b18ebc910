//! SES event JSON as the configuration set publishes it — through EventBridge (`detail`), SNS
//! (`Message`, a string) or as is — read into what Fanloop acts on. Only the fields used are
//! read; the rest (headers, MTAs, diagnostic text) is ignored, so none of it is ever logged.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;

use super::tags::MailRef;
use crate::values::Email;

/// What the provider says became of a mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeedbackKind {
    Delivered,
    /// `permanent`: a hard bounce (the address does not exist); else transient or undetermined.
    Bounced {
        permanent: bool,
    },
    /// A recipient marked it as spam (`feedback_type` as the mailbox provider reported it:
    /// `abuse`, `fraud`, `not-spam`, …).
    Complained {
        feedback_type: Option<String>,
    },
    /// SES refused to send it (a virus, say): nothing reached anyone.
    Rejected,
}

/// One event about one mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedbackEvent {
    pub kind: FeedbackKind,
    /// The recipients it is about (a bounce names the bounced ones).
    pub recipients: Vec<Email>,
    pub at: Timestamp,
    /// The mail's tags read back; `None` for a mail not sent by Fanloop (or sent before tags).
    pub mail: Option<MailRef>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    event_type: Option<String>,
    notification_type: Option<String>,
    mail: RawMail,
    bounce: Option<RawBounce>,
    complaint: Option<RawComplaint>,
    delivery: Option<RawDelivery>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMail {
    timestamp: Option<String>,
    #[serde(default)]
    destination: Vec<String>,
    #[serde(default)]
    tags: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBounce {
    bounce_type: String,
    #[serde(default)]
    bounced_recipients: Vec<RawRecipient>,
    timestamp: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawComplaint {
    #[serde(default)]
    complained_recipients: Vec<RawRecipient>,
    complaint_feedback_type: Option<String>,
    timestamp: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDelivery {
    #[serde(default)]
    recipients: Vec<String>,
    timestamp: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRecipient {
    email_address: String,
}

/// Why an event could not be read (no personal data in the text).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not an SES event: {0}")]
pub struct NotAnEvent(pub &'static str);

/// The SES event inside `v`: an EventBridge event's `detail`, an SNS message's `Message`, or
/// the event itself. `Ok(None)`: an SES event Fanloop does not act on (send, open, click, …).
pub fn parse_event(v: &Value) -> Result<Option<FeedbackEvent>, NotAnEvent> {
    let inner = if let Some(d) = v.get("detail") {
        d.clone()
    } else if let Some(m) = v
        .get("Message")
        .or_else(|| v.get("Sns").and_then(|s| s.get("Message")))
    {
        let text = m.as_str().ok_or(NotAnEvent("Message is not a string"))?;
        serde_json::from_str(text).map_err(|_| NotAnEvent("Message is not JSON"))?
    } else {
        v.clone()
    };
    let raw: Raw = serde_json::from_value(inner).map_err(|_| NotAnEvent("unexpected shape"))?;
    let event_type = raw
        .event_type
        .or(raw.notification_type)
        .ok_or(NotAnEvent("no eventType"))?;
    let ts = |s: Option<&String>| s.and_then(|s| s.parse::<Timestamp>().ok());
    let mail_at = ts(raw.mail.timestamp.as_ref());
    let emails = |list: Vec<String>| -> Vec<Email> {
        list.into_iter()
            .filter_map(|e| Email::parse(e).ok())
            .collect()
    };
    let (kind, recipients, at) = match event_type.as_str() {
        "Delivery" => {
            let d = raw.delivery.ok_or(NotAnEvent("no delivery"))?;
            (
                FeedbackKind::Delivered,
                emails(d.recipients),
                ts(d.timestamp.as_ref()),
            )
        }
        "Bounce" => {
            let b = raw.bounce.ok_or(NotAnEvent("no bounce"))?;
            let list = b
                .bounced_recipients
                .into_iter()
                .map(|r| r.email_address)
                .collect();
            (
                FeedbackKind::Bounced {
                    permanent: b.bounce_type == "Permanent",
                },
                emails(list),
                ts(b.timestamp.as_ref()),
            )
        }
        "Complaint" => {
            let c = raw.complaint.ok_or(NotAnEvent("no complaint"))?;
            let list = c
                .complained_recipients
                .into_iter()
                .map(|r| r.email_address)
                .collect();
            (
                FeedbackKind::Complained {
                    feedback_type: c.complaint_feedback_type,
                },
                emails(list),
                ts(c.timestamp.as_ref()),
            )
        }
        "Reject" => (FeedbackKind::Rejected, emails(raw.mail.destination), None),
        _ => return Ok(None),
    };
    let tags = raw.mail.tags;
    let mail =
        MailRef::from_tags(|name| tags.get(name).and_then(|v| v.first()).map(String::as_str));
    Ok(Some(FeedbackEvent {
        kind,
        recipients,
        at: at.or(mail_at).ok_or(NotAnEvent("no timestamp"))?,
        mail,
    }))
}
