//! One case and what staff do to it. Every change says whether it changed anything, so a
//! retried form post writes nothing twice.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{CustomerId, ExternalId};
use crate::surveys::{FollowUp, SurveyId};
use crate::time::serde_ts;

use super::SlaHours;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    High,
    Normal,
    Low,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Self::High, Self::Normal, Self::Low];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::High => "high",
            Self::Normal => "normal",
            Self::Low => "low",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Someone has to act.
    Open,
    /// Waiting for the customer or a third party.
    Pending,
    Resolved,
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 3] = [Self::Open, Self::Pending, Self::Resolved];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Pending => "pending",
            Self::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// What the case is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    Complaint,
    Feedback,
    /// An unhappy survey answer (its follow-up).
    Followup,
}

impl CaseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Complaint => "complaint",
            Self::Feedback => "feedback",
            Self::Followup => "followup",
        }
    }
}

/// Who opened a case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CaseAuthor {
    ApiKey {
        key_id: String,
    },
    Staff {
        staff_id: String,
    },
    /// An unhappy survey answer.
    Survey,
}

/// The answer a follow-up case comes from (its id is the follow-up's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FollowUpRef {
    #[schema(value_type = String)]
    pub survey_id: SurveyId,
    #[schema(value_type = String)]
    pub response_id: ExternalId,
    pub nps: Option<u8>,
    pub csat: Option<u8>,
}

/// A note staff wrote on a case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseNote {
    pub staff_id: String,
    pub text: String,
    #[serde(with = "serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

/// Which cases a list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseView {
    /// Open and pending, soonest due first (the queue).
    Active,
    /// Resolved, most recently resolved first.
    Resolved,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Case {
    pub case_id: String,
    pub kind: CaseKind,
    #[schema(value_type = Option<String>)]
    pub customer_id: Option<CustomerId>,
    /// One line for the queue (empty once the customer was erased).
    pub subject: String,
    pub description: Option<String>,
    pub priority: Priority,
    pub status: CaseStatus,
    /// The staff id working it.
    pub assignee: Option<String>,
    #[serde(with = "serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub opened_at: Timestamp,
    /// `opened_at` plus the SLA of its priority.
    #[serde(with = "serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub due_at: Timestamp,
    #[serde(with = "serde_ts::option", default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<Timestamp>,
    pub resolution: Option<String>,
    #[serde(default)]
    pub notes: Vec<CaseNote>,
    pub opened_by: CaseAuthor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followup: Option<FollowUpRef>,
    /// A digest of the request that opened it (a retry's must match); not shown.
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub fingerprint: String,
    /// The stored version (optimistic concurrency); not shown.
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub version: u64,
}

fn due(opened_at: Timestamp, priority: Priority, sla: &SlaHours) -> Timestamp {
    let hours = SignedDuration::from_hours(i64::from(sla.of(priority)));
    opened_at.checked_add(hours).unwrap_or(Timestamp::MAX)
}

impl Case {
    /// A new open case, due by the SLA of its priority.
    #[allow(clippy::too_many_arguments)]
    pub fn open(
        case_id: String,
        kind: CaseKind,
        customer_id: Option<CustomerId>,
        subject: String,
        description: Option<String>,
        priority: Priority,
        opened_by: CaseAuthor,
        sla: &SlaHours,
        now: Timestamp,
    ) -> Self {
        Self {
            case_id,
            kind,
            customer_id,
            subject,
            description,
            priority,
            status: CaseStatus::Open,
            assignee: None,
            opened_at: now,
            due_at: due(now, priority, sla),
            resolved_at: None,
            resolution: None,
            notes: Vec::new(),
            opened_by,
            followup: None,
            fingerprint: String::new(),
            version: 0,
        }
    }

