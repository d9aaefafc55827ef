//! Schema-driven malformed requests: for every operation of the OpenAPI document, junk in each
//! path and query parameter (fixed nasty values plus seeded random strings), junk bodies, and
//! methods the route does not serve. Never a 5xx; every error is JSON with a stable code from
//! the document's `ErrorCode`, and its status is one the operation documents.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::Value;

use crate::access::operations;
use crate::helpers::{ADMIN_KEY, Reply, TestApp, spawn_app};

/// Values that have broken parsers before: wrong types, signs, overflow, empty, encodings.
const NASTY: &[&str] = &[
    "",
    "0",
    "-1",
    "1.5",
    "abc",
    "99999999999999999999",
    "9223372036854775808",
    "%00",
    "%FF%FE",
    "%2F..%2F..",
    "null",
    "true",
    "%7B%7D",
    "2026-13-45T99:00:00Z",
    "%F0%9F%99%82",
    "%22%3Cscript%3E",
];

/// Bodies no route accepts: broken JSON, wrong shapes, wrong types, binary, too large.
fn junk_bodies() -> Vec<(&'static str, Vec<u8>)> {
    let json = "application/json";
    vec![
        (json, b"{".to_vec()),
        (json, b"[]".to_vec()),
        (json, b"null".to_vec()),
        (json, b"\"text\"".to_vec()),
        (json, b"42".to_vec()),
        (json, br#"{"unknown_field": 1}"#.to_vec()),
        (json, br#"{"ms": -1}"#.to_vec()),
        (json, br#"{"ms": "soon"}"#.to_vec()),
        (json, br#"{"ms": 1e40}"#.to_vec()),
        (json, br#"{"tag": {"nested": [1, 2, 3]}}"#.to_vec()),
        (json, vec![0xff, 0xfe, 0x00, 0x7b]),
        ("text/plain", b"}not json at all".to_vec()),
        ("application/x-www-form-urlencoded", b"ms=1&tag=2".to_vec()),
        // Beyond the 64 KiB body limit.
        (
            json,
            format!("{{\"tag\": \"{}\"}}", "x".repeat(70 * 1024)).into_bytes(),
        ),
    ]
}

/// A random string of characters that tend to matter, percent-encoded for the URL.
fn random_value(rng: &mut StdRng) -> String {
    const POOL: &[char] = &[
        'a', 'Z', '0', '9', '-', '_', '.', '~', ' ', '/', '?', '#', '&', '=', '%', '+', '"', '\'',
        '<', '>', '{', '}', '[', ']', '\\', ':', ';', ',', 'é', 'ß', '🙂', '\u{0}', '\u{7f}',
        '\u{202e}',
    ];
    let len = rng.random_range(0..40);
    let text: String = (0..len)
        .map(|_| POOL[rng.random_range(0..POOL.len())])
        .collect();
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn parameters(op: &Value, location: &str) -> Vec<String> {
    op["parameters"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter(|p| p["in"] == location)
                .map(|p| p["name"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

struct Checker<'a> {
    app: &'a TestApp,
    codes: Vec<String>,
    checked: usize,
    /// Requests that reached a control route, each of which must leave an audit row.
    audited: usize,
}

impl Checker<'_> {
    async fn send(
        &mut self,
        method: &str,
        url: &str,
        body: Option<(&str, Vec<u8>)>,
        op: Option<&Value>,
    ) {
        let shown_body = body
            .as_ref()
            .map(|(t, b)| format!("{t} {:.80}", String::from_utf8_lossy(b)));
        // One client (the admin's) for all: a connection per request would make this slow.
        let mut req = self.app.client.request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{url}", self.app.address),
        );
        if let Some((content_type, bytes)) = body {
            req = req.header("content-type", content_type).body(bytes);
        }
        let r: Reply = TestApp::reply(req.send().await.expect("request sent")).await;
        let what = format!("{method} {url} body={shown_body:?}");
        self.checked += 1;
        let routed = !(r.status == StatusCode::NOT_FOUND && r.body["error"] == "not_found");
        if method == "POST" && op.is_some() && routed {
            self.audited += 1;
        }
        assert!(
            !r.status.is_server_error(),
            "{what}: {} {}",
            r.status,
            r.body
        );
        if r.status.is_success() {
            return;
        }
        let code = r.body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: {} without a JSON error: {:?}", r.status, r.body));
        assert!(
            self.codes.iter().any(|c| c == code),
            "{what}: code {code} is not in the document's ErrorCode"
        );
        assert!(r.body["message"].is_string(), "{what}: {}", r.body);
        match op {
            // An unmatched path is the router's 404, whatever the operation.
            Some(_) if r.status == StatusCode::NOT_FOUND && code == "not_found" => {}
            Some(op) => assert!(
                op["responses"][r.status.as_str()].is_object(),
                "{what}: {} ({code}) is not documented for this operation",
                r.status
            ),
            None => {}
        }
    }
}

#[actix_rt::test]
async fn malformed_requests_to_every_route_get_a_documented_json_error_and_never_a_5xx() {
    let app = spawn_app().await;
    let doc = app
        .request_as(None, "GET", "/openapi.json", None)
        .await
        .body;
    let codes: Vec<String> = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x05ee_df91);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut check = Checker {
        app: &app,
        codes,
        checked: 0,
        audited: 0,
    };
    let ops = operations(&app).await;

    for (method, path, op) in &ops {
        let valid = path
            .replace("{kind}", "test-sleep")
            .replace("{name}", "job:test-sleep")
            .replace("{id}", "1");
        let mut values: Vec<String> = NASTY.iter().map(|s| s.to_string()).collect();
        values.extend((0..12).map(|_| random_value(&mut rng)));

        // Junk in each path parameter.
        for name in parameters(op, "path") {
            for v in &values {
                let url = path
                    .replace(&format!("{{{name}}}"), v)
                    .replace("{kind}", "test-sleep")
                    .replace("{name}", "job:test-sleep")
                    .replace("{id}", "1");
                // Only junk that reaches this route: not a pause of the real actor.
                if url == valid {
                    continue;
                }
                check.send(method, &url, None, Some(op)).await;
            }
        }
        // Junk in each query parameter, and a parameter no route knows. (Control routes take
        // no query, so a query cannot be malformed for them; sending one would act.)
        let mut queries = parameters(op, "query");
        if method == "GET" {
            queries.push("no_such_parameter".into());
        }
        for name in &queries {
            for v in &values {
                let url = format!("{valid}?{name}={v}");
                check.send(method, &url, None, Some(op)).await;
            }
        }
        if method == "GET" && !queries.is_empty() {
            check
                .send(method, &format!("{valid}?limit=1&limit=2"), None, Some(op))
                .await;
            check
                .send(method, &format!("{valid}?&&=&%"), None, Some(op))
                .await;
        }
        // Junk bodies, on a path that reaches the handler without acting (an unknown run or
        // actor), except the trigger, whose body is what it reads.
        if method == "POST" {
            let target = if path.contains("{kind}") {
                valid.clone()
            } else {
                path.replace("{name}", "job:no-such-kind")
                    .replace("{id}", "999999999")
            };
            for body in junk_bodies() {
                check.send(method, &target, Some(body), Some(op)).await;
            }
        }
    }
    // Methods a route does not serve: a JSON 405, for every path.
    for (_, path, _) in &ops {
        let served: Vec<&str> = ops
            .iter()
            .filter(|(_, p, _)| p == path)
            .map(|(m, _, _)| m.as_str())
            .collect();
        let url = path
            .replace("{kind}", "test-sleep")
            .replace("{name}", "job:test-sleep")
            .replace("{id}", "1");
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            if !served.contains(&method) {
                check.send(method, &url, None, None).await;
                let r = app.request_as(Some(ADMIN_KEY), method, &url, None).await;
                assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {url}");
                assert_eq!(r.body["error"], "method_not_allowed");
            }
        }
    }
    // Paths no route has.
    for url in [
        "/nope",
        "/jobs/1/2/3",
        "/actors/job:prune/pause/now",
        "/%FF",
    ] {
        check.send("GET", url, None, None).await;
    }
    assert!(check.checked > 500, "{} requests", check.checked);
    // Junk never costs an audit row (PostgreSQL's jsonb refuses some of it, e.g. NUL).
    let audit = app.get("/audit?limit=1000").await.body;
    assert_eq!(
        audit["actions"].as_array().unwrap().len(),
        check.audited,
        "one audit row per control request"
    );
}
