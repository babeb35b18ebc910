//! Reading a JSON request object field by field, so one response names every invalid field.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::ValidationErrors;

/// A field of a merge-style update: absent leaves the stored value alone, `null` clears it,
/// a value replaces it.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

/// `null` clears, a value sets; an absent field is `Keep` (`#[serde(default)]`).
impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Patch<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(d)? {
            None => Patch::Clear,
            Some(v) => Patch::Set(v),
        })
    }
}

impl<T> Patch<T> {
    pub fn is_keep(&self) -> bool {
        matches!(self, Patch::Keep)
    }

    /// Applies the patch to a stored optional value.
    pub fn apply_to(self, slot: &mut Option<T>) {
        match self {
            Patch::Keep => {}
            Patch::Clear => *slot = None,
            Patch::Set(v) => *slot = Some(v),
        }
    }

    pub fn as_ref(&self) -> Patch<&T> {
        match self {
            Patch::Keep => Patch::Keep,
            Patch::Clear => Patch::Clear,
            Patch::Set(v) => Patch::Set(v),
        }
    }
}

/// Takes fields out of a JSON object one at a time, collecting errors with their paths.
pub struct ObjectParser {
    map: Map<String, Value>,
    prefix: String,
    errors: ValidationErrors,
}

impl ObjectParser {
    /// `prefix` is prepended to field names in errors (`""` at the top level).
    pub fn new(value: Value, prefix: &str) -> Result<Self, ValidationErrors> {
        match value {
            Value::Object(map) => Ok(Self {
                map,
                prefix: prefix.to_owned(),
                errors: ValidationErrors::default(),
            }),
            _ => Err(ValidationErrors::single(
                if prefix.is_empty() { "(body)" } else { prefix },
                "must be a JSON object",
            )),
        }
    }

    /// The full path of a field of this object (`reward.value_minor`).
    pub fn path(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.prefix)
        }
    }

    pub fn error(&mut self, name: &str, message: impl Into<String>) {
        let path = self.path(name);
        self.errors.push(path, message);
    }

    /// Adds errors found elsewhere (e.g. a nested object) to this parser's list.
    pub fn extend(&mut self, other: ValidationErrors) {
        self.errors.0.extend(other.0);
    }

    fn convert<T: DeserializeOwned>(&mut self, name: &str, mut value: Value) -> Option<T> {
        integral_numbers(&mut value);
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(v) => Some(v),
            Err(e) => {
                let inner = e.path().to_string();
                let field = match inner.as_str() {
                    "." | "" => self.path(name),
                    p if p.starts_with('[') => format!("{}{p}", self.path(name)),
                    p => format!("{}.{p}", self.path(name)),
                };
                self.errors
                    .push(field, clean_message(&e.into_inner().to_string()));
                None
            }
        }
    }

    /// Absent → `Keep`, `null` → `Clear`, a value → `Set` (or an error).
    pub fn patch<T: DeserializeOwned>(&mut self, name: &str) -> Patch<T> {
        match self.map.remove(name) {
            None => Patch::Keep,
            Some(Value::Null) => Patch::Clear,
            Some(v) => self.convert(name, v).map_or(Patch::Keep, Patch::Set),
        }
    }

    /// Absent or `null` → `None`.
    pub fn optional<T: DeserializeOwned>(&mut self, name: &str) -> Option<T> {
        match self.map.remove(name) {
            None | Some(Value::Null) => None,
            Some(v) => self.convert(name, v),
        }
    }

    /// Absent or `null` is an error.
    pub fn required<T: DeserializeOwned>(&mut self, name: &str) -> Option<T> {
        match self.map.remove(name) {
            None | Some(Value::Null) => {
                self.error(name, "is required");
                None
            }
            Some(v) => self.convert(name, v),
        }
    }

    /// A field of a wire type: `Option<T>` fields may be absent or `null`; any other type is
    /// required (absent or `null` is "is required").
    pub fn field<T: DeserializeOwned>(&mut self, name: &str) -> Option<T> {
        match self.map.remove(name) {
            None | Some(Value::Null) => match serde_json::from_value::<T>(Value::Null) {
                Ok(v) => Some(v),
                Err(_) => {
                    self.error(name, "is required");
                    None
                }
            },
            Some(v) => self.convert(name, v),
        }
    }

    /// A field holding another wire type ([`crate::wire::NestedField`]).
    pub fn nested<F: crate::wire::NestedField>(&mut self, name: &str) -> Option<F> {
        F::read(self, name)
    }

    /// The raw value of a field, for nested parsing.
    pub fn take_raw(&mut self, name: &str) -> Option<Value> {
        self.map.remove(name)
    }

    /// Reports fields nobody asked for, then returns all errors (if any).
    pub fn finish(mut self) -> Result<(), ValidationErrors> {
        let unknown: Vec<String> = self.map.keys().cloned().collect();
        for name in unknown {
            self.error(&name, "is not a known field");
        }
        // One message per field: the first problem found is the one to fix.
        let mut seen = std::collections::HashSet::new();
        self.errors.0.retain(|e| seen.insert(e.field.clone()));
        self.errors.into_result()
    }
}