    /// The case an unhappy answer's follow-up becomes: same id, opened when it was, the
    /// customer's comment as its description.
    pub fn from_followup(f: &FollowUp, priority: Priority, sla: &SlaHours) -> Self {
        let score = match (f.nps, f.csat) {
            (Some(n), _) => format!("NPS {n}"),
            (None, Some(c)) => format!("CSAT {c}"),
            (None, None) => "unhappy".to_owned(),
        };
        let mut case = Self::open(
            f.id.clone(),
            CaseKind::Followup,
            f.customer_id.clone(),
            format!("{score} · {}", f.survey_id),
            f.comment.clone(),
            priority,
            CaseAuthor::Survey,
            sla,
            f.opened_at,
        );
        case.fingerprint = format!("followup:{}", f.id);
        case.followup = Some(FollowUpRef {
            survey_id: f.survey_id.clone(),
            response_id: f.response_id.clone(),
            nps: f.nps,
            csat: f.csat,
        });
        case
    }

    pub fn is_active(&self) -> bool {
        self.status != CaseStatus::Resolved
    }

    /// Open or pending past its due time.
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.is_active() && now > self.due_at
    }

    /// Where the case sorts in its list: active ones by due time, resolved ones by when.
    pub fn list_key(&self) -> String {
        let (tag, at) = match self.resolved_at.filter(|_| !self.is_active()) {
            Some(at) => ("R", at),
            None => ("A", self.due_at),
        };
        format!("{tag}#{:015}#{}", at.as_millisecond().max(0), self.case_id)
    }

    pub fn view_prefix(view: CaseView) -> &'static str {
        match view {
            CaseView::Active => "A#",
            CaseView::Resolved => "R#",
        }
    }

    /// `None` unassigns.
    pub fn assign(&mut self, staff_id: Option<String>) -> bool {
        if self.assignee == staff_id {
            return false;
        }
        self.assignee = staff_id;
        true
    }

    /// A new priority moves the due time to what its SLA gives from `opened_at`.
    pub fn set_priority(&mut self, priority: Priority, sla: &SlaHours) -> bool {
        if self.priority == priority {
            return false;
        }
        self.priority = priority;
        self.due_at = due(self.opened_at, priority, sla);
        true
    }

    /// Open or pending; from resolved this reopens the case (the resolution goes to a note so
    /// nothing staff wrote is lost).
    pub fn set_status(&mut self, status: CaseStatus, staff_id: &str, now: Timestamp) -> bool {
        if status == self.status || status == CaseStatus::Resolved {
            return false;
        }
        if self.status == CaseStatus::Resolved {
            self.resolved_at = None;
            if let Some(text) = self.resolution.take() {
                self.notes.push(CaseNote {
                    staff_id: staff_id.to_owned(),
                    text,
                    at: now,
                });
            }
        }
        self.status = status;
        true
    }

    /// `false` when the same note is already the last one (a resubmitted form) or the case has
    /// [`super::NOTES_MAX`] notes.
    pub fn add_note(&mut self, note: CaseNote) -> bool {
        let repeat = self
            .notes
            .last()
            .is_some_and(|n| n.staff_id == note.staff_id && n.text == note.text);
        if repeat || self.notes.len() >= super::NOTES_MAX {
            return false;
        }
        self.notes.push(note);
        true
    }

    /// `false` when it was resolved already (nothing changes).
    pub fn resolve(&mut self, resolution: String, now: Timestamp) -> bool {
        if self.status == CaseStatus::Resolved {
            return false;
        }
        self.status = CaseStatus::Resolved;
        self.resolved_at = Some(now);
        self.resolution = Some(resolution);
        true
    }

    /// Erasure: the customer and every text about them go; kind, priority, status and times
    /// stay so the queue's figures still add up. `false` when there was nothing left.
    pub fn anonymise(&mut self) -> bool {
        let changed = self.customer_id.is_some()
            || !self.subject.is_empty()
            || self.description.is_some()
            || self.resolution.is_some()
            || self.notes.iter().any(|n| !n.text.is_empty());
        self.customer_id = None;
        self.subject.clear();
        self.description = None;
        self.resolution = None;
        for n in &mut self.notes {
            n.text.clear();
        }
        self.fingerprint.clear();
        changed
    }
}
