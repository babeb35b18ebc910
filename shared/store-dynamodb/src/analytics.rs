//! Analytics on DynamoDB.
//!
//! - Counters: `T#{tenant}#STATS#{scope}#{shard}` / `D#{YYYY-MM-DD}#{dim}` (`TOTAL#{dim}` for
//!   all-time), one number attribute `c:{key}` per counter added to with `ADD`, labels as
//!   `l:{name}`. A customer's writes always go to one of [`SHARDS`] partitions (by customer),
//!   inside the transaction of the write they count; a report reads `SHARDS` day ranges per
//!   scope, never the events or the customers.
//! - Snapshots: `T#{tenant}#SNAPSHOT` / `D#{YYYY-MM-DD}`, the document in `doc`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use fanloop_domain::analytics::{CounterRow, Counters, SHARDS, Scope, Snapshot};
use fanloop_domain::lookup::{Segments, tokens};
use fanloop_domain::ports::{AnalyticsStore, CustomerBatch, SnapshotCustomer, StoreError};
use fanloop_domain::surveys::shard_of;
use fanloop_domain::{CustomerId, TenantId};
use jiff::civil::Date;

use crate::item::{Item, av_s, get_n, get_s, item_to_profile};
use crate::points::{corrupt, item_to_account, to_json};
use crate::{DynamoStore, build_err, customers_pk, key, profile_pk, sdk_err};

const COUNTER: &str = "c:";
const LABEL: &str = "l:";

fn stats_pk(tenant: &TenantId, scope: Scope, shard: u32) -> String {
    format!("T#{tenant}#STATS#{}#{shard}", scope.as_str())
}

fn snapshot_pk(tenant: &TenantId) -> String {
    format!("T#{tenant}#SNAPSHOT")
}

fn row_sk(day: Option<Date>, dim: &str) -> String {
    match day {
        Some(d) => format!("D#{d}#{dim}"),
        None => format!("TOTAL#{dim}"),
    }
}

fn item_to_row(item: &Item) -> Result<CounterRow, StoreError> {
    let sk = get_s(item, "sk").ok_or_else(|| corrupt("counter row", "no sort key"))?;
    let (day, dim) = if let Some(dim) = sk.strip_prefix("TOTAL#") {
        (None, dim)
    } else {
        let rest = sk
            .strip_prefix("D#")
            .ok_or_else(|| corrupt("counter row", "bad sort key"))?;
        let (d, dim) = rest
            .split_once('#')
            .ok_or_else(|| corrupt("counter row", "bad sort key"))?;
        (Some(d.parse().map_err(|e| corrupt("counter day", e))?), dim)
    };
    let mut row = CounterRow {
        day,
        dim: dim.to_owned(),
        ..CounterRow::default()
    };
    for (name, v) in item {
        match (v, name.strip_prefix(COUNTER), name.strip_prefix(LABEL)) {
            (AttributeValue::N(n), Some(k), _) => {
                let n: i64 = n.parse().map_err(|e| corrupt("counter", e))?;
                row.counts.insert(k.to_owned(), n);
            }
            (AttributeValue::S(s), _, Some(l)) => {
                row.labels.insert(l.to_owned(), s.clone());
            }
            _ => {}
        }
    }
    Ok(row)
}

impl DynamoStore {
    /// One `Update` per counter row of `counters`, for the transaction of the write they
    /// count, on the customer's shard.
    pub(crate) fn counter_updates(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        counters: &Counters,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let shard = shard_of(customer.as_str()) % SHARDS;
        counters
            .rows
            .iter()
            .map(|(k, d)| {
                let adds: Vec<(String, i64)> = d
                    .add
                    .iter()
                    .map(|(name, by)| (format!("{COUNTER}{name}"), *by))
                    .collect();
                let labels: Vec<(String, String)> = d
                    .labels
                    .iter()
                    .map(|(name, v)| (format!("{LABEL}{name}"), v.clone()))
                    .collect();
                self.counter_update(
                    key(stats_pk(tenant, k.scope, shard), &row_sk(k.day, &k.dim)),
                    &adds,
                    &labels,
                )
            })
            .collect()
    }

