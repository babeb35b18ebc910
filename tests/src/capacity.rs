//! DynamoDB's capacity rules, for issue 16's capacity model: the size of an item as DynamoDB
//! counts it (attribute names plus values, in the wire JSON a request carries), and the write
//! units an item write costs on the table and on each index it touches. Pure functions over
//! before/after images; the proxy in [`crate::dynamo_proxy`] is what will feed them the images
//! of real requests.
//!
//! Rules (AWS developer guide, "Item sizes and formats" and "Capacity units", read 2026-12):
//! strings and binaries count their UTF-8 / raw bytes; a number is 1 byte per two significant
//! digits plus 1; booleans and nulls 1 byte; a list or map 3 bytes plus 1 per element (and, in
//! a map, the element names); an item write is 1 WRU per started KB of the larger of the
//! before and after images, twice that in a transaction; an index write is 1 WRU per started
//! KB of the projected item, a delete and a put when the index key changes.

use base64::Engine;
use serde_json::{Map, Value};

/// A DynamoDB item in wire JSON: attribute name → `{"S": "…"}` etc.
pub type Item = Map<String, Value>;

fn number_size(n: &str) -> usize {
    let digits: String = n
        .split(['e', 'E'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0');
    if significant.is_empty() {
        1
    } else {
        significant.len().div_ceil(2) + 1
    }
}

fn binary_size(b: &Value) -> usize {
    let s = b.as_str().unwrap_or("");
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_or(s.len(), |v| v.len())
}

/// The size of one attribute value.
pub fn value_size(v: &Value) -> usize {
    let Some((ty, inner)) = v.as_object().and_then(|o| o.iter().next()) else {
        return 0;
    };
    let each = |f: &dyn Fn(&Value) -> usize| {
        inner
            .as_array()
            .map_or(0, |a| a.iter().map(f).sum::<usize>())
    };
    match ty.as_str() {
        "S" => inner.as_str().map_or(0, str::len),
        "N" => number_size(inner.as_str().unwrap_or("0")),
        "B" => binary_size(inner),
        "BOOL" | "NULL" => 1,
        "SS" => each(&|e| e.as_str().map_or(0, str::len)),
        "NS" => each(&|e| number_size(e.as_str().unwrap_or("0"))),
        "BS" => each(&binary_size),
        "L" => 3 + each(&|e| 1 + value_size(e)),
        "M" => {
            3 + inner.as_object().map_or(0, |m| {
                m.iter()
                    .map(|(k, e)| k.len() + 1 + value_size(e))
                    .sum::<usize>()
            })
        }
        _ => 0,
    }
}

/// The size of an item: every attribute's name and value.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

/// Write units of `bytes`: 1 per started KB, at least 1.
pub fn write_units(bytes: usize) -> u64 {
    (bytes.div_ceil(1024).max(1)) as u64
}

/// What an index keeps of an item.
#[derive(Clone, Debug)]
pub enum Projection {
    All,
    KeysOnly,
    Include(Vec<String>),
}

#[derive(Clone, Debug)]
pub struct Index {
    pub name: String,
    /// The index's partition key and, if any, sort key.
    pub keys: Vec<String>,
    pub projection: Projection,
}

#[derive(Clone, Debug)]
pub struct Table {
    /// The table's partition key and, if any, sort key.
    pub keys: Vec<String>,
    pub indexes: Vec<Index>,
}

/// The write units of one item write: the table's and each touched index's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteCost {
    pub table: u64,
    pub indexes: Vec<(String, u64)>,
}

impl WriteCost {
    pub fn total(&self) -> u64 {
        self.table + self.indexes.iter().map(|(_, u)| u).sum::<u64>()
    }
}

impl Table {
    fn projected(&self, index: &Index, item: &Item) -> Item {
        item.iter()
            .filter(|(k, _)| {
                self.keys.contains(k)
                    || index.keys.contains(k)
                    || match &index.projection {
                        Projection::All => true,
                        Projection::KeysOnly => false,
                        Projection::Include(names) => names.contains(k),
                    }
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The cost of replacing `before` (none: a new item) with `after` (none: a delete).
    pub fn write_cost(
        &self,
        before: Option<&Item>,
        after: Option<&Item>,
        transactional: bool,
    ) -> WriteCost {
        let size = |i: Option<&Item>| i.map_or(0, item_size);
        let table = write_units(size(before).max(size(after))) * if transactional { 2 } else { 1 };
        let mut indexes = Vec::new();
        for index in &self.indexes {
            let keyed = |i: Option<&Item>| {
                i.filter(|i| index.keys.iter().all(|k| i.contains_key(k)))
                    .map(|i| self.projected(index, i))
            };
            let (b, a) = (keyed(before), keyed(after));
            let units = match (&b, &a) {
                (None, None) => 0,
                (None, Some(a)) => write_units(item_size(a)),
                (Some(b), None) => write_units(item_size(b)),
                (Some(b), Some(a)) if b == a => 0,
                (Some(b), Some(a)) if index.keys.iter().any(|k| b.get(k) != a.get(k)) => {
                    write_units(item_size(b)) + write_units(item_size(a))
                }
                (Some(b), Some(a)) => write_units(item_size(b).max(item_size(a))),
            };
            if units > 0 {
                indexes.push((index.name.clone(), units));
            }
        }
        WriteCost { table, indexes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(v: Value) -> Item {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn sizes_follow_dynamodbs_rules() {
        assert_eq!(value_size(&json!({"S": "héllo"})), 6, "UTF-8 bytes");
        assert_eq!(
            value_size(&json!({"N": "12345"})),
            4,
            "3 bytes of digits + 1"
        );
        assert_eq!(
            value_size(&json!({"N": "0.0001200"})),
            2,
            "zeros are not significant"
        );
        assert_eq!(value_size(&json!({"N": "-7"})), 2);
        assert_eq!(value_size(&json!({"B": "AAEC"})), 3, "decoded bytes");
        assert_eq!(value_size(&json!({"BOOL": true})), 1);
        assert_eq!(value_size(&json!({"L": []})), 3);
        assert_eq!(
            value_size(&json!({"L": [{"S": "ab"}, {"N": "1"}]})),
            3 + 3 + 3
        );
        assert_eq!(value_size(&json!({"M": {"k": {"S": "v"}}})), 3 + 1 + 1 + 1);
        let i = item(json!({"pk": {"S": "T#t#C#c1"}, "sk": {"S": "PROFILE"}}));
        assert_eq!(item_size(&i), 2 + 8 + 2 + 7);
        assert_eq!(write_units(0), 1);
        assert_eq!(write_units(1024), 1);
        assert_eq!(write_units(1025), 2);
    }

    #[test]
    fn index_writes_depend_on_keys_and_projection() {
        let table = Table {
            keys: vec!["pk".into(), "sk".into()],
            indexes: vec![
                Index {
                    name: "all".into(),
                    keys: vec!["g1pk".into()],
                    projection: Projection::All,
                },
                Index {
                    name: "keys".into(),
                    keys: vec!["g2pk".into()],
                    projection: Projection::KeysOnly,
                },
            ],
        };
        let big = "x".repeat(1500);
        let before = item(
            json!({"pk": {"S": "p"}, "sk": {"S": "s"}, "g1pk": {"S": "day1"},
                                 "g2pk": {"S": "k"}, "doc": {"S": big}}),
        );
        let mut after = before.clone();
        after.insert("doc".into(), json!({"S": format!("{big}y")}));
        // Same index keys: the ALL index rewrites its 2 KB copy, the keys-only one nothing.
        let c = table.write_cost(Some(&before), Some(&after), false);
        assert_eq!(
            c,
            WriteCost {
                table: 2,
                indexes: vec![("all".into(), 2)]
            }
        );
        assert_eq!(
            table.write_cost(Some(&before), Some(&after), true).table,
            4,
            "a transaction doubles"
        );
        // A moved index key: a delete and a put in that index.
        after.insert("g2pk".into(), json!({"S": "k2"}));
        let c = table.write_cost(Some(&before), Some(&after), false);
        assert_eq!(c.indexes, vec![("all".into(), 2), ("keys".into(), 2)]);
        assert_eq!(c.total(), 6);
        // A new item without an index key touches only the indexes it has keys for.
        let fresh = item(json!({"pk": {"S": "p"}, "sk": {"S": "s"}, "g2pk": {"S": "k"}}));
        assert_eq!(
            table.write_cost(None, Some(&fresh), false),
            WriteCost {
                table: 1,
                indexes: vec![("keys".into(), 1)]
            }
        );
    }
}
