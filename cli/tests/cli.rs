//! The `fanloop` binary as an operator uses it: `tenant create`, `serve`, `import`, `segment`
//! and `campaign`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn data_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn fanloop(dir: &PathBuf) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fanloop"));
    c.env("FANLOOP_DATA_DIR", dir)
        .env_remove("FANLOOP_API_KEY")
        .env("FANLOOP_SCHEDULER", "off")
        .env("RUST_LOG", "info");
    c
}

fn is_key(s: &str) -> bool {
    s.len() == 68 && s.starts_with("flk_") && s[4..].bytes().all(|b| b.is_ascii_hexdigit())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A minimal HTTP/1.1 exchange (the server closes after `Connection: close`).
fn http(port: u16, method: &str, path: &str, key: &str, body: &str) -> (u16, String) {
    try_http(port, method, path, key, body).unwrap()
}

/// The same exchange, with the socket's error when the server is gone; status 0 when the
/// connection closed before a whole status line.
fn try_http(
    port: u16,
    method: &str,
    path: &str,
    key: &str,
    body: &str,
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `fanloop serve` and waits for its "listening" log line; returns how long that took.
/// Its output keeps being drained so the server never blocks on a full pipe.
fn serve(dir: &PathBuf, port: u16, key: Option<&str>) -> (Server, Duration) {
    let mut cmd = fanloop(dir);
    cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(k) = key {
        cmd.env("FANLOOP_API_KEY", k);
    }
    let started = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    loop {
        let line = lines
            .next()
            .expect("fanloop serve exited before listening")
            .unwrap();
        if line.contains("fanloop listening") {
            break;
        }
    }
    let elapsed = started.elapsed();
    std::thread::spawn(move || for _ in lines {});
    (Server(child), elapsed)
}

#[test]
fn tenant_create_prints_only_the_key() {
    let dir = data_dir("tenant");
    let out = fanloop(&dir)
        .args(["tenant", "create", "star-arena"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "stdout must be the key alone: {stdout:?}");
    assert!(is_key(lines[0]));
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains(lines[0]),
        "the key is never logged"
    );

    let again = fanloop(&dir)
        .args(["tenant", "create", "star-arena"])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(again.stdout.is_empty());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let bad = fanloop(&dir)
        .args(["tenant", "create", "Not A Slug"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));

    // The printed key opens the API of that tenant.
    let port = free_port();
    let (_server, _) = serve(&dir, port, None);
    let (status, body) = http(port, "GET", "/v1/settings", lines[0], "");
    assert_eq!(status, 200, "{body}");
}

#[test]
fn key_create_list_revoke() {
    let dir = data_dir("keys");
    let run = |args: &[&str]| {
        let out = fanloop(&dir).args(args).output().unwrap();
        (
            out.status.success(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, admin, err) = run(&["tenant", "create", "studio"]);
    assert!(ok, "{err}");
    let admin = admin.trim().to_owned();
    let (ok, secret, err) = run(&[
        "key",
        "create",
        "--tenant",
        "studio",
        "--name",
        "backend",
        "--scopes",
        "ingest,read",
    ]);
    assert!(ok, "{err}");
    let secret = secret.trim().to_owned();
    assert!(
        is_key(&secret) && !err.contains(&secret),
        "the secret alone, on stdout"
    );
    let (ok, list, _) = run(&["key", "list", "--tenant", "studio"]);
    assert!(ok);
    let keys: Vec<serde_json::Value> = list
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(keys.len(), 2, "{list}");
    assert!(!list.contains(&secret) && !list.contains(&admin));
    let made = keys.iter().find(|k| k["name"] == "backend").unwrap();
    assert_eq!(made["scopes"], serde_json::json!(["ingest", "read"]));
    let id = made["key_id"].as_str().unwrap().to_owned();

    let port = free_port();
    let (server, _) = serve(&dir, port, None);
    let (status, body) = http(port, "GET", "/v1/settings", &secret, "");
    assert_eq!(status, 200, "read: {body}");
    let (status, body) = http(port, "PUT", "/v1/settings", &secret, "{}");
    assert_eq!(status, 403, "no admin scope: {body}");
    drop(server);

    let (ok, _, err) = run(&["key", "revoke", &id, "--tenant", "studio"]);
    assert!(ok, "{err}");
    let (server, _) = serve(&dir, port, None);
    let (status, _) = http(port, "GET", "/v1/settings", &secret, "");
    assert_eq!(status, 401, "revoked");
    let (status, _) = http(port, "GET", "/v1/settings", &admin, "");
    assert_eq!(status, 200, "the first key has every scope");
    drop(server);
    let (ok, _, err) = run(&[
        "key", "create", "--tenant", "studio", "--name", "x", "--scopes", "root",
    ]);
    assert!(!ok && err.contains("scopes"), "{err}");
    let (ok, _, err) = run(&["key", "revoke", "k_0000000000000000", "--tenant", "studio"]);
    assert!(!ok && err.contains("no key"), "{err}");
}

#[test]
fn serve_starts_fast_and_serves_the_api_with_the_configured_key() {
    let dir = data_dir("serve");
    let key = format!("flk_{}", "ab".repeat(32));
    let port = free_port();
    let (server, startup) = serve(&dir, port, Some(&key));
    assert!(startup < Duration::from_secs(1), "startup took {startup:?}");

    let (status, body) = http(
        port,
        "PUT",
        "/v1/customers/p1",
        &key,
        r#"{"email":"p1@example.com"}"#,
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = http(port, "GET", "/v1/customers/p1", &key, "");
    assert_eq!(status, 200);
    assert!(body.contains("p1@example.com"));
    let (status, _) = http(
        port,
        "GET",
        "/v1/customers/p1",
        &format!("flk_{}", "cd".repeat(32)),
        "",
    );
    assert_eq!(status, 401);
    drop(server);

    // Data survives a restart: the SQLite file is the store.
    let port = free_port();
    let (_server, _) = serve(&dir, port, Some(&key));
    let (status, body) = http(port, "GET", "/v1/customers/p1", &key, "");
    assert_eq!(status, 200, "{body}");
}

#[test]
fn serve_without_a_key_creates_the_demo_tenant_once() {
    let dir = data_dir("demo");
    let run = || {
        let port = free_port();
        let mut child = fanloop(&dir)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        while let Some(Ok(line)) = lines.next() {
            if line.contains("fanloop listening") {
                break;
            }
        }
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let first = run();
    assert_eq!(first.lines().count(), 1);
    assert!(is_key(first.trim()));
    let second = run();
    assert_eq!(second, "", "the key is shown once only");
}

/// A zone where it is now between 11:00 and 22:59, and today's date there (`MM-DD`): a birthday
/// mail for that date is due in that zone.
fn zone_past_send_hour() -> (String, String) {
    let now = jiff::Timestamp::now();
    for offset in -12i32..=14 {
        // Etc/GMT+N is N hours *behind* UTC.
        let zone = match offset {
            0 => "UTC".to_owned(),
            o if o < 0 => format!("Etc/GMT+{}", -o),
            o => format!("Etc/GMT-{o}"),
        };
        let local = now.to_zoned(jiff::tz::TimeZone::get(&zone).unwrap());
        if (11..23).contains(&local.hour()) {
            return (zone, format!("{:02}-{:02}", local.month(), local.day()));
        }
    }
    unreachable!("some zone is always between 11:00 and 22:59")
}

#[test]
fn campaign_run_writes_the_mail_and_its_link_unsubscribes() {
    let dir = data_dir("campaign");
    let port = free_port();
    let key = format!("flk_{}", "c".repeat(64));
    let (_server, _) = serve(&dir, port, Some(&key));
    let (zone, md) = zone_past_send_hour();
    let body = format!(
        r#"{{"email":"mei@example.com","display_name":"美美","locale":"zh-CN","birthday":"--{md}","timezone":"{zone}","consent":{{"email_marketing":true}}}}"#
    );
    assert_eq!(
        http(port, "PUT", "/v1/customers/viewer-7", &key, &body).0,
        201
    );

    let run = fanloop(&dir)
        .args(["campaign", "run", "birthday", "--tenant", "demo"])
        .env("FANLOOP_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["report"]["sent"], 1, "{report}");

    let files: Vec<_> = std::fs::read_dir(dir.join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let raw = std::fs::read_to_string(&files[0]).unwrap();
    assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
    let url = raw
        .lines()
        .find_map(|l| l.strip_prefix("List-Unsubscribe: <"))
        .unwrap()
        .trim_end_matches('>')
        .to_owned();
    let path = url
        .trim_start_matches(&format!("http://127.0.0.1:{port}"))
        .to_owned();
    assert!(path.starts_with("/unsubscribe/"), "{url}");
    let (status, _) = http(port, "POST", &path, "", "List-Unsubscribe=One-Click");
    assert_eq!(status, 200);
    let (_, customer) = http(port, "GET", "/v1/customers/viewer-7", &key, "");
    assert!(customer.contains(r#""granted":false"#), "{customer}");

    // Running again sends nothing (already sent, and consent is off).
    let again = fanloop(&dir)
        .args(["campaign", "run", "birthday", "--tenant", "demo"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(report["report"]["sent"], 0, "{report}");
}

/// Every file under `dir` (recursively) whose bytes contain `needle`.
fn files_containing(dir: &std::path::Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if std::fs::read(&path)
            .unwrap()
            .windows(needle.len())
            .any(|w| w == needle)
        {
            found.push(path);
        }
    }
    found
}

#[test]
fn erasure_leaves_nothing_of_the_customer_in_the_data_directory() {
    let dir = data_dir("erasure");
    let port = free_port();
    let key = format!("flk_{}", "e".repeat(64));
    let (_server, _) = serve(&dir, port, Some(&key));
    let (zone, md) = zone_past_send_hour();
    let (email, name, phone) = (
        "erase.me.7@example.com",
        "Quintessa Erasable",
        "+14155550199",
    );
    let body = format!(
        r#"{{"email":"{email}","display_name":"{name}","phone":"{phone}","birthday":"--{md}","timezone":"{zone}","consent":{{"email_marketing":true}}}}"#
    );
    assert_eq!(
        http(port, "PUT", "/v1/customers/leaver", &key, &body).0,
        201
    );
    let keeper = format!(
        r#"{{"email":"keeper@example.com","birthday":"--{md}","timezone":"{zone}","consent":{{"email_marketing":true}}}}"#
    );
    assert_eq!(
        http(port, "PUT", "/v1/customers/keeper", &key, &keeper).0,
        201
    );
    let run = fanloop(&dir)
        .args(["campaign", "run", "birthday", "--tenant", "demo"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["report"]["sent"], 2, "{report}");
    for needle in [email, name, phone] {
        assert!(
            !files_containing(&dir, needle.as_bytes()).is_empty(),
            "the scan finds {needle:?} before erasure"
        );
    }

    assert_eq!(
        http(port, "DELETE", "/v1/customers/leaver", &key, "").0,
        204
    );
    for needle in [email, name, phone] {
        assert_eq!(
            files_containing(&dir, needle.as_bytes()),
            Vec::<PathBuf>::new(),
            "{needle:?} is still on disk after erasure"
        );
    }
    assert_eq!(
        std::fs::read_dir(dir.join("outbox")).unwrap().count(),
        1,
        "the other customer's mail stays"
    );
    let (status, kept) = http(port, "GET", "/v1/customers/keeper", &key, "");
    assert_eq!(status, 200);
    assert!(kept.contains("keeper@example.com"), "{kept}");
}

/// `kill -9` of `serve` in the middle of 16 concurrent clients: every accrual that was
/// answered 201 is there after a restart (posting it again is a 200 replay, not a new 201),
/// and every balance equals the sum of its ledger.
#[test]
fn killed_mid_load_loses_no_acknowledged_accrual() {
    let dir = data_dir("kill9");
    let port = free_port();
    let key = format!("flk_{}", "d".repeat(64));
    let (mut server, _) = serve(&dir, port, Some(&key));
    const CUSTOMERS: usize = 8;
    for c in 0..CUSTOMERS {
        let (status, _) = http(port, "PUT", &format!("/v1/customers/k{c}"), &key, "{}");
        assert_eq!(status, 201);
    }
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, String)>::new()));
    let clients: Vec<_> = (0..16)
        .map(|client| {
            let (acked, key) = (acked.clone(), key.clone());
            std::thread::spawn(move || {
                for n in 0.. {
                    let path = format!("/v1/customers/k{}/points/accruals", (client + n) % CUSTOMERS);
                    let body = format!(
                        r#"{{"event_id":"e-{client}-{n}","kind":"purchase","amount_minor":{},"currency":"USD"}}"#,
                        100 + n * 7 % 900
                    );
                    match try_http(port, "POST", &path, &key, &body) {
                        Ok((201, _)) => acked.lock().unwrap().push((path, body)),
                        Ok((0, _)) | Err(_) => return,
                        Ok((status, answer)) => panic!("{status} {answer}"),
                    }
                }
            })
        })
        .collect();
    let started = Instant::now();
    while acked.lock().unwrap().len() < 1_000 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(5));
    }
    server.0.kill().unwrap(); // SIGKILL: no shutdown, no final checkpoint
    server.0.wait().unwrap();
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 1_000,
        "only {} accruals before the kill",
        acked.len()
    );

    let (_server, _) = serve(&dir, port, Some(&key));
    let lost: Vec<_> = acked
        .iter()
        .filter(|(path, body)| http(port, "POST", path, &key, body).0 != 200)
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged accruals lost: {:?}",
        lost.len(),
        acked.len(),
        &lost[..lost.len().min(3)]
    );
    for c in 0..CUSTOMERS {
        let (_, points) = http(port, "GET", &format!("/v1/customers/k{c}/points"), &key, "");
        let balance = serde_json::from_str::<serde_json::Value>(&points).unwrap()["balance"]
            .as_i64()
            .unwrap();
        let (mut sum, mut cursor) = (0, String::new());
        loop {
            let (_, page) = http(
                port,
                "GET",
                &format!("/v1/customers/k{c}/points/ledger?limit=100{cursor}"),
                &key,
                "",
            );
            let page: serde_json::Value = serde_json::from_str(&page).unwrap();
            sum += page["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["points"].as_i64().unwrap())
                .sum::<i64>();
            match page["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => break,
            }
        }
        assert_eq!(balance, sum, "customer k{c}: balance and ledger disagree");
    }
}

/// `tenant create --store dynamodb --table NAME` writes to the deployed table (moto here).
/// moto's endpoint and table, as scripts/test exports them; fails loudly without them.
fn moto() -> (String, String) {
    let (Ok(endpoint), Ok(table)) = (
        std::env::var("FANLOOP_TEST_AWS_ENDPOINT"),
        std::env::var("FANLOOP_TEST_TABLE"),
    ) else {
        panic!(
            "needs moto: run through scripts/test (FANLOOP_TEST_AWS_ENDPOINT, FANLOOP_TEST_TABLE)"
        );
    };
    (endpoint, table)
}

#[test]
fn tenant_create_on_a_dynamodb_table() {
    let (endpoint, table) = moto();
    let dir = data_dir("tenant-ddb");
    let name = format!("ddb-{}", std::process::id());
    let create = || {
        fanloop(&dir)
            .args([
                "tenant", "create", &name, "--store", "dynamodb", "--table", &table,
            ])
            .env("FANLOOP_DYNAMODB_ENDPOINT", &endpoint)
            .output()
            .unwrap()
    };
    let out = create();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8(out.stdout).unwrap();
    assert!(is_key(key.trim()), "{key:?}");
    assert!(!dir.join("fanloop.db").exists(), "nothing written locally");
    let again = create();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let no_table = fanloop(&dir)
        .args(["tenant", "create", "x", "--store", "dynamodb"])
        .output()
        .unwrap();
    assert_eq!(no_table.status.code(), Some(2), "--table is required");
}

/// 10,000 customer rows, every 200th one bad in a different way: the bad line numbers and
/// the field each names.
fn customers_csv(path: &std::path::Path) -> Vec<(u64, &'static str)> {
    let mut out = String::from(
        "customer_id,email,display_name,birthday,tags,identities,email_marketing,consent_source,attributes.level\n",
    );
    let mut bad = Vec::new();
    for i in 0..10_000u64 {
        let line = i + 2; // the header is line 1
        let (id, email, birthday, ids, consent) = (
            format!("c{i}"),
            format!("c{i}@example.com"),
            "1990-05-17".to_owned(),
            format!("steam:s{i};discord:d{i}"),
            "true",
        );
        let row = if i % 200 == 199 {
            let kind = (i / 200) % 5;
            let (row, field) = match kind {
                0 => (
                    format!("{id},not-an-email,,{birthday},,{ids},{consent},,"),
                    "email",
                ),
                1 => (
                    format!("bad id {i},{email},,{birthday},,,{consent},,"),
                    "customer_id",
                ),
                2 => (
                    format!("{id},{email},,1990-02-30,,,{consent},,"),
                    "birthday",
                ),
                3 => (
                    format!("{id},{email},,,,steam-{i},{consent},,"),
                    "identities[0]",
                ),
                _ => (format!("{id},{email},,,,,maybe,,"), "email_marketing"),
            };
            bad.push((line, field));
            row
        } else {
            format!(
                "{id},{email},Player {i},{birthday},vip;pc,{ids},{consent},signup-form,{}",
                i % 50
            )
        };
        out.push_str(&row);
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
    bad
}

fn import(dir: &PathBuf, kind: &str, file: &std::path::Path) -> (String, String) {
    let out = fanloop(dir)
        .args(["import", kind, file.to_str().unwrap(), "--tenant", "studio"])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "{stderr}");
    (stdout, stderr)
}

#[test]
fn import_counts_every_row_exactly_and_a_rerun_changes_nothing() {
    let dir = data_dir("import");
    let out = fanloop(&dir)
        .args(["tenant", "create", "studio"])
        .output()
        .unwrap();
    let key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("customers.csv");
    let bad = customers_csv(&csv);
    assert_eq!(bad.len(), 50);

    let (first, _) = import(&dir, "customers", &csv);
    let mut lines = first.lines();
    assert_eq!(
        lines.next().unwrap(),
        format!(
            "{}: 10000 rows, 9950 created, 0 updated, 0 unchanged, 50 refused",
            csv.display()
        )
    );
    let refused: Vec<&str> = lines.collect();
    assert_eq!(refused.len(), 50);
    for ((line, field), text) in bad.iter().zip(&refused) {
        assert!(
            text.starts_with(&format!("refused line {line}: {field}: ")),
            "{text} (expected line {line}, {field})"
        );
    }
    assert!(
        !csv.with_extension("csv.import-state").exists(),
        "no state left after a full run"
    );

    let (again, _) = import(&dir, "customers", &csv);
    assert!(
        again.starts_with(&format!(
            "{}: 10000 rows, 0 created, 0 updated, 9950 unchanged, 50 refused\n",
            csv.display()
        )),
        "{again}"
    );

    // Events for 1,000 imported customers; one for a customer that does not exist.
    let events = dir.join("events.csv");
    let mut doc = String::from("customer_id,event_id,kind,occurred_at,properties\n");
    for i in (0..1_005).filter(|i| i % 200 != 199) {
        doc.push_str(&format!(
            "c{i},lvl-{i},level_up,2026-01-02T03:04:05Z,\"{{\"\"level\"\": {}}}\"\n",
            i % 90 + 1
        ));
    }
    doc.push_str("ghost,lvl-x,login,,\n");
    std::fs::write(&events, doc).unwrap();
    let (ev, _) = import(&dir, "events", &events);
    assert_eq!(
        ev,
        format!(
            "{}: 1001 rows, 1000 created, 0 updated, 0 unchanged, 1 refused\nrefused line 1002: customer_id: no such customer\n",
            events.display()
        )
    );
    let (ev2, _) = import(&dir, "events", &events);
    assert!(
        ev2.contains("1001 rows, 0 created, 0 updated, 1000 unchanged, 1 refused"),
        "{ev2}"
    );

    // What the API shows of an imported customer.
    let port = free_port();
    let (_server, _) = serve(&dir, port, None);
    let (status, body) = http(port, "GET", "/v1/customers/c5", &key, "");
    assert_eq!(status, 200, "{body}");
    let c: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(c["email"], "c5@example.com");
    assert_eq!(
        c["tags"],
        serde_json::json!(["pc", "vip"]),
        "tags are kept sorted"
    );
    assert_eq!(c["attributes"]["level"], "5");
    assert_eq!(c["consent"]["email_marketing"]["source"], "signup-form");
    assert_eq!(c["identities"].as_array().unwrap().len(), 2);
    assert_eq!(
        c["last_active_at"], "2026-01-02T03:04:05.000Z",
        "the event moved it"
    );
    let (status, _) = http(port, "GET", "/v1/customers/c199", &key, "");
    assert_eq!(status, 404, "a refused row wrote nothing");
}

#[test]
fn an_interrupted_import_resumes_where_it_stopped() {
    let dir = data_dir("import-resume");
    let out = fanloop(&dir)
        .args(["tenant", "create", "studio"])
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("customers.csv");
    customers_csv(&csv);
    let state = dir.join("customers.csv.import-state");
    let mut child = fanloop(&dir)
        .args([
            "import",
            "customers",
            csv.to_str().unwrap(),
            "--tenant",
            "studio",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !state.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no progress saved"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let (summary, stderr) = import(&dir, "customers", &csv);
    assert!(stderr.contains("resuming at line"), "{stderr}");
    let first = summary.lines().next().unwrap();
    let count = |label: &str| -> u64 {
        first
            .split(", ")
            .find_map(|part| part.strip_suffix(&format!(" {label}")))
            .map(|n| n.rsplit(' ').next().unwrap().parse().unwrap())
            .unwrap()
    };
    assert_eq!(count("rows"), 10_000, "{first}");
    // Rows written after the last saved position come back as unchanged: none is counted twice.
    assert_eq!(count("created") + count("unchanged"), 9_950, "{first}");
    assert_eq!((count("updated"), count("refused")), (0, 50), "{first}");
}

#[test]
fn import_into_a_dynamodb_table() {
    let (endpoint, table) = moto();
    let dir = data_dir("import-ddb");
    std::fs::create_dir_all(&dir).unwrap();
    let tenant = format!("imp-{}", std::process::id());
    let run = |args: &[&str]| {
        let out = fanloop(&dir)
            .args(args)
            .args(["--store", "dynamodb", "--table", &table])
            .env("FANLOOP_DYNAMODB_ENDPOINT", &endpoint)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["tenant", "create", &tenant]);
    let csv = dir.join("players.csv");
    let mut doc = String::from("customer_id,email,tags,identities,email_marketing\n");
    for i in 0..300 {
        let email = if i == 150 {
            "nope".to_owned()
        } else {
            format!("p{i}@example.com")
        };
        doc.push_str(&format!("p{i},{email},vip,twitch:t{i},true\n"));
    }
    doc.push_str("p0,p0@example.com,vip,twitch:t1,true\n"); // t1 belongs to p1
    std::fs::write(&csv, doc).unwrap();
    let file = csv.to_str().unwrap();
    let first = run(&["import", "customers", file, "--tenant", &tenant]);
    assert_eq!(
        first,
        format!(
            "{file}: 301 rows, 299 created, 0 updated, 0 unchanged, 2 refused\n\
             refused line 152: email: must be an e-mail address like name@example.com\n\
             refused line 302: identities: twitch:t1 is linked to another customer\n"
        )
    );
    let again = run(&["import", "customers", file, "--tenant", &tenant]);
    assert!(
        again.starts_with(&format!(
            "{file}: 301 rows, 0 created, 0 updated, 299 unchanged, 2 refused\n"
        )),
        "{again}"
    );
    assert!(!dir.join("fanloop.db").exists(), "nothing written locally");
}

fn preview(dir: &PathBuf, file: &std::path::Path) -> std::process::Output {
    fanloop(dir)
        .args([
            "segment",
            "preview",
            file.to_str().unwrap(),
            "--tenant",
            "studio",
        ])
        .output()
        .unwrap()
}

#[test]
fn segment_preview_counts_what_the_filter_selects() {
    let dir = data_dir("segment");
    let out = fanloop(&dir)
        .args(["tenant", "create", "studio"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let csv = dir.join("c.csv");
    let mut rows = String::from("customer_id,email,tags,email_marketing,consent_source\n");
    for i in 0..30 {
        let tags = if i % 3 == 0 { "vip" } else { "casual" };
        // Every tenth vip-or-not without consent.
        let consent = if i % 10 == 9 { "false" } else { "true" };
        rows.push_str(&format!("c{i:02},c{i}@example.com,{tags},{consent},form\n"));
    }
    std::fs::write(&csv, rows).unwrap();
    import(&dir, "customers", &csv);
    // c00 c03 … c27 are vips (10); c09 withholds consent.
    let filter = dir.join("vips.json");
    std::fs::write(
        &filter,
        r#"{"segment_id": "vips", "name": "VIPs", "filter": {"field": "tags", "op": "contains", "value": "vip"}}"#,
    )
    .unwrap();
    let out = preview(&dir, &filter);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["count"], 9, "{stdout}");
    assert_eq!(v["customers"], 30);
    assert_eq!(
        v["sample"],
        serde_json::json!([
            "c00", "c03", "c06", "c12", "c15", "c18", "c21", "c24", "c27"
        ])
    );

    std::fs::write(
        &filter,
        r#"{"all": [{"field": "tags", "op": "eq", "value": "vip"}]}"#,
    )
    .unwrap();
    let out = preview(&dir, &filter);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("filter.all[0].op: must be one of contains, in, exists"),
        "{stderr}"
    );
}

fn campaign_cmd(dir: &PathBuf, args: &[&str]) -> (bool, String, String) {
    let out = fanloop(dir).arg("campaign").args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn campaign_list_show_and_run_a_broadcast_definition() {
    let dir = data_dir("campaign-defs");
    let port = free_port();
    let key = format!("flk_{}", "d".repeat(64));
    let (_server, _) = serve(&dir, port, Some(&key));
    let body = r#"{"email":"fan@example.com","tags":["vip"],"consent":{"email_marketing":true}}"#;
    assert_eq!(http(port, "PUT", "/v1/customers/fan-1", &key, body).0, 201);
    // An hour ago in UTC (the customer's zone: the tenant's default).
    let at = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_hours(1))
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%Y-%m-%dT%H:%M")
        .to_string();
    let def = format!(
        r#"{{"campaign_id": "flash", "name": "Flash sale", "status": "active",
            "trigger": {{"type": "broadcast", "at": "{at}"}},
            "audience": {{"filter": {{"field": "tags", "op": "contains", "value": "vip"}}}},
            "templates": {{"en": {{"subject": "Flash sale", "html": "<p>Now</p>", "text": "Now"}}}}}}"#
    );
    let (status, reply) = http(port, "POST", "/v1/campaigns", &key, &def);
    assert_eq!(status, 201, "{reply}");

    let (ok, out, err) = campaign_cmd(&dir, &["list", "--tenant", "demo"]);
    assert!(ok, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<&str> = lines
        .iter()
        .map(|l| l["campaign_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["birthday", "winback", "recovery", "flash"], "{out}");
    assert_eq!(lines[2]["status"], "paused", "recovery is off by default");
    assert_eq!(
        (lines[1]["built_in"].as_bool(), lines[1]["trigger"].as_str()),
        (Some(true), Some("inactivity"))
    );
    assert_eq!(
        (lines[3]["trigger"].as_str(), lines[3]["status"].as_str()),
        (Some("broadcast"), Some("active"))
    );

    let (ok, out, err) = campaign_cmd(&dir, &["show", "flash", "--tenant", "demo"]);
    assert!(ok, "{err}");
    let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["definition"]["name"], "Flash sale");
    let (ok, out, _) = campaign_cmd(&dir, &["show", "winback", "--tenant", "demo"]);
    assert!(ok);
    let winback: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        winback["definition"]["trigger"],
        serde_json::json!({"type": "inactivity", "days": 30, "cooldown_days": 90}),
        "{out}"
    );
    let (ok, _, err) = campaign_cmd(&dir, &["show", "nope", "--tenant", "demo"]);
    assert!(!ok && err.contains("no campaign nope"), "{err}");

    let (ok, out, err) = campaign_cmd(&dir, &["run", "flash", "--tenant", "demo", "--dry-run"]);
    assert!(ok, "{err}");
    let dry: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        dry["report"]["recipients"][0]["customer_id"], "fan-1",
        "{out}"
    );
    let (ok, out, err) = campaign_cmd(&dir, &["run", "flash"]);
    assert!(ok, "{err}");
    let run: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(run["report"]["sent"], 1, "{out}");
    let (_, out, _) = campaign_cmd(&dir, &["run", "flash", "--tenant", "demo"]);
    let again: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(again["report"]["sent"], 0, "{out}");
    assert_eq!(std::fs::read_dir(dir.join("outbox")).unwrap().count(), 1);
}

/// Starts `fanloop serve` with `RUST_LOG=debug` and its scheduler and trigger worker on, its
/// log written to `log`.
fn serve_logging(dir: &PathBuf, port: u16, key: &str, log: &std::path::Path) -> Server {
    let file = std::fs::File::create(log).unwrap();
    let mut cmd = fanloop(dir);
    cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("FANLOOP_API_KEY", key)
        .env("FANLOOP_SCHEDULER", "on")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(file);
    let server = Server(cmd.spawn().unwrap());
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "serve did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// The privacy standard, proven on the whole local flow at debug level: a profile with e-mail,
/// name and phone, a search by e-mail, a purchase with its thank-you (the trigger worker), a
/// survey answer with a comment, a logged contact, a broadcast, and the one-click unsubscribe —
/// none of the address, the name, the phone, the comment, the contact's summary, the API key or
/// the unsubscribe token appears in the log.
#[test]
fn no_personal_data_or_secret_reaches_the_log_at_debug_level() {
    let dir = data_dir("pii-log");
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("serve.log");
    let port = free_port();
    let key = format!("flk_{}", "e".repeat(64));
    let server = serve_logging(&dir, port, &key, &log);
    let (email, name, phone, comment) = (
        "zelda.quill@example.com",
        "Zelda Quill",
        "8613812345678",
        "the-streamer-was-rude-to-me",
    );
    let body = format!(
        r#"{{"email":"{email}","display_name":"{name}","phone":"+{phone}","tags":["vip"],"consent":{{"email_marketing":true}}}}"#
    );
    assert_eq!(http(port, "PUT", "/v1/customers/zq", &key, &body).0, 201);
    let (status, found) = http(
        port,
        "GET",
        "/v1/customers?email=zelda.quill%40example.com",
        &key,
        "",
    );
    assert_eq!(status, 200, "{found}");
    let thanks = r#"{"campaign_id":"thanks","name":"Thanks","status":"active","trigger":{"type":"purchase"},
        "frequency_cap_exempt":true,
        "templates":{"en":{"subject":"Thanks {{ name }}","html":"<p>{{ name }}</p>","text":"{{ name }}"}}}"#;
    assert_eq!(http(port, "POST", "/v1/campaigns", &key, thanks).0, 201);
    let buy = r#"{"event_id":"o-1","kind":"purchase","amount_minor":999,"currency":"USD","item":{"sku":"gems"}}"#;
    assert_eq!(
        http(port, "POST", "/v1/customers/zq/points/accruals", &key, buy).0,
        201
    );
    let answer =
        format!(r#"{{"response_id":"r-1","customer_id":"zq","nps":2,"comment":"{comment}"}}"#);
    assert_eq!(
        http(port, "POST", "/v1/surveys/s/responses", &key, &answer).0,
        201
    );
    let note = "promised-a-refund-by-friday";
    let contact = format!(
        r#"{{"channel":"phone","direction":"inbound","summary":"{note}","outcome":"{note}"}}"#
    );
    assert_eq!(
        http(port, "POST", "/v1/customers/zq/contacts", &key, &contact).0,
        201
    );
    // The thank-you, sent by the trigger worker within a few seconds.
    let outbox = dir.join("outbox");
    let started = Instant::now();
    let mail = loop {
        let files: Vec<PathBuf> = std::fs::read_dir(&outbox)
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        if let Some(f) = files.first() {
            break std::fs::read_to_string(f).unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "no thank-you mail"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let url = mail
        .lines()
        .find_map(|l| l.strip_prefix("List-Unsubscribe: <"))
        .unwrap()
        .trim_end_matches('>')
        .to_owned();
    let token = url.rsplit('/').next().unwrap().to_owned();
    let path = format!("/unsubscribe/{token}");
    assert_eq!(
        http(port, "POST", &path, "", "List-Unsubscribe=One-Click").0,
        200
    );
    drop(server);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("\"request\"") && text.contains("trigger handled"),
        "the log is written"
    );
    assert!(
        text.contains("\"DEBUG\"") && text.contains("mail sent"),
        "at debug level"
    );
    for secret in [
        email,
        name,
        phone,
        comment,
        note,
        key.as_str(),
        token.as_str(),
    ] {
        assert!(!text.contains(secret), "{secret} is in the log");
    }
}
