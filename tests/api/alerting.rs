//! Alerting end to end: the real application and the real teloxide client against a fake Bot
//! API server (tests/api/fake_telegram.rs).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::fake_telegram::{FakeTelegram, Sent, TOKEN, assert_valid_telegram_html};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

const CHAT: i64 = 4242;
const STRANGER: i64 = 999;

/// An application that alerts chat [`CHAT`] through `fake`, with quick alerting timings.
async fn app_alerting_to(fake: &FakeTelegram, group_wait_ms: u64) -> TestApp {
    let url = fake.url.clone();
    spawn_app_with(move |s| {
        s.telegram.token = TOKEN.to_string().into();
        s.telegram.chat_ids = vec![CHAT];
        s.telegram.api_url = url;
        s.telegram.send_backoff_base_ms = 50;
        s.telegram.poll_timeout_secs = 1;
        s.alerts.group_wait_ms = group_wait_ms;
        s.alerts.tick_ms = 20;
    })
    .await
}

fn fail(error: &str, tag: u32) -> Value {
    json!({"error": error, "tag": tag})
}

/// Waits until the fake has received `n` messages and returns them.
async fn messages(app: &TestApp, fake: &FakeTelegram, n: usize) -> Vec<Sent> {
    app.eventually(&format!("{n} Telegram messages"), || async {
        let sent = fake.sent();
        (sent.len() >= n).then_some(sent)
    })
    .await
}

#[actix_rt::test]
async fn a_job_that_fails_for_good_produces_one_message_with_its_error() {
    let fake = FakeTelegram::start().await;
    let app = app_alerting_to(&fake, 100).await;
    let run = app.trigger("test-fail", fail("the disk is full", 1)).await;
    assert_eq!(app.finished_run(run).await["status"], "failed");

    let sent = messages(&app, &fake, 1).await;
    let m = &sent[0];
    assert_eq!(m.chat_id, CHAT);
    assert_eq!(m.parse_mode.as_deref(), Some("HTML"));
    assert!(m.text.contains("CRITICAL"), "{}", m.text);
    assert!(
        m.text
            .contains("job test-fail failed after its last attempt"),
        "{}",
        m.text
    );
    assert!(m.text.contains(&format!("run {run}")), "{}", m.text);
    assert!(m.text.contains("the disk is full"), "{}", m.text);
    assert!(m.text.contains("job_failed:test-fail"), "{}", m.text);
    assert_valid_telegram_html(&m.text);

    // Recorded as delivered in the history; one message, one group.
    let alerts = app
        .eventually("the alert is recorded delivered", || async {
            let r = app.get("/alerts").await.body;
            let a = r["alerts"].as_array()?.first()?.clone();
            (a["delivered"] == true).then_some(r)
        })
        .await;
    let a = &alerts["alerts"][0];
    assert_eq!(
        (&a["key"], &a["severity"], &a["count"], &a["resolved"]),
        (
            &json!("job_failed:test-fail"),
            &json!("critical"),
            &json!(1),
            &json!(false)
        )
    );
    assert_eq!(fake.sent().len(), 1);
}

#[actix_rt::test]
async fn ten_identical_failures_in_the_window_make_one_message_with_a_count() {
    let fake = FakeTelegram::start().await;
    let app = app_alerting_to(&fake, 300).await;
    let mut runs = Vec::new();
    for tag in 0..10 {
        runs.push(app.trigger("test-fail", fail("FPL said no", tag)).await);
    }
    for run in runs {
        app.finished_run(run).await;
    }
    // The message shows all ten, whether they fell within the group wait or were counted
    // onto the message afterwards.
    let m = app
        .eventually("one message counting ten failures", || async {
            let sent = fake.sent();
            sent.first().filter(|m| m.text.contains("×10")).cloned()
        })
        .await;
    assert_valid_telegram_html(&m.text);
    let history = app.get("/alerts").await.body;
    assert_eq!(history["alerts"].as_array().unwrap().len(), 1, "{history}");
    assert_eq!(history["alerts"][0]["count"], 10);
    assert_eq!(fake.sent().len(), 1, "{:?}", fake.sent());
}

