//! A local AWS Lambda Runtime API (the interface a `provided.al2023` bootstrap polls), so the
//! function binaries run exactly as on Lambda: the process starts, polls
//! `GET /2018-06-01/runtime/invocation/next`, and posts each result to `…/{id}/response` (or
//! `…/{id}/error`). Tests hand events in with [`Function::invoke`].

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::{Mutex as AsyncMutex, mpsc, oneshot};

type Reply = Result<Value, Value>;

struct Shared {
    events: AsyncMutex<mpsc::Receiver<(String, Value)>>,
    pending: Mutex<HashMap<String, oneshot::Sender<Reply>>>,
    first_poll: Mutex<Option<Instant>>,
    init_error: Mutex<Option<String>>,
}

async fn next(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    s.first_poll
        .lock()
        .unwrap()
        .get_or_insert_with(Instant::now);
    let mut events = s.events.lock().await;
    let Some((id, event)) = events.recv().await else {
        return (StatusCode::GONE, HeaderMap::new(), String::new());
    };
    let mut h = HeaderMap::new();
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 60_000;
    h.insert(
        "lambda-runtime-aws-request-id",
        HeaderValue::from_str(&id).unwrap(),
    );
    h.insert(
        "lambda-runtime-deadline-ms",
        HeaderValue::from(deadline as u64),
    );
    h.insert(
        "lambda-runtime-invoked-function-arn",
        HeaderValue::from_static("arn:aws:lambda:us-east-1:123456789012:function:fanloop-test"),
    );
    h.insert(
        "lambda-runtime-trace-id",
        HeaderValue::from_static("Root=1-00000000-000000000000000000000000"),
    );
    h.insert("content-type", HeaderValue::from_static("application/json"));
    (StatusCode::OK, h, event.to_string())
}

fn finish(s: &Shared, id: &str, reply: Reply) -> StatusCode {
    match s.pending.lock().unwrap().remove(id) {
        Some(tx) => {
            let _ = tx.send(reply);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

fn json(body: &Bytes) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into()))
}

async fn response(State(s): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&s, &id, Ok(json(&body)))
}

async fn error(State(s): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&s, &id, Err(json(&body)))
}

async fn init_error(State(s): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    *s.init_error.lock().unwrap() = Some(String::from_utf8_lossy(&body).into_owned());
    StatusCode::ACCEPTED
}

/// One function binary running against its own Runtime API.
pub struct Function {
    child: Child,
    shared: Arc<Shared>,
    events: mpsc::Sender<(String, Value)>,
    started: Instant,
    seq: std::sync::atomic::AtomicU64,
}

/// The debug build of a workspace binary (scripts/test builds them before the tests).
pub fn binary(name: &str) -> std::path::PathBuf {
    binary_in("debug", name)
}

/// A workspace binary of the given build profile directory (`debug`, `release`).
pub fn binary_in(profile: &str, name: &str) -> std::path::PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = target.join(profile).join(name);
    assert!(
        path.exists(),
        "{} is missing: build the function binaries first (scripts/test does: cargo build --bins)",
        path.display()
    );
    path
}

impl Function {
    /// Starts `binary` with `env` (plus the Lambda environment) against a fresh Runtime API.
    pub async fn start(binary: &std::path::Path, env: &[(&str, String)]) -> Self {
        Self::start_with_log(binary, env, None).await
    }

