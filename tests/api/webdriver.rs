//! A small WebDriver client (W3C protocol over reqwest) driving headless Chromium through
//! Debian's `chromedriver` (installed by `.ci/services`): open a page, find elements, click,
//! read text, run a script. One driver process and one browser session per [`Browser`], in a
//! fresh profile; both end when it is dropped.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

/// The W3C key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    driver: Child,
    base: String,
    http: reqwest::Client,
    profile: std::path::PathBuf,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium of `width`×`height` CSS pixels.
    pub async fn start(width: u32, height: u32) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is installed (.ci/services installs chromium-driver)");
        let profile = std::env::temp_dir().join(format!("fplsync-webdriver-{port}"));
        let mut browser = Browser {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            profile,
        };
        crate::helpers::eventually("chromedriver answers", Duration::from_secs(20), || {
            let b = &browser;
            async move {
                let r = b.http.get(format!("{}/status", b.base)).send().await.ok()?;
                let v: Value = r.json().await.ok()?;
                (v["value"]["ready"] == true).then_some(())
            }
        })
        .await;
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    format!("--user-data-dir={}", browser.profile.display()),
                    format!("--window-size={width},{height}"),
                ],
            },
        }}});
        let session = browser.call("POST", "/session", Some(caps)).await;
        let id = session["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {session}"))
            .to_string();
        browser.base = format!("{}/session/{id}", browser.base);
        browser
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let v: Value = req
            .send()
            .await
            .expect("chromedriver answers")
            .json()
            .await
            .unwrap();
        v["value"].clone()
    }

    pub async fn open(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url }))).await;
    }

    /// The elements `css` selects now.
    pub async fn find_all(&self, css: &str) -> Vec<String> {
        let found = self
            .call(
                "POST",
                "/elements",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e[ELEMENT].as_str().map(str::to_string))
            .collect()
    }

    /// Waits until `css` selects an element, and returns the first; on time out, fails with
    /// what the page shows.
    pub async fn wait_for(&self, css: &str) -> String {
        let until = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(el) = self.find_all(css).await.into_iter().next() {
                return el;
            }
            if tokio::time::Instant::now() > until {
                let text = self.run("return document.body.innerText;").await;
                panic!("the page does not show {css} after 20 s; it shows:\n{text}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks `css`'s element; a refresh may replace it between finding and clicking, so it
    /// is found again until the click lands.
    pub async fn click(&self, css: &str) {
        crate::helpers::eventually(
            &format!("a click on {css}"),
            Duration::from_secs(20),
            || async {
                let el = self.find_all(css).await.into_iter().next()?;
                let r = self
                    .call("POST", &format!("/element/{el}/click"), Some(json!({})))
                    .await;
                r.is_null().then_some(())
            },
        )
        .await
    }

    pub async fn text(&self, css: &str) -> String {
        let el = self.wait_for(css).await;
        self.call("GET", &format!("/element/{el}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits until `css`'s element's text contains `part`, and returns the text.
    pub async fn wait_text(&self, css: &str, part: &str) -> String {
        crate::helpers::eventually(
            &format!("{css} says {part}"),
            Duration::from_secs(20),
            || async {
                let text = self.text(css).await;
                text.contains(part).then_some(text)
            },
        )
        .await
    }

    /// Replaces the text of the field `css` selects with `text`, typed.
    pub async fn type_into(&self, css: &str, text: &str) {
        let el = self.wait_for(css).await;
        self.call("POST", &format!("/element/{el}/clear"), Some(json!({})))
            .await;
        self.call(
            "POST",
            &format!("/element/{el}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// Sends `keys` (WebDriver key codes, e.g. `\u{E007}` for Enter) to the focused element.
    pub async fn send_keys_to_active(&self, keys: &str) {
        let active = self.call("GET", "/element/active", None).await;
        let el = active[ELEMENT]
            .as_str()
            .expect("an element has the focus")
            .to_string();
        self.call(
            "POST",
            &format!("/element/{el}/value"),
            Some(json!({ "text": keys })),
        )
        .await;
    }

    /// Runs `script` (a function body; `arguments[0]` is the callback) and returns what it
    /// passes to the callback.
    pub async fn run_async(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/async",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Runs `script` (a function body) and returns its value.
    pub async fn run(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }
}

impl Browser {
    /// Ends the session (and so the browser), then the driver.
    pub async fn quit(self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
