//! The filter language: `{"all": [...]}`, `{"any": [...]}`, `{"not": {...}}` and conditions
//! `{"field": …, "op": …, "value": …}`, parsed into typed values so that evaluation cannot
//! meet a value of the wrong kind.

use serde_json::Value;

use crate::error::ValidationErrors;
use crate::ids::Platform;
use crate::points::rules::TierName;
use crate::rfm::RfmSegment;
use crate::values::{AttrKey, Locale, Tag};

/// Nesting deeper than this is refused.
pub const MAX_DEPTH: usize = 8;
/// At most this many combinators and conditions in one filter.
pub const MAX_NODES: usize = 200;
/// At most this many values in an `in` list.
const MAX_LIST: usize = 100;

#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    /// Every one matches (an empty list matches everyone).
    All(Vec<Filter>),
    /// At least one matches (an empty list matches no one).
    Any(Vec<Filter>),
    Not(Box<Filter>),
    Cond(Condition),
}

/// What a condition reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field {
    Tier,
    Lifecycle,
    RfmSegment,
    RfmR,
    RfmF,
    RfmM,
    Tags,
    Attribute(AttrKey),
    Locale,
    Platforms,
    PointsBalance,
    LastActiveDays,
    SpendMinor,
    Purchases,
}

/// The kind of value a field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A name (`tier`, `lifecycle`, …).
    Name,
    Integer,
    /// A set of names (`tags`, `platforms`).
    Set,
    /// A profile attribute: a string, a number or a boolean.
    Attribute,
}

impl Field {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "tier" => Self::Tier,
            "lifecycle" => Self::Lifecycle,
            "rfm.segment" => Self::RfmSegment,
            "rfm.r" => Self::RfmR,
            "rfm.f" => Self::RfmF,
            "rfm.m" => Self::RfmM,
            "tags" => Self::Tags,
            "locale" => Self::Locale,
            "platforms" => Self::Platforms,
            "points.balance" => Self::PointsBalance,
            "last_active_days" => Self::LastActiveDays,
            "spend_minor" => Self::SpendMinor,
            "purchases" => Self::Purchases,
            _ => Self::Attribute(AttrKey::parse(s.strip_prefix("attributes.")?).ok()?),
        })
    }

    fn kind(&self) -> Kind {
        match self {
            Self::Tier | Self::Lifecycle | Self::RfmSegment | Self::Locale => Kind::Name,
            Self::Tags | Self::Platforms => Kind::Set,
            Self::Attribute(_) => Kind::Attribute,
            _ => Kind::Integer,
        }
    }

    /// Checks (and normalises) one name this field can hold.
    fn name(&self, s: &str) -> Result<String, String> {
        let err = |e: crate::error::ParseError| e.to_string();
        match self {
            Self::Tier => TierName::parse(s).map(|t| t.to_string()).map_err(err),
            Self::Lifecycle => ["acquisition", "growth", "maturity", "churn"]
                .contains(&s)
                .then(|| s.to_owned())
                .ok_or_else(|| "must be one of acquisition, growth, maturity, churn".to_owned()),
            Self::RfmSegment => RfmSegment::NAMES
                .contains(&s)
                .then(|| s.to_owned())
                .ok_or_else(|| format!("must be one of {}", RfmSegment::NAMES.join(", "))),
            Self::Locale => Locale::parse(s).map(|l| l.as_str().to_owned()).map_err(err),
            Self::Tags => Tag::parse(s).map(|t| t.to_string()).map_err(err),
            Self::Platforms => Platform::parse(s).map(|p| p.to_string()).map_err(err),
            _ => Ok(s.to_owned()),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    In,
    Gt,
    Gte,
    Lt,
    Lte,
    Contains,
    Exists,
}

impl Op {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "in" => Self::In,
            "gt" => Self::Gt,
            "gte" => Self::Gte,
            "lt" => Self::Lt,
            "lte" => Self::Lte,
            "contains" => Self::Contains,
            "exists" => Self::Exists,
            _ => return None,
        })
    }

    fn allowed(kind: Kind) -> &'static [&'static str] {
        match kind {
            Kind::Name => &["eq", "ne", "in", "exists"],
            Kind::Integer => &["eq", "ne", "in", "gt", "gte", "lt", "lte", "exists"],
            Kind::Set => &["contains", "in", "exists"],
            Kind::Attribute => &[
                "eq", "ne", "in", "gt", "gte", "lt", "lte", "contains", "exists",
            ],
        }
    }
}

/// A condition's value, of the kind its field and operator take.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    Name(String),
    Integer(i64),
    /// A number of an attribute (compared as a float; attributes are free-form).
    Number(f64),
    Bool(bool),
    List(Vec<Operand>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    pub field: Field,
    pub op: Op,
    pub value: Operand,
}

impl Filter {
    /// Parses `v`; errors name the path below `path` (`audience.filter.all[1].value`).
    pub fn parse(v: &Value, path: &str) -> Result<Self, ValidationErrors> {
        let mut nodes = 0;
        parse_node(v, path, 1, &mut nodes)
    }
}

fn bad(path: impl Into<String>, message: impl Into<String>) -> ValidationErrors {
    ValidationErrors::single(path, message)
}

