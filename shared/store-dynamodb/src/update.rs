//! Translating a profile patch into one DynamoDB update expression. The merge rule itself is the
//! domain's (`Profile::apply`); this only maps "set field" / "clear field" onto SET / REMOVE,
//! and the contract suite checks both stores end in the same profile.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use fanloop_domain::input::Patch;
use fanloop_domain::profile::{Identity, ProfilePatch};
use fanloop_domain::{CustomerId, TenantId, time};
use jiff::Timestamp;

use crate::item::{attr_to_av, av_s, identity_token};

#[derive(Default)]
pub struct UpdateBuilder {
    sets: Vec<String>,
    removes: Vec<String>,
    adds: Vec<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
    condition: Option<String>,
}

impl UpdateBuilder {
    fn name(&mut self, attr: &str) -> String {
        let n = format!("#{attr}");
        self.names.insert(n.clone(), attr.to_owned());
        n
    }

    fn value(&mut self, v: AttributeValue) -> String {
        let k = format!(":v{}", self.values.len());
        self.values.insert(k.clone(), v);
        k
    }

    fn set(&mut self, attr: &str, v: AttributeValue) {
        let (n, v) = (self.name(attr), self.value(v));
        self.sets.push(format!("{n} = {v}"));
    }

    fn set_if_absent(&mut self, attr: &str, v: AttributeValue) {
        let (n, v) = (self.name(attr), self.value(v));
        self.sets.push(format!("{n} = if_not_exists({n}, {v})"));
    }

    fn remove(&mut self, attr: &str) {
        let n = self.name(attr);
        self.removes.push(n);
    }

    fn string<T: AsRef<str>>(&mut self, attr: &str, p: &Patch<T>) {
        match p {
            Patch::Keep => {}
            Patch::Clear => self.remove(attr),
            Patch::Set(v) => self.set(attr, av_s(v.as_ref())),
        }
    }

    /// The update of an upsert at `now`.
    pub fn for_upsert(
        tenant: &TenantId,
        customer: &CustomerId,
        patch: &ProfilePatch,
        now: Timestamp,
    ) -> Self {
        let mut u = Self::default();
        let now_s = av_s(time::format(now));
        u.set("customer_id", av_s(customer.as_str()));
        u.set_if_absent("created_at", now_s.clone());
        u.set("updated_at", now_s.clone());
        u.set_if_absent("gsi2pk", av_s(crate::active_pk(tenant, now)));
        u.set_if_absent("gsi2sk", av_s(customer.as_str()));
        // The tenant's customer index (set on every upsert, so older profiles join it too).
        let shard = fanloop_domain::surveys::shard_of(customer.as_str());
        u.set("gsi4pk", av_s(crate::customers_pk(tenant, shard)));
        u.set("gsi4sk", av_s(customer.as_str()));
        let (rev, zero, one) = (
            u.name("rev"),
            u.value(AttributeValue::N("0".into())),
            u.value(AttributeValue::N("1".into())),
        );
        u.sets
            .push(format!("{rev} = if_not_exists({rev}, {zero}) + {one}"));
        if patch.imported {
            // The stream's signup reading skips an imported profile's INSERT.
            u.set_if_absent("no_signup", AttributeValue::Bool(true));
        }

        u.string("email", &patch.email);
        u.string("display_name", &patch.display_name);
        u.string("locale", &patch.locale);
        u.string("timezone", &patch.timezone);
        u.string("phone", &patch.phone);
        match &patch.birthday {
            Patch::Keep => {}
            Patch::Clear => {
                u.remove("birthday");
                u.remove("gsi1pk");
                u.remove("gsi1sk");
            }
            Patch::Set(b) => {
                u.set("birthday", av_s(b.to_string()));
                u.set("gsi1pk", av_s(format!("T#{tenant}#BDAY#{}", b.month_day())));
                u.set("gsi1sk", av_s(customer.as_str()));
            }
        }
        match &patch.tags {
            Patch::Keep => {}
            Patch::Set(t) if !t.is_empty() => u.set(
                "tags",
                AttributeValue::L(t.iter().map(|t| av_s(t.as_str())).collect()),
            ),
            _ => u.remove("tags"),
        }
        match &patch.attributes {
            Patch::Keep => {}
            Patch::Set(a) if !a.is_empty() => u.set(
                "attributes",
                AttributeValue::M(
                    a.iter()
                        .map(|(k, v)| (k.to_string(), attr_to_av(v)))
                        .collect(),
                ),
            ),
            _ => u.remove("attributes"),
        }
        if let Some(c) = &patch.consent {
            match c.email_marketing {
                Patch::Keep => {}
                Patch::Clear => u.remove("consent_email"),
                Patch::Set(granted) => u.set(
                    "consent_email",
                    AttributeValue::M(HashMap::from([
                        ("granted".to_owned(), AttributeValue::Bool(granted)),
                        ("at".to_owned(), now_s.clone()),
                        ("source".to_owned(), av_s(c.source.clone())),
                    ])),
                ),
            }
        }
        u
    }

    pub fn add_identities(&mut self, ids: &[Identity]) {
        if !ids.is_empty() {
            let n = self.name("idents");
            let v = self.value(AttributeValue::Ss(ids.iter().map(identity_token).collect()));
            self.adds.push(format!("{n} {v}"));
        }
    }

    pub fn condition_rev(&mut self, rev: u64) {
        let (n, v) = (
            self.name("rev"),
            self.value(AttributeValue::N(rev.to_string())),
        );
        self.condition = Some(format!("{n} = {v}"));
    }

    pub fn condition_new(&mut self) {
        self.condition = Some("attribute_not_exists(pk)".to_owned());
    }

    fn expression(&self) -> String {
        let mut e = format!("SET {}", self.sets.join(", "));
        if !self.removes.is_empty() {
            e.push_str(&format!(" REMOVE {}", self.removes.join(", ")));
        }
        if !self.adds.is_empty() {
            e.push_str(&format!(" ADD {}", self.adds.join(", ")));
        }
        e
    }

    pub fn finish(
        self,
    ) -> (
        String,
        HashMap<String, String>,
        HashMap<String, AttributeValue>,
    ) {
        (self.expression(), self.names, self.values)
    }

    pub fn finish_with_condition(
        self,
    ) -> (
        String,
        HashMap<String, String>,
        HashMap<String, AttributeValue>,
        String,
    ) {
        let cond = self
            .condition
            .clone()
            .unwrap_or_else(|| "attribute_exists(pk) OR attribute_not_exists(pk)".into());
        (self.expression(), self.names, self.values, cond)
    }
}
