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
use serde_json::Value;
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
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = target.join("debug").join(name);
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
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
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
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
