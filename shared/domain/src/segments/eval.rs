//! Evaluation of a filter on a customer's facts. A field the customer has no value for (no
//! locale, never active, no such attribute) matches only `ne`, `exists: false` and what a
//! `not` turns around.

use std::cmp::Ordering;

use super::facts::Facts;
use super::filter::{Condition, Field, Filter, Op, Operand};
use crate::values::AttrValue;

impl Filter {
    pub fn matches(&self, f: &Facts) -> bool {
        match self {
            Self::All(fs) => fs.iter().all(|x| x.matches(f)),
            Self::Any(fs) => fs.iter().any(|x| x.matches(f)),
            Self::Not(x) => !x.matches(f),
            Self::Cond(c) => c.matches(f),
        }
    }
}

/// One value of a customer, as conditions compare it.
enum Held<'a> {
    Name(&'a str),
    Integer(i64),
    Set(&'a [String]),
    Attr(&'a AttrValue),
}

fn held<'a>(field: &Field, f: &'a Facts) -> Option<Held<'a>> {
    Some(match field {
        Field::Tier => Held::Name(&f.tier),
        Field::Lifecycle => Held::Name(f.lifecycle.as_str()),
        Field::RfmSegment => Held::Name(f.rfm.segment.as_str()),
        Field::RfmR => Held::Integer(i64::from(f.rfm.r)),
        Field::RfmF => Held::Integer(i64::from(f.rfm.f)),
        Field::RfmM => Held::Integer(i64::from(f.rfm.m)),
        Field::Tags => Held::Set(&f.tags),
        Field::Platforms => Held::Set(&f.platforms),
        Field::Attribute(k) => Held::Attr(f.attribute(k.as_str())?),
        Field::Locale => Held::Name(f.locale.as_deref()?),
        Field::PointsBalance => Held::Integer(f.points_balance),
        Field::LastActiveDays => Held::Integer(f.last_active_days?),
        Field::SpendMinor => Held::Integer(f.spend_minor),
        Field::Purchases => Held::Integer(i64::try_from(f.purchases).unwrap_or(i64::MAX)),
    })
}

/// How the held value compares with one operand; `None` when they cannot be compared.
fn compare(h: &Held<'_>, v: &Operand) -> Option<Ordering> {
    match (h, v) {
        (Held::Name(a), Operand::Name(b)) => Some(a.cmp(&b.as_str())),
        (Held::Integer(a), Operand::Integer(b)) => Some(a.cmp(b)),
        (Held::Attr(AttrValue::String(a)), Operand::Name(b)) => Some(a.as_str().cmp(b.as_str())),
        (Held::Attr(AttrValue::Number(a)), Operand::Number(b)) => a.as_f64()?.partial_cmp(b),
        (Held::Attr(AttrValue::Bool(a)), Operand::Bool(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

fn equal(h: &Held<'_>, v: &Operand) -> bool {
    match (h, v) {
        (Held::Set(s), Operand::Name(n)) => s.iter().any(|x| x == n),
        _ => compare(h, v) == Some(Ordering::Equal),
    }
}

impl Condition {
    fn matches(&self, f: &Facts) -> bool {
        let h = held(&self.field, f);
        let present = match &h {
            Some(Held::Set(s)) => !s.is_empty(),
            Some(_) => true,
            None => false,
        };
        if self.op == Op::Exists {
            return matches!(self.value, Operand::Bool(b) if b == present);
        }
        let Some(h) = h else {
            return self.op == Op::Ne;
        };
        let ord = || compare(&h, &self.value);
        match self.op {
            Op::Eq | Op::Contains => match (&h, &self.value) {
                (Held::Attr(AttrValue::String(s)), Operand::Name(n)) if self.op == Op::Contains => {
                    s.contains(n.as_str())
                }
                _ => equal(&h, &self.value),
            },
            Op::Ne => !equal(&h, &self.value),
            Op::In => match &self.value {
                Operand::List(vs) => vs.iter().any(|v| equal(&h, v)),
                _ => false,
            },
            Op::Gt => ord() == Some(Ordering::Greater),
            Op::Gte => matches!(ord(), Some(Ordering::Greater | Ordering::Equal)),
            Op::Lt => ord() == Some(Ordering::Less),
            Op::Lte => matches!(ord(), Some(Ordering::Less | Ordering::Equal)),
            Op::Exists => false,
        }
    }
}
