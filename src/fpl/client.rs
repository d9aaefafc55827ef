//! The FPL API client: one [`FplClient`] shared by every actor. It owns the HTTP connection
//! pool, the URL of each endpoint, the retry policy, the classification of the API's answers into
//! [`FplError`], pagination of league tables, and the FPL metrics; it defers to [`Admission`] for
//! when a request may go out and to [`Breaker`] for whether it may go out at all.
//!
//! One call (`get_raw` and every typed method built on it) is:
//! 1. fail fast if the breaker is open;
//! 2. wait for admission (priority order, token bucket, in-flight cap): time queued behind the
//!    service's own traffic is not the API's doing, so it does not count against the call's
//!    deadline (a job's heartbeat is held meanwhile, see [`crate::heartbeat`]);
//! 3. one attempt under the attempt timeout (send, read the whole body), classified by status
//!    and content type *before* any decoding, so the "game is being updated" HTML page becomes
//!    [`FplError::Updating`] rather than a parse error;
//! 4. on 429, 5xx, the update page, timeouts and network errors: wait (`Retry-After` if given,
//!    capped; else full-jitter exponential backoff) and go to 1, at most `max_retries` times and
//!    never past the deadline. Other answers are final: 404 is [`FplError::NotFound`] (the API's
//!    "none": not in the cup, picks before the deadline, no such entry); a 403 with Cloudflare's
//!    challenge is [`FplError::Blocked`] and stops every request for `fpl.blocked_backoff_secs`
//!    (the breaker is tripped: retrying only prolongs a challenge), another 403 is
//!    [`FplError::Forbidden`]. A page that is not JSON, whatever its status, is FPL unavailable
//!    ([`FplError::Updating`] or [`FplError::Unavailable`], retried), never data.
//!
//! Metrics count *attempts* (each request FPL sees); labels are the fixed [`Endpoint`] names and
//! [`Priority`] classes, never ids.

use std::collections::HashSet;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use rand::Rng;
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use super::admission::{Admission, AdmissionConfig, Permit, Priority};
use super::breaker::{Breaker, BreakerConfig, BreakerState, Outcome, Refusal, Ticket};
use super::budget::Spend;
use super::metrics::FplMetrics;
use super::model::{
    BootstrapStatic, ClassicStandingRow, ClassicStandings, ElementId, ElementSummary, Entry,
    EntryCup, EntryHistory, EntryId, EventId, EventLive, EventStatus, Fixtures, H2hMatch,
    H2hMatches, H2hStandingRow, H2hStandings, LeagueId, LeagueInfo, Page, PicksResponse, Transfers,
};
use crate::config::FplSettings;
use crate::heartbeat::{Heartbeat, Waiting};
use crate::metrics::Metrics;

/// The text of FPL's maintenance page ("The game is being updated.").
const UPDATING_MARKER: &str = "The game is being updated";

/// Everything a call to the FPL API can end in, other than its answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FplError {
    /// FPL is recalculating and serves its maintenance page (503 HTML): expected for minutes
    /// around deadlines and match-day ends; try again later.
    #[error("FPL is being updated")]
    Updating,
    /// 404: the API's way of saying "none" (no cup, picks not visible yet, no such entry).
    #[error("FPL has nothing at {path} (404)")]
    NotFound { path: String },
    /// 429 after every retry; `retry_after` is what the API asked for (capped), if it said.
    #[error("FPL rate limited us{}", retry_hint(*.retry_after))]
    RateLimited { retry_after: Option<Duration> },
    /// 403 with Cloudflare's challenge (`cf-mitigated: challenge`, or its "Just a moment…"
    /// page): FPL's bot protection has blocked this address. No request goes out for
    /// `fpl.blocked_backoff_secs` (`retry_in`): retrying at once only prolongs it.
    #[error("FPL's bot protection challenged us (403): no request for {}", human_duration(*.retry_in))]
    Blocked { retry_in: Duration },
    /// Any other 403: this resource is refused to everyone (a private league): permanent.
    #[error("FPL refused {path} (403)")]
    Forbidden { path: String },
    /// A body that is not JSON (an HTML error page, whatever its status), other than the
    /// update page: FPL is unavailable, and the page is never taken for data.
    #[error("FPL served a page that is not JSON for {path} (status {status})")]
    Unavailable { status: u16, path: String },
    /// Any other unexpected status (5xx after every retry, or a 4xx).
    #[error("FPL answered {status} for {path}")]
    Status { status: u16, path: String },
    /// An attempt took longer than `fpl.attempt_timeout_ms`, on every try.
    #[error("FPL did not answer in time")]
    Timeout,
    /// Connecting, sending or reading failed.
    #[error("FPL network error: {0}")]
    Network(String),
    /// The answer is complete but not the JSON we expect: `message` names the field path, line
    /// and column.
    #[error("FPL answer for {path} does not decode: {message}")]
    Decode { path: String, message: String },
    /// The answer was cut short, on every try: the connection closed before the whole body
    /// arrived, or the JSON ends before its document does (a proxy or FPL's edge gave up
    /// mid-answer). Usually passing, so retried like a 5xx — unlike [`FplError::Decode`], where
    /// the same complete bytes would fail again.
    #[error("FPL answer for {path} was cut short: {message}")]
    Truncated { path: String, message: String },
    /// The circuit breaker is open: no request was sent.
    #[error("FPL circuit breaker open (next probe in {})", human_duration(*.retry_in))]
    CircuitOpen { retry_in: Duration },
    /// The call's deadline (`fpl.deadline_ms`: attempts and the waits between them, not time
    /// queued for admission) passed before FPL answered.
    #[error("FPL call exceeded its deadline")]
    Deadline,
    /// A complete answer about another gameweek than the one asked for (FPL, just after a
    /// deadline): rejected, never stored. Not retried at once — it lasts minutes —, but passing.
    #[error("FPL answer for {path} is another gameweek's: {message}")]
    WrongGameweek { path: String, message: String },
    /// A paged list still claimed `has_next` after `fpl.max_pages` pages.
    #[error("FPL list {path} has more than {max_pages} pages")]
    TooManyPages { path: String, max_pages: u32 },
}

