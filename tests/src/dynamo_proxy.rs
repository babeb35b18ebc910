//! A counting pass-through in front of moto's DynamoDB: a function process pointed at it
//! (`FANLOOP_DYNAMODB_ENDPOINT`) works as usual, and every request it makes is recorded by its
//! operation name (the `X-Amz-Target` header: `GetItem`, `TransactWriteItems`, …). This counts
//! what the real binaries send over the wire, retries included, without touching their code.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

struct Proxy {
    upstream: String,
    client: Client<HttpConnector, Full<Bytes>>,
    seen: Mutex<Vec<String>>,
}

/// The running proxy; [`DynamoCounter::endpoint`] is the URL to hand to a function.
pub struct DynamoCounter {
    endpoint: String,
    proxy: Arc<Proxy>,
}

async fn forward(State(p): State<Arc<Proxy>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("?");
    let op = target.rsplit('.').next().unwrap_or(target).to_owned();
    p.seen.lock().unwrap().push(op);
    let Ok(bytes) = axum::body::to_bytes(body, 64 << 20).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let path = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let mut out = axum::http::Request::builder()
        .method(parts.method)
        .uri(format!("{}{path}", p.upstream));
    for (name, value) in &parts.headers {
        out = out.header(name, value);
    }
    let Ok(out) = out.body(Full::new(bytes)) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    match p.client.request(out).await {
        Ok(resp) => {
            let (parts, body) = resp.into_parts();
            match body.collect().await {
                Ok(b) => Response::from_parts(parts, Body::from(b.to_bytes())),
                Err(_) => StatusCode::BAD_GATEWAY.into_response(),
            }
        }
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}

impl DynamoCounter {
    /// Starts a proxy on a free loopback port that forwards to `upstream` (moto's URL).
    pub async fn start(upstream: &str) -> Self {
        let proxy = Arc::new(Proxy {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            seen: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(forward).with_state(proxy.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { endpoint, proxy }
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The operations forwarded since the last call, in order.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.proxy.seen.lock().unwrap())
    }
}
