//! Access control and the rules for manual triggers: the auth matrix over every route of the
//! OpenAPI document, exclusive kinds (409), the trigger rate limit (429), manual runs served
//! first, and the audit log.

use std::time::Duration;

use fplsync::run::Trigger;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    ADMIN_KEY, OPERATOR_KEY, Reply, TestApp, VIEWER_KEY, spawn_app, spawn_app_with,
};
use crate::kinds;

/// Every (method, path) of the OpenAPI document, with its operation.
pub async fn operations(app: &TestApp) -> Vec<(String, String, Value)> {
    let doc = app.request_as(None, "GET", "/openapi.json", None).await;
    assert_eq!(
        doc.status,
        StatusCode::OK,
        "the document is open: {}",
        doc.body
    );
    assert!(
        doc.body["openapi"].as_str().unwrap().starts_with("3."),
        "OpenAPI 3"
    );
    let mut ops = Vec::new();
    for (path, item) in doc.body["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            ops.push((method.to_uppercase(), path.clone(), op.clone()));
        }
    }
    assert!(ops.len() >= 20, "{} operations", ops.len());
    ops
}

/// The least role an operation needs (`None`: open), from its security requirement's scopes.
fn least_role(op: &Value) -> Option<String> {
    op["security"][0]["api_key"][0].as_str().map(str::to_string)
}

fn assert_error(r: &Reply, status: StatusCode, code: &str, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.body);
    assert_eq!(r.body["error"], code, "{what}: {}", r.body);
}

/// Fills a route's path parameters with values that name things the operator may steer
/// (`own`) or may not (`foreign`).
fn fill(path: &str, kind: &str, run: i64) -> String {
    path.replace("{kind}", kind)
        .replace("{name}", &format!("job:{kind}"))
        .replace("{id}", &run.to_string())
}

#[actix_rt::test]
async fn the_auth_matrix_holds_for_every_route_no_key_a_wrong_key_and_each_role() {
    let app = spawn_app().await;
    // A finished run of a kind the operator steers, and one of a kind it does not.
    let own_run = app.trigger("test-sleep", json!({"tag": 1})).await;
    let foreign_run = app.trigger("prune", json!({})).await;
    app.finished_run(own_run).await;
    app.finished_run(foreign_run).await;

    for (method, path, op) in operations(&app).await {
        let least = least_role(&op);
        let own = fill(&path, "test-sleep", own_run);
        let what = |who: &str| format!("{who} {method} {own}");
        let call = |key: Option<&'static str>, url: String| {
            let (app, method) = (&app, method.clone());
            async move { app.request_as(key, &method, &url, None).await }
        };

        let no_key = call(None, own.clone()).await;
        let wrong = call(Some("not-a-configured-key-000000"), own.clone()).await;
        match least {
            None => {
                for r in [&no_key, &wrong] {
                    assert!(
                        r.status != StatusCode::UNAUTHORIZED && r.status != StatusCode::FORBIDDEN,
                        "{}: open, got {}",
                        what("anyone"),
                        r.status
                    );
                }
                continue;
            }
            Some(_) => {
                assert_error(
                    &no_key,
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    &what("no key"),
                );
                assert_error(
                    &wrong,
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    &what("wrong key"),
                );
            }
        }
        let least = least.unwrap();
        for (who, key) in [
            ("viewer", VIEWER_KEY),
            ("operator", OPERATOR_KEY),
            ("admin", ADMIN_KEY),
        ] {
            let allowed = matches!(
                (who, least.as_str()),
                ("admin", _) | (_, "viewer") | ("operator", "operator")
            );
            let r = app.request_as(Some(key), &method, &own, None).await;
            if allowed {
                // Allowed: whatever the route answers (a restart just asked for may leave the
                // actor briefly unavailable), but never an access refusal or a server fault.
                let transient = ["actor_unavailable", "supervisor_unavailable"];
                assert!(
                    ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&r.status)
                        && (!r.status.is_server_error()
                            || transient.contains(&r.body["error"].as_str().unwrap_or(""))),
                    "{}: allowed, got {} {}",
                    what(who),
                    r.status,
                    r.body
                );
            } else {
                assert_error(&r, StatusCode::FORBIDDEN, "forbidden", &what(who));
            }
        }
        // An operator steers only its kinds: the same route on another kind is forbidden.
        // (A route that names no kind's run or actor, such as acknowledging an alert, is any
        // operator's.)
        let foreign = fill(&path, "prune", foreign_run);
        if least == "operator" && foreign != own {
            let r = app
                .request_as(Some(OPERATOR_KEY), &method, &foreign, None)
                .await;
            assert_error(
                &r,
                StatusCode::FORBIDDEN,
                "forbidden",
                &format!("operator {method} {foreign}"),
            );
        }
        // A restart (or pause) above must not leak into the next route's checks.
        app.eventually("every actor is back up", || async {
            let actors = app.get("/actors").await.body;
            actors["actors"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| ["running", "paused"].contains(&a["state"].as_str().unwrap()))
                .then_some(())
        })
        .await;
    }
}