    /// As [`Function::start`], with the function's log (its stdout, at `RUST_LOG=debug`)
    /// written to `log` when given.
    pub async fn start_with_log(
        binary: &std::path::Path,
        env: &[(&str, String)],
        log: Option<&std::path::Path>,
    ) -> Self {
        let (tx, rx) = mpsc::channel(16);
        let shared = Arc::new(Shared {
            events: AsyncMutex::new(rx),
            pending: Mutex::new(HashMap::new()),
            first_poll: Mutex::new(None),
            init_error: Mutex::new(None),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let name = binary.file_name().unwrap().to_string_lossy().into_owned();
        let mut cmd = Command::new(binary);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", format!("fanloop-test-{name}"))
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/fanloop-test-{name}"),
            )
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/22/[$LATEST]test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("RUST_LOG", if log.is_some() { "debug" } else { "info" })
            .stdout(match log {
                Some(path) => Stdio::from(std::fs::File::create(path).unwrap()),
                None => Stdio::null(),
            })
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let started = Instant::now();
        let child = cmd.spawn().unwrap();
        Self {
            child,
            shared,
            events: tx,
            started,
            seq: Default::default(),
        }
    }

    /// Invokes the function with `event`; its result, or the error it reported.
    pub async fn invoke(&self, event: Value) -> Reply {
        let n = self.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = format!("req-{n}");
        let (tx, rx) = oneshot::channel();
        self.shared.pending.lock().unwrap().insert(id.clone(), tx);
        self.events.send((id, event)).await.unwrap();
        match tokio::time::timeout(Duration::from_secs(60), rx).await {
            Ok(Ok(reply)) => reply,
            _ => panic!(
                "no answer from the function (init error: {:?})",
                self.shared.init_error.lock().unwrap()
            ),
        }
    }

    /// Process start to the first poll of the Runtime API (the function's init), once polled.
    pub fn init_time(&self) -> Option<Duration> {
        self.shared
            .first_poll
            .lock()
            .unwrap()
            .map(|t| t.duration_since(self.started))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the first poll of the Runtime API and returns the init time.
    pub async fn wait_for_init(&self, timeout: Duration) -> Duration {
        let give_up = Instant::now() + timeout;
        loop {
            if let Some(t) = self.init_time() {
                return t;
            }
            assert!(
                Instant::now() < give_up,
                "the function did not poll the Runtime API within {timeout:?} (init error: {:?})",
                self.shared.init_error.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }

    /// A memory figure of the process from `/proc/PID/status`, in KiB: `VmRSS` (resident now)
    /// or `VmHWM` (peak resident set since start). Linux only.
    pub fn memory_kib(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status.lines().find_map(|l| {
            l.strip_prefix(field)?
                .strip_prefix(':')?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto() -> (String, String) {
    (
        std::env::var("FANLOOP_TEST_AWS_ENDPOINT").expect(crate::MOTO_HELP),
        std::env::var("FANLOOP_TEST_TABLE").expect(crate::MOTO_HELP),
    )
}

/// The environment every function gets on AWS (template.yaml), pointed at moto.
pub async fn aws_env() -> Vec<(&'static str, String)> {
    let (endpoint, table) = moto();
    use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
    let conf = |b: aws_sdk_secretsmanager::config::Builder| {
        b.behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&endpoint)
            .credentials_provider(Credentials::new("test", "test", None, None, "static"))
            .build()
    };
    let secrets =
        aws_sdk_secretsmanager::Client::from_conf(conf(aws_sdk_secretsmanager::Config::builder()));
    let secret = format!("fanloop/lambda-path-{}", std::process::id());
    let _ = secrets
        .create_secret()
        .name(&secret)
        .secret_string("lambda-path-unsubscribe-secret-0123456789")
        .send()
        .await;
    let ses = {
        use aws_sdk_sesv2::config::{BehaviorVersion, Credentials, Region};
        aws_sdk_sesv2::Client::from_conf(
            aws_sdk_sesv2::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .endpoint_url(&endpoint)
                .credentials_provider(Credentials::new("test", "test", None, None, "static"))
                .build(),
        )
    };
    let _ = ses
        .create_email_identity()
        .email_identity("hello@lambda.example")
        .send()
        .await;
    vec![
        ("FANLOOP_TABLE", table),
        ("FANLOOP_DYNAMODB_ENDPOINT", endpoint.clone()),
        ("FANLOOP_SES_ENDPOINT", endpoint.clone()),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", endpoint),
        ("FANLOOP_UNSUBSCRIBE_SECRET_ID", secret),
        ("FANLOOP_PUBLIC_URL", "https://fanloop.test".into()),
        ("FANLOOP_SENDER", "hello@lambda.example".into()),
        ("FANLOOP_SEND_RATE", "100".into()),
    ]
}

/// An API Gateway HTTP API (payload 2.0) request, from the recorded fixture.
pub fn apigw(method: &str, route: &str, path: &str, key: &str, body: Value) -> Value {
    let mut e: Value =
        serde_json::from_str(include_str!("../fixtures/apigw-v2-put-customer.json")).unwrap();
    e["routeKey"] = json!(format!("{method} {route}"));
    e["requestContext"]["routeKey"] = e["routeKey"].clone();
    e["rawPath"] = json!(path);
    e["requestContext"]["http"]["method"] = json!(method);
    e["requestContext"]["http"]["path"] = json!(path);
    e["headers"]["authorization"] = json!(format!("Bearer {key}"));
    if let Some(h) = e["headers"].as_object_mut() {
        h.remove("content-length");
    }
    e["body"] = json!(body.to_string());
    e
}

/// The JSON body of an API Gateway reply (`null` when empty or not JSON).
pub fn body(reply: &Value) -> Value {
    serde_json::from_str(reply["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
}

/// A zone where it is now between 11:00 and 22:59, and today's date there (`--MM-DD`).
pub fn zone_past_send_hour() -> (String, String) {
    let now = jiff::Timestamp::now();
    for offset in -12i32..=14 {
        let zone = match offset {
            0 => "UTC".to_owned(),
            o if o < 0 => format!("Etc/GMT+{}", -o),
            o => format!("Etc/GMT-{o}"),
        };
        let local = now.to_zoned(jiff::tz::TimeZone::get(&zone).unwrap());
        if (11..23).contains(&local.hour()) {
            return (zone, format!("--{:02}-{:02}", local.month(), local.day()));
        }
    }
    unreachable!("some zone is always between 11:00 and 22:59")
}