    /// An `Update` of one counter item for a transaction: `ADD` each `(attribute, n)`, `SET`
    /// each `(attribute, value)`.
    pub(crate) fn counter_update(
        &self,
        item_key: HashMap<String, AttributeValue>,
        adds: &[(String, i64)],
        sets: &[(String, String)],
    ) -> Result<TransactWriteItem, StoreError> {
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        let mut add = Vec::new();
        for (i, (attr, by)) in adds.iter().enumerate() {
            names.insert(format!("#c{i}"), attr.clone());
            values.insert(format!(":c{i}"), AttributeValue::N(by.to_string()));
            add.push(format!("#c{i} :c{i}"));
        }
        let mut set = Vec::new();
        for (i, (attr, value)) in sets.iter().enumerate() {
            names.insert(format!("#l{i}"), attr.clone());
            values.insert(format!(":l{i}"), av_s(value.clone()));
            set.push(format!("#l{i} = :l{i}"));
        }
        let mut expr = String::new();
        if !add.is_empty() {
            expr.push_str(&format!("ADD {}", add.join(", ")));
        }
        if !set.is_empty() {
            expr.push_str(&format!(" SET {}", set.join(", ")));
        }
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(item_key))
            .update_expression(expr.trim())
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(build_err)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

#[async_trait]
impl AnalyticsStore for DynamoStore {
    async fn counter_rows(
        &self,
        tenant: &TenantId,
        scope: Scope,
        from: Date,
        to: Date,
    ) -> Result<Vec<CounterRow>, StoreError> {
        let mut out = Vec::new();
        for shard in 0..SHARDS {
            let items = self
                .query_between(
                    stats_pk(tenant, scope, shard),
                    format!("D#{from}#"),
                    format!("D#{to}#~"),
                )
                .await?;
            for item in items {
                out.push(item_to_row(&item)?);
            }
        }
        Ok(out)
    }

    async fn counter_totals(&self, tenant: &TenantId) -> Result<CounterRow, StoreError> {
        let keys: Vec<_> = (0..SHARDS)
            .map(|s| key(stats_pk(tenant, Scope::Overview, s), &row_sk(None, "")))
            .collect();
        let mut total = CounterRow::default();
        for item in self.batch_get(keys).await? {
            for (k, v) in item_to_row(&item)?.counts {
                *total.counts.entry(k).or_insert(0) += v;
            }
        }
        Ok(total)
    }

    async fn snapshot_customers(
        &self,
        tenant: &TenantId,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<CustomerBatch, StoreError> {
        // A pass over every customer of the tenant: the ids from the `by-tenant` index, all
        // shards queried at once (each in id order), then the profiles (consistently) in one
        // BatchGetItem per page. The cursor holds each shard's position.
        let mut positions = match cursor.as_deref() {
            Some(c) => Positions::parse(c)?,
            None => Positions::start(),
        };
        let per_shard = (limit.clamp(1, 100) / SHARDS as usize).max(1);
        let mut queries = tokio::task::JoinSet::new();
        for (shard, pos) in positions.0.iter().enumerate() {
            let Position::At(after) = pos else { continue };
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .index_name("by-tenant")
                .expression_attribute_values(":p", av_s(customers_pk(tenant, shard as u32)))
                .limit(i32::try_from(per_shard).unwrap_or(100));
            q = match after {
                Some(a) => q
                    .key_condition_expression("gsi4pk = :p AND gsi4sk > :a")
                    .expression_attribute_values(":a", av_s(a.clone())),
                None => q.key_condition_expression("gsi4pk = :p"),
            };
            queries.spawn(async move { (shard, q.send().await) });
        }
        let mut ids = Vec::new();
        while let Some(done) = queries.join_next().await {
            let (shard, page) =
                done.map_err(|e| StoreError::Unavailable(format!("customer pass: {e}")))?;
            let page = page.map_err(sdk_err)?;
            let found: Vec<String> = page
                .items
                .unwrap_or_default()
                .iter()
                .filter_map(|i| get_s(i, "gsi4sk").map(str::to_owned))
                .collect();
            match (found.last(), page.last_evaluated_key.is_some()) {
                (Some(last), true) => positions.0[shard] = Position::At(Some(last.clone())),
                // An empty page that is not the end: ask again from the same place.
                (None, true) => {}
                (_, false) => positions.0[shard] = Position::Done,
            }
            ids.extend(found);
        }
        let next = positions.next();
        let keys = ids
            .iter()
            .filter_map(|c| CustomerId::parse(c.as_str()).ok())
            .map(|c| key(profile_pk(tenant, &c), "PROFILE"))
            .collect();
        let mut items = self.batch_get(keys).await?;
        items.sort_by(|a, b| get_s(a, "customer_id").cmp(&get_s(b, "customer_id")));
        let mut out = Vec::new();
        for item in items {
            out.push(SnapshotCustomer {
                profile: item_to_profile(&item)?,
                account: item_to_account(&item)?.account,
                segments: segments_of(&item),
                nps_answered: matches!(item.get("nps_answered"), Some(AttributeValue::Bool(true))),
            });
        }
        Ok((out, next))
    }

    async fn move_segments(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        from: &Segments,
        to: &Segments,
        counters: &Counters,
    ) -> Result<bool, StoreError> {
        let mut values = HashMap::new();
        let mut conds = vec!["attribute_exists(pk)".to_owned()];
        let mut sets = Vec::new();
        let (was, now) = (fields(from), fields(to));
        for (i, attr) in SEGMENT_ATTRS.iter().enumerate() {
            match was[i] {
                Some(w) => {
                    values.insert(format!(":was{i}"), av_s(w));
                    conds.push(format!("{attr} = :was{i}"));
                }
                None => conds.push(format!("attribute_not_exists({attr})")),
            }
            if let Some(n) = now[i] {
                values.insert(format!(":now{i}"), av_s(n));
                sets.push(format!("{attr} = :now{i}"));
            }
        }
        if sets.is_empty() {
            return Ok(false);
        }
        // The first snapshot with segments also indexes a profile written before search (its
        // own tokens were then never put): puts from the profile as read, under its revision.
        let mut backfill = Vec::new();
        if from.tier.is_none() {
            let Some(item) = self.get(profile_pk(tenant, customer), "PROFILE").await? else {
                return Ok(false);
            };
            let lookup_key = self.lookup_key(tenant).await?;
            let own: Vec<String> = tokens(&item_to_profile(&item)?, &lookup_key)
                .into_iter()
                .collect();
            if !own.is_empty() {
                values.insert(
                    ":rev".into(),
                    AttributeValue::N(get_n(&item, "rev").unwrap_or(0).to_string()),
                );
                conds.push("rev = :rev".into());
                backfill = self.token_writes(tenant, customer, &own, &[])?;
            }
        }
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(profile_pk(tenant, customer), "PROFILE")))
            .update_expression(format!("SET {}", sets.join(", ")))
            .condition_expression(conds.join(" AND "))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(build_err)?;
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        let (added, removed) = from.token_changes(to);
        items.extend(self.token_writes(tenant, customer, &added, &removed)?);
        items.extend(backfill);
        items.extend(self.counter_updates(tenant, customer, counters)?);
        self.transact_applied(items).await
    }

