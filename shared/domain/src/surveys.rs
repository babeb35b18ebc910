//! Surveys: NPS and CSAT responses, the daily counters they add to, the summaries read from
//! those counters, and the follow-up cases unhappy answers open. Pure: the surveys function
//! reads and writes through [`crate::ports::SurveyStore`].

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::error::ValidationErrors;
use crate::ids::{CustomerId, ExternalId, ID_MAX_LEN, check_id};
use crate::lifecycle::Stage;
use crate::points::rules::TierName;
use crate::wire::{Bounded, DateTime, Text, Wire};

crate::string_newtype!(
    /// A survey's id, chosen by the tenant (`post-match-2026-11`).
    SurveyId,
    schema: { pattern: crate::ids::ID_PATTERN },
    |s| check_id(&s, ID_MAX_LEN).map(|_| s)
);

crate::string_newtype!(
    /// Where the answer was given (`in_game`, `email`, `stream_overlay`), 1–32 id characters.
    Channel,
    schema: { pattern: crate::ids::id_pattern(32) },
    |s| check_id(&s, 32).map(|_| s)
);

/// At most this many responses in one batch request.
pub const BATCH_MAX: usize = 100;
/// A comment may be this long, in characters.
pub const COMMENT_MAX_CHARS: usize = 2000;
/// `submitted_at` may be at most this far ahead of the clock (device clock skew).
pub const SUBMITTED_MAX_AHEAD: SignedDuration = SignedDuration::from_mins(5);
/// … and at most this old: counters are daily, and older days are history.
pub const SUBMITTED_MAX_AGE_DAYS: i64 = 366;
/// A summary covers at most this many days.
pub use crate::time::{MAX_RANGE_DAYS as SUMMARY_MAX_DAYS, day_range as summary_range};
/// The counters of a survey are spread over this many shards (partitions on DynamoDB), so a
/// hot survey is not held to one partition's write limit; a summary reads every shard.
pub const SHARDS: u32 = 8;

/// A response as sent by the client, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct ResponseInput {
    pub response_id: ExternalId,
    pub customer_id: Option<CustomerId>,
    pub nps: Option<u8>,
    pub csat: Option<u8>,
    pub comment: Option<String>,
    pub channel: Option<Channel>,
    pub submitted_at: Option<Timestamp>,
}

crate::wire_struct! {
    /// One survey answer as the client sends it.
    pub struct ResponseBody {
        /// Your id of the response: it counts once, however often it is sent.
        pub response_id: ExternalId,
        /// Must be a customer of the tenant; the answer counts as their activity.
        pub customer_id: Option<CustomerId>,
        /// 0–10. At least one of `nps` and `csat`.
        pub nps: Option<Bounded<0, 10>>,
        /// 1–5.
        pub csat: Option<Bounded<1, 5>>,
        /// Stored as given, never logged.
        pub comment: Option<Text<{ COMMENT_MAX_CHARS }>>,
        /// `in_game`, `email`, … (1–32 id characters).
        pub channel: Option<Channel>,
        /// Default now. Not in the future (5 minutes of skew allowed), not over 366 days old.
        pub submitted_at: Option<DateTime>,
    }
}