#[actix_rt::test]
async fn the_condition_clearing_produces_exactly_one_resolved_message() {
    let fake = FakeTelegram::start().await;
    let app = app_alerting_to(&fake, 50).await;
    let run = app.trigger("test-fail", fail("broken", 1)).await;
    app.finished_run(run).await;
    messages(&app, &fake, 1).await;

    // Two successes: the first clears the failure, the second finds nothing to clear.
    for tag in [2, 3] {
        let ok = json!({"error": "", "succeed": true, "tag": tag});
        let run = app.trigger("test-fail", ok).await;
        assert_eq!(app.finished_run(run).await["status"], "succeeded");
    }
    let sent = messages(&app, &fake, 2).await;
    assert!(sent[1].text.contains("RESOLVED"), "{}", sent[1].text);
    assert!(
        sent[1].text.contains("job test-fail succeeded again"),
        "{}",
        sent[1].text
    );

    // A later, different failure is the third message: no second "resolved" came before it.
    let run = app.trigger("test-panic", json!({"tag": 1})).await;
    app.finished_run(run).await;
    let sent = messages(&app, &fake, 3).await;
    assert!(!sent[2].text.contains("RESOLVED"), "{}", sent[2].text);
    let resolved = sent.iter().filter(|m| m.text.contains("RESOLVED")).count();
    assert_eq!(resolved, 1, "{sent:?}");
    let history = app.get("/alerts?open=false").await.body;
    assert!(
        history["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["key"] == "job_failed:test-fail" && a["resolved"] == true),
        "{history}"
    );
}

#[actix_rt::test]
async fn telegrams_429_retry_after_is_waited_out() {
    let fake = FakeTelegram::start().await;
    fake.throttle(1, 1);
    let app = app_alerting_to(&fake, 0).await;
    let run = app.trigger("test-fail", fail("rate limited", 1)).await;
    app.finished_run(run).await;

    let sent = messages(&app, &fake, 1).await;
    assert!(sent[0].text.contains("rate limited"));
    let attempts = fake.send_attempts();
    assert_eq!(attempts.iter().map(|a| a.1).collect::<Vec<_>>(), [429, 200]);
    let waited = attempts[1].0 - attempts[0].0;
    assert!(waited >= Duration::from_secs(1), "retried after {waited:?}");
    let sent_metric = app
        .state
        .metrics
        .get::<fplsync::alerts::AlertMetrics>()
        .sent
        .with_label_values(&["critical"])
        .get();
    assert_eq!(sent_metric, 1);
}

#[actix_rt::test]
async fn a_telegram_that_drops_every_connection_is_retried_with_backoff_then_recorded_undelivered()
{
    // A server that accepts and at once closes every connection: each send is a network error.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = connections.clone();
    actix_rt::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            seen.lock().unwrap().push(std::time::Instant::now());
            drop(stream);
        }
    });
    let app = spawn_app_with(move |s| {
        s.telegram.token = TOKEN.to_string().into();
        s.telegram.chat_ids = vec![CHAT];
        s.telegram.api_url = format!("http://127.0.0.1:{port}/");
        // No bot polling: every connection is an alert's.
        s.telegram.commands = false;
        s.telegram.send_attempts = 3;
        s.telegram.send_backoff_base_ms = 200;
    })
    .await;
    let run = app.trigger("test-fail", fail("nobody hears", 1)).await;
    app.finished_run(run).await;

    let alert = app
        .eventually("the alert is recorded undelivered", || async {
            let r = app.get("/alerts").await.body;
            let a = r["alerts"].as_array()?.first()?.clone();
            (a["undelivered"] == 1).then_some(a)
        })
        .await;
    assert_eq!(alert["delivered"], false);
    // Three attempts, 200 ms then 400 ms apart.
    let at = connections.lock().unwrap().clone();
    assert_eq!(at.len(), 3, "{at:?}");
    assert!(at[1] - at[0] >= Duration::from_millis(200), "{at:?}");
    assert!(at[2] - at[1] >= Duration::from_millis(400), "{at:?}");
    let metrics = &app.state.metrics;
    assert_eq!(
        metrics
            .get::<fplsync::alerts::AlertMetrics>()
            .undelivered
            .with_label_values(&["critical"])
            .get(),
        1
    );
    assert_eq!(
        metrics
            .get::<fplsync::alerts::AlertMetrics>()
            .sent
            .with_label_values(&["critical"])
            .get(),
        0
    );
}

