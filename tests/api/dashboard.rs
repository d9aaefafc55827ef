//! The dashboard in a real browser: headless Chromium (Debian's `chromium`, installed by
//! `.ci/services`) loads `GET /` with a key, runs its script against the real endpoint, and
//! leaves the rendered DOM and a screenshot to check. `DASHBOARD_PNG=path` keeps the screenshot.
//! Driven through WebDriver (Debian's `chromedriver`): an operator's clicks re-run a failed run,
//! a viewer gets no actions (and 403 when forcing one), and the page is labelled, reachable by
//! keyboard, legible and fits a phone.

use std::path::Path;
use std::process::Command;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{ADMIN_KEY, spawn_app};
use crate::webdriver::Browser;

/// Runs headless Chromium on `url` with `args`, in a fresh profile, and returns its stdout.
fn chromium(url: &str, args: &[&str], profile: &Path) -> String {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1440,1400",
            // Virtual time runs the page's fetches and first render, then stops.
            "--virtual-time-budget=4000",
            &format!("--user-data-dir={}", profile.display()),
        ])
        .args(args)
        .arg(url)
        .output()
        .expect("chromium is installed (.ci/services installs Debian's chromium)");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[actix_rt::test]
async fn the_dashboard_renders_the_actor_tree_runs_and_supervision_log_in_a_browser() {
    let app = spawn_app().await;
    let run = app.trigger("test-sleep", json!({"ms": 0, "tag": 5})).await;
    app.finished_run(run).await;
    let page = app.request_as(None, "GET", "/", None).await;
    assert_eq!(page.status, StatusCode::OK);

    let dir = std::env::temp_dir().join(format!("fplsync-dashboard-{}", app.id));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("{}/#key={ADMIN_KEY}", app.address);
    let (dom, png) = {
        let dir = dir.clone();
        actix_rt::task::spawn_blocking(move || {
            let dom = chromium(&url, &["--dump-dom"], &dir.join("profile-dom"));
            let png = dir.join("dashboard.png");
            chromium(
                &url,
                &[&format!("--screenshot={}", png.display())],
                &dir.join("profile-shot"),
            );
            (dom, png)
        })
        .await
        .unwrap()
    };
    // The script ran and filled every panel from the endpoint.
    assert!(
        dom.contains("data-refreshed=\"1\""),
        "refreshed once: {dom}"
    );
    for expected in [
        "job:test-sleep",
        "scheduler",
        "test-sleep",
        "succeeded",
        "started",
        // From /lifecycle: the gameweek panel and the live freshness panel.
        "<dt>state</dt>",
        "<dt>last snapshot</dt>",
    ] {
        assert!(dom.contains(expected), "the page shows {expected}");
    }
    assert!(dom.contains("class=\"badge ready\""), "readiness shown");
    // Routes this version does not have yet are shown as such, not as errors.
    assert!(dom.contains("not available"), "missing panels say so");
    assert!(
        !dom.contains("needs an API key (40"),
        "the key was used: {dom}"
    );

    let bytes = std::fs::read(&png).expect("screenshot written");
    assert_eq!(&bytes[1..4], b"PNG");
    assert!(bytes.len() > 20_000, "a real page, {} bytes", bytes.len());
    if let Ok(keep) = std::env::var("DASHBOARD_PNG") {
        std::fs::copy(&png, keep).unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[actix_rt::test]
async fn without_a_key_the_dashboard_asks_for_one() {
    let app = spawn_app().await;
    let dir = std::env::temp_dir().join(format!("fplsync-dashboard-nokey-{}", app.id));
    let url = format!("{}/", app.address);
    let dom = {
        let dir = dir.clone();
        actix_rt::task::spawn_blocking(move || chromium(&url, &["--dump-dom"], &dir))
            .await
            .unwrap()
    };
    assert!(dom.contains("needs an API key (401)"), "{dom}");
    assert!(
        dom.contains("id=\"keyform\" style=\"display: flex;\""),
        "{dom}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A key for an operator of `test-switch`, the kind the click tests re-run.
const SWITCH_OPERATOR_KEY: &str = "test-switch-operator-key-0123456789";

async fn app_with_switch_operator() -> crate::helpers::TestApp {
    crate::helpers::spawn_app_with(|s| {
        s.auth.keys.push(fplsync::auth::ApiKeySettings {
            name: "switch-operator".into(),
            role: fplsync::auth::Role::Operator,
            kinds: vec!["test-switch".into()],
            sha256: fplsync::auth::hash_key(SWITCH_OPERATOR_KEY),
        });
    })
    .await
}

#[actix_rt::test]
async fn an_operator_re_runs_a_failed_run_from_the_dashboard_and_sees_it_succeed() {
    let app = app_with_switch_operator().await;
    let switch = format!("dash-{}", app.id);
    crate::kinds::break_switch(&switch);
    let failed = app.trigger("test-switch", json!({"switch": switch})).await;
    assert_eq!(app.finished_run(failed).await["status"], "failed");
    // The cause is fixed; the operator re-runs the run from the page.
    crate::kinds::mend(&switch);

    let browser = Browser::start(1280, 1000).await;
    browser
        .open(&format!("{}/#key={SWITCH_OPERATOR_KEY}", app.address))
        .await;
    let rerun = format!("button[data-control=\"rerun\"][data-run=\"{failed}\"]");
    browser.wait_for(&rerun).await;
    // First the alert the failure raised is acknowledged from the page.
    let ack = "button[data-control=\"ack\"][data-key=\"job_failed:test-switch\"]";
    browser.click(ack).await;
    app.eventually("the alert is acknowledged", || async {
        let alerts = app.get("/alerts").await.body;
        let alert = alerts["alerts"]
            .as_array()?
            .iter()
            .find(|a| a["key"] == "job_failed:test-switch")?
            .clone();
        (alert["acked"] == true).then_some(())
    })
    .await;
    browser
        .wait_text("#notice", "Alert job_failed:test-switch acknowledged")
        .await;
    browser.click(&rerun).await;
    let notice = browser.wait_text("#notice", "re-run as run").await;
    let rerun_id: i64 = notice
        .rsplit(' ')
        .next()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("the notice names the new run: {notice}"));
    assert_eq!(notice, format!("Run {failed} re-run as run {rerun_id}"));
    // The run view follows the new run until it has succeeded.
    browser
        .wait_for(&format!(
            "[data-run-detail=\"{rerun_id}\"][data-status=\"succeeded\"]"
        ))
        .await;
    let run = app.finished_run(rerun_id).await;
    assert_eq!(
        (run["kind"].as_str(), run["status"].as_str()),
        (Some("test-switch"), Some("succeeded"))
    );
    assert_eq!(run["params"], json!({"switch": switch}));
    // Audited like any HTTP call: by the operator's key (the log is written in the background).
    let audited = app
        .eventually("the re-run is in the audit log", || async {
            let audit = app.get("/audit?actor=switch-operator").await.body;
            let first = audit["actions"][0].clone();
            (first["action"] == "trigger").then_some(first)
        })
        .await;
    assert!(
        audited["target"]
            .as_str()
            .is_some_and(|t| t.contains("test-switch")),
        "{audited}"
    );
    // A job kind's view shows its actor and queue.
    browser
        .click("button[data-view=\"kind\"][data-actor=\"job:test-switch\"]")
        .await;
    let kind = browser.wait_text("#kinddetail", "job:test-switch").await;
    assert!(kind.contains("queued"), "{kind}");
    // The trigger form runs the kind with the parameters typed in.
    browser
        .type_into("#triggerparams", &json!({"switch": switch}).to_string())
        .await;
    browser.click("#triggerform button[type=\"submit\"]").await;
    let notice = browser
        .wait_text("#notice", "test-switch triggered: run")
        .await;
    let triggered: i64 = notice.rsplit(' ').next().unwrap().parse().unwrap();
    let run = app.finished_run(triggered).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["params"], json!({"switch": switch}));
    // The operator is offered nothing for kinds he may not steer.
    let others = browser
        .find_all("button[data-control][aria-label*=\"test-sleep\"]")
        .await;
    assert!(others.is_empty());
    browser.quit().await;
}

#[actix_rt::test]
async fn a_viewer_sees_no_action_buttons_and_a_forced_action_is_refused_with_403() {
    let app = app_with_switch_operator().await;
    let switch = format!("view-{}", app.id);
    crate::kinds::break_switch(&switch);
    let failed = app.trigger("test-switch", json!({"switch": switch})).await;
    assert_eq!(app.finished_run(failed).await["status"], "failed");

    let browser = Browser::start(1280, 1000).await;
    browser
        .open(&format!(
            "{}/#key={}",
            app.address,
            crate::helpers::VIEWER_KEY
        ))
        .await;
    // The failed run is listed, and the viewer gets no control over it.
    browser
        .wait_for(&format!("button[data-view=\"run\"][data-run=\"{failed}\"]"))
        .await;
    assert!(browser.find_all("button[data-control]").await.is_empty());
    assert!(
        browser
            .find_all("#triggerpanel:not([hidden])")
            .await
            .is_empty()
    );
    // The viewer opens the run: its view has no action either.
    browser
        .click(&format!("button[data-view=\"run\"][data-run=\"{failed}\"]"))
        .await;
    browser
        .wait_for(&format!(
            "[data-run-detail=\"{failed}\"][data-status=\"failed\"]"
        ))
        .await;
    assert!(browser.find_all("button[data-control]").await.is_empty());
    // Forcing one through the page's own action call is refused by the route.
    let answer = browser
        .run_async(
            "const done = arguments[0]; \
             act('POST', '/jobs/test-switch/trigger', {switch: 'x'}).then((r) => done(r.status));",
        )
        .await;
    assert_eq!(answer, 403);
    browser.wait_text("#notice", "403 forbidden").await;
    browser.quit().await;
}

#[actix_rt::test]
async fn the_dashboard_is_labelled_keyboard_reachable_legible_and_fits_a_phone() {
    let app = spawn_app().await;
    let run = app.trigger("test-sleep", json!({"ms": 0, "tag": 9})).await;
    app.finished_run(run).await;
    let browser = Browser::start(390, 844).await;
    browser
        .open(&format!("{}/#key={ADMIN_KEY}", app.address))
        .await;
    browser
        .wait_for(&format!("button[data-view=\"run\"][data-run=\"{run}\"]"))
        .await;
    browser.wait_for("#triggerpanel:not([hidden])").await;
    let report = browser
        .run(
            r#"
            const problems = [];
            // Every control has a name a screen reader reads out.
            for (const el of document.querySelectorAll("button, input, select, textarea")) {
              const named = (el.labels && el.labels.length) || el.getAttribute("aria-label") || el.textContent.trim();
              if (!named) problems.push("unnamed " + el.outerHTML.slice(0, 80));
              // Native controls only: keyboard reachable, no tabindex taking them out.
              if (el.tabIndex < 0) problems.push("not keyboard reachable " + el.outerHTML.slice(0, 80));
            }
            // Text contrast of badges and buttons against their own background (WCAG AA 4.5:1).
            const rgb = (c) => (c.match(/[\d.]+/g) || []).slice(0, 3).map(Number);
            const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
              return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
            for (const el of document.querySelectorAll(".badge, button.act")) {
              const s = getComputedStyle(el);
              const [a, b] = [lum(rgb(s.color)), lum(rgb(s.backgroundColor))];
              const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
              if (ratio < 4.5) problems.push(`contrast ${ratio.toFixed(2)} of ${el.className} ${el.textContent}`);
            }
            // A phone-width screen scrolls down, not sideways.
            if (document.documentElement.scrollWidth > window.innerWidth + 1)
              problems.push(`page ${document.documentElement.scrollWidth}px wide on a ${window.innerWidth}px screen`);
            return problems;
            "#,
        )
        .await;
    assert_eq!(report, json!([]), "{report}");
    // The keyboard reaches a run: focus its button and press Enter.
    let button = browser
        .wait_for(&format!("button[data-view=\"run\"][data-run=\"{run}\"]"))
        .await;
    let _ = button;
    browser
        .run(&format!(
            "document.querySelector('button[data-view=\"run\"][data-run=\"{run}\"]').focus();"
        ))
        .await;
    browser.send_keys_to_active("\u{E007}").await;
    browser
        .wait_for(&format!(
            "[data-run-detail=\"{run}\"][data-status=\"succeeded\"]"
        ))
        .await;
    browser.quit().await;
}

#[actix_rt::test]
async fn during_a_gameweek_the_dashboard_shows_its_scoreboard_top_managers_and_tournament() {
    let sim = crate::helpers::start_sim(0, &[]).await;
    assert!(sim.state().jump(fplsync::sim::Phase::InPlay, Some(38)));
    let url = sim.base_url();
    let app = crate::helpers::spawn_app_with(|s| crate::helpers::point_fpl_at(s, url)).await;
    let t = app
        .create_league_tournament(json!({
            "name": "GW38 sprint",
            "source": {"classic_league": 1},
            "group_stage": {"mode": "points_race", "groups": 1,
                            "first_event": 38, "last_event": 38},
        }))
        .await;
    let id = t["id"].as_i64().unwrap();
    let r = app.post(&format!("/tournaments/{id}/activate"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for (kind, params) in [
        ("entries", json!({"stage": "picks", "event": 38})),
        ("live", json!({"event": 38})),
    ] {
        let run = app.trigger(kind, params).await;
        assert_eq!(app.finished_run(run).await["status"], "succeeded", "{kind}");
    }
    let live = app.get("/data/live/38/entries").await.body;
    let best = live["entries"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|e| e["net_points"].as_i64())
        .unwrap()["net_points"]
        .clone();

    let browser = Browser::start(1280, 1000).await;
    browser
        .open(&format!("{}/#key={ADMIN_KEY}", app.address))
        .await;
    browser
        .wait_for("#scoreboard[data-event=\"38\"] tbody tr")
        .await;
    let fixtures = browser.find_all("#scoreboard tbody tr").await;
    assert_eq!(fixtures.len(), 10, "GW38's ten fixtures");
    browser.wait_for("#topmanagers tbody tr").await;
    assert_eq!(browser.find_all("#topmanagers tbody tr").await.len(), 10);
    let top = browser.text("#topmanagers tbody tr").await;
    assert!(top.contains(&best.to_string()), "{top} leads with {best}");
    let tournaments = browser.wait_text("#tournaments", "GW38 sprint").await;
    assert!(tournaments.contains("active"), "{tournaments}");
    browser.quit().await;
}

#[actix_rt::test]
async fn the_dashboard_charts_the_gameweeks_fpl_requests_by_priority_against_the_target() {
    let sim = crate::helpers::start_sim(0, &[]).await;
    assert!(sim.state().jump(fplsync::sim::Phase::InPlay, Some(38)));
    let real: std::collections::BTreeMap<fplsync::fpl::model::EntryId, serde_json::Value> =
        fplsync::fpl::samples::decode(fplsync::fpl::samples::gw38::LEAGUE_PICKS).unwrap();
    let tracked: Vec<u64> = real.keys().take(3).map(|e| e.0).collect();
    let url = sim.base_url();
    let app = crate::helpers::spawn_app_with(|s| {
        crate::helpers::point_fpl_at(s, url);
        s.live.enabled = true;
        s.live.start_delay_ms = 10;
        s.live.tracked_entries = tracked.clone();
        s.live.stale_after_secs = 3600;
        let i = &mut s.live.interval_secs;
        for interval in [
            &mut i.pre_deadline,
            &mut i.picks_wait,
            &mut i.picks_sync,
            &mut i.live_active,
            &mut i.between_fixtures,
            &mut i.day_settling,
            &mut i.day_settling_stable,
            &mut i.gw_review,
            &mut i.finalized,
        ] {
            *interval = 0.05;
        }
    })
    .await;
    // The lifecycle follows GW38 and its FPL requests are counted.
    let until = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    let budget = loop {
        let l = app.get("/lifecycle").await.body;
        if l["event"] == 38 && l["budget"]["total"].as_u64() > Some(0) {
            break l["budget"].clone();
        }
        assert!(
            tokio::time::Instant::now() < until,
            "no FPL requests counted for GW38: {l}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let browser = Browser::start(1280, 1000).await;
    browser
        .open(&format!("{}/#key={ADMIN_KEY}", app.address))
        .await;
    let chart = browser.wait_for("#budget .chart[role=\"img\"]").await;
    let _ = chart;
    let label = browser
        .run("return document.querySelector('#budget .chart').getAttribute('aria-label');")
        .await;
    let label = label.as_str().unwrap().to_string();
    // The target grows with every lifecycle tick: the page's is the API's then, or later.
    let shown: u64 = label
        .strip_suffix(" requests")
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the label names the target: {label}"));
    assert!(shown >= budget["target"].as_u64().unwrap(), "{label}");
    for priority in budget["requests"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|per| per.as_object().unwrap().keys())
    {
        assert!(label.contains(priority.as_str()), "{priority} in {label}");
    }
    browser.quit().await;
}