impl ResponseInput {
    /// Parses one response object; `prefix` names the fields of a batch item (`responses[3]`),
    /// `survey_id` is read from the body too when `with_survey` (SQS messages).
    pub fn from_json(
        body: Value,
        prefix: &str,
        now: Timestamp,
        with_survey: bool,
    ) -> Result<(Option<SurveyId>, Self), ValidationErrors> {
        let mut body = body;
        let mut errs = ValidationErrors::default();
        let survey = match (with_survey, body.as_object_mut()) {
            (true, Some(map)) => match map.remove("survey_id").map(serde_json::from_value) {
                Some(Ok(s)) => Some(s),
                Some(Err(e)) => {
                    errs.push(field(prefix, "survey_id"), e.to_string());
                    None
                }
                None => {
                    errs.push(field(prefix, "survey_id"), "is required");
                    None
                }
            },
            _ => None,
        };
        let b = match ResponseBody::parse_at(body, prefix) {
            Ok(b) => b,
            Err(e) => {
                errs.0.extend(e.0);
                return Err(errs);
            }
        };
        if b.nps.is_none() && b.csat.is_none() {
            errs.push(field(prefix, "nps"), "nps or csat (or both) is required");
        }
        let submitted_at = b.submitted_at.map(|t| t.0);
        if let Some(t) = submitted_at {
            if t > now.checked_add(SUBMITTED_MAX_AHEAD).unwrap_or(now) {
                errs.push(field(prefix, "submitted_at"), "must not be in the future");
            } else if t < now - SignedDuration::from_hours(24 * SUBMITTED_MAX_AGE_DAYS) {
                errs.push(
                    field(prefix, "submitted_at"),
                    format!("must be within the last {SUBMITTED_MAX_AGE_DAYS} days"),
                );
            }
        }
        errs.into_result()?;
        // Bounded to 0–10 and 1–5: they fit.
        let small = |b: u64| b as u8;
        Ok((
            survey,
            Self {
                response_id: b.response_id,
                customer_id: b.customer_id,
                nps: b.nps.map(|n| small(n.get())),
                csat: b.csat.map(|n| small(n.get())),
                comment: b.comment.map(|c| c.0),
                channel: b.channel,
                submitted_at,
            },
        ))
    }

    /// What the client asked, as a digest: the same `response_id` with another answer is a
    /// conflict, not a duplicate.
    pub fn fingerprint(&self, survey: &SurveyId) -> String {
        let canonical = serde_json::json!([
            survey.as_str(),
            self.response_id.as_str(),
            self.customer_id.as_ref().map(|c| c.as_str()),
            self.nps,
            self.csat,
            self.comment,
            self.channel.as_ref().map(|c| c.as_str()),
            self.submitted_at.map(crate::time::format),
        ]);
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

fn field(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// The customer's segment when they answered: their tier and lifecycle stage then.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Segment {
    #[schema(value_type = String)]
    pub tier: TierName,
    pub stage: Stage,
}

/// A stored response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SurveyResponse {
    #[schema(value_type = String)]
    pub survey_id: SurveyId,
    #[schema(value_type = String)]
    pub response_id: ExternalId,
    #[schema(value_type = Option<String>)]
    pub customer_id: Option<CustomerId>,
    pub nps: Option<u8>,
    pub csat: Option<u8>,
    pub comment: Option<String>,
    #[schema(value_type = Option<String>)]
    pub channel: Option<Channel>,
    #[serde(with = "crate::time::serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub submitted_at: Timestamp,
    #[serde(with = "crate::time::serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
    /// The tenant-local day it counts on.
    #[schema(value_type = String, format = Date)]
    pub day: Date,
    pub segment: Option<Segment>,
    /// The follow-up it opened, if it was unhappy.
    pub followup_id: Option<String>,
    /// [`ResponseInput::fingerprint`]; stored beside the response, never shown.
    #[serde(skip)]
    #[schema(ignore)]
    pub fingerprint: String,
}

impl SurveyResponse {
    /// Builds the record of a new response; `tz` is the tenant's (the day it counts on).
    pub fn new(
        survey: SurveyId,
        input: ResponseInput,
        segment: Option<Segment>,
        tz: &TimeZone,
        now: Timestamp,
        followup_id: impl FnOnce() -> String,
    ) -> Self {
        let fingerprint = input.fingerprint(&survey);
        let submitted_at = input.submitted_at.unwrap_or(now);
        let unhappy = is_unhappy(input.nps, input.csat);
        Self {
            survey_id: survey,
            response_id: input.response_id,
            customer_id: input.customer_id,
            nps: input.nps,
            csat: input.csat,
            comment: input.comment,
            channel: input.channel,
            submitted_at,
            received_at: now,
            day: submitted_at.to_zoned(tz.clone()).date(),
            segment,
            followup_id: unhappy.then(followup_id),
            fingerprint,
        }
    }