impl FplError {
    fn is_server_error(&self) -> bool {
        matches!(self, FplError::Status { status, .. } if *status >= 500)
    }
}

/// A duration as people write it: `350 ms`, `2 s`, `2.5 s`, `1 min 30 s`, `2 h 5 min` — never
/// `Some(2s)` or `1.234567891s`.
pub fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms} ms");
    }
    let secs = d.as_secs();
    if secs < 60 {
        // One decimal, dropped when it is zero.
        let tenths = (ms + 50) / 100;
        return if tenths.is_multiple_of(10) {
            format!("{} s", tenths / 10)
        } else {
            format!("{}.{} s", tenths / 10, tenths % 10)
        };
    }
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, m, s) {
        (0, m, 0) => format!("{m} min"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, 0, _) => format!("{h} h"),
        (h, m, _) => format!("{h} h {m} min"),
    }
}

/// ` (retry after 2 s)`, or nothing when the API did not say.
fn retry_hint(after: Option<Duration>) -> String {
    after
        .map(|d| format!(" (retry after {})", human_duration(d)))
        .unwrap_or_default()
}

/// The endpoints, as metric labels: a fixed set, never ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    BootstrapStatic,
    Fixtures,
    EventLive,
    EventStatus,
    Entry,
    EntryHistory,
    EntryPicks,
    EntryTransfers,
    EntryCup,
    LeaguesClassicStandings,
    LeaguesH2hStandings,
    LeaguesH2hMatches,
    ElementSummary,
    /// A path of [`FplClient::get_raw`] that is none of the above.
    Other,
}

impl Endpoint {
    /// Every endpoint, in declaration order (`endpoint as usize` indexes it).
    pub const ALL: [Endpoint; 14] = [
        Endpoint::BootstrapStatic,
        Endpoint::Fixtures,
        Endpoint::EventLive,
        Endpoint::EventStatus,
        Endpoint::Entry,
        Endpoint::EntryHistory,
        Endpoint::EntryPicks,
        Endpoint::EntryTransfers,
        Endpoint::EntryCup,
        Endpoint::LeaguesClassicStandings,
        Endpoint::LeaguesH2hStandings,
        Endpoint::LeaguesH2hMatches,
        Endpoint::ElementSummary,
        Endpoint::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::BootstrapStatic => "bootstrap-static",
            Endpoint::Fixtures => "fixtures",
            Endpoint::EventLive => "event-live",
            Endpoint::EventStatus => "event-status",
            Endpoint::Entry => "entry",
            Endpoint::EntryHistory => "entry-history",
            Endpoint::EntryPicks => "entry-picks",
            Endpoint::EntryTransfers => "entry-transfers",
            Endpoint::EntryCup => "entry-cup",
            Endpoint::LeaguesClassicStandings => "leagues-classic-standings",
            Endpoint::LeaguesH2hStandings => "leagues-h2h-standings",
            Endpoint::LeaguesH2hMatches => "leagues-h2h-matches",
            Endpoint::ElementSummary => "element-summary",
            Endpoint::Other => "other",
        }
    }

    /// The endpoint a path (relative to the base URL, query allowed) belongs to.
    pub fn of(path: &str) -> Endpoint {
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match segments.as_slice() {
            ["bootstrap-static"] => Endpoint::BootstrapStatic,
            ["fixtures"] => Endpoint::Fixtures,
            ["event", _, "live"] => Endpoint::EventLive,
            ["event-status"] => Endpoint::EventStatus,
            ["entry", _] => Endpoint::Entry,
            ["entry", _, "history"] => Endpoint::EntryHistory,
            ["entry", _, "event", _, "picks"] => Endpoint::EntryPicks,
            ["entry", _, "transfers"] => Endpoint::EntryTransfers,
            ["entry", _, "cup"] => Endpoint::EntryCup,
            ["leagues-classic", _, "standings"] => Endpoint::LeaguesClassicStandings,
            ["leagues-h2h", _, "standings"] => Endpoint::LeaguesH2hStandings,
            ["leagues-h2h-matches", "league", _] => Endpoint::LeaguesH2hMatches,
            ["element-summary", _] => Endpoint::ElementSummary,
            _ => Endpoint::Other,
        }
    }
}

/// A whole league table, read page by page.
#[derive(Debug, Clone, PartialEq)]
pub struct LeagueTable<R> {
    /// The league, from the first page.
    pub league: LeagueInfo,
    /// Every row of every page, in page order, each entry once.
    pub rows: Vec<R>,
    /// Pages read.
    pub pages: u32,
}

/// The client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("fpl.base_url: `{url}` is not a URL: {message}")]
    BaseUrl { url: String, message: String },
    #[error("FPL HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// Timeouts and retry policy, from [`FplSettings`].
#[derive(Debug, Clone, Copy)]
struct Policy {
    attempt_timeout: Duration,
    deadline: Duration,
    max_retries: u32,
    backoff_base: Duration,
    backoff_cap: Duration,
    retry_after_cap: Duration,
    max_pages: u32,
}

struct Inner {
    http: reqwest::Client,
    /// Always ends in `/`, so joining a relative path appends to it.
    base: Url,
    policy: Policy,
    admission: Admission,
    breaker: Breaker,
    metrics: FplMetrics,
    /// Requests sent and not yet recorded per gameweek.
    spend: Spend,
    /// FPL's clock: its `Date` header less ours, in milliseconds. The game's timeline
    /// (deadlines, kick-offs) is judged on the source's clock, not the host's.
    clock_offset_ms: AtomicI64,
    /// Since when FPL has answered "the game is being updated" (cleared by any good answer).
    updating_since: std::sync::Mutex<Option<chrono::DateTime<chrono::Utc>>>,
    /// Since when FPL has served no data — the update page or another page that is not JSON —,
    /// and the last such answer (cleared by any good answer).
    unavailable: std::sync::Mutex<Option<(chrono::DateTime<chrono::Utc>, Unavailability)>>,
    /// Since when the bot protection has challenged us (cleared by any good answer).
    blocked_since: std::sync::Mutex<Option<chrono::DateTime<chrono::Utc>>>,
    /// How long no request goes out after a challenge.
    blocked_backoff: Duration,
}

