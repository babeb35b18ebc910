//! Saved segments (`/v1/segments`): a named filter the tenant reuses for previews, lists and
//! campaign audiences. The filter is stored as the tenant wrote it and parsed again on use (it
//! was valid when saved).

use std::borrow::Cow;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

use super::filter::Filter;
use crate::error::ValidationErrors;
use crate::ids::{ID_MAX_LEN, ID_PATTERN, check_id};
use crate::values::Title;

crate::string_newtype!(
    /// A saved segment's id, chosen by the tenant (`high-value-cn`).
    SegmentId,
    schema: { pattern: ID_PATTERN },
    |s| check_id(&s, ID_MAX_LEN).map(|_| s)
);

/// A filter as sent: parsed into [`Filter`] (every invalid part named by its path), kept as
/// written for storage.
#[derive(Clone, Debug, PartialEq)]
pub struct FilterDoc {
    pub raw: Value,
    pub filter: Filter,
}

impl crate::wire::Wire for FilterDoc {
    fn parse_at(body: Value, prefix: &str) -> Result<Self, ValidationErrors> {
        let filter = Filter::parse(&body, prefix)?;
        Ok(Self { raw: body, filter })
    }
}

impl<'de> Deserialize<'de> for FilterDoc {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Value::deserialize(d)?;
        let filter = Filter::parse(&raw, "filter")
            .map_err(|e| serde::de::Error::custom(e.0[0].message.clone()))?;
        Ok(Self { raw, filter })
    }
}

impl utoipa::PartialSchema for FilterDoc {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "`{\"all\": [...]}`, `{\"any\": [...]}`, `{\"not\": {...}}` or a condition \
                 `{\"field\", \"op\", \"value\"}` (README: Segments).",
            ))
            .into()
    }
}

impl ToSchema for FilterDoc {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SegmentFilter")
    }
}

crate::wire_struct! {
    /// The body of `POST /v1/segments`.
    pub struct NewSegment {
        pub segment_id: SegmentId,
        pub name: Title,
        pub filter: @nested FilterDoc,
    }
}

crate::wire_struct! {
    /// The body of `PUT /v1/segments/{segment_id}`: the segment's new name and filter.
    pub struct SegmentUpdate {
        pub name: Title,
        pub filter: @nested FilterDoc,
    }
}

crate::wire_struct! {
    /// The body of `POST /v1/segments/preview`.
    pub struct PreviewRequest {
        pub filter: @nested FilterDoc,
    }
}

/// A stored segment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Segment {
    pub segment_id: SegmentId,
    pub name: Title,
    /// As it was saved.
    #[schema(value_type = Object)]
    pub filter: Value,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl Segment {
    /// The stored filter, parsed.
    pub fn parsed(&self) -> Result<Filter, ValidationErrors> {
        Filter::parse(&self.filter, "filter")
    }
}

impl crate::ports::Document for Segment {
    const COLLECTION: crate::ports::Collection = crate::ports::Collection::Segments;
    fn id(&self) -> &str {
        self.segment_id.as_str()
    }
}