#[actix_rt::test]
async fn health_readiness_and_metrics_are_open_by_default_and_closed_when_configured() {
    let app = spawn_app().await;
    for path in ["/health", "/ready", "/metrics", "/", "/openapi.json"] {
        let r = app.request_as(None, "GET", path, None).await;
        assert_eq!(r.status, StatusCode::OK, "{path} without a key");
    }
    let closed = spawn_app_with(|s| s.auth.open = vec!["health".into()]).await;
    assert_eq!(
        closed.request_as(None, "GET", "/health", None).await.status,
        StatusCode::OK
    );
    for path in ["/ready", "/metrics"] {
        let r = closed.request_as(None, "GET", path, None).await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized", path);
        let r = closed.request_as(Some(VIEWER_KEY), "GET", path, None).await;
        assert_eq!(r.status, StatusCode::OK, "{path} with a viewer key");
    }
    // The document tells clients the same.
    let doc = closed
        .request_as(None, "GET", "/openapi.json", None)
        .await
        .body;
    assert_eq!(doc["paths"]["/health"]["get"]["security"][0], json!({}));
    assert_eq!(
        doc["paths"]["/metrics"]["get"]["security"][0]["api_key"][0],
        "viewer"
    );
}

#[actix_rt::test]
async fn a_key_is_accepted_in_the_x_api_key_header_too() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(format!("{}/actors", app.address))
        .header("authorization", "")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = reqwest::Client::new()
        .get(format!("{}/actors", app.address))
        .header("x-api-key", VIEWER_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[actix_rt::test]
async fn a_second_manual_trigger_of_an_exclusive_kind_gets_409_with_the_running_runs_id() {
    let app = spawn_app_with(|s| s.jobs.exclusive = vec!["test-gate".into()]).await;
    let gate = format!("exclusive-{}", app.id);
    let first = app
        .trigger("test-gate", json!({"gate": gate, "tag": 0}))
        .await;
    app.eventually("the first run is running", || async {
        let run = app.get(&format!("/jobs/{first}")).await.body;
        (run["status"] == "running").then_some(())
    })
    .await;

    for params in [
        json!({"gate": gate, "tag": 1}),
        json!({"gate": gate, "tag": 0}),
    ] {
        let r = app.post("/jobs/test-gate/trigger", Some(params)).await;
        assert_error(
            &r,
            StatusCode::CONFLICT,
            "already_running",
            "second trigger",
        );
        assert_eq!(r.body["run_id"], first, "{}", r.body);
    }
    // An operator of the kind is refused the same way.
    let r = app
        .request_as(
            Some(OPERATOR_KEY),
            "POST",
            "/jobs/test-gate/trigger",
            Some(("application/json", json!({"gate": gate}).to_string().into())),
        )
        .await;
    assert_error(&r, StatusCode::CONFLICT, "already_running", "operator");
    assert_eq!(r.body["run_id"], first);
    // Only one run was ever recorded.
    let runs = app.get("/jobs?kind=test-gate").await.body;
    assert_eq!(runs["runs"].as_array().unwrap().len(), 1, "{runs}");

    kinds::open_gate(&gate);
    assert_eq!(app.finished_run(first).await["status"], "succeeded");
    let next = app
        .trigger("test-gate", json!({"gate": gate, "tag": 2}))
        .await;
    assert_ne!(next, first);

    // A kind that is not exclusive queues a second run behind the first.
    let sleep = app.trigger("test-sleep", json!({"ms": 200})).await;
    let behind = app.trigger("test-sleep", json!({"ms": 0, "tag": 1})).await;
    assert_ne!(sleep, behind);
}

#[actix_rt::test]
async fn manual_runs_are_served_before_scheduled_ones() {
    let app = spawn_app().await;
    let paused = app.post("/actors/job:test-sleep/pause", None).await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.body);
    let state = &app.state;
    let mut scheduled = Vec::new();
    for tag in [1, 2] {
        let params = kinds::SleepParams { ms: 0, tag };
        let e = state
            .directory
            .request(
                kinds::SLEEP,
                &params,
                Trigger::Schedule,
                Duration::from_secs(5),
            )
            .await
            .expect("scheduled run queued");
        scheduled.push(e.run_id.0);
    }
    let manual = app.trigger("test-sleep", json!({"ms": 0, "tag": 3})).await;
    let status = app.get("/actors/job:test-sleep").await.body;
    assert_eq!(
        status["status"]["queued"],
        json!([manual, scheduled[0], scheduled[1]]),
        "the manual run goes to the head of the queue: {status}"
    );
    assert_eq!(
        app.post("/actors/job:test-sleep/resume", None).await.status,
        StatusCode::OK
    );
    let started = |run: &Value| run["started_at"].as_str().unwrap().to_string();
    let manual_run = app.finished_run(manual).await;
    for id in scheduled {
        let run = app.finished_run(id).await;
        assert_eq!(run["trigger"], "schedule");
        assert!(
            started(&manual_run) < started(&run),
            "manual {} started before scheduled {}",
            started(&manual_run),
            started(&run)
        );
    }
}

