//! Hostile input at the control endpoint (issue 15): what a caller — keyed or not — can make the
//! service store or answer. The audit log stays readable whatever a body holds; text PostgreSQL
//! refuses is refused at the edge, never reported as a database outage; the HTTP answers follow
//! the protocol (405 with `Allow`, 415 for bodies that are not JSON, one answer for ids below 1);
//! and the OpenAPI document declares the constraints the server enforces.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_KEY, OPERATOR_KEY, TestApp, VIEWER_KEY, spawn_app};

/// The audit rows of `action`, newest first (as an admin reads them).
async fn audit_rows(app: &TestApp, action: &str) -> Vec<Value> {
    let r = app.get(&format!("/audit?action={action}&limit=1000")).await;
    assert_eq!(r.status, StatusCode::OK, "GET /audit: {}", r.body);
    r.body["actions"].as_array().unwrap().clone()
}

const HUGE: &str = r#"{"older_than_days": 1.7976931348623157e308}"#;

#[actix_rt::test]
async fn an_anonymous_body_holding_a_huge_float_leaves_the_audit_log_readable() {
    let app = spawn_app().await;
    let r = app
        .request_as(
            None,
            "POST",
            "/jobs/prune/trigger",
            Some(("application/json", HUGE.as_bytes().to_vec())),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let rows = audit_rows(&app, "trigger").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["actor"], "anonymous");
    // Without a key the row says a body came, not what it held.
    assert_eq!(
        rows[0]["params"]["body"],
        json!({"omitted": "no valid API key", "bytes": HUGE.len()})
    );
}

#[actix_rt::test]
async fn a_keyed_body_that_would_not_read_back_is_kept_as_text() {
    let app = spawn_app().await;
    let r = app
        .request_as(
            Some(ADMIN_KEY),
            "POST",
            "/jobs/prune/trigger",
            Some(("application/json", HUGE.as_bytes().to_vec())),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    // Deeper than serde_json reads back once the row wraps it, and larger than a row keeps.
    let deep = format!("{}1{}", "[".repeat(120), "]".repeat(120));
    let big = json!({"older_than_days": 1, "pad": "x".repeat(40_000)}).to_string();
    for body in [deep, big] {
        let r = app
            .request_as(
                Some(ADMIN_KEY),
                "POST",
                "/jobs/prune/trigger",
                Some(("application/json", body.into_bytes())),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    }
    let rows = audit_rows(&app, "trigger").await;
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0]["params"]["truncated"], true,
        "{}",
        rows[0]["params"]
    );
    assert!(
        rows[1]["params"]["body"]
            .to_string()
            .contains("(nested too deep)")
    );
    assert_eq!(
        rows[2]["params"]["body"],
        json!({"older_than_days": "1.7976931348623157e+308"})
    );
}

#[actix_rt::test]
async fn a_stored_row_that_does_not_decode_never_breaks_reading_the_audit_log() {
    let app = spawn_app().await;
    // A row as one written before values were bounded: jsonb prints this number with 309
    // digits, which serde_json refuses.
    sqlx::query(
        "INSERT INTO audit_log (channel, actor, action, target, params, result) \
         VALUES ('http', 'anonymous', 'trigger', '/jobs/prune/trigger', $1::jsonb, 'unauthorized')",
    )
    .bind(format!(r#"{{"body": {{"n": 1{}}}}}"#, "0".repeat(400)))
    .execute(&app.state.db)
    .await
    .unwrap();
    app.post("/jobs/prune/trigger", Some(json!({}))).await;
    let rows = audit_rows(&app, "trigger").await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["result"], "ok");
    assert!(rows[1]["params"]["unreadable"].is_string(), "{}", rows[1]);
    assert!(
        rows[1]["params"]["text"]
            .as_str()
            .unwrap()
            .starts_with(r#"{"body": {"n": 1000"#)
    );
}

#[actix_rt::test]
async fn a_nul_in_a_tournament_name_is_refused_with_422_and_the_database_is_not_reported_down() {
    let app = spawn_app().await;
    for name in ["Cup\u{0}", "Cup\nnight", "\u{7f}"] {
        let r = app
            .post(
                "/tournaments",
                Some(json!({"name": name, "source": {"entries": [1, 2]}})),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name:?}: {}",
            r.body
        );
        assert_eq!(r.body["error"], "invalid_tournament");
        assert!(r.body["message"].as_str().unwrap().contains("control"));
    }
    assert_eq!(app.get("/tournaments").await.body["tournaments"], json!([]));
    assert_eq!(app.get("/ready").await.status, StatusCode::OK);
}

#[actix_rt::test]
async fn text_holding_a_nul_is_refused_at_the_edge_on_every_route_that_takes_text() {
    let app = spawn_app().await;
    let gets = [
        "/supervision?actor=a%00b",
        "/audit?actor=a%00b",
        "/audit?action=a%00b",
        "/jobs?kind=a%00b",
        "/jobs?status=a%00b",
        "/alerts?severity=a%00b",
        "/tournaments?state=a%00b",
        "/actors/a%00b",
        "/data/live/38/entries?ids=1%00",
    ];
    for path in gets {
        let r = app.get(path).await;
        assert!(
            r.status.is_client_error(),
            "GET {path}: {} {}",
            r.status,
            r.body
        );
    }
    let posts = [
        ("/jobs/a%00b/trigger", json!({})),
        ("/jobs/test-sleep/trigger", json!({"ms": "a\u{0}b"})),
        ("/actors/a%00b/pause", json!({})),
        ("/actors/a%00b/restart", json!({})),
        ("/tournaments/1/a%00b", json!({})),
        (
            "/recovery/failed-jobs",
            json!({"from": "2020-01-01T00:00:00Z", "kind": "a\u{0}b"}),
        ),
    ];
    for (path, body) in posts {
        let r = app.post(path, Some(body)).await;
        assert!(
            r.status.is_client_error(),
            "POST {path}: {} {}",
            r.status,
            r.body
        );
    }
    // The refusals are audited (the NUL stored as U+FFFD), and the database never looked down.
    let r = app.get("/audit?limit=1000").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.to_string().contains('\u{fffd}'));
    assert_eq!(app.get("/ready").await.status, StatusCode::OK);
}

