//! The Lambda path end to end: the function binaries themselves (`profiles`, `points`, `console`,
//! `campaigns`, `surveys-queue`, `triggers`, `broadcasts`, `feedback`) run against a local Lambda Runtime API
//! (`fanloop_tests::runtime_api`), configured as on AWS (table, SES, the unsubscribe secret in
//! Secrets Manager — all on moto), and driven with real event JSON: API Gateway HTTP API v2
//! requests, an EventBridge Scheduler input, an SQS batch, a DynamoDB Streams batch and SES
//! events through EventBridge and SNS.

use fanloop_domain::ProfilePatch;
use fanloop_tests::runtime_api::{Function, apigw, aws_env, binary, body, zone_past_send_hour};
use fanloop_tests::{dynamodb, moto_get};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn profile_accrual_birthday_and_survey_batch_through_the_function_binaries() {
    let backend = dynamodb();
    let (tenant, key) = backend.tenant().await;
    let key = key.expose().to_owned();
    let env = aws_env().await;

    // Profiles: an API Gateway PUT, as the HTTP API delivers it.
    let profiles = Function::start(&binary("profiles"), &env).await;
    let (zone, birthday) = zone_past_send_hour();
    let put = apigw(
        "PUT",
        "/v1/customers/{customer_id}",
        "/v1/customers/lambda-player",
        &key,
        json!({"email": "lambda@example.com", "display_name": "Lambda Li", "birthday": birthday,
               "timezone": zone, "consent": {"email_marketing": true}}),
    );
    let reply = profiles.invoke(put).await.unwrap();
    assert_eq!(reply["statusCode"], 201, "{reply}");
    assert_eq!(body(&reply)["display_name"], "Lambda Li");
    assert!(profiles.init_time().is_some(), "the runtime polled");
    let unauthorised = profiles
        .invoke(apigw(
            "GET",
            "/v1/customers/{customer_id}",
            "/v1/customers/lambda-player",
            "flk_wrong",
            json!(null),
        ))
        .await
        .unwrap();
    assert_eq!(unauthorised["statusCode"], 401);

    // Points: an accrual, then the same request again (exactly once).
    let points = Function::start(&binary("points"), &env).await;
    let accrual = apigw(
        "POST",
        "/v1/customers/{customer_id}/points/accruals",
        "/v1/customers/lambda-player/points/accruals",
        &key,
        json!({"event_id": "iap-1", "kind": "purchase", "amount_minor": 4999, "currency": "USD"}),
    );
    let first = points.invoke(accrual.clone()).await.unwrap();
    assert_eq!(first["statusCode"], 201, "{first}");
    assert_eq!(body(&first)["balance"], 490);
    let again = points.invoke(accrual).await.unwrap();
    assert_eq!(again["statusCode"], 200);
    assert_eq!(body(&again)["balance"], 490);

    // Campaigns: the EventBridge Scheduler input (scoped to this tenant: the table is shared by
    // concurrent tests), sending through moto's SES.
    let campaigns = Function::start(&binary("campaigns"), &env).await;
    let mut event: Value =
        serde_json::from_str(include_str!("../fixtures/scheduler-birthday.json")).unwrap();
    event["tenant"] = json!(tenant.as_str());
    let run = campaigns.invoke(event.clone()).await.unwrap();
    assert_eq!(run["runs"][0]["report"]["sent"], 1, "{run}");
    let messages = backend
        .store()
        .messages(
            &tenant,
            &fanloop_domain::CustomerId::parse("lambda-player").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].provider.as_deref(), Some("ses"));
    let sent = moto_get("/moto-api/data.json").await;
    assert!(
        sent.contains(&messages[0].id),
        "moto's SES holds the raw message"
    );
    let repeat = campaigns.invoke(event).await.unwrap();
    assert_eq!(
        repeat["runs"][0]["report"]["sent"], 0,
        "a repeated event sends nothing"
    );
    let bad = campaigns.invoke(json!({"kind": "anniversary"})).await;
    assert!(
        bad.is_err(),
        "an invalid schedule input is an error (to the DLQ)"
    );

    // Surveys: the SQS batch.
    let viewer = fanloop_domain::CustomerId::parse("viewer-1").unwrap();
    backend
        .store()
        .upsert_profile(
            &tenant,
            &viewer,
            &ProfilePatch::from_json(json!({}), jiff::civil::date(2026, 1, 1)).unwrap(),
            jiff::Timestamp::now(),
        )
        .await
        .unwrap();
    let queue = Function::start(&binary("surveys-queue"), &env).await;
    let batch: Value = serde_json::from_str(
        &include_str!("../fixtures/sqs-survey-batch.json").replace("{{TENANT}}", tenant.as_str()),
    )
    .unwrap();
    // The fixture's answers are dated 2026-11-22; keep them within the last 366 days.
    // One instant for every message: the duplicate (…004) must stay identical to …001, or it
    // is a different answer under a reused id.
    let batch_now = {
        let mut b = batch.clone();
        let now = fanloop_domain::time::format(jiff::Timestamp::now());
        for r in b["Records"].as_array_mut().unwrap() {
            if let Some(s) = r["body"].as_str() {
                r["body"] = json!(s.replace("2026-11-22T07:58:00Z", &now));
            }
        }
        b
    };
    let mut batch_now = batch_now;
    let secret = fanloop_tests::ingest_secret(backend.store().as_ref(), &tenant).await;
    fanloop_tests::sign_sqs_event(&mut batch_now, &secret);
    let result = queue.invoke(batch_now).await.unwrap();
    let failed: Vec<&str> = result["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap())
        .collect();
    assert_eq!(failed.len(), 5, "{result}");
    assert!(!failed.contains(&"5f8c0e2a-1a9e-4b8e-9c57-000000000001"));
    assert!(
        !failed.contains(&"5f8c0e2a-1a9e-4b8e-9c57-000000000004"),
        "a duplicate is done"
    );
}