#[actix_rt::test]
async fn the_trigger_rate_limit_answers_429_with_retry_after_per_kind_and_key() {
    let app = spawn_app_with(|s| {
        s.auth.trigger_limit = 2;
        s.auth.trigger_period_secs = 3600;
    })
    .await;
    let gate = format!("limit-{}", app.id);
    let as_operator = |kind: &'static str, tag: u32| {
        let (app, gate) = (&app, gate.clone());
        async move {
            let body = json!({"tag": tag, "gate": gate});
            let body = if kind == "test-sleep" {
                json!({"tag": tag})
            } else {
                body
            };
            app.request_as(
                Some(OPERATOR_KEY),
                "POST",
                &format!("/jobs/{kind}/trigger"),
                Some(("application/json", body.to_string().into())),
            )
            .await
        }
    };
    for tag in 0..2 {
        assert_eq!(
            as_operator("test-sleep", tag).await.status,
            StatusCode::ACCEPTED
        );
    }
    let refused = as_operator("test-sleep", 2).await;
    assert_error(
        &refused,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "third trigger",
    );
    let wait: u64 = refused.retry_after.as_deref().unwrap().parse().unwrap();
    // Two an hour: the next one comes back after half an hour (the cooldown).
    assert!((1700..=1800).contains(&wait), "Retry-After {wait}");
    // Per kind and per key: another kind, or another key, is not held back.
    assert_eq!(
        as_operator("test-gate", 0).await.status,
        StatusCode::ACCEPTED
    );
    kinds::open_gate(&gate);
    assert_eq!(
        app.post("/jobs/test-sleep/trigger", Some(json!({"tag": 9})))
            .await
            .status,
        StatusCode::ACCEPTED
    );
    // A malformed trigger does not use up the allowance; it is refused for what it is.
    let bad = app
        .request_as(
            Some(OPERATOR_KEY),
            "POST",
            "/jobs/test-gate/trigger",
            Some(("application/json", b"{".to_vec())),
        )
        .await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "invalid_json", "malformed");
    assert_eq!(
        as_operator("test-gate", 1).await.status,
        StatusCode::ACCEPTED
    );
}