    async fn put_snapshot(&self, tenant: &TenantId, snapshot: &Snapshot) -> Result<(), StoreError> {
        let mut item = key(snapshot_pk(tenant), &format!("D#{}", snapshot.day));
        item.insert("doc".into(), av_s(to_json("snapshot", snapshot)?));
        self.put_item(item).await
    }

    async fn latest_snapshot(&self, tenant: &TenantId) -> Result<Option<Snapshot>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", av_s(snapshot_pk(tenant)))
            .scan_index_forward(false)
            .limit(1)
            .send()
            .await
            .map_err(sdk_err)?;
        out.items
            .unwrap_or_default()
            .first()
            .and_then(|i| get_s(i, "doc"))
            .map(|d| serde_json::from_str(d).map_err(|e| corrupt("snapshot", e)))
            .transpose()
    }
}

/// The profile item's attributes holding the segments, in [`fields`] order.
const SEGMENT_ATTRS: [&str; 3] = ["stage", "seg_tier", "seg_rfm"];

fn fields(s: &Segments) -> [Option<&str>; 3] {
    [s.lifecycle.as_deref(), s.tier.as_deref(), s.rfm.as_deref()]
}

/// The segments stored on a profile item.
pub(crate) fn segments_of(item: &crate::item::Item) -> Segments {
    let get = |a: &str| get_s(item, a).map(str::to_owned);
    Segments {
        lifecycle: get(SEGMENT_ATTRS[0]),
        tier: get(SEGMENT_ATTRS[1]),
        rfm: get(SEGMENT_ATTRS[2]),
    }
}

/// Where a pass over the tenant's customers stands in one shard of `by-tenant`.
#[derive(Clone, Debug, PartialEq)]
enum Position {
    /// After this id (`None`: from the start).
    At(Option<String>),
    Done,
}

/// Every shard's position; written as 8 comma-separated fields (an id, empty for the start,
/// `~` when done: neither `,` nor `~` is in the id alphabet).
struct Positions(Vec<Position>);

impl Positions {
    fn start() -> Self {
        Self(vec![Position::At(None); SHARDS as usize])
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        let p: Vec<Position> = s
            .split(',')
            .map(|f| match f {
                "~" => Position::Done,
                "" => Position::At(None),
                id => Position::At(Some(id.to_owned())),
            })
            .collect();
        if p.len() != SHARDS as usize {
            return Err(corrupt("customer cursor", "not one position per shard"));
        }
        Ok(Self(p))
    }

    /// The cursor of the next page; `None` when every shard is done.
    fn next(&self) -> Option<String> {
        if self.0.iter().all(|p| *p == Position::Done) {
            return None;
        }
        Some(
            self.0
                .iter()
                .map(|p| match p {
                    Position::Done => "~",
                    Position::At(None) => "",
                    Position::At(Some(id)) => id.as_str(),
                })
                .collect::<Vec<_>>()
                .join(","),
        )
    }
}