/// The benchmark command of docs/benchmarks.md (`scripts/bench-lambda`) kept working: its
/// harness, run small on the debug binaries, measures every function and counts DynamoDB
/// requests on the wire — the counts it prints for the core operations are the documented ones.
#[test]
fn lambda_bench_measures_every_function_and_counts_requests() {
    let out = std::process::Command::new(binary("lambda-bench"))
        .args([
            "--profile",
            "debug",
            "--cold-starts",
            "2",
            "--invocations",
            "5",
        ])
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("lambda-bench runs");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "lambda-bench failed:\n{table}");
    for f in [
        "hello-lambda",
        "profiles",
        "points",
        "campaigns",
        "campaigns-api",
        "surveys-api",
        "surveys-queue",
    ] {
        let row = table
            .lines()
            .find(|l| l.starts_with(&format!("| {f} | ")) && l.contains(" MiB | "))
            .unwrap_or_else(|| panic!("no init and memory figures for {f}:\n{table}"));
        assert!(row.contains(" ms | "), "{row}");
    }
    for expected in [
        "| profiles | PUT /v1/customers/{id} (update) | 1: 1 UpdateItem |",
        "| profiles | GET /v1/customers/{id} | 1: 1 GetItem |",
        "| points | POST …/points/accruals (warm) | 1: 1 TransactWriteItems |",
        "| points | POST …/points/accruals (same event_id again) | 2: 1 TransactWriteItems, 1 GetItem |",
        "| surveys-api | POST …/responses (anonymous, promoter) | 1: 1 TransactWriteItems |",
        "| surveys-api | GET …/summary (30 days) | 8: 8 Query |",
    ] {
        assert!(
            table.contains(expected),
            "missing `{expected}` in:\n{table}"
        );
    }
}