    /// The shard its counters go to: fixed by the response id, so a retry adds to the same one.
    pub fn shard(&self) -> u32 {
        shard_of(self.response_id.as_str())
    }

    /// The counters this response adds 1 to on its day (see [`Tally`]).
    pub fn counter_keys(&self) -> Vec<String> {
        let mut keys = vec!["n".to_owned()];
        if let Some(n) = self.nps {
            keys.push(format!("nps.{n}"));
            if let Some(s) = &self.segment {
                let class = NpsClass::of(n).as_str();
                keys.push(format!("tier.{}.{class}", s.tier));
                keys.push(format!("stage.{}.{class}", s.stage.as_str()));
            }
        }
        if let Some(c) = self.csat {
            keys.push(format!("csat.{c}"));
        }
        keys
    }

    /// The follow-up it opens, if it is unhappy.
    pub fn followup(&self) -> Option<FollowUp> {
        Some(FollowUp {
            id: self.followup_id.clone()?,
            survey_id: self.survey_id.clone(),
            response_id: self.response_id.clone(),
            customer_id: self.customer_id.clone(),
            nps: self.nps,
            csat: self.csat,
            comment: self.comment.clone(),
            status: FollowUpStatus::Open,
            opened_at: self.received_at,
            closed_at: None,
            note: None,
            recovery: None,
        })
    }
}

/// One of the [`SHARDS`], fixed by `key`.
pub fn shard_of(key: &str) -> u32 {
    let h = Sha256::digest(key.as_bytes());
    u32::from_be_bytes([h[0], h[1], h[2], h[3]]) % SHARDS
}

/// Detractor (NPS 0–6) or dissatisfied (CSAT 1–2): staff should follow up.
pub fn is_unhappy(nps: Option<u8>, csat: Option<u8>) -> bool {
    nps.is_some_and(|n| n <= 6) || csat.is_some_and(|c| c <= 2)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NpsClass {
    Promoter,
    Passive,
    Detractor,
}

impl NpsClass {
    pub fn of(score: u8) -> Self {
        match score {
            9.. => Self::Promoter,
            7..=8 => Self::Passive,
            _ => Self::Detractor,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Promoter => "promoter",
            Self::Passive => "passive",
            Self::Detractor => "detractor",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FollowUpStatus {
    Open,
    Closed,
}

impl FollowUpStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(Self::Open),
            "closed" => Some(Self::Closed),
            _ => None,
        }
    }
}

/// A case for staff: an unhappy answer to look into.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FollowUp {
    /// A ULID: follow-ups list in the order they were opened.
    pub id: String,
    #[schema(value_type = String)]
    pub survey_id: SurveyId,
    #[schema(value_type = String)]
    pub response_id: ExternalId,
    #[schema(value_type = Option<String>)]
    pub customer_id: Option<CustomerId>,
    pub nps: Option<u8>,
    pub csat: Option<u8>,
    pub comment: Option<String>,
    pub status: FollowUpStatus,
    #[serde(with = "crate::time::serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub opened_at: Timestamp,
    #[serde(with = "crate::time::serde_ts::option", default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<Timestamp>,
    /// Staff's note when closing.
    pub note: Option<String>,
    /// The recovery mail: `sent`, or why not (`disabled`, `no_consent`, `suppressed`, …).
    pub recovery: Option<String>,
}

/// A closing note may be this long, in characters.
pub const NOTE_MAX_CHARS: usize = 2000;

impl FollowUp {
    /// Closes the case; closing a closed case changes nothing (a retry of the same close).
    pub fn close(&mut self, note: Option<String>, now: Timestamp) -> bool {
        if self.status == FollowUpStatus::Closed {
            return false;
        }
        self.status = FollowUpStatus::Closed;
        self.closed_at = Some(now);
        self.note = note;
        true
    }

    /// Removes what identifies or was written by the customer (erasure); scores stay. `false`
    /// when there was nothing left to remove (an erasure run again).
    pub fn anonymise(&mut self) -> bool {
        let changed = self.customer_id.is_some() || self.comment.is_some() || self.note.is_some();
        self.customer_id = None;
        self.comment = None;
        self.note = None;
        changed
    }