#[actix_rt::test]
async fn a_method_a_route_does_not_serve_gets_405_with_allow_naming_those_it_does() {
    let app = spawn_app().await;
    for (method, path, allow) in [
        ("DELETE", "/jobs", "GET"),
        ("PUT", "/tournaments", "GET, POST"),
        ("GET", "/jobs/prune/trigger", "POST"),
        ("PATCH", "/actors/job:prune", "GET"),
        ("POST", "/openapi.json", "GET"),
    ] {
        let resp = app
            .client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", app.address),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(resp.headers()["allow"], allow, "{method} {path}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"], "method_not_allowed");
    }
}

#[actix_rt::test]
async fn a_body_not_sent_as_json_is_refused_with_415_and_nothing_is_queued() {
    let app = spawn_app().await;
    let body = br#"{"ms": 1}"#.to_vec();
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
    ] {
        for path in [
            "/jobs/test-sleep/trigger",
            "/tournaments",
            "/recovery/failed-jobs",
            "/recovery/consistency",
        ] {
            let r = app
                .request_as(
                    Some(ADMIN_KEY),
                    "POST",
                    path,
                    Some((content_type, body.clone())),
                )
                .await;
            assert_eq!(
                r.status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{path} as {content_type}: {}",
                r.body
            );
            assert_eq!(r.body["error"], "unsupported_media_type");
        }
    }
    let runs = app.get("/jobs?kind=test-sleep").await.body;
    assert_eq!(runs["runs"], json!([]), "nothing was queued");
    // JSON with parameters, and no body at all, are both fine.
    for content_type in ["application/json", "application/json; charset=utf-8"] {
        let r = app
            .request_as(
                Some(OPERATOR_KEY),
                "POST",
                "/jobs/test-sleep/trigger",
                Some((content_type, body.clone())),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{content_type}: {}", r.body);
    }
    let r = app
        .request_as(Some(OPERATOR_KEY), "POST", "/jobs/test-sleep/trigger", None)
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
}

#[actix_rt::test]
async fn ids_below_one_are_400_invalid_path_on_every_route_that_takes_an_id() {
    let app = spawn_app().await;
    for id in ["0", "-1", "-9223372036854775808"] {
        let gets = [
            format!("/jobs/{id}"),
            format!("/tournaments/{id}"),
            format!("/tournaments/{id}/standings"),
            format!("/tournaments/{id}/standings/live?event=38"),
            format!("/data/live/38/entries/{id}"),
        ];
        for path in &gets {
            let r = app.get(path).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "GET {path}: {}", r.body);
            assert_eq!(r.body["error"], "invalid_path", "GET {path}");
        }
        for path in [
            format!("/jobs/{id}/cancel"),
            format!("/tournaments/{id}/activate"),
        ] {
            let r = app.post(&path, None).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "POST {path}: {}", r.body);
            assert_eq!(r.body["error"], "invalid_path", "POST {path}");
        }
    }
    // In a query, an id below one is `invalid_query` likewise.
    for path in [
        "/data/players?team=0",
        "/data/fixtures?event=0",
        "/data/live/38/entries?ids=1,0",
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "GET {path}: {}", r.body);
        assert_eq!(r.body["error"], "invalid_query", "GET {path}");
    }
}