/// The triggers function binary fed the stream event fixture carrying a real trigger item (an
/// accrual's, read back from the table): the thank-you goes out through moto's SES once, and
/// the same batch delivered again sends nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn triggers_function_sends_a_thank_you_once_from_a_stream_event() {
    let backend = dynamodb();
    let (tenant, _) = backend.tenant().await;
    let store = backend.store();
    let now = jiff::Timestamp::now();
    let def = json!({"campaign_id": "thank-you", "name": "Thank you", "status": "active",
        "trigger": {"type": "purchase"},
        "templates": {"en": {"subject": "Thanks", "html": "<p>Thanks for {{ purchase.item }}</p>",
                             "text": "Thanks for {{ purchase.item }}"}}});
    fanloop_tests::save_definition(store.as_ref(), &tenant, def, now).await;
    let buyer = fanloop_domain::CustomerId::parse("buyer").unwrap();
    store
        .upsert_profile(
            &tenant,
            &buyer,
            &ProfilePatch::from_json(
                json!({"email": "buyer@example.com", "consent": {"email_marketing": true}}),
                jiff::civil::date(2026, 1, 1),
            )
            .unwrap(),
            now,
        )
        .await
        .unwrap();
    let settings = store.settings(&tenant).await.unwrap().settings;
    let req = fanloop_domain::points::AccrualRequest::from_json(
        json!({"event_id": "iap-9", "kind": "purchase", "amount_minor": 999, "currency": "USD",
               "item": {"sku": "gems-100", "name": "100 Gems"}}),
        &Default::default(),
        now,
    )
    .unwrap();
    fanloop_points::service::accrue(store.as_ref(), &settings, &tenant, &buyer, req, now)
        .await
        .ok()
        .unwrap();
    let fanloop_tests::Backend::Dynamo(d) = &backend else {
        unreachable!()
    };
    let item = d
        .client()
        .get_item()
        .table_name(d.table())
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(fanloop_store_dynamodb::profile_pk(
                &tenant, &buyer,
            )),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("TRIG#purchase:accrual:iap-9".into()),
        )
        .send()
        .await
        .unwrap()
        .item
        .expect("the accrual's transaction put the trigger item");
    let mut event: Value =
        serde_json::from_str(include_str!("../fixtures/dynamodb-stream.json")).unwrap();
    let image = serde_json::to_value(serde_dynamo::Item::from(item)).unwrap();
    event["Records"][0]["dynamodb"]["Keys"] = json!({"pk": image["pk"], "sk": image["sk"]});
    event["Records"][0]["dynamodb"]["NewImage"] = image;

    let env = aws_env().await;
    let log = std::env::temp_dir().join(format!("fanloop-triggers-{}.log", std::process::id()));
    let triggers = Function::start_with_log(&binary("triggers"), &env, Some(&log)).await;
    let first = triggers.invoke(event.clone()).await.unwrap();
    assert_eq!(first["batchItemFailures"], json!([]), "{first}");
    let again = triggers.invoke(event).await.unwrap();
    assert_eq!(again["batchItemFailures"], json!([]), "{again}");
    let messages = store.messages(&tenant, &buyer).await.unwrap();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(
        (messages[0].provider.as_deref(), messages[0].period.as_str()),
        (Some("ses"), "purchase:accrual:iap-9")
    );
    assert!(
        moto_get("/moto-api/data.json")
            .await
            .contains(&messages[0].id)
    );
    // Its log at debug level: the trigger and the mail, no address.
    drop(triggers);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("trigger handled") && text.contains("mail sent"),
        "{text}"
    );
    assert!(
        !text.contains("buyer@example.com"),
        "the address is in the log"
    );
    let _ = std::fs::remove_file(&log);
}

/// The `feedback` function fed the SES fixtures as EventBridge delivers them (one event) and as
/// SNS does (`Records`): the hard bounce and the third soft bounce put their addresses on the
/// list of the tenant their tags name; the same events again change nothing; an event that is
/// not Fanloop's is dropped, not retried; no address in the function's log.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn feedback_function_suppresses_from_eventbridge_and_sns() {
    let backend = dynamodb();
    let (tenant, _) = backend.tenant().await;
    let store = backend.store();
    let env = aws_env().await;
    let log = std::env::temp_dir().join(format!("fanloop-feedback-{}.log", std::process::id()));
    let f = Function::start_with_log(&binary("feedback"), &env, Some(&log)).await;
    let hard = fanloop_tests::ses_event(
        "bounce-permanent",
        "gone@example.com",
        &tenant,
        "c1",
        "m1",
        "",
    );
    let out = f.invoke(hard.clone()).await.unwrap();
    assert_eq!(out, json!({"applied": 1, "suppressed": 1, "ignored": 0}));
    assert_eq!(f.invoke(hard).await.unwrap()["suppressed"], 0);
    let sns = |at: &str| {
        let n = fanloop_tests::ses_event(
            "bounce-transient",
            "full@example.com",
            &tenant,
            "c2",
            "m2",
            at,
        );
        json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
            "Sns": {"Type": "Notification", "MessageId": n["MessageId"], "TopicArn": n["TopicArn"],
                    "Message": n["Message"], "Timestamp": n["Timestamp"]}}]})
    };
    let mut records = Vec::new();
    for at in [
        "2026-11-01T10:00:00Z",
        "2026-11-05T10:00:00Z",
        "2026-11-09T10:00:00Z",
    ] {
        records.push(sns(at)["Records"][0].clone());
    }
    records.push(json!({"Sns": {"Message": "{\"eventType\": \"Open\", \"mail\": {}}"}}));
    let batch = json!({"Records": records});
    let out = f.invoke(batch.clone()).await.unwrap();
    assert_eq!(out, json!({"applied": 3, "suppressed": 1, "ignored": 1}));
    assert_eq!(f.invoke(batch).await.unwrap()["suppressed"], 0);
    for email in ["gone@example.com", "full@example.com"] {
        let e = fanloop_domain::values::Email::parse(email).unwrap();
        let h = fanloop_engine::suppression::address_hash(store.as_ref(), &tenant, &e)
            .await
            .unwrap();
        let s = store.address(&tenant, &h).await.unwrap().expect(email);
        assert!(s.is_suppressed(), "{email}");
    }
    drop(f);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("feedback applied"), "{text}");
    assert!(!text.contains("@example.com"), "an address is in the log");
    let _ = std::fs::remove_file(&log);
}

