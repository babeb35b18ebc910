//! Test harness: real stores (SQLite in a temp file, DynamoDB on moto), fresh tenants, and an
//! in-process client for the assembled HTTP service.

pub mod capacity;
pub mod dynamo_proxy;
pub mod runtime_api;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use fanloop_domain::clock::ManualClock;
use fanloop_domain::ports::Store;
use fanloop_domain::tenant::{ApiKey, OsRandom, Random, Tenant};
use fanloop_domain::{Clock, TenantId};
use fanloop_http::{AppState, assemble};
use fanloop_store_dynamodb::DynamoStore;
use fanloop_store_sqlite::SqliteStore;
use jiff::Timestamp;
use serde_json::Value;
use tower::ServiceExt;

/// One of the two real stores, plus what tests need beyond the port (a raw dump).
#[derive(Clone)]
pub enum Backend {
    Sqlite(Arc<SqliteStore>),
    Dynamo(Arc<DynamoStore>),
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    OsRandom.fill(&mut b).unwrap();
    hex::encode(b)
}

/// A SQLite database in a fresh file (WAL mode, like `fanloop serve`).
pub fn sqlite() -> Backend {
    let dir = std::env::temp_dir().join("fanloop-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{}.db", random_hex(8)));
    Backend::Sqlite(Arc::new(SqliteStore::open(&path).unwrap()))
}

pub const MOTO_HELP: &str = "FANLOOP_TEST_AWS_ENDPOINT and FANLOOP_TEST_TABLE are not set. DynamoDB tests need \
moto's server: run them through scripts/test, which installs moto, starts it and creates the table.";

/// The DynamoDB adapter on the moto endpoint the test script started. Fails loudly without it.
pub fn dynamodb() -> Backend {
    let (Ok(endpoint), Ok(table)) = (
        std::env::var("FANLOOP_TEST_AWS_ENDPOINT"),
        std::env::var("FANLOOP_TEST_TABLE"),
    ) else {
        panic!("{MOTO_HELP}");
    };
    Backend::Dynamo(Arc::new(DynamoStore::new(dynamo_client(&endpoint), table)))
}

pub fn dynamo_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

/// Saves an active campaign definition straight into the store (checked as the API would).
pub async fn save_definition(
    store: &dyn Store,
    tenant: &TenantId,
    def: serde_json::Value,
    at: Timestamp,
) {
    use fanloop_domain::campaigns::definition::{CampaignRecord, CampaignStatus, NewCampaign};
    let c = NewCampaign::read(def.clone()).unwrap();
    let record = CampaignRecord {
        campaign_id: c.campaign_id,
        status: CampaignStatus::Active,
        definition: def,
        created_at: at,
        updated_at: at,
    };
    assert!(
        fanloop_domain::ports::documents::create(store, tenant, &record)
            .await
            .unwrap()
    );
}

/// The tenant's current ingest secret (made with the tenant).
pub async fn ingest_secret(
    store: &dyn Store,
    tenant: &TenantId,
) -> fanloop_domain::ingest::IngestSecret {
    store
        .ingest_secrets(tenant)
        .await
        .unwrap()
        .pop()
        .expect("a tenant is made with an ingest secret")
}

/// Signs every record of an SQS event (`messageAttributes.signature`) as a producer does.
pub fn sign_sqs_event(event: &mut Value, secret: &fanloop_domain::ingest::IngestSecret) {
    if let Some(records) = event["Records"].as_array_mut() {
        for r in records {
            let sig = secret.sign(r["body"].as_str().unwrap_or_default().as_bytes());
            r["messageAttributes"]["signature"] = serde_json::json!({
                "stringValue": sig, "stringListValues": [], "binaryListValues": [],
                "dataType": "String"});
        }
    }
}

