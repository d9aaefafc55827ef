//! The dashboard in a real browser: headless Chromium (Debian's `chromium`, installed by
//! `.ci/services`) loads `GET /` with a key, runs its script against the real endpoint, and
//! leaves the rendered DOM and a screenshot to check. `DASHBOARD_PNG=path` keeps the screenshot.

use std::path::Path;
use std::process::Command;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{ADMIN_KEY, spawn_app};

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
