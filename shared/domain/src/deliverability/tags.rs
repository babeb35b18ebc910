//! The tags a mail carries to its provider (SES message tags) so that what the provider says
//! about it later finds its tenant, customer and message. A tag value may hold only
//! `A-Z a-z 0-9 _ -`; ids also use `. : @`, which are written `_d _c _a` (and `_` as `_u`).

use crate::ids::{CustomerId, TenantId};

pub const TAG_TENANT: &str = "fl_tenant";
pub const TAG_CUSTOMER: &str = "fl_customer";
pub const TAG_MESSAGE: &str = "fl_message";

/// Whose mail a provider's event is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailRef {
    pub tenant: TenantId,
    pub customer: CustomerId,
    pub message_id: String,
}

fn encode(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for c in id.chars() {
        match c {
            '_' => out.push_str("_u"),
            '.' => out.push_str("_d"),
            ':' => out.push_str("_c"),
            '@' => out.push_str("_a"),
            c => out.push(c),
        }
    }
    out
}

fn decode(tag: &str) -> Option<String> {
    let mut out = String::with_capacity(tag.len());
    let mut chars = tag.chars();
    while let Some(c) = chars.next() {
        if c == '_' {
            out.push(match chars.next()? {
                'u' => '_',
                'd' => '.',
                'c' => ':',
                'a' => '@',
                _ => return None,
            });
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// The tags of one mail.
pub fn mail_tags(r: &MailRef) -> Vec<(String, String)> {
    vec![
        (TAG_TENANT.to_owned(), encode(r.tenant.as_str())),
        (TAG_CUSTOMER.to_owned(), encode(r.customer.as_str())),
        (TAG_MESSAGE.to_owned(), encode(&r.message_id)),
    ]
}

impl MailRef {
    /// Reads the tags back (`get`: a tag's first value); `None` unless all three are there.
    pub fn from_tags<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Option<Self> {
        let read = |name| get(name).and_then(decode);
        Some(Self {
            tenant: TenantId::parse(read(TAG_TENANT)?).ok()?,
            customer: CustomerId::parse(read(TAG_CUSTOMER)?).ok()?,
            message_id: read(TAG_MESSAGE)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_every_id_character() {
        let r = MailRef {
            tenant: TenantId::parse("star-arena").unwrap(),
            customer: CustomerId::parse("steam:7656@x_y").unwrap(),
            message_id: "01JD0000000000000000000000".into(),
        };
        let tags = mail_tags(&r);
        assert!(tags.iter().all(|(_, v)| {
            v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        }));
        let back =
            MailRef::from_tags(|n| tags.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str()));
        assert_eq!(back, Some(r));
        assert_eq!(decode("a_x"), None);
    }
}
