//! A customer's timeline: behaviour events, ledger entries, messages, survey answers,
//! follow-ups and logged contacts merged newest first — the one read a support agent needs.
//!
//! Each page reads at most `limit` items of each source before the cursor and keeps the newest
//! `limit` of them all. The cursor holds a position per source: the ledger's sequence number,
//! the events' and the contacts' sort keys, and one instant-and-id boundary for the sources a
//! customer has few of (messages, answers, follow-ups), which are read whole and filtered.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::campaigns::Message;
use crate::contacts::Contact;
use crate::events::BehaviourEvent;
use crate::points::LedgerEntry;
use crate::surveys::{FollowUp, SurveyResponse};
use crate::time::serde_ts;

/// What one timeline item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemType {
    Event,
    Ledger,
    Message,
    SurveyResponse,
    FollowUp,
    Contact,
}

/// One item: its type, when it happened, and the item itself under the field its type names.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct TimelineItem {
    #[serde(rename = "type")]
    pub item_type: ItemType,
    #[serde(with = "serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<BehaviourEvent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<LedgerEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub message: Option<Message>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub response: Option<SurveyResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub followup: Option<FollowUp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// Unique within the customer's timeline (with the type): ties at one instant are ordered
    /// by it.
    #[serde(skip)]
    id: String,
}

impl TimelineItem {
    fn new(item_type: ItemType, at: Timestamp, id: String) -> Self {
        Self {
            item_type,
            at,
            event: None,
            entry: None,
            message: None,
            response: None,
            followup: None,
            contact: None,
            id,
        }
    }

    /// Newest first; at one instant by type, then id (all descending).
    fn order_key(&self) -> (Timestamp, ItemType, String) {
        (self.at, self.item_type, self.id.clone())
    }
}

/// Where a page ends, per source.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineCursor {
    /// Ledger entries below this `seq`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger_before: Option<u64>,
    /// Events below this sort key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events_before: Option<String>,
    /// Contacts below this sort key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contacts_before: Option<String>,
    /// Messages, answers and follow-ups older than this `(ms, type, id)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub others_before: Option<(i64, ItemType, String)>,
}

/// What each source returned for a page: ledger, events and contacts at most `limit` each,
/// read with the cursor's positions; the others whole.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    pub ledger: Vec<LedgerEntry>,
    pub events: Vec<BehaviourEvent>,
    pub messages: Vec<Message>,
    pub responses: Vec<SurveyResponse>,
    pub followups: Vec<FollowUp>,
    pub contacts: Vec<Contact>,
}

/// A page of the timeline and the cursor of the next one (`None` on the last page).
pub fn page(
    sources: Sources,
    cursor: &TimelineCursor,
    limit: usize,
) -> (Vec<TimelineItem>, Option<TimelineCursor>) {
    // A source that filled its read may hold more.
    let more_behind = sources.ledger.len() >= limit
        || sources.events.len() >= limit
        || sources.contacts.len() >= limit;
    let mut items = Vec::new();
    for e in sources.ledger {
        let mut i = TimelineItem::new(ItemType::Ledger, e.at, format!("{:020}", e.seq));
        i.entry = Some(e);
        items.push(i);
    }
    for e in sources.events {
        let mut i = TimelineItem::new(ItemType::Event, e.occurred_at, e.sort_key());
        i.event = Some(e);
        items.push(i);
    }
    for c in sources.contacts {
        let mut i = TimelineItem::new(ItemType::Contact, c.at, c.sort_key());
        i.contact = Some(c);
        items.push(i);
    }
    let mut others = Vec::new();
    for m in sources.messages {
        let mut i = TimelineItem::new(ItemType::Message, m.created_at, m.id.clone());
        i.message = Some(m);
        others.push(i);
    }
    for r in sources.responses {
        let id = format!("{}#{}", r.survey_id, r.response_id);
        let mut i = TimelineItem::new(ItemType::SurveyResponse, r.submitted_at, id);
        i.response = Some(r);
        others.push(i);
    }
    for f in sources.followups {
        let mut i = TimelineItem::new(ItemType::FollowUp, f.opened_at, f.id.clone());
        i.followup = Some(f);
        others.push(i);
    }
    let before = cursor.others_before.clone();
    items.extend(others.into_iter().filter(|i| {
        before
            .as_ref()
            .is_none_or(|(ms, t, id)| i.order_key() < (ms_to_ts(*ms), *t, id.clone()))
    }));
    items.sort_by_key(|i| std::cmp::Reverse(i.order_key()));
    let more = more_behind || items.len() > limit;
    items.truncate(limit);

    let mut next = cursor.clone();
    for i in &items {
        match i.item_type {
            ItemType::Ledger => next.ledger_before = i.entry.as_ref().map(|e| e.seq),
            ItemType::Event => next.events_before = Some(i.id.clone()),
            ItemType::Contact => next.contacts_before = Some(i.id.clone()),
            t => next.others_before = Some((i.at.as_millisecond(), t, i.id.clone())),
        }
    }
    (items, more.then_some(next))
}