/// The broadcast fan-out through the binaries: the `campaigns` function's hourly input plans an
/// active broadcast into the SQS queue (moto), and the `broadcasts` function fed those messages
/// as an SQS event (the fixture's shape) mails each recipient once through moto's SES; the same
/// event again sends nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn planner_queues_and_the_broadcasts_function_sends_once() {
    let backend = dynamodb();
    let (tenant, _) = backend.tenant().await;
    let store = backend.store();
    let now = jiff::Timestamp::now();
    // Due now in the tenant's zone (UTC): its moment was a minute ago.
    let at = (now - jiff::SignedDuration::from_mins(1))
        .to_zoned(jiff::tz::TimeZone::UTC)
        .datetime()
        .strftime("%Y-%m-%dT%H:%M")
        .to_string();
    let def = json!({"campaign_id": "drop", "name": "Drop", "status": "active",
        "trigger": {"type": "broadcast", "at": at},
        "templates": {"en": {"subject": "The drop", "html": "<p>Hi</p>", "text": "Hi"}}});
    fanloop_tests::save_definition(store.as_ref(), &tenant, def, now).await;
    let fans = ["fan-a", "fan-b", "fan-c"];
    for id in fans {
        store
            .upsert_profile(
                &tenant,
                &fanloop_domain::CustomerId::parse(id).unwrap(),
                &ProfilePatch::from_json(
                    json!({"email": format!("{id}@example.com"), "consent": {"email_marketing": true}}),
                    jiff::civil::date(2026, 1, 1),
                )
                .unwrap(),
                now,
            )
            .await
            .unwrap();
    }
    let sqs = fanloop_tests::sqs_client();
    let url = fanloop_tests::sqs_queue(&sqs, "broadcasts").await;
    let mut env = aws_env().await;
    let endpoint = std::env::var("FANLOOP_TEST_AWS_ENDPOINT").unwrap();
    env.push(("FANLOOP_BROADCAST_QUEUE_URL", url.clone()));
    env.push(("FANLOOP_SQS_ENDPOINT", endpoint));
    let planner = Function::start(&binary("campaigns"), &env).await;
    let planned = planner
        .invoke(json!({"kind": "campaigns", "tenant": tenant.to_string()}))
        .await
        .unwrap();
    drop(planner);
    assert_eq!(planned["runs"][0]["report"]["queued"], 3, "{planned}");
    assert_eq!(planned["runs"][0]["report"]["sent"], 0, "{planned}");
    let messages = sqs
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(messages.len(), 1);
    let fixture: Value =
        serde_json::from_str(include_str!("../fixtures/sqs-broadcast-batch.json")).unwrap();
    let mut r = fixture["Records"][0].clone();
    r["messageId"] = json!(messages[0].message_id().unwrap());
    r["body"] = json!(messages[0].body().unwrap());
    let event = json!({"Records": [r]});
    let sender = Function::start(&binary("broadcasts"), &env).await;
    let first = sender.invoke(event.clone()).await.unwrap();
    assert_eq!(first["batchItemFailures"], json!([]), "{first}");
    let again = sender.invoke(event).await.unwrap();
    assert_eq!(again["batchItemFailures"], json!([]), "{again}");
    drop(sender);
    let data = moto_get("/moto-api/data.json").await;
    for id in fans {
        let log = store
            .messages(&tenant, &fanloop_domain::CustomerId::parse(id).unwrap())
            .await
            .unwrap();
        assert_eq!(log.len(), 1, "{id}: {log:?}");
        assert_eq!(log[0].provider.as_deref(), Some("ses"));
        assert!(data.contains(&log[0].id), "{id}'s mail is in moto's SES");
    }
}