#[actix_rt::test]
async fn a_message_built_from_a_huge_error_fits_telegrams_limit_and_is_valid_html() {
    let fake = FakeTelegram::start().await;
    let app = app_alerting_to(&fake, 0).await;
    let error = "<tag attr=\"x\"> & Ünïcödé ⚽ 💥 ";
    let run = app
        .trigger(
            "test-fail",
            json!({"error": error, "repeat": 2000, "tag": 1}),
        )
        .await;
    app.finished_run(run).await;

    let m = &messages(&app, &fake, 1).await[0];
    assert!(
        m.text.encode_utf16().count() <= 4096,
        "{} UTF-16 units",
        m.text.encode_utf16().count()
    );
    assert!(
        m.text.chars().count() > 3000,
        "the detail is used, not dropped"
    );
    assert_valid_telegram_html(&m.text);
    assert!(
        m.text
            .contains("&lt;tag attr=\"x\"&gt; &amp; Ünïcödé ⚽ 💥")
    );
    assert!(
        m.text.ends_with("…</pre>"),
        "{}",
        &m.text[m.text.len() - 40..]
    );
}

#[actix_rt::test]
async fn a_command_from_an_allowed_chat_triggers_a_job_and_from_another_chat_does_nothing() {
    let fake = FakeTelegram::start().await;
    let app = app_alerting_to(&fake, 0).await;
    let command = |result: &str| {
        app.state
            .metrics
            .get::<fplsync::bot::BotMetrics>()
            .commands
            .with_label_values(&["trigger", result])
            .get()
    };

    fake.push_command(STRANGER, "/trigger test-sleep {\"tag\": 7}");
    app.eventually("the stranger's command is counted", || async {
        (command("unauthorized") == 1).then_some(())
    })
    .await;
    let runs = app.get("/jobs?kind=test-sleep").await.body;
    assert_eq!(runs["runs"], json!([]), "a stranger triggered a run");
    assert!(fake.sent().is_empty(), "a stranger got an answer");

    fake.push_command(CHAT, "/trigger@fplsync_bot test-sleep {\"tag\": 7}");
    let run = app
        .eventually("the operator's command queues a run", || async {
            let runs = app.get("/jobs?kind=test-sleep").await.body;
            runs["runs"].as_array()?.first().cloned()
        })
        .await;
    assert_eq!(run["trigger"], "manual");
    assert_eq!(run["params"]["tag"], 7);
    let reply = &messages(&app, &fake, 1).await[0];
    assert_eq!(reply.chat_id, CHAT);
    assert!(
        reply
            .text
            .contains(&format!("test-sleep run {} queued", run["id"])),
        "{}",
        reply.text
    );
    assert_eq!(command("ok"), 1);
    // The control command is audited as an HTTP one is; the stranger's is only counted.
    let audited: Vec<(String, String, String)> =
        sqlx::query_as("SELECT actor, action, result FROM audit_log WHERE channel = 'telegram'")
            .fetch_all(&app.state.db)
            .await
            .unwrap();
    assert_eq!(
        audited,
        vec![(
            format!("chat:{CHAT}"),
            "trigger".to_string(),
            "ok".to_string()
        )]
    );

    fake.push_command(CHAT, "/status");
    let status = &messages(&app, &fake, 2).await[1];
    assert!(
        status.text.contains("job:test-sleep running"),
        "{}",
        status.text
    );
    assert!(status.text.contains("bot running"), "{}", status.text);
    assert!(status.text.contains("gameweek"), "{}", status.text);
    assert_valid_telegram_html(&status.text);
}