#[actix_rt::test]
async fn every_control_action_is_audited_with_who_what_parameters_and_result() {
    let app = spawn_app().await;
    let gate = format!("audit-{}", app.id);
    let json_body = |v: Value| Some(("application/json", v.to_string().into_bytes()));
    let ok = app
        .request_as(
            Some(OPERATOR_KEY),
            "POST",
            "/jobs/test-sleep/trigger",
            json_body(json!({"ms": 0, "tag": 7})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::ACCEPTED);
    let run = ok.body["run_id"].as_i64().unwrap();
    let forbidden = app
        .request_as(Some(OPERATOR_KEY), "POST", "/jobs/prune/trigger", None)
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let anonymous = app
        .request_as(None, "POST", "/actors/job:test-sleep/pause", None)
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    for action in ["pause", "resume", "restart"] {
        let r = app
            .post(&format!("/actors/job:test-gate/{action}"), None)
            .await;
        assert!(r.status.is_success(), "{action}: {}", r.body);
    }
    let waiting = app
        .trigger_when_up("test-gate", json!({"gate": gate}))
        .await;
    let cancelled = app.post(&format!("/jobs/{waiting}/cancel"), None).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    // Reads are not control actions.
    assert_eq!(app.get("/actors").await.status, StatusCode::OK);

    let audit = app.get("/audit?limit=1000").await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.body);
    let rows: Vec<Value> = audit.body["actions"].as_array().unwrap().clone();
    let find = |action: &str, actor: &str| {
        rows.iter()
            .find(|r| r["action"] == action && r["actor"] == actor)
            .unwrap_or_else(|| panic!("no {action} by {actor} in {rows:#?}"))
            .clone()
    };
    let t = rows
        .iter()
        .find(|r| r["target"] == "/jobs/test-sleep/trigger" && r["actor"] == "test-operator")
        .expect("the operator's trigger is audited");
    assert_eq!(t["role"], "operator");
    assert_eq!(t["channel"], "http");
    assert_eq!(t["target"], "/jobs/test-sleep/trigger");
    assert_eq!(t["params"]["kind"], "test-sleep");
    assert_eq!(t["params"]["body"], json!({"ms": 0, "tag": 7}));
    assert_eq!(t["result"], "ok");
    assert_eq!(t["status"], 202);
    assert_eq!(t["outcome"]["run_id"], run);
    assert!(t["at"].as_str().is_some());

    let refused = rows
        .iter()
        .find(|r| r["target"] == "/jobs/prune/trigger")
        .expect("the refused trigger is audited");
    assert_eq!(refused["actor"], "test-operator");
    assert_eq!(refused["result"], "forbidden");
    assert_eq!(refused["status"], 403);

    let anon = find("pause", "anonymous");
    assert_eq!(anon["result"], "unauthorized");
    assert_eq!(anon["role"], Value::Null);

    for action in ["pause", "resume", "restart", "cancel"] {
        let row = find(action, "test-admin");
        assert_eq!(row["role"], "admin");
        assert_eq!(row["result"], "ok", "{row}");
    }
    assert_eq!(
        find("cancel", "test-admin")["params"]["id"],
        waiting.to_string()
    );
    assert!(
        rows.iter().all(|r| r["action"] != "list_actors"),
        "reads are not audited"
    );
    // Filters, newest first, and only admins read it.
    let mine = app.get("/audit?actor=test-operator").await.body;
    let mine = mine["actions"].as_array().unwrap();
    assert_eq!(mine.len(), 2);
    assert!(mine[0]["id"].as_i64() > mine[1]["id"].as_i64());
    let viewer = app
        .request_as(Some(VIEWER_KEY), "GET", "/audit", None)
        .await;
    assert_error(
        &viewer,
        StatusCode::FORBIDDEN,
        "forbidden",
        "viewer reads audit",
    );
    let bad = app.get("/audit?limit=0").await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "invalid_limit", "limit 0");
}