fn parse_node(
    v: &Value,
    path: &str,
    depth: usize,
    nodes: &mut usize,
) -> Result<Filter, ValidationErrors> {
    *nodes += 1;
    if *nodes > MAX_NODES {
        return Err(bad(path, format!("a filter has at most {MAX_NODES} parts")));
    }
    if depth > MAX_DEPTH {
        return Err(bad(path, format!("filters nest at most {MAX_DEPTH} deep")));
    }
    let Some(obj) = v.as_object() else {
        return Err(bad(path, "must be an object: all, any, not or a condition"));
    };
    let only = |key: &str| -> Result<(), ValidationErrors> {
        match obj.keys().find(|k| *k != key) {
            Some(k) => Err(bad(
                format!("{path}.{k}"),
                format!("is not allowed beside {key}"),
            )),
            None => Ok(()),
        }
    };
    if obj.contains_key("all") {
        only("all")?;
        return parse_list(obj, "all", path, depth, nodes).map(Filter::All);
    }
    if obj.contains_key("any") {
        only("any")?;
        return parse_list(obj, "any", path, depth, nodes).map(Filter::Any);
    }
    if let Some(inner) = obj.get("not") {
        only("not")?;
        let f = parse_node(inner, &format!("{path}.not"), depth + 1, nodes)?;
        return Ok(Filter::Not(Box::new(f)));
    }
    parse_condition(obj, path).map(Filter::Cond)
}

fn parse_list(
    obj: &serde_json::Map<String, Value>,
    key: &str,
    path: &str,
    depth: usize,
    nodes: &mut usize,
) -> Result<Vec<Filter>, ValidationErrors> {
    let here = format!("{path}.{key}");
    let items = obj
        .get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| bad(&here, "must be a list of filters"))?;
    items
        .iter()
        .enumerate()
        .map(|(i, f)| parse_node(f, &format!("{here}[{i}]"), depth + 1, nodes))
        .collect()
}

fn parse_condition(
    obj: &serde_json::Map<String, Value>,
    path: &str,
) -> Result<Condition, ValidationErrors> {
    if let Some(k) = obj
        .keys()
        .find(|k| !["field", "op", "value"].contains(&k.as_str()))
    {
        return Err(bad(
            format!("{path}.{k}"),
            "is not a filter key (all, any, not, or field, op, value)",
        ));
    }
    let field = obj
        .get("field")
        .and_then(Value::as_str)
        .and_then(Field::parse)
        .ok_or_else(|| {
            bad(
                format!("{path}.field"),
                "must be tier, lifecycle, rfm.segment, rfm.r, rfm.f, rfm.m, tags, \
                 attributes.{key}, locale, platforms, points.balance, last_active_days, \
                 spend_minor or purchases",
            )
        })?;
    let kind = field.kind();
    let op_path = format!("{path}.op");
    let op_name = obj.get("op").and_then(Value::as_str).unwrap_or_default();
    let allowed = Op::allowed(kind);
    let op = Op::parse(op_name)
        .filter(|_| allowed.contains(&op_name))
        .ok_or_else(|| {
            bad(
                &op_path,
                format!("must be one of {} here", allowed.join(", ")),
            )
        })?;
    let value_path = format!("{path}.value");
    let value = obj
        .get("value")
        .ok_or_else(|| bad(&value_path, "is required"))?;
    let value = match op {
        Op::Exists => Operand::Bool(
            value
                .as_bool()
                .ok_or_else(|| bad(&value_path, "must be true or false"))?,
        ),
        Op::In => {
            let items = value
                .as_array()
                .filter(|a| !a.is_empty() && a.len() <= MAX_LIST)
                .ok_or_else(|| {
                    bad(
                        &value_path,
                        format!("must be a list of 1 to {MAX_LIST} values"),
                    )
                })?;
            let one = if kind == Kind::Set { Kind::Name } else { kind };
            Operand::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| operand(&field, one, op, v, &format!("{value_path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            )
        }
        _ => operand(&field, kind, op, value, &value_path)?,
    };
    Ok(Condition { field, op, value })
}

fn operand(
    field: &Field,
    kind: Kind,
    op: Op,
    v: &Value,
    path: &str,
) -> Result<Operand, ValidationErrors> {
    let ordered = matches!(op, Op::Gt | Op::Gte | Op::Lt | Op::Lte);
    match kind {
        Kind::Integer => v
            .as_i64()
            .map(Operand::Integer)
            .ok_or_else(|| bad(path, "must be an integer")),
        Kind::Name | Kind::Set => {
            let s = v.as_str().ok_or_else(|| bad(path, "must be a string"))?;
            field.name(s).map(Operand::Name).map_err(|m| bad(path, m))
        }
        Kind::Attribute if op == Op::Contains => match v {
            Value::String(s) => Ok(Operand::Name(s.clone())),
            _ => Err(bad(path, "must be a string")),
        },
        Kind::Attribute => match v {
            Value::Number(n) => n
                .as_f64()
                .filter(|f| f.is_finite())
                .map(Operand::Number)
                .ok_or_else(|| bad(path, "must be a finite number")),
            Value::String(s) if !ordered && s.chars().count() <= crate::values::ATTR_STRING_MAX => {
                Ok(Operand::Name(s.clone()))
            }
            Value::Bool(b) if !ordered => Ok(Operand::Bool(*b)),
            _ if ordered => Err(bad(path, "must be a number")),
            _ => Err(bad(path, "must be a string, a number or a boolean")),
        },
    }
}