#[actix_rt::test]
async fn an_acknowledged_alert_stays_silent_until_it_resolves() {
    let fake = FakeTelegram::start().await;
    let url = fake.url.clone();
    let app = spawn_app_with(move |s| {
        s.telegram.token = TOKEN.to_string().into();
        s.telegram.chat_ids = vec![CHAT];
        s.telegram.api_url = url;
        s.telegram.poll_timeout_secs = 1;
        s.alerts.group_wait_ms = 0;
        s.alerts.tick_ms = 20;
        // The first message is repeated after 5 s unless silenced.
        // (Long enough for the /ack to arrive first on a busy machine.)
        s.alerts.dedup_window_secs = 5;
        s.alerts.repeat_interval_secs = 5;
    })
    .await;
    let run = app.trigger("test-fail", fail("down", 1)).await;
    app.finished_run(run).await;
    messages(&app, &fake, 1).await;
    fake.push_command(CHAT, "/ack job_failed:test-fail");
    let reply = &messages(&app, &fake, 2).await[1];
    assert!(
        reply.text.contains("silenced until it resolves"),
        "{}",
        reply.text
    );
    // The repeat interval passes; the silenced group is counted, not sent.
    app.eventually("a repeat is silenced", || async {
        let silenced = app
            .state
            .metrics
            .get::<fplsync::alerts::AlertMetrics>()
            .suppressed
            .with_label_values(&["critical", "silenced"])
            .get();
        (silenced >= 1).then_some(())
    })
    .await;
    let ok = json!({"error": "", "succeed": true, "tag": 2});
    let run = app.trigger("test-fail", ok).await;
    app.finished_run(run).await;
    let sent = messages(&app, &fake, 3).await;
    assert!(sent[2].text.contains("RESOLVED"), "{}", sent[2].text);
    assert_eq!(sent.len(), 3, "{sent:?}");
    let history = app.get("/alerts").await.body;
    assert_eq!(history["alerts"][0]["acked"], true, "{history}");
}

#[actix_rt::test]
async fn without_a_bot_token_alerts_go_to_the_log_and_the_history() {
    let app = spawn_app().await;
    let run = app.trigger("test-fail", fail("no telegram here", 1)).await;
    app.finished_run(run).await;
    let alerts = app
        .eventually("the alert is in the history", || async {
            let r = app.get("/alerts?severity=critical&open=true").await.body;
            let a = r["alerts"].as_array()?.first()?.clone();
            (a["delivered"] == true).then_some(a)
        })
        .await;
    assert_eq!(alerts["key"], "job_failed:test-fail");
    assert!(
        alerts["detail"]
            .as_str()
            .unwrap()
            .contains("no telegram here")
    );
    assert!(
        app.get("/actors")
            .await
            .body
            .to_string()
            .contains("\"alerts\"")
    );
    let bad = app.get("/alerts?severity=loud").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["error"], "invalid_severity");
}

#[actix_rt::test]
async fn a_run_longer_than_its_threshold_is_a_warning_with_its_progress_that_clears_when_it_ends() {
    let fake = FakeTelegram::start().await;
    let url = fake.url.clone();
    let app = spawn_app_with(move |s| {
        s.telegram.token = TOKEN.to_string().into();
        s.telegram.chat_ids = vec![CHAT];
        s.telegram.api_url = url;
        s.telegram.poll_timeout_secs = 1;
        s.alerts.long_run_secs = 1;
    })
    .await;
    let gate = format!("long-{}", app.id);
    let run = app
        .trigger("test-gate", json!({"gate": gate, "tag": 1}))
        .await;
    let warning = &messages(&app, &fake, 1).await[0];
    assert!(warning.text.contains("WARNING"), "{}", warning.text);
    assert!(
        warning
            .text
            .contains(&format!("job test-gate run {run} has been running for")),
        "{}",
        warning.text
    );
    assert!(warning.text.contains("progress"), "{}", warning.text);

    crate::kinds::open_gate(&gate);
    app.finished_run(run).await;
    let resolved = &messages(&app, &fake, 2).await[1];
    assert!(resolved.text.contains("RESOLVED"), "{}", resolved.text);
    assert!(
        resolved.text.contains(&format!("run {run} ended")),
        "{}",
        resolved.text
    );
}

