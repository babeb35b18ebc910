//! The `fanloop` binary as an operator uses it: `tenant create` and `serve`.

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
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
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

/// `tenant create --store dynamodb --table NAME` writes to the deployed table (moto here).
#[test]
fn tenant_create_on_a_dynamodb_table() {
    let (Ok(endpoint), Ok(table)) = (
        std::env::var("FANLOOP_TEST_AWS_ENDPOINT"),
        std::env::var("FANLOOP_TEST_TABLE"),
    ) else {
        panic!(
            "needs moto: run through scripts/test (FANLOOP_TEST_AWS_ENDPOINT, FANLOOP_TEST_TABLE)"
        );
    };
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
