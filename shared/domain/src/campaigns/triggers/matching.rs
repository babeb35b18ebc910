//! Which definitions a trigger record starts, and the send rule of such a send.

use jiff::{SignedDuration, Timestamp};

use super::record::{TriggerEvent, TriggerRecord};
use crate::campaigns::audience::AudienceCheck;
use crate::campaigns::definition::Trigger;

/// Whether a definition's trigger is started by `event`.
pub fn matches(trigger: &Trigger, event: &TriggerEvent) -> bool {
    match (trigger, event) {
        (
            Trigger::Purchase {
                min_amount_minor,
                category,
            },
            TriggerEvent::Purchase {
                amount_minor, item, ..
            },
        ) => {
            let amount_ok =
                min_amount_minor.is_none_or(|min| amount_minor.is_some_and(|a| a >= min.get()));
            let category_ok = category.as_ref().is_none_or(|c| {
                item.as_ref()
                    .and_then(|i| i.category.as_ref())
                    .is_some_and(|ic| ic.as_str() == c.0)
            });
            amount_ok && category_ok
        }
        (Trigger::TierUp { to }, TriggerEvent::TierUp { to: reached, .. }) => {
            to.as_ref().is_none_or(|t| t == reached)
        }
        (Trigger::Signup {}, TriggerEvent::Signup {}) => true,
        (Trigger::SurveyUnhappy {}, TriggerEvent::SurveyUnhappy { .. }) => true,
        _ => false,
    }
}

/// A send started by a trigger record.
#[derive(Clone, Debug)]
pub struct EventRule {
    pub record: TriggerRecord,
    pub audience: AudienceCheck,
    /// A mail that quiet hours would hold past this after the event is dropped.
    pub max_delay: Option<SignedDuration>,
}

impl EventRule {
    /// Whether a send at `at` is later than the event allows.
    pub fn too_late(&self, at: Timestamp) -> bool {
        self.max_delay.is_some_and(|d| {
            self.record
                .occurred_at
                .checked_add(d)
                .is_ok_and(|limit| at > limit)
        })
    }
}