fn ms_to_ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventKind;
    use crate::points::LedgerKind;

    fn at(min: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + min * 60).unwrap()
    }

    fn entry(seq: u64, min: i64) -> LedgerEntry {
        LedgerEntry {
            seq,
            key: format!("expiry:{seq}"),
            kind: LedgerKind::Expiry,
            points: 0,
            balance_after: 0,
            at: at(min),
            occurred_at: None,
            facts: Default::default(),
            correction: None,
        }
    }

    fn event(id: &str, min: i64) -> BehaviourEvent {
        BehaviourEvent {
            event_id: crate::ExternalId::parse(id).unwrap(),
            kind: EventKind::Login,
            occurred_at: at(min),
            recorded_at: at(min),
            properties: Default::default(),
            expires_at: at(min + 100_000),
        }
    }

    fn contact(id: &str, min: i64) -> Contact {
        Contact {
            contact_id: id.into(),
            channel: crate::contacts::ContactChannel::Phone,
            direction: crate::contacts::Direction::Inbound,
            summary: "s".into(),
            outcome: None,
            at: at(min),
            recorded_at: at(min),
            recorded_by: crate::contacts::ContactAuthor::Staff {
                staff_id: "s1".into(),
            },
            fingerprint: String::new(),
        }
    }

    /// Pages through sources read as the stores do (newest first, before the cursor).
    fn walk(
        ledger: &[LedgerEntry],
        events: &[BehaviourEvent],
        contacts: &[Contact],
        limit: usize,
    ) -> Vec<String> {
        let mut cursor = TimelineCursor::default();
        let mut seen = Vec::new();
        for _ in 0..100 {
            let mut l: Vec<_> = ledger
                .iter()
                .filter(|e| cursor.ledger_before.is_none_or(|b| e.seq < b))
                .cloned()
                .collect();
            l.sort_by_key(|e| std::cmp::Reverse(e.seq));
            l.truncate(limit);
            let mut ev: Vec<_> = events
                .iter()
                .filter(|e| {
                    cursor
                        .events_before
                        .as_ref()
                        .is_none_or(|b| &e.sort_key() < b)
                })
                .cloned()
                .collect();
            ev.sort_by_key(|e| std::cmp::Reverse(e.sort_key()));
            ev.truncate(limit);
            let mut co: Vec<_> = contacts
                .iter()
                .filter(|c| {
                    cursor
                        .contacts_before
                        .as_ref()
                        .is_none_or(|b| &c.sort_key() < b)
                })
                .cloned()
                .collect();
            co.sort_by_key(|c| std::cmp::Reverse(c.sort_key()));
            co.truncate(limit);
            let sources = Sources {
                ledger: l,
                events: ev,
                contacts: co,
                ..Default::default()
            };
            let (items, next) = page(sources, &cursor, limit);
            seen.extend(items.iter().map(|i| i.id.clone()));
            match next {
                Some(c) => cursor = c,
                None => return seen,
            }
        }
        panic!("no last page");
    }

    #[test]
    fn pages_cover_every_item_once_in_time_order() {
        // 25 ledger entries every 2 minutes; 9 events bunched at the start and the end; 6
        // contacts in the middle, two at one instant.
        let ledger: Vec<_> = (1..=25).map(|s| entry(s, 2 * s as i64)).collect();
        let mut events: Vec<_> = (0..5).map(|i| event(&format!("a{i}"), i)).collect();
        events.extend((0..4).map(|i| event(&format!("z{i}"), 60 + i)));
        let contacts: Vec<_> = (0..6)
            .map(|i| contact(&format!("k{i}"), 20 + i.min(4)))
            .collect();
        let whole = walk(&ledger, &events, &contacts, 100);
        assert_eq!(whole.len(), 40);
        assert!(whole[0].ends_with("#z3"), "{whole:?}");
        assert_eq!(whole.iter().filter(|i| i.contains("#k")).count(), 6);
        for limit in [1, 2, 3, 7, 10] {
            assert_eq!(
                walk(&ledger, &events, &contacts, limit),
                whole,
                "pages of {limit}"
            );
        }
    }
}