/// The profiles function at debug level: a profile with e-mail, name and phone and a search by
/// e-mail leave none of them, nor the API key, in its log.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn function_logs_hold_no_personal_data_at_debug_level() {
    let backend = dynamodb();
    let (_tenant, key) = backend.tenant().await;
    let key = key.expose().to_owned();
    let env = aws_env().await;
    let log = std::env::temp_dir().join(format!("fanloop-profiles-{}.log", std::process::id()));
    let profiles = Function::start_with_log(&binary("profiles"), &env, Some(&log)).await;
    let (email, name, phone) = ("quill.zed@example.com", "Quill Zed", "8613900001111");
    let put = apigw(
        "PUT",
        "/v1/customers/{customer_id}",
        "/v1/customers/qz",
        &key,
        json!({"email": email, "display_name": name, "phone": format!("+{phone}"),
               "consent": {"email_marketing": true}}),
    );
    assert_eq!(profiles.invoke(put).await.unwrap()["statusCode"], 201);
    let mut search = apigw("GET", "/v1/customers", "/v1/customers", &key, json!(null));
    search["rawQueryString"] = json!("email=quill.zed%40example.com");
    search["queryStringParameters"] = json!({"email": email});
    let found = profiles.invoke(search).await.unwrap();
    assert_eq!(found["statusCode"], 200, "{found}");
    assert!(body(&found).to_string().contains("qz"), "{found}");
    drop(profiles);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("\"request\""), "the log is written: {text}");
    for secret in [email, name, phone, key.as_str()] {
        assert!(!text.contains(secret), "{secret} is in the function's log");
    }
    let _ = std::fs::remove_file(&log);
}

/// An API Gateway event for the console: a form body (or none) and the browser's cookies.
fn console_event(method: &str, path: &str, cookies: &[String], form: Option<&str>) -> Value {
    let route = if path == "/console" {
        "/console"
    } else {
        "/console/{proxy+}"
    };
    let mut e = apigw(method, route, path, "", json!(null));
    if let Some(h) = e["headers"].as_object_mut() {
        h.remove("authorization");
        h.insert(
            "content-type".into(),
            json!("application/x-www-form-urlencoded"),
        );
    }
    e["cookies"] = json!(cookies);
    e["body"] = json!(form.unwrap_or(""));
    e
}

/// `name=value` of each cookie an API Gateway reply sets.
fn reply_cookies(reply: &Value) -> Vec<String> {
    reply["cookies"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            reply["multiValueHeaders"]["set-cookie"]
                .as_array()
                .into_iter()
                .flatten(),
        )
        .filter_map(|c| c.as_str()?.split(';').next().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_console_function_logs_staff_in_on_dynamodb() {
    let backend = dynamodb();
    let (tenant, _) = backend.tenant().await;
    let store = backend.store();
    let email = format!("ops.{tenant}@studio.example");
    let invited = fanloop_services::staff::invite(
        store.as_ref(),
        &fanloop_domain::tenant::OsRandom,
        &tenant,
        fanloop_domain::values::Email::parse(&email).unwrap(),
        fanloop_domain::staff::Role::Agent,
        "test",
        jiff::Timestamp::now(),
    )
    .await
    .unwrap();
    let password = "a long staff password";
    fanloop_services::staff::set_password(
        store.as_ref(),
        &fanloop_domain::tenant::OsRandom,
        &invited.link_token,
        fanloop_domain::staff::Password::new(password.into()).unwrap(),
        jiff::Timestamp::now(),
    )
    .await
    .unwrap();

    let console = Function::start(&binary("console"), &aws_env().await).await;
    let page = console
        .invoke(console_event("GET", "/console/login", &[], None))
        .await
        .unwrap();
    assert_eq!(page["statusCode"], 200, "{page}");
    let html = page["body"].as_str().unwrap_or_default().to_owned();
    let csp = page["headers"]["content-security-policy"]
        .as_str()
        .unwrap_or_default();
    assert!(csp.contains("default-src 'none'"), "{page}");
    let pre = reply_cookies(&page);
    assert!(pre.iter().any(|c| c.starts_with("fl_login=")), "{page}");
    let marker = "name=\"csrf\" value=\"";
    let at = html.find(marker).unwrap() + marker.len();
    let csrf = html[at..].split('"').next().unwrap();
    let form = format!(
        "csrf={csrf}&email={}&password={}",
        email.replace('@', "%40"),
        password.replace(' ', "+")
    );
    let login = console
        .invoke(console_event("POST", "/console/login", &pre, Some(&form)))
        .await
        .unwrap();
    assert_eq!(login["statusCode"], 303, "{login}");
    let session: Vec<String> = reply_cookies(&login)
        .into_iter()
        .filter(|c| c.starts_with("fl_session="))
        .collect();
    assert_eq!(session.len(), 1, "{login}");
    let home = console
        .invoke(console_event("GET", "/console/", &session, None))
        .await
        .unwrap();
    assert_eq!(home["statusCode"], 200, "{home}");
    assert!(
        home["body"]
            .as_str()
            .unwrap_or_default()
            .contains("Find a customer")
    );
    let anonymous = console
        .invoke(console_event("GET", "/console/", &[], None))
        .await
        .unwrap();
    assert_eq!(anonymous["statusCode"], 303);
}