/// The table's item `(pk, sk)` as stored (DynamoDB tests that check the wire format).
pub async fn raw_item(
    d: &DynamoStore,
    pk: String,
    sk: &str,
) -> Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    use aws_sdk_dynamodb::types::AttributeValue;
    d.client()
        .get_item()
        .table_name(d.table())
        .key("pk", AttributeValue::S(pk))
        .key("sk", AttributeValue::S(sk.to_owned()))
        .send()
        .await
        .unwrap()
        .item
}

/// An SQS client on the moto endpoint the test script started. Fails loudly without it.
pub fn sqs_client() -> aws_sdk_sqs::Client {
    use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
    let endpoint = std::env::var("FANLOOP_TEST_AWS_ENDPOINT").expect(MOTO_HELP);
    let conf = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .build();
    aws_sdk_sqs::Client::from_conf(conf)
}

/// A new queue on moto (its URL), named `{prefix}-{unique}`.
pub async fn sqs_queue(client: &aws_sdk_sqs::Client, prefix: &str) -> String {
    let name = format!("{prefix}-{}", random_hex(8));
    client
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap()
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "sqlite",
            Backend::Dynamo(_) => "dynamodb",
        }
    }

    pub fn store(&self) -> Arc<dyn Store> {
        match self {
            Backend::Sqlite(s) => s.clone(),
            Backend::Dynamo(d) => d.clone(),
        }
    }

    /// Every text stored under the tenant, to prove erasure left no personal data.
    pub async fn dump(&self, tenant: &TenantId) -> Vec<String> {
        match self {
            Backend::Sqlite(s) => s.dump_tenant_text(tenant).await.unwrap(),
            Backend::Dynamo(d) => d.dump_tenant_text(tenant).await.unwrap(),
        }
    }

    /// The ledger kept under an erased customer's anonymous id (not reachable through the API).
    pub async fn anonymous_ledger(
        &self,
        tenant: &TenantId,
        anonymous: &str,
    ) -> Vec<fanloop_domain::points::LedgerEntry> {
        match self {
            Backend::Sqlite(s) => s.anonymous_ledger(tenant, anonymous).await.unwrap(),
            Backend::Dynamo(d) => d.anonymous_ledger(tenant, anonymous).await.unwrap(),
        }
    }

    /// A new tenant with a unique id (tests share one table) and its API key.
    pub async fn tenant(&self) -> (TenantId, ApiKey) {
        let id = TenantId::parse(format!("t-{}", random_hex(8))).unwrap();
        let key = ApiKey::generate(&OsRandom).unwrap();
        let tenant = Tenant {
            id: id.clone(),
            name: id.to_string(),
            created_at: Timestamp::now(),
        };
        self.store().create_tenant(&tenant, &key).await.unwrap();
        (id, key)
    }
}

/// Activity at `at`, reported as it happened (not late).
pub fn active(at: &str) -> fanloop_domain::campaigns::backlog::Activity {
    fanloop_domain::campaigns::backlog::Activity::new(ts(at), ts(at))
}

/// Tenant settings for points tests: no daily caps, no tier multipliers, points valid 60 days.
pub fn plain_points_settings() -> fanloop_domain::settings::TenantSettings {
    let mut s = fanloop_domain::settings::TenantSettings::default();
    s.points.earning.daily_caps = Default::default();
    s.points
        .tiers
        .iter_mut()
        .for_each(|t| t.multiplier_pct = 100);
    s.points.validity_days = 60;
    s
}

pub fn ts(s: &str) -> Timestamp {
    fanloop_domain::time::parse(s).unwrap()
}

/// The unsubscribe secret of test setups.
pub const TEST_UNSUBSCRIBE_SECRET: &[u8] = b"test-unsubscribe-secret-0123456789abcdef";

/// A fresh, empty outbox directory.
pub fn outbox_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir()
        .join("fanloop-tests")
        .join(format!("outbox-{}", random_hex(8)));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Campaigns on `backend` with a controllable clock, writing to `mailer` (an outbox when None).