#[actix_rt::test]
async fn fpl_serving_no_data_longer_than_the_threshold_is_a_warning_that_clears_when_fpl_answers() {
    let sim = crate::helpers::start_sim(0, &[]).await;
    assert!(
        sim.state()
            .jump(fplsync::sim::Phase::UpdatingDeadline, Some(38))
    );
    let (fake, sim_url) = (FakeTelegram::start().await, sim.base_url());
    let url = fake.url.clone();
    let app = spawn_app_with(move |s| {
        crate::helpers::point_fpl_at(s, sim_url);
        s.telegram.token = TOKEN.to_string().into();
        s.telegram.chat_ids = vec![CHAT];
        s.telegram.api_url = url;
        s.telegram.poll_timeout_secs = 1;
        s.alerts.fpl_blocked_secs = 1;
    })
    .await;
    // Every attempt gets the update page until the job gives up.
    let run = app.trigger("bootstrap", json!({})).await;
    assert_eq!(app.finished_run(run).await["status"], "failed");
    let sent = app
        .eventually("the updating warning", || async {
            fake.sent()
                .into_iter()
                .find(|m| m.text.contains("fpl_blocked:unavailable"))
        })
        .await;
    assert!(
        sent.text.contains("FPL has served no data for")
            && sent.text.contains("The game is being updated."),
        "{}",
        sent.text
    );

    assert!(
        sim.state()
            .jump(fplsync::sim::Phase::DeadlinePassed, Some(38))
    );
    let run = app.trigger("bootstrap", json!({})).await;
    assert_eq!(app.finished_run(run).await["status"], "succeeded");
    app.eventually("the update is announced over", || async {
        fake.sent()
            .into_iter()
            .find(|m| m.text.contains("RESOLVED") && m.text.contains("serves data again"))
    })
    .await;
}

#[actix_rt::test]
async fn a_mute_holds_new_alerts_back_until_it_is_lifted_and_jobs_lists_recent_runs() {
    let fake = FakeTelegram::start().await;
    let app = app_alerting_to(&fake, 0).await;
    fake.push_command(CHAT, "/mute 30m");
    let reply = &messages(&app, &fake, 1).await[0];
    assert!(
        reply.text.contains("alerts muted for 30 min"),
        "{}",
        reply.text
    );

    let run = app.trigger("test-fail", fail("while muted", 1)).await;
    app.finished_run(run).await;
    app.eventually("the held alert is counted silenced", || async {
        let silenced = app
            .state
            .metrics
            .get::<fplsync::alerts::AlertMetrics>()
            .suppressed
            .with_label_values(&["critical", "silenced"])
            .get();
        (silenced == 1).then_some(())
    })
    .await;
    fake.push_command(CHAT, "/jobs");
    let jobs = &messages(&app, &fake, 2).await[1];
    assert!(jobs.text.contains("recent runs"), "{}", jobs.text);
    assert!(
        jobs.text.contains(&format!("{run} test-fail")),
        "{}",
        jobs.text
    );
    assert!(jobs.text.contains("failed"), "{}", jobs.text);

    // Lifting the mute announces what was held back.
    fake.push_command(CHAT, "/mute 0");
    let sent = messages(&app, &fake, 4).await;
    assert!(
        sent.iter().any(|m| m.text.contains("alerts unmuted")),
        "{sent:?}"
    );
    assert!(
        sent.iter().any(|m| m.text.contains("while muted")),
        "{sent:?}"
    );
    fake.push_command(CHAT, "/mute soon");
    let usage = &messages(&app, &fake, 5).await[4];
    assert!(usage.text.contains("usage: /mute"), "{}", usage.text);
    assert_eq!(
        app.state
            .metrics
            .get::<fplsync::bot::BotMetrics>()
            .commands
            .with_label_values(&["mute", "invalid"])
            .get(),
        1
    );
}

