//! What a thank-you recommends: up to three items of the tenant's catalogue (settings
//! `catalogue`) the customer does not own — first those most bought together with what was
//! just bought (co-purchase counts, kept on the item counters of the day of each purchase), then
//! the top sellers of its category, then the top sellers overall, in the window the caller read;
//! with too few sales, the category's other items and then the rest, in the catalogue's order.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::analytics::CounterRow;
use crate::error::ValidationErrors;
use crate::ids::ExternalId;
use crate::settings::HttpsUrl;
use crate::values::{DisplayName, Tag};

/// Items in a catalogue at most.
pub const CATALOGUE_MAX: usize = 1000;

/// Recommendations in one mail at most.
pub const RECOMMENDATIONS: usize = 3;

/// The counter key prefix of co-purchases: `co.{sku}` on an item's row.
pub const CO_PREFIX: &str = "co.";

/// One item the tenant sells.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogueItem {
    #[schema(value_type = String)]
    pub sku: ExternalId,
    #[schema(value_type = String)]
    pub name: DisplayName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub category: Option<Tag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub url: Option<HttpsUrl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub image: Option<HttpsUrl>,
}

/// Checks settings `catalogue`: at most [`CATALOGUE_MAX`] items, SKUs unique.
pub fn validate_catalogue(items: &[CatalogueItem], errs: &mut ValidationErrors) {
    if items.len() > CATALOGUE_MAX {
        errs.push(
            "catalogue",
            format!("must have at most {CATALOGUE_MAX} items"),
        );
    }
    let mut seen = BTreeSet::new();
    for (i, it) in items.iter().enumerate() {
        if !seen.insert(it.sku.as_str()) {
            errs.push(format!("catalogue[{i}].sku"), "is listed twice");
        }
    }
}

/// Up to [`RECOMMENDATIONS`] catalogue items for a customer who just bought `bought` (and
/// owns `owned`), ranked from item counter `rows`.
pub fn recommend<'a>(
    catalogue: &'a [CatalogueItem],
    bought: &str,
    owned: &[String],
    rows: &[CounterRow],
) -> Vec<&'a CatalogueItem> {
    let mut sales: BTreeMap<&str, i64> = BTreeMap::new();
    let mut together: BTreeMap<&str, i64> = BTreeMap::new();
    for r in rows {
        *sales.entry(r.dim.as_str()).or_default() += r.get("purchases");
        if r.dim == bought {
            for (k, n) in &r.counts {
                if let Some(other) = k.strip_prefix(CO_PREFIX) {
                    *together.entry(other).or_default() += n;
                }
            }
        }
    }
    let category = catalogue
        .iter()
        .find(|c| c.sku.as_str() == bought)
        .and_then(|c| c.category.as_ref());
    let eligible =
        |c: &&CatalogueItem| c.sku.as_str() != bought && !owned.iter().any(|o| o == c.sku.as_str());
    // Best first by the score, then by SKU so ties are stable.
    let ranked = |score: &dyn Fn(&CatalogueItem) -> Option<i64>| {
        let mut v: Vec<(&'a CatalogueItem, i64)> = catalogue
            .iter()
            .filter(eligible)
            .filter_map(|c| score(c).filter(|s| *s > 0).map(|s| (c, s)))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.sku.cmp(&b.0.sku)));
        v.into_iter().map(|(c, _)| c).collect::<Vec<_>>()
    };
    let by_together = ranked(&|c| together.get(c.sku.as_str()).copied());
    let by_category = ranked(&|c| {
        (category.is_some() && c.category.as_ref() == category)
            .then(|| sales.get(c.sku.as_str()).copied().unwrap_or(0))
    });
    let by_sales = ranked(&|c| sales.get(c.sku.as_str()).copied());
    // With nothing sold yet: the category's items, then the rest, in the catalogue's order.
    let same_category = catalogue
        .iter()
        .filter(eligible)
        .filter(|c| category.is_some() && c.category.as_ref() == category);
    let rest = catalogue.iter().filter(eligible);
    let mut out: Vec<&CatalogueItem> = Vec::new();
    for c in by_together
        .into_iter()
        .chain(by_category)
        .chain(by_sales)
        .chain(same_category)
        .chain(rest)
    {
        if out.len() == RECOMMENDATIONS {
            break;
        }
        if !out.iter().any(|o| o.sku == c.sku) {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(sku: &str, category: &str) -> CatalogueItem {
        serde_json::from_value(
            serde_json::json!({"sku": sku, "name": sku.to_uppercase(), "category": category}),
        )
        .unwrap()
    }

    fn row(dim: &str, counts: &[(&str, i64)]) -> CounterRow {
        CounterRow {
            day: Some(jiff::civil::date(2026, 11, 20)),
            dim: dim.into(),
            counts: counts.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
            labels: Default::default(),
        }
    }

    #[test]
    fn bought_together_then_the_category_then_overall_never_what_is_owned() {
        let cat = [
            item("a", "skins"),
            item("b", "skins"),
            item("c", "skins"),
            item("d", "gems"),
            item("e", "gems"),
        ];
        let rows = [
            row("a", &[("purchases", 7), ("co.d", 3), ("co.b", 1)]),
            row("b", &[("purchases", 5)]),
            row("c", &[("purchases", 2)]),
            row("d", &[("purchases", 4)]),
            // The same item on another day (or shard) adds up.
            row("e", &[("purchases", 6)]),
            row("e", &[("purchases", 4)]),
        ];
        let got: Vec<&str> = recommend(&cat, "a", &["d".to_owned()], &rows)
            .iter()
            .map(|c| c.sku.as_str())
            .collect();
        assert_eq!(got, ["b", "c", "e"], "d is owned, a was just bought");
        let none: Vec<&str> = recommend(
            &cat,
            "a",
            &["b".into(), "c".into(), "d".into(), "e".into()],
            &rows,
        )
        .iter()
        .map(|c| c.sku.as_str())
        .collect();
        assert!(none.is_empty(), "everything else owned: {none:?}");
        // An item outside the catalogue: top sellers only.
        let other: Vec<&str> = recommend(&cat, "zzz", &[], &rows)
            .iter()
            .map(|c| c.sku.as_str())
            .collect();
        assert_eq!(other, ["e", "a", "b"]);
        // Nothing sold yet: the category first, in catalogue order.
        let cold: Vec<&str> = recommend(&cat, "a", &[], &[])
            .iter()
            .map(|c| c.sku.as_str())
            .collect();
        assert_eq!(cold, ["b", "c", "d"]);
    }

    #[test]
    fn a_catalogue_lists_each_sku_once() {
        let mut errs = ValidationErrors::default();
        validate_catalogue(&[item("a", "x"), item("a", "y")], &mut errs);
        assert_eq!(errs.0[0].field, "catalogue[1].sku");
    }
}
