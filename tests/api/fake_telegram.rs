//! A fake Telegram Bot API: a small actix-web server the real teloxide client talks to (through
//! `telegram.api_url`). It records every `sendMessage` and `editMessageText`, can answer the
//! next sends with 429 and a `retry_after`, and serves `getUpdates` from updates a test pushes.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::{Value, json};
use tokio::sync::Notify;

pub const TOKEN: &str = "12345:TEST-TOKEN";

/// One message as the bot sent it, with its later edits applied.
#[derive(Debug, Clone)]
pub struct Sent {
    pub chat_id: i64,
    pub message_id: i64,
    pub text: String,
    pub parse_mode: Option<String>,
    pub edits: usize,
}

#[derive(Default)]
struct State {
    sent: Vec<Sent>,
    /// Every sendMessage request (accepted or refused) with when it arrived.
    send_attempts: Vec<(Instant, u16)>,
    /// The next this-many sends are answered 429 with `retry_after`.
    throttle: u32,
    retry_after: u32,

    updates: VecDeque<Value>,
    next_update: i64,
}

#[derive(Clone)]
pub struct FakeTelegram {
    pub url: String,
    state: Arc<Mutex<State>>,
    updates: Arc<Notify>,
}

impl FakeTelegram {
    pub async fn start() -> FakeTelegram {
        let state = Arc::new(Mutex::new(State::default()));
        let updates = Arc::new(Notify::new());
        let data = (state.clone(), updates.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(data.clone()))
                .app_data(web::JsonConfig::default().limit(1 << 20))
                .route("/bot{token}/{method}", web::post().to(method))
        })
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        actix_rt::spawn(server.run());
        FakeTelegram {
            url: format!("http://127.0.0.1:{port}/"),
            state,
            updates,
        }
    }

    /// Messages sent so far, in order.
    pub fn sent(&self) -> Vec<Sent> {
        self.state.lock().unwrap().sent.clone()
    }

    pub fn send_attempts(&self) -> Vec<(Instant, u16)> {
        self.state.lock().unwrap().send_attempts.clone()
    }

    /// Answers the next `n` sendMessage requests with 429 and `retry_after` seconds.
    pub fn throttle(&self, n: u32, retry_after: u32) {
        let mut s = self.state.lock().unwrap();
        s.throttle = n;
        s.retry_after = retry_after;
    }

    /// Queues a text message from `chat_id` for the bot's next getUpdates.
    pub fn push_command(&self, chat_id: i64, text: &str) {
        {
            let mut s = self.state.lock().unwrap();
            s.next_update += 1;
            let id = s.next_update;
            s.updates.push_back(json!({
                "update_id": id,
                "message": {
                    "message_id": 1000 + id,
                    "date": 1_764_000_000,
                    "chat": {"id": chat_id, "type": "private", "first_name": "Operator"},
                    "from": {"id": chat_id, "is_bot": false, "first_name": "Operator"},
                    "text": text,
                    "entities": [{"type": "bot_command", "offset": 0,
                                  "length": text.split(' ').next().unwrap().len()}]
                }
            }));
        }
        self.updates.notify_waiters();
    }
}

type Data = web::Data<(Arc<Mutex<State>>, Arc<Notify>)>;

fn ok(result: Value) -> HttpResponse {
    HttpResponse::Ok().json(json!({"ok": true, "result": result}))
}

fn message(chat_id: i64, message_id: i64, text: &str) -> Value {
    json!({
        "message_id": message_id,
        "date": 1_764_000_000,
        "chat": {"id": chat_id, "type": "private", "first_name": "Operator"},
        "from": {"id": 1, "is_bot": true, "first_name": "fplsync", "username": "fplsync_bot"},
        "text": text
    })
}