pub fn campaigns(
    backend: &Backend,
    clock: Arc<ManualClock>,
    mailer: Option<Arc<dyn fanloop_domain::ports::Mailer>>,
) -> (Arc<fanloop_campaigns::Campaigns>, std::path::PathBuf) {
    let dir = outbox_dir();
    let mailer = mailer.unwrap_or_else(|| Arc::new(fanloop_mail::OutboxMailer::new(&dir).unwrap()));
    let c = fanloop_campaigns::Campaigns {
        store: backend.store(),
        mailer,
        clock,
        templates: Arc::new(fanloop_mail::Templates::new()),
        unsubscribe_key: fanloop_domain::campaigns::unsubscribe::UnsubscribeKey::new(
            TEST_UNSUBSCRIBE_SECRET,
        )
        .unwrap(),
        public_url: "https://fanloop.test".into(),
        default_sender: Some(
            fanloop_domain::values::Email::parse("hello@star-arena.example").unwrap(),
        ),
        pacer: Arc::new(fanloop_campaigns::Pacer::new(0)),
        item_rows: Default::default(),
        queue: None,
    };
    (Arc::new(c), dir)
}

/// The `.eml` files in an outbox, as text, sorted by name.
pub fn outbox_files(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// The whole HTTP service in process, with a controllable clock and one tenant.
pub struct TestApp {
    pub router: Router,
    pub backend: Backend,
    pub clock: Arc<ManualClock>,
    pub tenant: TenantId,
    pub key: String,
    pub campaigns: Arc<fanloop_campaigns::Campaigns>,
    pub outbox: std::path::PathBuf,
    /// The OpenAPI document the routers generate (what `/openapi.json` must serve).
    pub openapi: utoipa::openapi::OpenApi,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Asserts a problem+json answer with this status and type slug.
    pub fn assert_problem(&self, status: u16, slug: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.content_type(), "application/problem+json");
        let ty = self.body["type"].as_str().unwrap_or_default();
        assert!(ty.ends_with(&format!("/{slug}")), "{}", self.body);
    }

    /// The fields a problem's `errors` name, sorted (none when it has no `errors`).
    pub fn fields(&self) -> Vec<String> {
        let mut f: Vec<String> = self.body["errors"].as_array().map_or(vec![], |a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        });
        f.sort();
        f
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl TestApp {
    pub async fn new(backend: Backend) -> Self {
        let clock = Arc::new(ManualClock::new(ts("2026-11-22T08:00:00Z")));
        let state = AppState::new(backend.store(), clock.clone() as Arc<dyn Clock>);
        let (campaigns, outbox) = campaigns(&backend, clock.clone(), None);
        let (router, openapi) = assemble(
            fanloop_profiles::routes()
                .merge(fanloop_points::routes())
                .merge(fanloop_campaigns::routes(campaigns.clone()))
                .merge(fanloop_surveys::routes(campaigns.clone())),
            fanloop_campaigns::public_routes(campaigns.clone()),
            state,
        );
        let (tenant, key) = backend.tenant().await;
        Self {
            router,
            backend,
            clock,
            tenant,
            key: key.expose().to_owned(),
            campaigns,
            outbox,
            openapi,
        }
    }

    /// Sends a raw request; `key` None sends no Authorization header.
    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
        key: Option<&str>,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        if let Some(k) = key {
            req = req.header("authorization", format!("Bearer {k}"));
        }
        let res = self
            .router
            .clone()
            .oneshot(req.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    /// An authenticated JSON request.
    pub async fn json(&self, method: Method, uri: &str, body: Option<Value>) -> Reply {
        let (ct, bytes) = match body {
            Some(b) => (Some("application/json"), serde_json::to_vec(&b).unwrap()),
            None => (None, Vec::new()),
        };
        self.send(method, uri, ct, bytes, Some(&self.key.clone()))
            .await
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.json(Method::GET, uri, None).await
    }

    pub async fn put(&self, uri: &str, body: Value) -> Reply {
        self.json(Method::PUT, uri, Some(body)).await
    }

    pub async fn post(&self, uri: &str, body: Value) -> Reply {
        self.json(Method::POST, uri, Some(body)).await
    }

    /// A new API key of the tenant with these scopes (its secret).
    pub async fn new_key(&self, scopes: &[&str]) -> String {
        let r = self
            .post(
                "/v1/keys",
                serde_json::json!({"name": "test key", "scopes": scopes}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["secret"].as_str().unwrap_or_default().to_owned()
    }

    /// `POST /v1/campaigns/{id}/runs` with the clock at `at`; the run's report (200 asserted).
    pub async fn run_campaign(&self, id: &str, at: &str) -> Value {
        self.clock.set(ts(at));
        let r = self
            .post(&format!("/v1/campaigns/{id}/runs"), serde_json::json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body
    }
}

/// Declares each listed `async fn name(backend: Backend)` as two tests, `sqlite::name` and
/// `dynamodb::name`, so every behaviour runs against both stores.
#[macro_export]
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name($crate::sqlite()).await
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name($crate::dynamodb()).await
                }
            )*
        }
    };
}