#[actix_rt::test]
async fn the_openapi_document_declares_the_constraints_the_server_enforces() {
    let app = spawn_app().await;
    let doc = app
        .request_as(Some(VIEWER_KEY), "GET", "/openapi.json", None)
        .await
        .body;
    let param = |path: &str, method: &str, name: &str| -> Value {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{method} {path} has parameters"))
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{method} {path} has {name}"))["schema"]
            .clone()
    };
    for (path, method) in [
        ("/jobs/{id}", "get"),
        ("/jobs/{id}/cancel", "post"),
        ("/tournaments/{id}", "get"),
        ("/tournaments/{id}/{action}", "post"),
        ("/data/live/{event}/entries/{id}", "get"),
    ] {
        assert_eq!(param(path, method, "id")["minimum"], 1, "{method} {path}");
    }
    let enum_of = |schema: Value| -> Vec<String> {
        let values = schema["enum"]
            .as_array()
            .or_else(|| {
                schema["oneOf"]
                    .as_array()
                    .and_then(|o| o.iter().find_map(|s| s["enum"].as_array()))
            })
            .unwrap_or_else(|| panic!("an enum: {schema}"));
        values
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(
        enum_of(param("/alerts", "get", "severity")),
        ["info", "warning", "critical"]
    );
    assert_eq!(
        enum_of(param("/tournaments", "get", "state")),
        ["draft", "active", "archived"]
    );
    for (path, method) in [("/jobs/{kind}/trigger", "post"), ("/jobs", "get")] {
        let kinds = enum_of(param(path, method, "kind"));
        assert!(kinds.contains(&"prune".to_string()), "{path}: {kinds:?}");
        assert!(
            kinds.contains(&"test-sleep".to_string()),
            "{path}: {kinds:?}"
        );
    }
    let body = |path: &str| -> Value {
        doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"].clone()
    };
    let tournament = body("/tournaments");
    assert_eq!(tournament["additionalProperties"], false);
    assert_eq!(tournament["required"], json!(["name", "source"]));
    assert_eq!(tournament["properties"]["name"]["maxLength"], 200);
    let failed = body("/recovery/failed-jobs");
    assert_eq!(failed["additionalProperties"], false);
    assert_eq!(failed["required"], json!(["from"]));
    assert!(enum_of(failed["properties"]["kind"].clone()).contains(&"prune".to_string()));
    for path in ["/jobs/{kind}/trigger", "/recovery/consistency"] {
        assert_eq!(body(path)["additionalProperties"], false, "{path}");
    }
    assert_eq!(
        doc["paths"]["/jobs/{kind}/trigger"]["post"]["responses"]["415"]["description"]
            .as_str()
            .map(|d| d.contains("unsupported_media_type")),
        Some(true)
    );
    // "an operator", not "a operator".
    let r = app
        .request_as(
            Some(OPERATOR_KEY),
            "POST",
            "/actors/scheduler/restart",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let message = r.body["message"].as_str().unwrap();
    assert!(message.contains("is an operator"), "{message}");
}

// What the fuzzing gate (.ci/fuzz) found, each kept as a regression test.

#[actix_rt::test]
async fn an_unknown_field_next_to_mode_none_is_refused_like_any_unknown_field() {
    let app = spawn_app().await;
    for stage in ["group_stage", "knockout"] {
        let r = app
            .post(
                "/tournaments",
                Some(json!({"name": "Cup", "source": {"entries": [1, 2]},
                    stage: {"mode": "none", "colour": "red"}})),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{stage}: {}", r.body);
        assert_eq!(r.body["error"], "invalid_json");
    }
}

#[actix_rt::test]
async fn whole_numbers_written_as_floats_are_the_integers_json_schema_says_they_are() {
    let app = spawn_app().await;
    let r = app
        .post("/jobs/prune/trigger", Some(json!({"older_than_days": 7.0})))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let r = app
        .post("/jobs/prune/trigger", Some(json!({"older_than_days": 7.5})))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.body["error"], "invalid_params");
    let r = app
        .post(
            "/recovery/failed-jobs",
            Some(json!({"from": "2020-01-01T00:00:00Z", "limit": 1e2})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[actix_rt::test]
async fn integers_beyond_what_the_document_allows_are_refused_and_those_within_accepted() {
    let app = spawn_app().await;
    for path in [
        "/data/live/38/entries?after=9223372036854775808",
        "/data/live/38/entries/9223372036854775808",
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.body);
    }
    let r = app
        .get("/data/live/38/entries?after=9223372036854775807")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // A u32 filter is declared up to 2^32 - 1, not int32's 2^31 - 1.
    let doc = app.get("/openapi.json").await.body;
    let position = doc["paths"]["/data/players"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "position")
        .unwrap()["schema"]
        .clone();
    assert_eq!(position["maximum"], u32::MAX, "{position}");
}

#[actix_rt::test]
async fn live_standings_without_a_gameweek_while_none_is_current_are_404_no_data() {
    let app = spawn_app().await;
    let r = app.get("/tournaments/1/standings/live").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(r.body["error"], "no_data");
    let r = app.get("/tournaments/1/standings/live?event=61").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.body["error"], "invalid_event");
}