async fn method(data: Data, path: web::Path<(String, String)>, body: web::Bytes) -> HttpResponse {
    let (token, method) = path.into_inner();
    if token != TOKEN {
        return HttpResponse::Unauthorized()
            .json(json!({"ok": false, "error_code": 401, "description": "Unauthorized"}));
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (state, notify) = (&data.0, &data.1);
    // Telegram's method names are case-insensitive (teloxide sends `SendMessage`).
    match method.to_ascii_lowercase().as_str() {
        "sendmessage" => {
            let mut s = state.lock().unwrap();
            if s.throttle > 0 {
                s.throttle -= 1;
                s.send_attempts.push((Instant::now(), 429));
                let after = s.retry_after;
                return HttpResponse::TooManyRequests().json(json!({
                    "ok": false, "error_code": 429,
                    "description": format!("Too Many Requests: retry after {after}"),
                    "parameters": {"retry_after": after}
                }));
            }
            s.send_attempts.push((Instant::now(), 200));
            let chat_id = body["chat_id"].as_i64().unwrap_or_default();
            let text = body["text"].as_str().unwrap_or_default().to_string();
            let message_id = s.sent.len() as i64 + 1;
            s.sent.push(Sent {
                chat_id,
                message_id,
                text: text.clone(),
                parse_mode: body["parse_mode"].as_str().map(str::to_string),
                edits: 0,
            });
            ok(message(chat_id, message_id, &text))
        }
        "editmessagetext" => {
            let mut s = state.lock().unwrap();
            let (chat_id, message_id) = (
                body["chat_id"].as_i64().unwrap_or_default(),
                body["message_id"].as_i64().unwrap_or_default(),
            );
            let text = body["text"].as_str().unwrap_or_default().to_string();
            let Some(m) = s
                .sent
                .iter_mut()
                .find(|m| m.chat_id == chat_id && m.message_id == message_id)
            else {
                return HttpResponse::BadRequest().json(json!({
                    "ok": false, "error_code": 400,
                    "description": "Bad Request: message to edit not found"
                }));
            };
            m.text = text.clone();
            m.edits += 1;
            ok(message(chat_id, message_id, &text))
        }
        "getupdates" => {
            let offset = body["offset"].as_i64().unwrap_or(0);
            let wait = Duration::from_secs(body["timeout"].as_u64().unwrap_or(0));
            let until = tokio::time::Instant::now() + wait;
            loop {
                // Registered before looking, so a push between the look and the wait is seen.
                let notified = notify.notified();
                {
                    let mut s = state.lock().unwrap();
                    s.updates
                        .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
                    if !s.updates.is_empty() {
                        return ok(Value::Array(s.updates.iter().cloned().collect()));
                    }
                }
                if tokio::time::timeout_at(until, notified).await.is_err() {
                    return ok(json!([]));
                }
            }
        }
        other => HttpResponse::NotFound().json(json!({
            "ok": false, "error_code": 404, "description": format!("Not Found: {other}")
        })),
    }
}

/// Fails unless `html` is well-formed Telegram HTML: only known tags, each closed in order,
/// and every `&` starting one of the entities Telegram accepts.
pub fn assert_valid_telegram_html(html: &str) {
    let mut open: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(['<', '&', '>']) {
        let c = rest.as_bytes()[i];
        let tail = &rest[i..];
        match c {
            b'<' => {
                let end = tail
                    .find('>')
                    .unwrap_or_else(|| panic!("unclosed tag in {html}"));
                let tag = &tail[1..end];
                if let Some(name) = tag.strip_prefix('/') {
                    assert_eq!(open.pop().as_deref(), Some(name), "misnested </{name}>");
                } else {
                    let name = tag.split_whitespace().next().unwrap_or("");
                    assert!(
                        ["b", "i", "u", "s", "code", "pre", "a"].contains(&name),
                        "unknown tag <{tag}>"
                    );
                    open.push(name.to_string());
                }
                rest = &tail[end + 1..];
            }
            b'&' => {
                assert!(
                    ["&lt;", "&gt;", "&amp;", "&quot;"]
                        .iter()
                        .any(|e| tail.starts_with(e)),
                    "bare or broken entity at: {}",
                    &tail[..tail.len().min(12)]
                );
                rest = &tail[1..];
            }
            _ => panic!("unescaped > in {html}"),
        }
    }
    assert!(open.is_empty(), "unclosed tags {open:?}");
}