/// The decoded body parts of an RFC 5322 message (base64 and quoted-printable), joined.
pub fn mail_text(raw: &str) -> String {
    let mut out = String::new();
    for part in raw.split("Content-Transfer-Encoding: ").skip(1) {
        let encoding = part.split("\r\n").next().unwrap_or("");
        let body = part.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        let body = body.split("\r\n--").next().unwrap_or("");
        match encoding.trim() {
            "base64" => {
                use base64::Engine;
                let compact: String = body.split_whitespace().collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .unwrap();
                out.push_str(&String::from_utf8(bytes).unwrap());
            }
            "quoted-printable" => {
                let joined = body.replace("=\r\n", "");
                let bytes = joined.as_bytes();
                let mut decoded = Vec::new();
                let mut i = 0;
                while i < bytes.len() {
                    if bytes[i] == b'=' && i + 2 < bytes.len() {
                        let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                        decoded.push(u8::from_str_radix(hex, 16).unwrap());
                        i += 3;
                    } else {
                        decoded.push(bytes[i]);
                        i += 1;
                    }
                }
                out.push_str(&String::from_utf8(decoded).unwrap());
            }
            _ => out.push_str(body),
        }
        out.push('\n');
    }
    out
}

/// The value of a header (first occurrence, unfolded).
pub fn mail_header(raw: &str, name: &str) -> Option<String> {
    let head = raw.split("\r\n\r\n").next()?;
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
}

/// `GET path` on the moto server (its `/moto-api/` is not an AWS API), body as text.
pub async fn moto_get(path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let endpoint = std::env::var("FANLOOP_TEST_AWS_ENDPOINT").expect(MOTO_HELP);
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    text.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default()
}

/// The SES event fixture `tests/fixtures/ses/{name}.json` about the mail `message_id` to
/// `recipient` (of `tenant`'s `customer`), with its tags as Fanloop sets them and, for the
/// transient bounce, the bounce at `at`.
pub fn ses_event(
    name: &str,
    recipient: &str,
    tenant: &TenantId,
    customer: &str,
    message_id: &str,
    at: &str,
) -> Value {
    let tags =
        fanloop_domain::deliverability::mail_tags(&fanloop_domain::deliverability::MailRef {
            tenant: tenant.clone(),
            customer: fanloop_domain::CustomerId::parse(customer).unwrap(),
            message_id: message_id.to_owned(),
        });
    let tag = |n: &str| tags.iter().find(|(k, _)| k == n).unwrap().1.clone();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/ses")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("RECIPIENT", recipient)
        .replace("TIMESTAMP", at)
        .replace("TENANT", &tag("fl_tenant"))
        .replace("CUSTOMER", &tag("fl_customer"))
        .replace("MESSAGE", &tag("fl_message"));
    serde_json::from_str(&text).unwrap()
}