/// Why FPL has served no data, as the last answer showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailability {
    /// "The game is being updated."
    Updating,
    /// Another page that is not JSON, with its status.
    Page { status: u16 },
}

impl std::fmt::Display for Unavailability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unavailability::Updating => f.write_str("\"The game is being updated.\""),
            Unavailability::Page { status } => {
                write!(f, "a page that is not JSON (status {status})")
            }
        }
    }
}

/// The FPL API client. Cheap to clone; clones share connections, admission and breaker.
#[derive(Clone)]
pub struct FplClient {
    inner: Arc<Inner>,
    /// The run this clone fetches for, renewed with every request admitted or answered and
    /// held alive while a request waits for admission or for its next attempt (see
    /// [`crate::heartbeat`]).
    heart: Option<Heartbeat>,
}

impl std::fmt::Debug for FplClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FplClient")
            .field("base", &self.inner.base.as_str())
            .finish_non_exhaustive()
    }
}

/// Why an attempt is retried: the `reason` label of `fplsync_fpl_retries_total`.
fn retry_reason(e: &FplError) -> Option<&'static str> {
    match e {
        FplError::RateLimited { .. } => Some("rate_limited"),
        FplError::Updating => Some("updating"),
        FplError::Unavailable { .. } => Some("unavailable"),
        FplError::Timeout => Some("timeout"),
        FplError::Network(_) => Some("network"),
        FplError::Truncated { .. } => Some("truncated"),
        e if e.is_server_error() => Some("server_error"),
        _ => None,
    }
}

/// What the breaker makes of an attempt (see [`Outcome`] for why).
fn breaker_outcome<T>(result: &Result<T, FplError>) -> Outcome {
    match result {
        Ok(_) => Outcome::Success,
        Err(FplError::Updating) => Outcome::Neutral,
        Err(
            FplError::RateLimited { .. }
            | FplError::Blocked { .. }
            | FplError::Unavailable { .. }
            | FplError::Timeout
            | FplError::Network(_)
            | FplError::Truncated { .. },
        ) => Outcome::Failure,
        Err(e) if e.is_server_error() => Outcome::Failure,
        Err(_) => Outcome::Success,
    }
}

/// One attempt's answer, classified.
struct Attempt {
    /// `None` when no status arrived (network error, timeout).
    status: Option<StatusCode>,
    /// `Retry-After`, capped.
    retry_after: Option<Duration>,
    /// The `Date` header: FPL's clock.
    date: Option<SystemTime>,
    result: Result<Bytes, FplError>,
}

impl Attempt {
    /// No answer within the attempt timeout.
    fn timed_out() -> Self {
        Attempt {
            status: None,
            retry_after: None,
            date: None,
            result: Err(FplError::Timeout),
        }
    }
}

/// Markers of Cloudflare's challenge page, for a 403 that lost its `cf-mitigated` header on the
/// way (a proxy between us and FPL).
const CHALLENGE_MARKERS: [&str; 3] = ["challenge-platform", "cf_chl_opt", "<title>Just a moment"];

/// Whether `body` is a JSON document by its first byte: an object or an array is all FPL sends.
/// A body cut short still starts like one (and is judged when it is decoded).
fn looks_like_json(body: &[u8]) -> bool {
    matches!(
        body.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}

/// One answer's status, content type and body, classified *before* any decoding: what is not
/// data never reaches a decoder.
///
/// - 2xx with JSON is data; 2xx with anything else is FPL unavailable (the update page is
///   [`FplError::Updating`], any other page [`FplError::Unavailable`]);
/// - 403 with Cloudflare's challenge is [`FplError::Blocked`], any other 403 is
///   [`FplError::Forbidden`]; 404 is [`FplError::NotFound`]; 429 is rate limiting;
/// - any other status with an HTML page is FPL unavailable too (retried); otherwise it is
///   [`FplError::Status`].
fn classify(
    status: StatusCode,
    html: bool,
    challenged: bool,
    body: Bytes,
    path: &str,
    retry_after: Option<Duration>,
) -> Result<Bytes, FplError> {
    let updating_page = html && contains(&body, UPDATING_MARKER);
    let page = html || (!body.is_empty() && !looks_like_json(&body));
    let unavailable = || {
        Err(if updating_page {
            FplError::Updating
        } else {
            FplError::Unavailable {
                status: status.as_u16(),
                path: path.to_string(),
            }
        })
    };
    match status {
        s if s.is_success() && (page || body.is_empty()) => unavailable(),
        s if s.is_success() => Ok(body),
        StatusCode::FORBIDDEN
            if challenged || (html && CHALLENGE_MARKERS.iter().any(|m| contains(&body, m))) =>
        {
            // The backoff is the client's to set; the caller fills it in.
            Err(FplError::Blocked {
                retry_in: Duration::ZERO,
            })
        }
        StatusCode::FORBIDDEN => Err(FplError::Forbidden {
            path: path.to_string(),
        }),
        StatusCode::NOT_FOUND => Err(FplError::NotFound {
            path: path.to_string(),
        }),
        StatusCode::TOO_MANY_REQUESTS => Err(FplError::RateLimited { retry_after }),
        // An error status that came with a page is FPL's edge standing in for the API (the
        // update page, a gateway's): the API's own errors are JSON.
        _ if html => unavailable(),
        s => Err(FplError::Status {
            status: s.as_u16(),
            path: path.to_string(),
        }),
    }
}

/// `Retry-After` as seconds or an HTTP date, capped at `cap`.
fn parse_retry_after(headers: &HeaderMap, cap: Duration) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => httpdate::parse_http_date(value)
            .ok()?
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    };
    Some(wait.min(cap))
}