#[actix_rt::test]
async fn a_restart_storm_warns_and_an_escalation_is_critical_until_an_operator_restart() {
    let fake = FakeTelegram::start().await;
    let url = fake.url.clone();
    let app = spawn_app_with(move |s| {
        s.telegram.token = TOKEN.to_string().into();
        s.telegram.chat_ids = vec![CHAT];
        s.telegram.api_url = url;
        s.telegram.commands = false;
        s.supervisor.max_restarts = 3;
        s.alerts.restart_storm_restarts = 2;
    })
    .await;
    // Restarts 1 and 2 (a storm from the second), 3, then the fourth failure escalates.
    for tag in 1..=4 {
        let run = app.trigger_when_up("test-panic", json!({"tag": tag})).await;
        assert_eq!(app.finished_run(run).await["status"], "failed");
    }
    let find = |needle: &'static str| {
        let fake = fake.clone();
        move || {
            let fake = fake.clone();
            async move { fake.sent().into_iter().find(|m| m.text.contains(needle)) }
        }
    };
    let storm = app
        .eventually("the storm warning", find("restart_storm:job:test-panic"))
        .await;
    assert!(storm.text.contains("WARNING"), "{}", storm.text);
    let escalated = app
        .eventually("the escalation", find("actor_escalated:job:test-panic"))
        .await;
    assert!(escalated.text.contains("CRITICAL"), "{}", escalated.text);
    assert!(
        escalated.text.contains("no longer restarted"),
        "{}",
        escalated.text
    );

    let r = app.post("/actors/job:test-panic/restart", None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let back = app
        .eventually("the escalation resolves", || async {
            fake.sent().into_iter().find(|m| {
                m.text.contains("RESOLVED")
                    && m.text.contains("actor job:test-panic is running again")
            })
        })
        .await;
    assert_valid_telegram_html(&back.text);
}

#[actix_rt::test]
async fn an_open_alert_is_acknowledged_over_http_by_an_operator_and_audited() {
    let app = spawn_app().await;
    let run = app.trigger("test-fail", fail("the disk is full", 7)).await;
    assert_eq!(app.finished_run(run).await["status"], "failed");
    let key = "job_failed:test-fail";
    let body = |v: Value| Some(("application/json", v.to_string().into_bytes()));

    let viewer = app
        .request_as(
            Some(crate::helpers::VIEWER_KEY),
            "POST",
            "/alerts/ack",
            body(json!({ "key": key })),
        )
        .await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN, "{}", viewer.body);
    let r = app
        .eventually("the alert is open and acknowledged", || async {
            let r = app
                .request_as(
                    Some(crate::helpers::OPERATOR_KEY),
                    "POST",
                    "/alerts/ack",
                    body(json!({ "key": key })),
                )
                .await;
            (r.status == StatusCode::OK).then_some(r)
        })
        .await;
    assert_eq!(r.body, json!({"key": key, "acked": true}));
    app.eventually("the history shows it acknowledged", || async {
        let alerts = app.get("/alerts").await.body;
        let a = alerts["alerts"]
            .as_array()?
            .iter()
            .find(|a| a["key"] == key)?
            .clone();
        (a["acked"] == true).then_some(())
    })
    .await;
    for (sent, status, code) in [
        (
            json!({"key": "no_such_alert"}),
            StatusCode::NOT_FOUND,
            "alert_not_found",
        ),
        (json!({"key": ""}), StatusCode::BAD_REQUEST, "invalid_json"),
        (
            json!({"key": "a\u{7}b"}),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            json!({"key": key, "also": 1}),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
    ] {
        let r = app.post("/alerts/ack", Some(sent.clone())).await;
        assert_eq!(
            (r.status, r.body["error"].as_str()),
            (status, Some(code)),
            "{sent}"
        );
    }
    let audit = app
        .eventually("the acknowledgement is audited", || async {
            let audit = app.get("/audit?actor=test-operator").await.body;
            audit["actions"]
                .as_array()?
                .iter()
                .find(|a| a["action"] == "ack_alert" && a["result"] == "ok")
                .cloned()
        })
        .await;
    assert_eq!(audit["params"]["body"]["key"], key, "{audit}");
}
