//! Lambda figures for docs/benchmarks.md, from the real function binaries under the local
//! Runtime API (`fanloop_tests::runtime_api`) against moto. Run through `scripts/bench-lambda`,
//! which starts moto, creates the table and builds the release binaries first.
//!
//! For each function and for a hello-world `lambda_runtime` binary built with the same profile:
//! - **init**: process start to the first poll of the Runtime API, over `--cold-starts` fresh
//!   processes (median and worst), and the resident memory at that moment;
//! - **peak RSS** (`VmHWM`) over `--invocations` invocations of one process with a workload
//!   typical of the function, and the median round trip of an invocation (against moto);
//! - **DynamoDB requests per API operation**, counted on the wire by a pass-through in front of
//!   moto (`fanloop_tests::dynamo_proxy`), on a warm instance.
//!
//! Every invocation must succeed; a failure stops the run (figures of errors would mislead).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use fanloop_domain::{CustomerId, ProfilePatch};
use fanloop_tests::MOTO_HELP;
use fanloop_tests::dynamo_proxy::DynamoCounter;
use fanloop_tests::runtime_api::{Function, apigw, aws_env, binary_in, body, zone_past_send_hour};
use serde_json::{Value, json};

#[derive(Parser)]
#[command(about = "Init time, memory and DynamoDB requests of the Lambda functions")]
struct Args {
    /// Invocations of one process per function (peak RSS is taken over these).
    #[arg(long, default_value_t = 1000)]
    invocations: usize,
    /// Fresh processes per function for the init time.
    #[arg(long, default_value_t = 20)]
    cold_starts: usize,
    /// Build profile directory of the binaries under target/ (the Lambda packages' profile).
    #[arg(long, default_value = "lambda-release")]
    profile: String,
    /// Where `scripts/package` put the arm64 packages (`{function}/bootstrap`, `{function}.zip`);
    /// their sizes are printed when present.
    #[arg(long, default_value = "target/lambda")]
    packages: PathBuf,
}

/// Builds the event of invocation `i` of the steady workload.
type Workload = Box<dyn Fn(usize) -> Value>;
/// Builds an operation's event from the previous operation's reply.
type Step = Box<dyn Fn(&Value) -> Value>;