fn describe(e: &reqwest::Error) -> String {
    // reqwest's Display stops at "error sending request"; the cause is in the source chain.
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Decodes `body` as `T`; on failure names the field path (`standings.results[3].entry`) as well
/// as serde's line and column, so schema drift is diagnosable from the log alone. JSON that ends
/// before its document does is [`FplError::Truncated`]: a complete document never does.
pub fn decode<T: DeserializeOwned>(path: &str, body: &[u8]) -> Result<T, FplError> {
    serde_json::from_slice(body).map_err(|e| {
        if e.is_eof() {
            return FplError::Truncated {
                path: path.to_string(),
                message: format!("the JSON ends early ({e}, {} bytes)", body.len()),
            };
        }
        // Decode again with path tracking only on failure: it costs nothing when all is well.
        let mut de = serde_json::Deserializer::from_slice(body);
        let message = match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Err(e) => format!("at `{}`: {}", e.path(), e.inner()),
            Ok(_) => "inconsistent decoder".to_string(),
        };
        FplError::Decode {
            path: path.to_string(),
            message,
        }
    })
}

impl FplClient {
    /// Builds the client from `[fpl]` settings; its families are registered on `metrics`.
    pub fn new(settings: &FplSettings, metrics: &Metrics) -> Result<Self, BuildError> {
        let metrics = metrics.get::<FplMetrics>();
        let mut base = settings.base_url.clone();
        if !base.ends_with('/') {
            // `Url::join` replaces the last segment of a base without a trailing slash.
            base.push('/');
        }
        let base = Url::parse(&base).map_err(|e| BuildError::BaseUrl {
            url: settings.base_url.clone(),
            message: e.to_string(),
        })?;
        let policy = Policy {
            attempt_timeout: Duration::from_millis(settings.attempt_timeout_ms),
            deadline: Duration::from_millis(settings.deadline_ms),
            max_retries: settings.max_retries,
            backoff_base: Duration::from_millis(settings.backoff_base_ms),
            backoff_cap: Duration::from_millis(settings.backoff_cap_ms),
            retry_after_cap: Duration::from_secs(settings.retry_after_cap_secs),
            max_pages: settings.max_pages,
        };
        let user_agent = settings
            .user_agent
            .replace("{version}", env!("CARGO_PKG_VERSION"));
        // No reqwest-level timeout: attempts are bounded by tokio timers (so the deadline and
        // paused-time tests see the same clock).
        let http = reqwest::Client::builder()
            .user_agent(user_agent)
            .gzip(true)
            .connect_timeout(policy.attempt_timeout)
            .build()?;
        metrics
            .breaker_state
            .set(BreakerState::Closed.gauge_value());
        Ok(FplClient {
            inner: Arc::new(Inner {
                http,
                base,
                policy,
                admission: Admission::new(AdmissionConfig::from_settings(settings)),
                breaker: Breaker::new(BreakerConfig::from_settings(settings)),
                metrics,
                spend: Spend::default(),
                clock_offset_ms: AtomicI64::new(0),
                updating_since: std::sync::Mutex::new(None),
                unavailable: std::sync::Mutex::new(None),
                blocked_since: std::sync::Mutex::new(None),
                blocked_backoff: Duration::from_secs(settings.blocked_backoff_secs),
            }),
            heart: None,
        })
    }

    /// A clone whose calls renew `heart`: what a job's work fetches through, so the runtime
    /// sees the run alive while it reads FPL, however long that takes at the admitted rate.
    pub fn with_heartbeat(&self, heart: Heartbeat) -> Self {
        FplClient {
            inner: self.inner.clone(),
            heart: Some(heart),
        }
    }

    fn beat(&self) {
        if let Some(heart) = &self.heart {
            heart.beat();
        }
    }

    /// Marks a deliberate wait (admission, a retry's backoff) of the run this clone serves.
    fn waiting(&self) -> Option<Waiting> {
        self.heart.as_ref().map(Heartbeat::waiting)
    }

    /// Requests sent since the last call, by endpoint and priority (for the per-gameweek
    /// budget); what cannot be recorded goes back with [`FplClient::unspend`].
    pub fn take_spend(&self) -> Vec<(Endpoint, Priority, u64)> {
        self.inner.spend.take()
    }

    pub fn unspend(&self, taken: &[(Endpoint, Priority, u64)]) {
        self.inner.spend.restore(taken);
    }

    /// The admission controller every call goes through.
    pub fn admission(&self) -> &Admission {
        &self.inner.admission
    }

    pub fn breaker_state(&self) -> BreakerState {
        self.inner.breaker.state()
    }