    /// Notes what became of the recovery mail; `false` when it already said so.
    pub fn set_recovery(&mut self, recovery: &str) -> bool {
        if self.recovery.as_deref() == Some(recovery) {
            return false;
        }
        self.recovery = Some(recovery.to_owned());
        true
    }
}

impl SurveyResponse {
    /// Removes what identifies or was written by the customer (erasure); scores, day and
    /// segment stay, so the counters still add up.
    pub fn anonymise(&mut self) {
        self.customer_id = None;
        self.comment = None;
        self.fingerprint.clear();
    }
}

/// The counters of one survey day, summed over the shards: `n` (responses), `nps.{0..10}`,
/// `csat.{1..5}`, `tier.{tier}.{promoter|passive|detractor}`, `stage.{stage}.{…}`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub day: Option<Date>,
    pub counts: BTreeMap<String, u64>,
}

impl Tally {
    pub fn get(&self, key: &str) -> u64 {
        self.counts.get(key).copied().unwrap_or(0)
    }

    pub fn add(&mut self, key: &str, n: u64) {
        *self.counts.entry(key.to_owned()).or_default() += n;
    }

    pub fn merge(&mut self, other: &Tally) {
        for (k, v) in &other.counts {
            self.add(k, *v);
        }
    }

    fn nps(&self) -> Nps {
        let count = |range: std::ops::RangeInclusive<u8>| -> u64 {
            range.map(|s| self.get(&format!("nps.{s}"))).sum()
        };
        Nps::from_counts(count(9..=10), count(7..=8), count(0..=6))
    }

    fn csat(&self) -> Csat {
        let mut c = Csat::default();
        for s in 1..=5u64 {
            let n = self.get(&format!("csat.{s}"));
            c.responses += n;
            c.sum += s * n;
            if s >= 4 {
                c.satisfied += n;
            }
        }
        c.finish()
    }

    fn segments(&self, kind: &str) -> BTreeMap<String, Nps> {
        let mut acc: BTreeMap<String, [u64; 3]> = BTreeMap::new();
        for (k, v) in &self.counts {
            let Some(rest) = k.strip_prefix(kind).and_then(|r| r.strip_prefix('.')) else {
                continue;
            };
            let Some((name, class)) = rest.rsplit_once('.') else {
                continue;
            };
            let slot = acc.entry(name.to_owned()).or_default();
            match class {
                "promoter" => slot[0] += v,
                "passive" => slot[1] += v,
                "detractor" => slot[2] += v,
                _ => {}
            }
        }
        acc.into_iter()
            .map(|(k, [p, pa, d])| (k, Nps::from_counts(p, pa, d)))
            .collect()
    }
}

/// Net Promoter Score: % promoters (9–10) − % detractors (0–6), rounded half away from zero;
/// `score` is absent when there are no answers (no score is not a score of 0).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Nps {
    pub responses: u64,
    pub promoters: u64,
    pub passives: u64,
    pub detractors: u64,
    pub score: Option<i64>,
}

impl Nps {
    pub fn from_counts(promoters: u64, passives: u64, detractors: u64) -> Self {
        let responses = promoters + passives + detractors;
        let score = (responses > 0).then(|| {
            let (n, diff) = (
                i128::from(responses),
                i128::from(promoters) - i128::from(detractors),
            );
            let num = 100 * diff.abs();
            let rounded = (2 * num + n) / (2 * n);
            i64::try_from(rounded * diff.signum()).unwrap_or(0)
        });
        Self {
            responses,
            promoters,
            passives,
            detractors,
            score,
        }
    }
}

/// Customer satisfaction: the average score (1–5) and the share answering 4 or 5, both absent
/// without answers. `sum` and the counts are exact; `average` (2 decimals) and
/// `satisfied_percent` (1 decimal) are rounded for display.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct Csat {
    pub responses: u64,
    pub sum: u64,
    pub satisfied: u64,
    pub average: Option<f64>,
    pub satisfied_percent: Option<f64>,
}