struct Case {
    binary: &'static str,
    workload: &'static str,
    event: Workload,
    /// The operations whose DynamoDB requests are counted, in order, on one fresh instance.
    ops: Vec<(&'static str, Step)>,
}

struct Figures {
    size: u64,
    init: Vec<Duration>,
    rss_after_init_kib: Vec<u64>,
    peak_rss_kib: u64,
    invoke: Vec<Duration>,
    ops: Vec<(&'static str, Vec<String>)>,
}

fn ok(reply: &Result<Value, Value>) -> Result<(), String> {
    match reply {
        Err(e) => Err(format!("the function reported an error: {e}")),
        Ok(v) => {
            if let Some(code) = v.get("statusCode").and_then(Value::as_u64)
                && !(200..300).contains(&code)
            {
                return Err(format!("HTTP {code}: {}", body(v)));
            }
            if let Some(failures) = v.get("batchItemFailures").and_then(Value::as_array)
                && !failures.is_empty()
            {
                return Err(format!("SQS batch item failures: {v}"));
            }
            Ok(())
        }
    }
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// 1234567 → `1,234,567`.
fn bytes(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

async fn measure(
    case: &Case,
    profile: &str,
    env: &[(&str, String)],
    counter: &DynamoCounter,
    args: &Args,
) -> Result<Figures, String> {
    let path: PathBuf = binary_in(profile, case.binary);
    let size = std::fs::metadata(&path).map_err(|e| e.to_string())?.len();
    let mut init = Vec::new();
    let mut rss_after_init_kib = Vec::new();
    for _ in 0..args.cold_starts {
        let f = Function::start(&path, env).await;
        init.push(f.wait_for_init(Duration::from_secs(30)).await);
        rss_after_init_kib.extend(f.memory_kib("VmRSS"));
    }

    let mut ops = Vec::new();
    if !case.ops.is_empty() {
        let f = Function::start(&path, env).await;
        let mut previous = Value::Null;
        counter.take();
        for (label, step) in &case.ops {
            let reply = f.invoke(step(&previous)).await;
            ok(&reply).map_err(|e| format!("{} / {label}: {e}", case.binary))?;
            ops.push((*label, counter.take()));
            previous = reply.unwrap_or_default();
        }
    }

    let f = Function::start(&path, env).await;
    f.wait_for_init(Duration::from_secs(30)).await;
    let mut invoke = Vec::with_capacity(args.invocations);
    for i in 0..args.invocations {
        let event = (case.event)(i);
        let t = Instant::now();
        let reply = f.invoke(event).await;
        invoke.push(t.elapsed());
        ok(&reply).map_err(|e| format!("{} / invocation {i}: {e}", case.binary))?;
    }
    let peak_rss_kib = f
        .memory_kib("VmHWM")
        .ok_or("no /proc/PID/status: peak RSS needs Linux")?;
    counter.take();
    Ok(Figures {
        size,
        init,
        rss_after_init_kib,
        peak_rss_kib,
        invoke,
        ops,
    })
}

fn api(key: &str, method: &str, route: &'static str, path: String, body: Value) -> Value {
    apigw(method, route, &path, key, body)
}

/// The bench tenant's ingest secret, that its SQS batches are signed with.
static INGEST: std::sync::OnceLock<fanloop_domain::ingest::IngestSecret> =
    std::sync::OnceLock::new();

fn sqs(tenant: &str, responses: &[Value]) -> Value {
    let records: Vec<Value> = responses
        .iter()
        .enumerate()
        .map(|(n, r)| {
            let mut r = r.clone();
            r["survey_id"] = json!("bench-survey");
            json!({
                "messageId": format!("bench-{n}-{}", r["response_id"].as_str().unwrap_or("")),
                "receiptHandle": "AQEB-bench",
                "body": r.to_string(),
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795334280000",
                               "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                               "ApproximateFirstReceiveTimestamp": "1795334280100"},
                "messageAttributes": {"tenant": {"stringValue": tenant, "stringListValues": [],
                                                 "binaryListValues": [], "dataType": "String"}},
                "md5OfBody": "00000000000000000000000000000000",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:fanloop-bench-survey-responses",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    let mut event = json!({ "Records": records });
    if let Some(secret) = INGEST.get() {
        fanloop_tests::sign_sqs_event(&mut event, secret);
    }
    event
}

fn cases(tenant: &str, key: &str) -> Vec<Case> {
    let now = fanloop_domain::time::format(jiff::Timestamp::now());
    let k = key.to_owned();
    let t = tenant.to_owned();
    let customer = |i: usize| format!("pc-{}", i % 50);
    let answer = {
        let now = now.clone();
        move |id: String, customer: Option<String>, nps: usize| {
            let mut r = json!({"response_id": id, "nps": nps % 11,
                               "csat": 1 + nps % 5, "channel": "in_game", "submitted_at": now});
            if let Some(c) = customer {
                r["customer_id"] = json!(c);
            }
            r
        }
    };
    let mut cases = vec![Case {
        binary: "hello-lambda",
        workload: "echo the event",
        event: Box::new(|i| json!({ "n": i })),
        ops: vec![],
    }];

    let key1 = k.clone();
    let key2 = k.clone();
    let profile = json!({"email": "bench@example.com", "display_name": "Bench", "locale": "en",
                         "consent": {"email_marketing": true}});
    let p2 = profile.clone();
    let customer_route = "/v1/customers/{customer_id}";
    cases.push(Case {
        binary: "profiles",
        workload: "PUT a new customer, then GET it (alternating)",
        event: Box::new(move |i| {
            let path = format!("/v1/customers/b-{}", i / 2);
            if i % 2 == 0 {
                api(&key1, "PUT", customer_route, path, p2.clone())
            } else {
                api(&key1, "GET", customer_route, path, Value::Null)
            }
        }),
        ops: {
            let k = key2;
            let c = "/v1/customers/ops-1".to_owned();
            vec![
                ("first request of an instance: GET /v1/customers/{id}", {
                    let k = k.clone();
                    Box::new(move |_: &Value| {
                        api(
                            &k,
                            "GET",
                            customer_route,
                            "/v1/customers/pc-0".into(),
                            Value::Null,
                        )
                    }) as Step
                }),
                ("GET /v1/settings", {
                    let k = k.clone();
                    Box::new(move |_: &Value| {
                        api(
                            &k,
                            "GET",
                            "/v1/settings",
                            "/v1/settings".into(),
                            Value::Null,
                        )
                    })
                }),
                ("PUT /v1/customers/{id} (new)", {
                    let (k, c, p) = (k.clone(), c.clone(), profile.clone());
                    Box::new(move |_: &Value| api(&k, "PUT", customer_route, c.clone(), p.clone()))
                }),
                ("PUT /v1/customers/{id} (update)", {
                    let (k, c) = (k.clone(), c.clone());
                    Box::new(move |_: &Value| {
                        api(
                            &k,
                            "PUT",
                            customer_route,
                            c.clone(),
                            json!({"display_name": "Bench 2"}),
                        )
                    })
                }),
                ("GET /v1/customers/{id}", {
                    let (k, c) = (k.clone(), c.clone());
                    Box::new(move |_: &Value| {
                        api(&k, "GET", customer_route, c.clone(), Value::Null)
                    })
                }),
                ("POST /v1/customers/{id}/activities", {
                    let (k, c) = (k.clone(), c.clone());
                    Box::new(move |_: &Value| {
                        api(
                            &k,
                            "POST",
                            "/v1/customers/{customer_id}/activities",
                            format!("{c}/activities"),
                            json!({"kind": "login"}),
                        )
                    })
                }),
                ("GET /v1/customers/{id}/export", {
                    let (k, c) = (k.clone(), c.clone());
                    Box::new(move |_: &Value| {
                        api(
                            &k,
                            "GET",
                            "/v1/customers/{customer_id}/export",
                            format!("{c}/export"),
                            Value::Null,
                        )
                    })
                }),
                ("PUT /v1/settings", {
                    let k = k.clone();
                    Box::new(move |_: &Value| {
                        api(
                            &k,
                            "PUT",
                            "/v1/settings",
                            "/v1/settings".into(),
                            json!({"brand": {"name": "Bench Games"}}),
                        )
                    })
                }),
                ("DELETE /v1/customers/{id} (erasure)", {
                    let (k, c) = (k.clone(), c.clone());
                    Box::new(move |_: &Value| {
                        api(&k, "DELETE", customer_route, c.clone(), Value::Null)
                    })
                }),
            ]
        },
    });

    let key1 = k.clone();
    let accruals = "/v1/customers/{customer_id}/points/accruals";
    cases.push(Case {
        binary: "points",
        workload: "accrual to one of 50 customers; every 5th a balance read",
        event: Box::new(move |i| {
            let c = customer(i);
            if i % 5 == 4 {
                api(
                    &key1,
                    "GET",
                    "/v1/customers/{customer_id}/points",
                    format!("/v1/customers/{c}/points"),
                    Value::Null,
                )
            } else {
                api(
                    &key1,
                    "POST",
                    accruals,
                    format!("/v1/customers/{c}/points/accruals"),
                    json!({"event_id": format!("e-{i}"), "kind": "bonus", "points": 10}),
                )
            }
        }),
        ops: {
            let accrual = |k: String, event: &'static str| -> Step {
                Box::new(move |_: &Value| {
                    api(
                        &k,
                        "POST",
                        accruals,
                        "/v1/customers/ops-p/points/accruals".into(),
                        json!({"event_id": event, "kind": "purchase", "amount_minor": 999,
                               "currency": "USD"}),
                    )
                })
            };
            let get = |k: String, route: &'static str, path: &'static str| -> Step {
                Box::new(move |_: &Value| api(&k, "GET", route, path.into(), Value::Null))
            };
            vec![
                (
                    "first request of an instance: GET …/points",
                    get(
                        k.clone(),
                        "/v1/customers/{customer_id}/points",
                        "/v1/customers/pc-0/points",
                    ),
                ),
                (
                    "POST …/points/accruals (first for the customer in this instance)",
                    accrual(k.clone(), "ops-1"),
                ),
                ("POST …/points/accruals (warm)", accrual(k.clone(), "ops-2")),
                (
                    "POST …/points/accruals (same event_id again)",
                    accrual(k.clone(), "ops-2"),
                ),
                ("POST …/points/redemptions", {
                    let k = k.clone();
                    Box::new(move |_: &Value| {
                        api(
                            &k,
                            "POST",
                            "/v1/customers/{customer_id}/points/redemptions",
                            "/v1/customers/ops-p/points/redemptions".into(),
                            json!({"redemption_id": "ops-r1", "points": 10}),
                        )
                    })
                }),
                (
                    "GET …/points",
                    get(
                        k.clone(),
                        "/v1/customers/{customer_id}/points",
                        "/v1/customers/ops-p/points",
                    ),
                ),
                (
                    "GET …/points/ledger",
                    get(
                        k.clone(),
                        "/v1/customers/{customer_id}/points/ledger",
                        "/v1/customers/ops-p/points/ledger",
                    ),
                ),
            ]
        },
    });

    let t1 = t.clone();
    cases.push(Case {
        binary: "campaigns",
        workload: "scheduled run for the tenant: birthday and win-back in turn",
        event: Box::new(
            move |i| json!({"kind": if i % 2 == 0 { "birthday" } else { "winback" }, "tenant": t1}),
        ),
        ops: {
            let t = t.clone();
            let t2 = t.clone();
            vec![
                (
                    "scheduled birthday run, 1 mail due (sent through SES)",
                    Box::new(move |_: &Value| json!({"kind": "birthday", "tenant": t})) as Step,
                ),
                (
                    "scheduled birthday run, nothing due",
                    Box::new(move |_: &Value| json!({"kind": "birthday", "tenant": t2})),
                ),
            ]
        },
    });

    let key1 = k.clone();
    cases.push(Case {
        binary: "campaigns-api",
        workload: "a customer's messages, and a dry birthday run (alternating)",
        event: Box::new(move |i| {
            if i % 2 == 0 {
                api(
                    &key1,
                    "GET",
                    "/v1/customers/{customer_id}/messages",
                    format!("/v1/customers/{}/messages", customer(i)),
                    Value::Null,
                )
            } else {
                api(
                    &key1,
                    "POST",
                    "/v1/campaigns/{kind}/runs",
                    "/v1/campaigns/birthday/runs".into(),
                    json!({"dry_run": true}),
                )
            }
        }),
        ops: {
            let (k1, k2, k3) = (k.clone(), k.clone(), k.clone());
            vec![
                (
                    "first request of an instance: GET …/messages",
                    Box::new(move |_: &Value| {
                        api(
                            &k1,
                            "GET",
                            "/v1/customers/{customer_id}/messages",
                            "/v1/customers/pc-0/messages".into(),
                            Value::Null,
                        )
                    }) as Step,
                ),
                (
                    "GET /v1/customers/{id}/messages",
                    Box::new(move |_: &Value| {
                        api(
                            &k2,
                            "GET",
                            "/v1/customers/{customer_id}/messages",
                            "/v1/customers/pc-1/messages".into(),
                            Value::Null,
                        )
                    }),
                ),
                (
                    "POST /v1/campaigns/birthday/runs (dry run)",
                    Box::new(move |_: &Value| {
                        api(
                            &k3,
                            "POST",
                            "/v1/campaigns/{kind}/runs",
                            "/v1/campaigns/birthday/runs".into(),
                            json!({"dry_run": true}),
                        )
                    }),
                ),
            ]
        },
    });

    let key1 = k.clone();
    let a1 = answer.clone();
    let responses = "/v1/surveys/{survey_id}/responses";
    let summary = "/v1/surveys/{survey_id}/summary";
    cases.push(Case {
        binary: "surveys-api",
        workload: "a response (half from a customer); every 10th a 30-day summary",
        event: Box::new(move |i| {
            if i % 10 == 9 {
                api(
                    &key1,
                    "GET",
                    summary,
                    "/v1/surveys/bench-survey/summary".into(),
                    Value::Null,
                )
            } else {
                let who = (i % 2 == 0).then(|| customer(i));
                api(
                    &key1,
                    "POST",
                    responses,
                    "/v1/surveys/bench-survey/responses".into(),
                    a1(format!("h-{i}"), who, i),
                )
            }
        }),
        ops: {
            let post = |k: String, a: Value| -> Step {
                Box::new(move |_: &Value| {
                    api(
                        &k,
                        "POST",
                        responses,
                        "/v1/surveys/bench-survey/responses".into(),
                        a.clone(),
                    )
                })
            };
            let get = |k: String, route: &'static str, path: &'static str| -> Step {
                Box::new(move |_: &Value| api(&k, "GET", route, path.into(), Value::Null))
            };
            let batch: Vec<Value> = (0..10)
                .map(|n| answer(format!("ops-b{n}"), None, 9))
                .collect();
            let (k1, k2, k3) = (k.clone(), k.clone(), k.clone());
            vec![
                (
                    "first request of an instance: GET …/summary",
                    get(k.clone(), summary, "/v1/surveys/bench-survey/summary"),
                ),
                (
                    "POST …/responses (anonymous, promoter)",
                    post(k.clone(), answer("ops-a1".into(), None, 9)),
                ),
                (
                    "POST …/responses (customer, detractor: opens a follow-up)",
                    post(k.clone(), answer("ops-c1".into(), Some("pc-1".into()), 3)),
                ),
                (
                    "POST …/responses (the same response again)",
                    post(k.clone(), answer("ops-c1".into(), Some("pc-1".into()), 3)),
                ),
                (
                    "POST …/responses/batch (10 anonymous)",
                    Box::new(move |_: &Value| {
                        api(
                            &k1,
                            "POST",
                            "/v1/surveys/{survey_id}/responses/batch",
                            "/v1/surveys/bench-survey/responses/batch".into(),
                            json!({"responses": batch.clone()}),
                        )
                    }),
                ),
                (
                    "GET …/summary (30 days)",
                    get(k.clone(), summary, "/v1/surveys/bench-survey/summary"),
                ),
                (
                    "GET /v1/followups?status=open",
                    get(k.clone(), "/v1/followups", "/v1/followups"),
                ),
                (
                    "GET /v1/followups/{id}",
                    Box::new(move |prev: &Value| {
                        let id = body(prev)["items"][0]["id"]
                            .as_str()
                            .unwrap_or("none")
                            .to_owned();
                        api(
                            &k2,
                            "GET",
                            "/v1/followups/{followup_id}",
                            format!("/v1/followups/{id}"),
                            Value::Null,
                        )
                    }),
                ),
                (
                    "POST /v1/followups/{id}/close",
                    Box::new(move |prev: &Value| {
                        let id = body(prev)["id"].as_str().unwrap_or("none").to_owned();
                        api(
                            &k3,
                            "POST",
                            "/v1/followups/{followup_id}/close",
                            format!("/v1/followups/{id}/close"),
                            json!({"note": "called back"}),
                        )
                    }),
                ),
            ]
        },
    });

    let (t1, t2, t3, t4) = (t.clone(), t.clone(), t.clone(), t.clone());
    let (a1, a2, a3, a4) = (answer.clone(), answer.clone(), answer.clone(), answer);
    cases.push(Case {
        binary: "surveys-queue",
        workload: "an SQS batch of 10 responses (half from customers)",
        event: Box::new(move |i| {
            let batch: Vec<Value> = (0..10)
                .map(|n| {
                    let who = (n % 2 == 0).then(|| customer(i * 10 + n));
                    a1(format!("q-{i}-{n}"), who, i + n)
                })
                .collect();
            sqs(&t1, &batch)
        }),
        ops: vec![
            (
                "first batch of an instance: 1 anonymous response",
                Box::new(move |_: &Value| sqs(&t2, &[a2("ops-q0".into(), None, 9)])) as Step,
            ),
            (
                "SQS batch of 1 (customer, promoter)",
                Box::new(move |_: &Value| sqs(&t3, &[a3("ops-q1".into(), Some("pc-2".into()), 9)])),
            ),
            (
                "SQS batch of 10 (anonymous, promoters)",
                Box::new(move |_: &Value| {
                    let batch: Vec<Value> =
                        (0..10).map(|n| a4(format!("ops-q1{n}"), None, 9)).collect();
                    sqs(&t4, &batch)
                }),
            ),
        ],
    });
    cases
}

/// A fresh table on moto, made from infra/template.yaml as scripts/moto.sh makes the shared one.
fn own_table(endpoint: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let table = format!("fanloop-bench-{}", std::process::id());
    let status = std::process::Command::new(root.join(".venv/bin/python"))
        .arg(root.join("scripts/create_table.py"))
        .arg("--template")
        .arg(root.join("infra/template.yaml"))
        .args(["--endpoint", endpoint, "--table", &table])
        .status()
        .unwrap_or_else(|e| panic!("scripts/create_table.py does not run: {e}"));
    assert!(status.success(), "scripts/create_table.py failed");
    table
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if std::env::var("FANLOOP_TEST_AWS_ENDPOINT").is_err() {
        eprintln!("{MOTO_HELP}");
        std::process::exit(2);
    }
    // A table of its own: what other tests left in the shared one (moto answers index queries
    // by reading the whole table) must not move the figures, nor make a run slow.
    let moto = std::env::var("FANLOOP_TEST_AWS_ENDPOINT").unwrap_or_default();
    let table = own_table(&moto);
    let backend = fanloop_tests::Backend::Dynamo(std::sync::Arc::new(
        fanloop_store_dynamodb::DynamoStore::new(
            fanloop_tests::dynamo_client(&moto),
            table.clone(),
        ),
    ));
    let store = backend.store();
    let (tenant, key) = backend.tenant().await;
    let _ = INGEST.set(fanloop_tests::ingest_secret(store.as_ref(), &tenant).await);
    let key = key.expose().to_owned();
    let counter = DynamoCounter::start(&moto).await;
    let mut env = aws_env().await;
    for (k, v) in env.iter_mut() {
        if *k == "FANLOOP_DYNAMODB_ENDPOINT" {
            *v = counter.endpoint().to_owned();
        }
        if *k == "FANLOOP_TABLE" {
            *v = table.clone();
        }
    }
    // Customers of the workloads, and one whose birthday mail is due now (the campaigns op).
    let (zone, today) = zone_past_send_hour();
    let seed = |c: &str, extra: Value| {
        let mut p = json!({"email": format!("{c}@example.com"), "display_name": c,
                           "consent": {"email_marketing": true}});
        if let (Some(p), Some(e)) = (p.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        p
    };
    let customers = (0..50).map(|i| (format!("pc-{i}"), json!({}))).chain([
        ("ops-p".to_owned(), json!({})),
        (
            "birthday-1".to_owned(),
            json!({"birthday": today, "timezone": zone}),
        ),
    ]);
    for (id, extra) in customers {
        let patch = ProfilePatch::from_json(seed(&id, extra), jiff::civil::date(2026, 1, 1))
            .unwrap_or_else(|e| panic!("seed profile: {e:?}"));
        let c = CustomerId::parse(&id).unwrap_or_else(|e| panic!("{e:?}"));
        store
            .upsert_profile(&tenant, &c, &patch, jiff::Timestamp::now())
            .await
            .unwrap_or_else(|e| panic!("seed profile: {e}"));
    }

    let mut rows = Vec::new();
    for case in cases(tenant.as_str(), &key) {
        eprintln!(
            "== {} ({} cold starts, {} invocations)",
            case.binary, args.cold_starts, args.invocations
        );
        match measure(&case, &args.profile, &env, &counter, &args).await {
            Ok(f) => rows.push((case.binary, case.workload, f)),
            Err(e) => {
                eprintln!("lambda-bench: {e}");
                std::process::exit(1);
            }
        }
    }

    let packaged: Vec<_> = rows
        .iter()
        .filter_map(|(name, _, _)| {
            let bootstrap = std::fs::metadata(args.packages.join(name).join("bootstrap")).ok()?;
            let zip = std::fs::metadata(args.packages.join(format!("{name}.zip"))).ok()?;
            Some((*name, bootstrap.len(), zip.len()))
        })
        .collect();
    if !packaged.is_empty() {
        println!("| function | stripped `bootstrap` (package) | zip |");
        println!("|---|---|---|");
        for (name, bootstrap, zip) in packaged {
            println!("| {name} | {} B | {} B |", bytes(bootstrap), bytes(zip));
        }
        println!();
    }
    let arch = std::env::consts::ARCH;
    println!(
        "| function | binary ({arch}, stripped) | init, median of {} | init, worst | RSS after init | peak RSS over {} invocations | invocation round trip, median | workload |",
        args.cold_starts, args.invocations
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (name, workload, f) in &mut rows {
        let mut rss = f.rss_after_init_kib.clone();
        rss.sort_unstable();
        let rss_median = rss.get(rss.len() / 2).copied().unwrap_or(0);
        let worst = f.init.iter().max().copied().unwrap_or_default();
        println!(
            "| {name} | {} B | {} | {} | {} | {} | {} | {workload} |",
            bytes(f.size),
            ms(median(&mut f.init)),
            ms(worst),
            mib(rss_median),
            mib(f.peak_rss_kib),
            ms(median(&mut f.invoke)),
        );
    }
    println!();
    println!("| function | operation (warm instance unless noted) | DynamoDB requests |");
    println!("|---|---|---|");
    for (name, _, f) in &rows {
        for (label, ops) in &f.ops {
            let list = if ops.is_empty() {
                "none".to_owned()
            } else {
                summarize(ops)
            };
            println!("| {name} | {label} | {list} |");
        }
    }
}

/// `["GetItem", "GetItem", "Query"]` → `2 GetItem, 1 Query` (in order of first use).
fn summarize(ops: &[String]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for op in ops {
        match counts.iter_mut().find(|(o, _)| o == op) {
            Some((_, n)) => *n += 1,
            None => counts.push((op, 1)),
        }
    }
    let total = ops.len();
    let parts: Vec<String> = counts.iter().map(|(o, n)| format!("{n} {o}")).collect();
    format!("{total}: {}", parts.join(", "))
}