    /// Now on FPL's clock (the last `Date` header it sent, carried forward on ours).
    pub fn server_now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
            + chrono::Duration::milliseconds(self.inner.clock_offset_ms.load(Ordering::Relaxed))
    }

    /// Since when FPL has been "updating", if its last answer said so.
    pub fn updating_since(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        *self.inner.updating_since.lock().expect("updating lock")
    }

    fn note_answer<T>(&self, result: &Result<T, FplError>, headers_date: Option<SystemTime>) {
        if let Some(date) = headers_date {
            let theirs = chrono::DateTime::<chrono::Utc>::from(date);
            let offset = (theirs - chrono::Utc::now()).num_milliseconds();
            self.inner.clock_offset_ms.store(offset, Ordering::Relaxed);
        }
        let now = chrono::Utc::now();
        let mut updating = self.inner.updating_since.lock().expect("updating lock");
        let mut unavailable = self.inner.unavailable.lock().expect("unavailable lock");
        let mut blocked = self.inner.blocked_since.lock().expect("blocked lock");
        let mut unavailable_now = |why| match &mut *unavailable {
            Some((_, last)) => *last = why,
            none => *none = Some((now, why)),
        };
        match result {
            Ok(_) => {
                *updating = None;
                *unavailable = None;
                *blocked = None;
            }
            Err(FplError::Updating) => {
                updating.get_or_insert(now);
                unavailable_now(Unavailability::Updating);
            }
            Err(FplError::Unavailable { status, .. }) => {
                unavailable_now(Unavailability::Page { status: *status })
            }
            Err(FplError::Blocked { .. }) => {
                blocked.get_or_insert(now);
            }
            Err(_) => {}
        }
    }

    /// How long FPL has served no data (the update page or another page that is not JSON), and
    /// what it served last; `None` once an attempt got data (watched by the alerting actor).
    pub fn unavailable_for(&self) -> Option<(Duration, Unavailability)> {
        self.inner
            .unavailable
            .lock()
            .expect("unavailable lock")
            .map(|(since, why)| {
                (
                    (chrono::Utc::now() - since).to_std().unwrap_or_default(),
                    why,
                )
            })
    }

    /// Counts an answer of `endpoint` rejected as another gameweek's (by the caller that could
    /// tell, for event-live; by [`FplClient::entry_picks`] itself).
    pub fn rejected(&self, endpoint: Endpoint) {
        self.inner
            .metrics
            .wrong_gameweek
            .with_label_values(&[endpoint.as_str()])
            .inc();
    }

    /// How long no request goes out after the bot protection's challenge.
    pub fn blocked_backoff(&self) -> Duration {
        self.inner.blocked_backoff
    }

    /// Since when the bot protection has challenged this address; `None` once an attempt got
    /// data (watched by the alerting actor).
    pub fn blocked_since(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        *self.inner.blocked_since.lock().expect("blocked lock")
    }

    /// The body of `path` (relative to the base URL, e.g. `"event/38/live/"`), after retries.
    pub async fn get_raw(&self, path: &str, priority: Priority) -> Result<Bytes, FplError> {
        self.fetch(Endpoint::of(path), path, priority, Ok).await
    }

    /// `path` decoded as `T`. Decoding is part of each attempt, so a body cut short
    /// ([`FplError::Truncated`]) is retried like a 5xx.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        priority: Priority,
    ) -> Result<T, FplError> {
        self.fetch(Endpoint::of(path), path, priority, |body| {
            decode(path, &body)
        })
        .await
    }

    /// `bootstrap-static/`: events, teams, players, settings.
    pub async fn bootstrap_static(&self, priority: Priority) -> Result<BootstrapStatic, FplError> {
        self.get_json("bootstrap-static/", priority).await
    }

    /// `fixtures/`: every fixture of the season.
    pub async fn fixtures(&self, priority: Priority) -> Result<Fixtures, FplError> {
        self.get_json("fixtures/", priority).await
    }

    /// `fixtures/?event={gw}`: the fixtures of one gameweek.
    pub async fn event_fixtures(
        &self,
        event: EventId,
        priority: Priority,
    ) -> Result<Fixtures, FplError> {
        self.get_json(&format!("fixtures/?event={event}"), priority)
            .await
    }

    /// `event/{gw}/live/`: every player's stats in a gameweek.
    pub async fn event_live(
        &self,
        event: EventId,
        priority: Priority,
    ) -> Result<EventLive, FplError> {
        self.get_json(&format!("event/{event}/live/"), priority)
            .await
    }

    /// `event/{gw}/live/` decoded, with the bytes it was decoded from (for the schema drift
    /// check, which reads the payload's shape).
    pub async fn event_live_with_body(
        &self,
        event: EventId,
        priority: Priority,
    ) -> Result<(EventLive, Bytes), FplError> {
        let path = format!("event/{event}/live/");
        self.fetch(Endpoint::of(&path), &path, priority, |body| {
            decode(&path, &body).map(|live| (live, body))
        })
        .await
    }

    /// `event-status/`: bonus and league-update state per match day.
    pub async fn event_status(&self, priority: Priority) -> Result<EventStatus, FplError> {
        self.get_json("event-status/", priority).await
    }

    /// `entry/{id}/`: a manager's summary ([`FplError::NotFound`] for an unknown entry).
    pub async fn entry(&self, entry: EntryId, priority: Priority) -> Result<Entry, FplError> {
        self.get_json(&format!("entry/{entry}/"), priority).await
    }

    /// `entry/{id}/history/`: per-gameweek history and past seasons.
    pub async fn entry_history(
        &self,
        entry: EntryId,
        priority: Priority,
    ) -> Result<EntryHistory, FplError> {
        self.get_json(&format!("entry/{entry}/history/"), priority)
            .await
    }

    /// `entry/{id}/event/{gw}/picks/` ([`FplError::NotFound`] before the deadline).
    pub async fn entry_picks(
        &self,
        entry: EntryId,
        event: EventId,
        priority: Priority,
    ) -> Result<PicksResponse, FplError> {
        let path = format!("entry/{entry}/event/{event}/picks/");
        let picks: PicksResponse = self.get_json(&path, priority).await?;
        picks.check_gameweek(event).map_err(|e| {
            self.rejected(Endpoint::EntryPicks);
            tracing::warn!(path, error = %e, "FPL answer rejected");
            FplError::WrongGameweek {
                path,
                message: e.to_string(),
            }
        })?;
        Ok(picks)
    }

    /// `entry/{id}/transfers/`.
    pub async fn entry_transfers(
        &self,
        entry: EntryId,
        priority: Priority,
    ) -> Result<Transfers, FplError> {
        self.get_json(&format!("entry/{entry}/transfers/"), priority)
            .await
    }

    /// `entry/{id}/cup/` ([`FplError::NotFound`] when the entry is not in the cup).
    pub async fn entry_cup(
        &self,
        entry: EntryId,
        priority: Priority,
    ) -> Result<EntryCup, FplError> {
        self.get_json(&format!("entry/{entry}/cup/"), priority)
            .await
    }

    /// `element-summary/{id}/`: a player's fixtures and history.
    pub async fn element_summary(
        &self,
        element: ElementId,
        priority: Priority,
    ) -> Result<ElementSummary, FplError> {
        self.get_json(&format!("element-summary/{element}/"), priority)
            .await
    }

    /// `leagues-classic/{id}/standings/`: the whole table, every page (`?page_standings=N`).
    /// New joiners (`new_entries`, paged separately) are not read.
    pub async fn classic_standings(
        &self,
        league: LeagueId,
        priority: Priority,
    ) -> Result<LeagueTable<ClassicStandingRow>, FplError> {
        let mut info = None;
        let (rows, pages) = self
            .walk(
                priority,
                |n| format!("leagues-classic/{league}/standings/?page_standings={n}"),
                |p: ClassicStandings| {
                    info.get_or_insert(p.league);
                    p.standings
                },
                |r| r.entry,
            )
            .await?;
        Ok(LeagueTable {
            league: info.expect("at least one page was read"),
            rows,
            pages,
        })
    }

    /// Page `page` (from 1) of a classic league's table *and* of its new joiners
    /// (`new_entries`, paged alongside): what a roster read that checkpoints page by page
    /// fetches. Before a season's first league update every member is a new joiner (the table
    /// has no results), and in season the joiners since the last update are members too.
    pub async fn classic_standings_page(
        &self,
        league: LeagueId,
        page: u32,
        priority: Priority,
    ) -> Result<ClassicStandings, FplError> {
        self.get_json(
            &format!(
                "leagues-classic/{league}/standings/?page_standings={page}&page_new_entries={page}"
            ),
            priority,
        )
        .await
    }

    /// One page (from 1) of an H2H league's table.
    pub async fn h2h_standings_page(
        &self,
        league: LeagueId,
        page: u32,
        priority: Priority,
    ) -> Result<H2hStandings, FplError> {
        self.get_json(
            &format!("leagues-h2h/{league}/standings/?page_standings={page}"),
            priority,
        )
        .await
    }

    /// `leagues-h2h/{id}/standings/`: the whole H2H table, every page (`?page_standings=N`).
    pub async fn h2h_standings(
        &self,
        league: LeagueId,
        priority: Priority,
    ) -> Result<LeagueTable<H2hStandingRow>, FplError> {
        let mut info = None;
        let (rows, pages) = self
            .walk(
                priority,
                |n| format!("leagues-h2h/{league}/standings/?page_standings={n}"),
                |p: H2hStandings| {
                    info.get_or_insert(p.league);
                    p.standings
                },
                |r| r.entry,
            )
            .await?;
        Ok(LeagueTable {
            league: info.expect("at least one page was read"),
            rows,
            pages,
        })
    }

    /// `leagues-h2h-matches/league/{id}/`: every match, every page (`?page=N`).
    pub async fn h2h_matches(
        &self,
        league: LeagueId,
        priority: Priority,
    ) -> Result<Vec<H2hMatch>, FplError> {
        let (rows, _) = self
            .walk(
                priority,
                |n| format!("leagues-h2h-matches/league/{league}/?page={n}"),
                |p: H2hMatches| p,
                |m| m.id,
            )
            .await?;
        Ok(rows)
    }

    /// Reads pages 1, 2, … of a paged list while `has_next` says so. Each page is one call (with
    /// its own deadline). Rows are kept once per `key`: a table that changes while we read it
    /// shifts rows across page boundaries, and a row seen twice must not count twice. Stops at an
    /// empty page whatever `has_next` says, and fails after `max_pages` pages.
    async fn walk<P, R, K>(
        &self,
        priority: Priority,
        path_of: impl Fn(u32) -> String,
        mut page_of: impl FnMut(P) -> Page<R>,
        key: impl Fn(&R) -> K,
    ) -> Result<(Vec<R>, u32), FplError>
    where
        P: DeserializeOwned,
        K: Eq + Hash,
    {
        let mut rows = Vec::new();
        let mut seen = HashSet::new();
        let mut n = 1;
        loop {
            let path = path_of(n);
            let page = page_of(self.get_json::<P>(&path, priority).await?);
            let more = page.has_next && !page.results.is_empty();
            rows.extend(page.results.into_iter().filter(|r| seen.insert(key(r))));
            if !more {
                return Ok((rows, n));
            }
            if n >= self.inner.policy.max_pages {
                return Err(FplError::TooManyPages {
                    path: path_of(1),
                    max_pages: self.inner.policy.max_pages,
                });
            }
            n += 1;
        }
    }

    /// The retry loop of one call (see the module doc); `decode` turns a good answer's body into
    /// the caller's value within the attempt.
    async fn fetch<T>(
        &self,
        endpoint: Endpoint,
        path: &str,
        priority: Priority,
        decode: impl Fn(Bytes) -> Result<T, FplError>,
    ) -> Result<T, FplError> {
        let inner = &*self.inner;
        let policy = inner.policy;
        let metrics = &inner.metrics;
        let url = inner
            .base
            .join(path.trim_start_matches('/'))
            .map_err(|e| FplError::Network(format!("bad path {path}: {e}")))?;
        // Time spent on FPL's account: attempts and the waits between them. Admission waits are
        // the service's own queue and do not count.
        let mut spent = Duration::ZERO;
        let mut retry = 0;
        loop {
            // Fail fast rather than queue for admission only to be refused afterwards.
            if let Some(retry_in) = inner.breaker.open_remaining() {
                self.set_breaker_gauge();
                return Err(FplError::CircuitOpen { retry_in });
            }
            let queued = Instant::now();
            let waiting = self.waiting();
            let permit = inner.admission.acquire(priority).await;
            drop(waiting);
            metrics
                .admission_wait
                .with_label_values(&[priority.as_str()])
                .observe(queued.elapsed().as_secs_f64());
            // What is left of the call's time on FPL's account, from now.
            let deadline = Instant::now() + policy.deadline.saturating_sub(spent);
            let mut settled = inner.breaker.settled();
            let ticket = match inner.breaker.try_admit() {
                Ok(ticket) => ticket,
                // Another caller's probe is out. It always completes (see below), within an
                // attempt timeout: wait for it (a deliberate wait), then ask again.
                Err(Refusal::ProbeOut) => {
                    drop(permit);
                    self.set_breaker_gauge();
                    let waited = Instant::now();
                    let waiting = self.waiting();
                    tokio::time::timeout_at(deadline, settled.changed())
                        .await
                        .map_err(|_| FplError::Deadline)?
                        .expect("the breaker outlives its callers");
                    drop(waiting);
                    spent += waited.elapsed();
                    continue;
                }
                Err(refusal) => {
                    self.set_breaker_gauge();
                    return Err(refusal.into());
                }
            };
            self.set_breaker_gauge();

            let sent = Instant::now();
            inner.spend.count(endpoint, priority);
            let (attempt, ticket) = if ticket.is_probe() {
                // The probe is a task of its own, so it is sent and recorded even when this
                // call is dropped (a `try_join!` whose other half failed) or runs out of time.
                let probe = tokio::spawn(self.clone().probe(
                    endpoint,
                    priority,
                    url.clone(),
                    path.to_string(),
                    ticket,
                    permit,
                ));
                match tokio::time::timeout_at(deadline, probe).await {
                    Ok(Ok(attempt)) => (attempt, None),
                    Ok(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Ok(Err(_)) => return Err(FplError::Network("the runtime is stopping".into())),
                    Err(_) => return Err(FplError::Deadline),
                }
            } else {
                let budget = policy
                    .attempt_timeout
                    .min(deadline.saturating_duration_since(Instant::now()));
                let attempt = tokio::time::timeout(budget, self.attempt(&url, path)).await;
                drop(permit);
                let elapsed = sent.elapsed();
                let attempt = match attempt {
                    Ok(attempt) => attempt,
                    // Cut short by the call's deadline, not by a slow answer: not the API's
                    // fault, so the breaker hears nothing.
                    Err(_) if budget < policy.attempt_timeout => {
                        drop(ticket);
                        self.observe(endpoint, priority, None, elapsed);
                        return Err(FplError::Deadline);
                    }
                    Err(_) => Attempt::timed_out(),
                };
                self.observe(endpoint, priority, attempt.status, elapsed);
                (attempt, Some(ticket))
            };
            let elapsed = sent.elapsed();
            spent += elapsed;
            let result = attempt.result.and_then(&decode);
            self.note_answer(&result, attempt.date);
            self.beat();
            tracing::debug!(
                endpoint = endpoint.as_str(),
                path,
                %priority,
                retry,
                status = attempt.status.map(|s| s.as_u16()),
                elapsed_ms = elapsed.as_millis() as u64,
                error = result.as_ref().err().map(tracing::field::display),
                "FPL request"
            );
            if let Some(ticket) = ticket {
                ticket.record(breaker_outcome(&result));
                self.set_breaker_gauge();
            }
            if let Err(FplError::Blocked { .. }) = &result {
                // The challenge lifts after minutes, not seconds: nothing goes out until then.
                inner.breaker.trip(inner.blocked_backoff);
                self.set_breaker_gauge();
                tracing::warn!(
                    endpoint = endpoint.as_str(),
                    path,
                    backoff = %human_duration(inner.blocked_backoff),
                    "FPL's bot protection challenged us: no request until the backoff is over"
                );
                return Err(FplError::Blocked {
                    retry_in: inner.blocked_backoff,
                });
            }

            let error = match result {
                Ok(body) => return Ok(body),
                Err(e) => e,
            };
            if matches!(error, FplError::RateLimited { .. }) || error.is_server_error() {
                inner.admission.report_pressure();
            }
            let Some(reason) = retry_reason(&error) else {
                return Err(error);
            };
            if retry >= policy.max_retries {
                return Err(error);
            }
            let delay = attempt.retry_after.unwrap_or_else(|| self.backoff(retry));
            if spent + delay >= policy.deadline {
                // Waiting would outlast the call: report what the API said, which tells the
                // caller more than "deadline" (a RateLimited carries its Retry-After).
                tracing::warn!(
                    endpoint = endpoint.as_str(),
                    path,
                    reason,
                    delay = %human_duration(delay),
                    "FPL request not retried: the wait would pass the call's deadline"
                );
                return Err(error);
            }
            retry += 1;
            metrics
                .retries
                .with_label_values(&[endpoint.as_str(), reason])
                .inc();
            tracing::warn!(
                endpoint = endpoint.as_str(),
                path,
                reason,
                retry,
                delay = %human_duration(delay),
                %error,
                "retrying FPL request"
            );
            let waiting = self.waiting();
            tokio::time::sleep(delay).await;
            drop(waiting);
            spent += delay;
        }
    }

    /// The half-open probe: one attempt under the full attempt timeout whose outcome is
    /// recorded whatever happens to the call that took it (it runs as a task of its own).
    async fn probe(
        self,
        endpoint: Endpoint,
        priority: Priority,
        url: Url,
        path: String,
        ticket: Ticket,
        permit: Permit,
    ) -> Attempt {
        let sent = Instant::now();
        let attempt =
            tokio::time::timeout(self.inner.policy.attempt_timeout, self.attempt(&url, &path))
                .await
                .unwrap_or_else(|_| Attempt::timed_out());
        drop(permit);
        self.observe(endpoint, priority, attempt.status, sent.elapsed());
        // The caller decodes the body later, if it is still there: judge here whether it came
        // whole, as its decoding would.
        let outcome = match &attempt.result {
            Ok(body)
                if serde_json::from_slice::<serde::de::IgnoredAny>(body)
                    .is_err_and(|e| e.is_eof()) =>
            {
                Outcome::Failure
            }
            result => breaker_outcome(result),
        };
        let state = ticket.record(outcome);
        self.set_breaker_gauge();
        tracing::info!(
            endpoint = endpoint.as_str(),
            path,
            ?outcome,
            ?state,
            "FPL circuit breaker probe"
        );
        attempt
    }

    /// One request: send, read the body, classify.
    async fn attempt(&self, url: &Url, path: &str) -> Attempt {
        let cap = self.inner.policy.retry_after_cap;
        let response = match self.inner.http.get(url.clone()).send().await {
            Ok(r) => r,
            Err(e) => {
                return Attempt {
                    status: None,
                    retry_after: None,
                    date: None,
                    result: Err(if e.is_timeout() {
                        FplError::Timeout
                    } else {
                        FplError::Network(describe(&e))
                    }),
                };
            }
        };
        let status = response.status();
        let retry_after = parse_retry_after(response.headers(), cap);
        let date = response
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok());
        let html = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().contains("text/html"));
        let challenged = response
            .headers()
            .get("cf-mitigated")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("challenge"));
        let body = match response.bytes().await {
            Ok(b) => b,
            // Another status says what it has to say without its body (only the update page's
            // text is looked for, and a 503 is retried anyway).
            Err(_) if !status.is_success() => Bytes::new(),
            // The status line arrived but not the whole body (the connection closed before
            // Content-Length, a chunked or gzip stream ended early).
            Err(e) => {
                return Attempt {
                    status: Some(status),
                    retry_after,
                    date,
                    result: Err(FplError::Truncated {
                        path: path.to_string(),
                        message: describe(&e),
                    }),
                };
            }
        };
        let result = classify(status, html, challenged, body, path, retry_after);
        Attempt {
            status: Some(status),
            retry_after,
            date,
            result,
        }
    }

    /// Full jitter: uniform in [0, min(cap, base × 2^retry)] — spreads the retries of many
    /// callers that failed together instead of sending them back in lockstep.
    fn backoff(&self, retry: u32) -> Duration {
        let p = &self.inner.policy;
        let ceiling = p
            .backoff_base
            .saturating_mul(2u32.saturating_pow(retry.min(16)))
            .min(p.backoff_cap);
        rand::rng().random_range(Duration::ZERO..=ceiling)
    }

    fn observe(
        &self,
        endpoint: Endpoint,
        priority: Priority,
        status: Option<StatusCode>,
        elapsed: Duration,
    ) {
        let class = match status.map(|s| s.as_u16() / 100) {
            Some(2) => "2xx",
            Some(3) => "3xx",
            Some(4) => "4xx",
            Some(5) => "5xx",
            _ => "error",
        };
        let m = &self.inner.metrics;
        m.requests
            .with_label_values(&[endpoint.as_str(), priority.as_str(), class])
            .inc();
        m.request_duration
            .with_label_values(&[endpoint.as_str()])
            .observe(elapsed.as_secs_f64());
    }

    fn set_breaker_gauge(&self) {
        self.inner
            .metrics
            .breaker_state
            .set(self.inner.breaker.state().gauge_value());
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_a_fixed_set_of_endpoint_labels() {
        for (path, label) in [
            ("bootstrap-static/", "bootstrap-static"),
            ("fixtures/?event=38", "fixtures"),
            ("event/38/live/", "event-live"),
            ("event-status/", "event-status"),
            ("entry/123/", "entry"),
            ("entry/123/history/", "entry-history"),
            ("entry/123/event/38/picks/", "entry-picks"),
            ("entry/123/transfers/", "entry-transfers"),
            ("entry/123/cup/", "entry-cup"),
            (
                "leagues-classic/314/standings/?page_standings=2",
                "leagues-classic-standings",
            ),
            ("leagues-h2h/9/standings/", "leagues-h2h-standings"),
            (
                "leagues-h2h-matches/league/9/?page=3",
                "leagues-h2h-matches",
            ),
            ("/element-summary/7/", "element-summary"),
            ("me/", "other"),
        ] {
            assert_eq!(Endpoint::of(path).as_str(), label, "{path}");
        }
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_a_date_and_capped() {
        let cap = Duration::from_secs(60);
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(parse_retry_after(&h, cap), Some(Duration::from_secs(7)));
        h.insert(RETRY_AFTER, "3600".parse().unwrap());
        assert_eq!(parse_retry_after(&h, cap), Some(cap));
        let soon = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        h.insert(RETRY_AFTER, soon.parse().unwrap());
        let wait = parse_retry_after(&h, cap).unwrap();
        assert!(
            wait > Duration::from_secs(27) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        h.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(parse_retry_after(&h, cap), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(parse_retry_after(&h, cap), None);
    }

    #[test]
    fn decode_errors_name_the_field_path_and_position() {
        let body = br#"{"has_next": false, "page": 1, "results": [{"id": "x"}]}"#;
        let err = decode::<H2hMatches>("leagues-h2h-matches/league/1/?page=1", body).unwrap_err();
        let FplError::Decode { path, message } = err else {
            panic!("expected Decode, got {err:?}");
        };
        assert_eq!(path, "leagues-h2h-matches/league/1/?page=1");
        assert!(message.contains("results[0].id"), "{message}");
        assert!(message.contains("line 1 column"), "{message}");
    }

    #[test]
    fn durations_in_error_texts_read_as_people_write_them() {
        for (d, text) in [
            (Duration::from_millis(350), "350 ms"),
            (Duration::from_secs(2), "2 s"),
            (Duration::from_millis(2_540), "2.5 s"),
            (Duration::from_millis(29_980), "30 s"),
            (Duration::from_secs(90), "1 min 30 s"),
            (Duration::from_secs(300), "5 min"),
            (Duration::from_secs(7_500), "2 h 5 min"),
        ] {
            assert_eq!(human_duration(d), text, "{d:?}");
        }
        let limited = FplError::RateLimited {
            retry_after: Some(Duration::from_secs(2)),
        };
        assert_eq!(limited.to_string(), "FPL rate limited us (retry after 2 s)");
        let limited = FplError::RateLimited { retry_after: None };
        assert_eq!(limited.to_string(), "FPL rate limited us");
        let open = FplError::CircuitOpen {
            retry_in: Duration::from_millis(29_123),
        };
        assert_eq!(
            open.to_string(),
            "FPL circuit breaker open (next probe in 29.1 s)"
        );
    }

    #[test]
    fn json_that_ends_early_is_truncated_and_a_complete_mismatch_is_a_decode_error() {
        let whole = br#"{"has_next": false, "page": 1, "results": []}"#;
        let cut = &whole[..whole.len() / 2];
        assert!(matches!(
            decode::<H2hMatches>("p", cut),
            Err(FplError::Truncated { .. })
        ));
        assert!(matches!(
            decode::<H2hMatches>("p", b""),
            Err(FplError::Truncated { .. })
        ));
        assert!(matches!(
            decode::<H2hMatches>("p", br#"{"has_next": false, "page": 1}"#),
            Err(FplError::Decode { .. })
        ));
        assert!(matches!(
            decode::<H2hMatches>("p", br#"{"has_next": false,, "page": 1}"#),
            Err(FplError::Decode { .. })
        ));
    }

    #[test]
    fn full_jitter_backoff_stays_under_its_exponential_ceiling() {
        let mut s = crate::Settings::defaults().fpl;
        s.backoff_base_ms = 100;
        s.backoff_cap_ms = 1000;
        let client = FplClient::new(&s, &Metrics::new()).unwrap();
        for retry in 0..10 {
            let ceiling = Duration::from_millis((100u64 << retry).min(1000));
            for _ in 0..50 {
                assert!(client.backoff(retry) <= ceiling);
            }
        }
    }
}