impl Csat {
    fn finish(mut self) -> Self {
        if self.responses > 0 {
            self.average = Some(rounded(self.sum, self.responses, 100));
            self.satisfied_percent = Some(rounded(self.satisfied * 100, self.responses, 10));
        }
        self
    }
}

/// `num / den` rounded half up to `1/scale`, from integers (no accumulated float error).
fn rounded(num: u64, den: u64, scale: u64) -> f64 {
    let (num, den, scale) = (u128::from(num), u128::from(den), u128::from(scale));
    let units = (2 * num * scale + den) / (2 * den);
    units as f64 / scale as f64
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct DaySummary {
    #[schema(value_type = String, format = Date)]
    pub date: Date,
    pub responses: u64,
    pub nps: Nps,
    pub csat: Csat,
}

/// NPS by the customer's tier and lifecycle stage when they answered (identified answers only).
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct Segments {
    pub by_tier: BTreeMap<String, Nps>,
    pub by_lifecycle: BTreeMap<String, Nps>,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Summary {
    #[schema(value_type = String)]
    pub survey_id: SurveyId,
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    /// The tenant's time zone the dates are in.
    pub timezone: String,
    pub responses: u64,
    pub nps: Nps,
    pub csat: Csat,
    pub segments: Segments,
    /// Every day of the range, oldest first, with zeros where nobody answered.
    pub days: Vec<DaySummary>,
}

/// The summary of `from..=to` from the day tallies (any order, days outside ignored).
pub fn summarize(
    survey: SurveyId,
    from: Date,
    to: Date,
    timezone: &str,
    tallies: &[Tally],
) -> Summary {
    let mut by_day: BTreeMap<Date, Tally> = BTreeMap::new();
    for t in tallies {
        if let Some(d) = t.day.filter(|d| (from..=to).contains(d)) {
            by_day.entry(d).or_default().merge(t);
        }
    }
    let mut total = Tally::default();
    let mut days = Vec::new();
    let mut d = from;
    while d <= to {
        let t = by_day.remove(&d).unwrap_or_default();
        total.merge(&t);
        days.push(DaySummary {
            date: d,
            responses: t.get("n"),
            nps: t.nps(),
            csat: t.csat(),
        });
        match d.tomorrow() {
            Ok(next) => d = next,
            Err(_) => break,
        }
    }
    Summary {
        survey_id: survey,
        from,
        to,
        timezone: timezone.to_owned(),
        responses: total.get("n"),
        nps: total.nps(),
        csat: total.csat(),
        segments: Segments {
            by_tier: total.segments("tier"),
            by_lifecycle: total.segments("stage"),
        },
        days,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    const NOW: &str = "2026-11-22T08:00:00Z";

    fn input(v: Value) -> Result<ResponseInput, ValidationErrors> {
        ResponseInput::from_json(v, "", ts(NOW), false).map(|(_, i)| i)
    }

    fn fields(e: ValidationErrors) -> Vec<String> {
        e.0.into_iter().map(|f| f.field).collect()
    }

    #[test]
    fn input_checks_every_field() {
        let ok = input(
            json!({"response_id": "r1", "nps": 10, "csat": 5, "comment": "好玩",
            "channel": "in_game", "submitted_at": "2026-11-22T07:00:00+08:00"}),
        )
        .unwrap();
        assert_eq!((ok.nps, ok.csat), (Some(10), Some(5)));
        for (body, field) in [
            (json!({"response_id": "r1", "nps": 11}), "nps"),
            (json!({"response_id": "r1", "nps": -1}), "nps"),
            (json!({"response_id": "r1", "nps": 7.5}), "nps"),
            (json!({"response_id": "r1", "csat": 0}), "csat"),
            (json!({"response_id": "r1", "csat": 6}), "csat"),
            (json!({"response_id": "r1"}), "nps"),
            (json!({"nps": 5}), "response_id"),
            (json!({"response_id": "r#1", "nps": 5}), "response_id"),
            (
                json!({"response_id": "r1", "nps": 5, "comment": "x".repeat(2001)}),
                "comment",
            ),
            (
                json!({"response_id": "r1", "nps": 5, "submitted_at": "2026-11-22T08:06:00Z"}),
                "submitted_at",
            ),
            (
                json!({"response_id": "r1", "nps": 5, "submitted_at": "2025-11-01T00:00:00Z"}),
                "submitted_at",
            ),
            (
                json!({"response_id": "r1", "nps": 5, "submitted_at": "yesterday"}),
                "submitted_at",
            ),
            (json!({"response_id": "r1", "nps": 5, "score": 5}), "score"),
            (
                json!({"response_id": "r1", "nps": 5, "channel": "in game"}),
                "channel",
            ),
        ] {
            let errs = input(body.clone()).expect_err(&body.to_string());
            assert!(
                fields(errs.clone()).contains(&field.to_owned()),
                "{body}: {errs:?}"
            );
        }
        assert!(
            input(json!({"response_id": "r1", "nps": 5, "comment": "字".repeat(2000)})).is_ok(),
            "the limit counts characters, not bytes"
        );
    }

    #[test]
    fn fingerprints_tell_a_retry_from_another_answer() {
        let s = SurveyId::parse("s").unwrap();
        let a = input(json!({"response_id": "r1", "nps": 5})).unwrap();
        let b = input(json!({"nps": 5, "response_id": "r1"})).unwrap();
        let c = input(json!({"response_id": "r1", "nps": 6})).unwrap();
        assert_eq!(a.fingerprint(&s), b.fingerprint(&s));
        assert_ne!(a.fingerprint(&s), c.fingerprint(&s));
        assert_ne!(
            a.fingerprint(&s),
            a.fingerprint(&SurveyId::parse("t").unwrap())
        );
    }

    #[test]
    fn nps_math_at_the_edges() {
        assert_eq!(Nps::from_counts(7, 0, 0).score, Some(100));
        assert_eq!(Nps::from_counts(0, 0, 7).score, Some(-100));
        assert_eq!(Nps::from_counts(0, 5, 0).score, Some(0));
        assert_eq!(
            Nps::from_counts(0, 0, 0).score,
            None,
            "no answers, no score"
        );
        // 1 promoter, 1 passive, 0 detractors: 50; 2 of 3: 66.67 → 67; −66.67 → −67.
        assert_eq!(Nps::from_counts(1, 1, 0).score, Some(50));
        assert_eq!(Nps::from_counts(2, 1, 0).score, Some(67));
        assert_eq!(Nps::from_counts(0, 1, 2).score, Some(-67));
        // Half way (1 of 8 = 12.5) rounds away from zero.
        assert_eq!(Nps::from_counts(1, 7, 0).score, Some(13));
        assert_eq!(Nps::from_counts(0, 7, 1).score, Some(-13));
        assert_eq!(NpsClass::of(6), NpsClass::Detractor);
        assert_eq!(NpsClass::of(7), NpsClass::Passive);
        assert_eq!(NpsClass::of(9), NpsClass::Promoter);
    }

    fn response(nps: Option<u8>, csat: Option<u8>, at: &str, tz: &str) -> SurveyResponse {
        let id = format!("r-{}-{}-{at}", nps.unwrap_or(99), csat.unwrap_or(99));
        let i = input(json!({"response_id": id, "nps": nps,
            "csat": csat, "submitted_at": at}))
        .unwrap();
        SurveyResponse::new(
            SurveyId::parse("s").unwrap(),
            i,
            Some(Segment {
                tier: TierName::parse("gold").unwrap(),
                stage: Stage::Growth,
            }),
            &TimeZone::get(tz).unwrap(),
            ts(NOW),
            || "01FOLLOWUP".into(),
        )
    }

    fn tally(rs: &[SurveyResponse]) -> Vec<Tally> {
        rs.iter()
            .map(|r| {
                let mut t = Tally {
                    day: Some(r.day),
                    ..Tally::default()
                };
                for k in r.counter_keys() {
                    t.add(&k, 1);
                }
                t
            })
            .collect()
    }

    #[test]
    fn the_day_is_the_tenants() {
        let at = "2026-11-21T20:00:00Z";
        assert_eq!(
            response(Some(9), None, at, "Asia/Shanghai").day.to_string(),
            "2026-11-22"
        );
        assert_eq!(
            response(Some(9), None, at, "America/Los_Angeles")
                .day
                .to_string(),
            "2026-11-21"
        );
    }

    #[test]
    fn summaries_add_days_segments_and_csat() {
        let rs = [
            response(Some(10), Some(5), "2026-11-20T10:00:00Z", "UTC"),
            response(Some(9), Some(4), "2026-11-20T11:00:00Z", "UTC"),
            response(Some(3), Some(1), "2026-11-21T10:00:00Z", "UTC"),
            response(None, Some(2), "2026-11-21T12:00:00Z", "UTC"),
            response(Some(8), None, "2026-11-19T12:00:00Z", "UTC"),
        ];
        let s = summarize(
            SurveyId::parse("s").unwrap(),
            "2026-11-20".parse().unwrap(),
            "2026-11-22".parse().unwrap(),
            "UTC",
            &tally(&rs),
        );
        assert_eq!(s.responses, 4, "the 19th is outside the range");
        assert_eq!(
            (
                s.nps.promoters,
                s.nps.passives,
                s.nps.detractors,
                s.nps.score
            ),
            (2, 0, 1, Some(33))
        );
        assert_eq!((s.csat.responses, s.csat.sum, s.csat.satisfied), (4, 12, 2));
        assert_eq!(s.csat.average, Some(3.0));
        assert_eq!(s.csat.satisfied_percent, Some(50.0));
        assert_eq!(s.days.len(), 3);
        assert_eq!(s.days[0].nps.score, Some(100));
        assert_eq!(s.days[1].nps.score, Some(-100));
        assert_eq!(s.days[2].responses, 0);
        assert_eq!(s.days[2].nps.score, None);
        assert_eq!(s.days[2].csat.average, None);
        assert_eq!(s.segments.by_tier["gold"].score, Some(33));
        assert_eq!(s.segments.by_lifecycle["growth"].responses, 3);
    }

    #[test]
    fn unhappy_answers_open_follow_ups() {
        assert!(response(Some(6), None, NOW, "UTC").followup().is_some());
        assert!(response(Some(7), Some(2), NOW, "UTC").followup().is_some());
        assert!(response(Some(7), Some(3), NOW, "UTC").followup().is_none());
        assert!(response(None, Some(3), NOW, "UTC").followup().is_none());
        let mut f = response(Some(0), None, NOW, "UTC").followup().unwrap();
        assert!(f.close(Some("called".into()), ts(NOW)));
        assert!(
            !f.close(Some("again".into()), ts(NOW)),
            "closing twice changes nothing"
        );
        assert_eq!(f.note.as_deref(), Some("called"));
    }

    #[test]
    fn ranges_default_and_are_bounded() {
        let today: Date = "2026-11-22".parse().unwrap();
        let (f, t) = summary_range(None, None, today).unwrap();
        assert_eq!(
            (f.to_string(), t.to_string()),
            ("2026-10-24".into(), "2026-11-22".into())
        );
        assert!(summary_range(Some("2026-11-23"), Some("2026-11-22"), today).is_err());
        assert!(summary_range(Some("2025-01-01"), Some("2026-11-22"), today).is_err());
        assert!(summary_range(Some("2026-2-1"), None, today).is_err());
        assert!(summary_range(Some("2025-11-22"), Some("2026-11-21"), today).is_ok());
    }

    #[test]
    fn shards_are_stable_and_spread() {
        let r = response(Some(9), None, NOW, "UTC");
        assert_eq!(r.shard(), r.shard());
        let mut seen = std::collections::HashSet::new();
        for i in 0..200 {
            let mut x = r.clone();
            x.response_id = ExternalId::parse(format!("r{i}")).unwrap();
            seen.insert(x.shard());
        }
        assert_eq!(seen.len(), SHARDS as usize);
    }
}