/// JSON has one number type: `94.0` is the integer 94 (as JSON Schema's `integer` says), so it
/// is written as one before an integer field reads it.
pub fn integral_numbers(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() < 9.007_199_254_740_992e15
            {
                // Exact: below 2^53 every integral f64 is an integer.
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        Value::Object(map) => map.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

/// serde's messages echo the offending value (`invalid type: string "x", expected …`); keep
/// only what was expected, so a response never repeats customer data back in an error.
fn clean_message(msg: &str) -> String {
    if let Some((_, expected)) = msg.split_once(", expected ") {
        return format!("expected {expected}");
    }
    if msg.starts_with("invalid value") || msg.starts_with("invalid length") {
        return "has an invalid value".to_owned();
    }
    msg.to_owned()
}

/// RFC 7396 JSON merge patch: objects merge recursively, `null` removes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: Value) {
    match patch {
        Value::Object(patch) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(map) = target {
                for (k, v) in patch {
                    if v.is_null() {
                        map.remove(&k);
                    } else {
                        merge_patch(map.entry(k).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::Email;
    use serde_json::json;

    #[test]
    fn patch_distinguishes_absent_null_and_value() {
        let mut p = ObjectParser::new(json!({"a": null, "b": "x@example.com"}), "").unwrap();
        assert_eq!(p.patch::<Email>("a"), Patch::Clear);
        assert!(matches!(p.patch::<Email>("b"), Patch::Set(_)));
        assert_eq!(p.patch::<Email>("c"), Patch::Keep);
        assert!(p.finish().is_ok());
    }

    #[test]
    fn every_bad_field_is_named_without_echoing_values() {
        let mut p =
            ObjectParser::new(json!({"email": "nope", "tags": ["ok", 5], "extra": 1}), "").unwrap();
        let _ = p.patch::<Email>("email");
        let _ = p.patch::<Vec<String>>("tags");
        let errs = p.finish().unwrap_err().0;
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "tags[1]", "extra"]);
        assert!(errs.iter().all(|e| !e.message.contains("nope")));
        assert_eq!(errs[1].message, "expected a string");
    }

    #[test]
    fn integral_floats_are_integers() {
        let mut p = ObjectParser::new(json!({"n": 94.0, "m": 1.5, "v": [2.0]}), "").unwrap();
        assert_eq!(p.required::<u32>("n"), Some(94));
        assert_eq!(p.required::<u32>("m"), None);
        assert_eq!(p.required::<Vec<u8>>("v"), Some(vec![2]));
    }

    #[test]
    fn non_objects_are_rejected() {
        assert!(ObjectParser::new(json!([1]), "").is_err());
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut doc, json!({"a": "z", "c": {"f": null}}));
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}}));
    }
}
