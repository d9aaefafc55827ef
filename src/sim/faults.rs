//! Fault injection per endpoint and request statistics.
//!
//! A [`Fault`] targets one endpoint (`bootstrap-static`, `event-live`, `entry-picks`, …, see
//! [`ENDPOINTS`]) or every one (`*`; an endpoint's own fault wins over `*`). It can combine:
//! added latency; a 5xx error rate; 429 with `Retry-After` every Nth request or at a rate; the
//! 503 "game is being updated" page at a rate; a 200 HTML error page at a rate; Cloudflare's 403
//! challenge at a rate; the previous gameweek's data for event-live and picks at a rate;
//! truncated JSON at a rate; a field removed from the
//! body or added to every object of it (at every depth — top-level keys and row fields alike —
//! or, named by an object-type path such as `elements[].news`, in objects of that type only:
//! schema drift). Rates are drawn from the seed and the request's number, so a run is
//! reproducible request by request.
//!
//! The command line takes `ENDPOINT:KEY[=VALUE][,KEY=VALUE…]`, e.g. `event-live:latency=200`,
//! `*:429=every:3,retry-after=2`, `fixtures:truncate`, `entry-picks:drop=entry_history`,
//! `bootstrap-static:drop=elements[].news`, `bootstrap-static:add=elements[].shirt_colour`,
//! `bootstrap-static:error=0.5,status=502`, `event-status:update=0.2`, `*:html=0.1`,
//! `*:challenge=every` (`challenge=1`), `event-live:wrong-event=1`. The control API takes the
//! same as JSON fields (`{"endpoint":"event-live","latency_ms":200}`) or as `{"spec":"…"}`.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::rng::{bernoulli, hash, label};

/// Endpoint names used by faults and statistics.
pub const ENDPOINTS: [&str; 13] = [
    "bootstrap-static",
    "fixtures",
    "event-live",
    "event-status",
    "entry",
    "entry-history",
    "entry-picks",
    "entry-transfers",
    "entry-cup",
    "leagues-classic",
    "leagues-h2h",
    "leagues-h2h-matches",
    "element-summary",
];

/// Faults of one endpoint (or `*`); unset fields inject nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// An endpoint name of [`ENDPOINTS`], or `*` for all.
    pub endpoint: String,
    /// Added before answering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Share of requests answered with `error_status` (0–1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_rate: Option<f64>,
    /// Status of injected errors (default 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_status: Option<u16>,
    /// Every Nth request is answered 429.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_every: Option<u64>,
    /// Share of requests answered 429 (0–1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_rate: Option<f64>,
    /// `Retry-After` of a 429, seconds (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// Share of requests answered with the 503 update page (0–1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_rate: Option<f64>,
    /// Share of requests answered 200 with an HTML error page instead of JSON (0–1), as FPL's
    /// edge does during incidents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html_rate: Option<f64>,
    /// Share of requests answered 403 with Cloudflare's challenge (`cf-mitigated: challenge`
    /// and its "Just a moment..." page) (0–1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge_rate: Option<f64>,
    /// Share of `event-live` and `entry-picks` requests answered with the previous gameweek's
    /// data (0–1), as FPL does for a short while after a deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrong_event_rate: Option<f64>,
    /// Share of JSON bodies cut in half (0–1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncate_rate: Option<f64>,
    /// A field removed from JSON bodies wherever it appears (`name`), or from the objects of
    /// one type (`elements[].news`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_field: Option<String>,
    /// A field added to every object of JSON bodies (`name`), or to the objects of one type
    /// (`elements[].shirt_colour`); its value is the string `"added by the simulator"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_field: Option<String>,
}

/// A fault that does not parse or names no endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad fault `{spec}`: {reason}")]
pub struct FaultParseError {
    pub spec: String,
    pub reason: String,
}

impl Fault {
    /// Checks the endpoint name and the ranges of the values.
    pub fn validate(&self) -> Result<(), String> {
        if self.endpoint != "*" && !ENDPOINTS.contains(&self.endpoint.as_str()) {
            return Err(format!(
                "unknown endpoint `{}` (one of *, {})",
                self.endpoint,
                ENDPOINTS.join(", ")
            ));
        }
        for (name, rate) in [
            ("error_rate", self.error_rate),
            ("rate_limit_rate", self.rate_limit_rate),
            ("update_rate", self.update_rate),
            ("truncate_rate", self.truncate_rate),
            ("html_rate", self.html_rate),
            ("challenge_rate", self.challenge_rate),
            ("wrong_event_rate", self.wrong_event_rate),
        ] {
            if let Some(r) = rate
                && !(0.0..=1.0).contains(&r)
            {
                return Err(format!("{name} must be within 0..=1, got {r}"));
            }
        }
        if self.rate_limit_every == Some(0) {
            return Err("rate_limit_every must be at least 1".into());
        }
        if let Some(s) = self.error_status
            && !(400..=599).contains(&s)
        {
            return Err(format!("error_status must be 4xx or 5xx, got {s}"));
        }
        Ok(())
    }

    /// Overlays the fields set in `other`.
    fn merge(&mut self, other: Fault) {
        macro_rules! take {
            ($($f:ident),*) => { $( if other.$f.is_some() { self.$f = other.$f; } )* };
        }
        take!(
            latency_ms,
            error_rate,
            error_status,
            rate_limit_every,
            rate_limit_rate,
            retry_after_secs,
            update_rate,
            truncate_rate,
            html_rate,
            challenge_rate,
            wrong_event_rate,
            drop_field,
            add_field
        );
    }
}

impl FromStr for Fault {
    type Err = FaultParseError;

    fn from_str(spec: &str) -> Result<Fault, FaultParseError> {
        let err = |reason: String| FaultParseError {
            spec: spec.to_string(),
            reason,
        };
        let (endpoint, rest) = spec
            .split_once(':')
            .ok_or_else(|| err("expected ENDPOINT:KEY[=VALUE],…".into()))?;
        let mut f = Fault {
            endpoint: endpoint.trim().to_string(),
            ..Fault::default()
        };
        let rate = |v: Option<&str>| -> Result<f64, String> {
            v.map_or(Ok(1.0), |v| {
                v.parse().map_err(|_| format!("`{v}` is not a rate"))
            })
        };
        for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = match part.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (part, None),
            };
            let missing = || format!("`{key}` needs a value");
            let number = |v: Option<&str>| -> Result<u64, String> {
                let v = v.ok_or_else(missing)?;
                v.parse().map_err(|_| format!("`{v}` is not a number"))
            };
            match key {
                "latency" | "latency_ms" => f.latency_ms = Some(number(value).map_err(err)?),
                "error" | "error_rate" => f.error_rate = Some(rate(value).map_err(err)?),
                "status" | "error_status" => {
                    f.error_status = Some(number(value).map_err(err)? as u16)
                }
                "429" | "rate-limit" | "rate_limit" => match value {
                    Some(v) if v.starts_with("every:") => {
                        f.rate_limit_every = Some(number(Some(&v[6..])).map_err(err)?)
                    }
                    v => f.rate_limit_rate = Some(rate(v).map_err(err)?),
                },
                "retry-after" | "retry_after" | "retry_after_secs" => {
                    f.retry_after_secs = Some(number(value).map_err(err)?)
                }
                "update" | "update_rate" => f.update_rate = Some(rate(value).map_err(err)?),
                "truncate" | "truncate_rate" => f.truncate_rate = Some(rate(value).map_err(err)?),
                "html" | "html_rate" => f.html_rate = Some(rate(value).map_err(err)?),
                "challenge" | "challenge_rate" => {
                    f.challenge_rate = Some(rate(value).map_err(err)?)
                }
                "wrong-event" | "wrong_event" | "wrong_event_rate" => {
                    f.wrong_event_rate = Some(rate(value).map_err(err)?)
                }
                "drop" | "drop_field" => {
                    f.drop_field = Some(value.ok_or_else(missing).map_err(err)?.into())
                }
                "add" | "add_field" => {
                    f.add_field = Some(value.ok_or_else(missing).map_err(err)?.into())
                }
                other => return Err(err(format!("unknown fault kind `{other}`"))),
            }
        }
        f.validate().map_err(err)?;
        Ok(f)
    }
}

/// What to do with one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub latency: Option<Duration>,
    pub outcome: Outcome,
    /// Cut the JSON body in half.
    pub truncate: bool,
    /// Serve the previous gameweek's data (event-live and entry-picks).
    pub wrong_event: bool,
    pub drop_field: Option<String>,
    pub add_field: Option<String>,
}

/// The answer a fault imposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Serve,
    Error(u16),
    /// 429 with this `Retry-After`.
    RateLimited(u64),
    /// The 503 update page.
    Updating,
    /// 200 with an HTML error page.
    Html,
    /// 403 with Cloudflare's challenge.
    Challenge,
}

struct Active {
    fault: Fault,
    /// Requests seen since the fault was set.
    count: u64,
}

/// The faults in force.
pub struct Faults {
    seed: u64,
    active: Mutex<BTreeMap<String, Active>>,
}

impl Faults {
    pub fn new(seed: u64, initial: Vec<Fault>) -> Self {
        let faults = Faults {
            seed,
            active: Mutex::new(BTreeMap::new()),
        };
        for f in initial {
            faults.set(f);
        }
        faults
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Active>> {
        self.active.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds `fault`, merged over the endpoint's current one; its counters restart.
    pub fn set(&self, fault: Fault) {
        let mut active = self.lock();
        let endpoint = fault.endpoint.clone();
        let merged = match active.remove(&endpoint) {
            Some(mut old) => {
                old.fault.merge(fault);
                old.fault
            }
            None => fault,
        };
        active.insert(
            endpoint,
            Active {
                fault: merged,
                count: 0,
            },
        );
    }

    /// Removes the fault of `endpoint`, or every fault.
    pub fn clear(&self, endpoint: Option<&str>) {
        let mut active = self.lock();
        match endpoint {
            Some(e) => {
                active.remove(e);
            }
            None => active.clear(),
        }
    }

    pub fn list(&self) -> Vec<Fault> {
        self.lock().values().map(|a| a.fault.clone()).collect()
    }

    /// Counts a request to `endpoint` and decides its fate.
    pub fn decide(&self, endpoint: &str) -> Decision {
        let mut active = self.lock();
        let key = if active.contains_key(endpoint) {
            endpoint
        } else {
            "*"
        };
        let Some(a) = active.get_mut(key) else {
            return Decision {
                latency: None,
                outcome: Outcome::Serve,
                truncate: false,
                wrong_event: false,
                drop_field: None,
                add_field: None,
            };
        };
        a.count += 1;
        let n = a.count;
        let f = &a.fault;
        let stream = |kind: &str| hash(&[self.seed, label(endpoint), label(kind)]);
        let draw =
            |kind: &str, rate: Option<f64>| rate.is_some_and(|r| bernoulli(stream(kind), n, r));
        let outcome = if f.rate_limit_every.is_some_and(|every| n % every == 0)
            || draw("429", f.rate_limit_rate)
        {
            Outcome::RateLimited(f.retry_after_secs.unwrap_or(1))
        } else if draw("challenge", f.challenge_rate) {
            Outcome::Challenge
        } else if draw("update", f.update_rate) {
            Outcome::Updating
        } else if draw("html", f.html_rate) {
            Outcome::Html
        } else if draw("error", f.error_rate) {
            Outcome::Error(f.error_status.unwrap_or(500))
        } else {
            Outcome::Serve
        };
        Decision {
            latency: f.latency_ms.map(Duration::from_millis),
            outcome,
            truncate: draw("truncate", f.truncate_rate),
            wrong_event: draw("wrong_event", f.wrong_event_rate),
            drop_field: f.drop_field.clone(),
            add_field: f.add_field.clone(),
        }
    }
}

/// A field fault's target: `(None, name)` for every object, `(Some(type), name)` for the
/// objects of one type, from `elements[].news` (`[].stats` for the top-level list's rows).
fn target(spec: &str) -> (Option<&str>, &str) {
    match spec.rsplit_once('.') {
        Some((object_type, field)) => (Some(object_type), field),
        None => (None, spec),
    }
}

/// Calls `f` on every object of `v` (whose object-type path is `path`) that `object_type`
/// selects (every object when `None`).
fn each_object(
    v: &mut Value,
    path: &str,
    object_type: Option<&str>,
    f: &mut dyn FnMut(&mut serde_json::Map<String, Value>),
) {
    match v {
        Value::Object(map) => {
            if object_type.is_none_or(|t| t == path) {
                f(map);
            }
            for (k, x) in map.iter_mut() {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                each_object(x, &child, object_type, f);
            }
        }
        Value::Array(items) => {
            let element = format!("{path}[]");
            for x in items {
                each_object(x, &element, object_type, f);
            }
        }
        _ => {}
    }
}

/// Removes field `spec` (a name: at any depth; `type.name`: from objects of that type).
pub fn drop_field(v: &mut Value, spec: &str) {
    let (object_type, field) = target(spec);
    each_object(v, "", object_type, &mut |map| {
        map.remove(field);
    });
}

/// Adds field `spec` (a name: to every object; `type.name`: to the objects of that type).
pub fn add_field(v: &mut Value, spec: &str) {
    let (object_type, field) = target(spec);
    each_object(v, "", object_type, &mut |map| {
        map.insert(field.to_string(), Value::from("added by the simulator"));
    });
}

/// Requests answered, by endpoint and status.
#[derive(Default)]
pub struct Stats {
    counts: Mutex<BTreeMap<String, BTreeMap<u16, u64>>>,
}

impl Stats {
    pub fn record(&self, endpoint: &str, status: u16) {
        let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        *c.entry(endpoint.to_string())
            .or_default()
            .entry(status)
            .or_default() += 1;
    }

    pub fn reset(&self) {
        self.counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// `{"total": N, "endpoints": {"event-live": {"total": 3, "200": 2, "429": 1}}}`.
    pub fn snapshot(&self) -> Value {
        let c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let mut total = 0;
        let endpoints: serde_json::Map<String, Value> = c
            .iter()
            .map(|(endpoint, by_status)| {
                let mut m = serde_json::Map::new();
                let sum: u64 = by_status.values().sum();
                total += sum;
                m.insert("total".into(), sum.into());
                for (status, n) in by_status {
                    m.insert(status.to_string(), (*n).into());
                }
                (endpoint.clone(), Value::Object(m))
            })
            .collect();
        serde_json::json!({ "total": total, "endpoints": endpoints })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_specs_parse_into_fields() {
        let f: Fault = "event-live:latency=200".parse().unwrap();
        assert_eq!(f.latency_ms, Some(200));
        let f: Fault = "*:429=every:3,retry-after=2".parse().unwrap();
        assert_eq!((f.rate_limit_every, f.retry_after_secs), (Some(3), Some(2)));
        let f: Fault = "fixtures:truncate".parse().unwrap();
        assert_eq!(f.truncate_rate, Some(1.0));
        let f: Fault = "entry-picks:drop=entry_history,update=0.25"
            .parse()
            .unwrap();
        assert_eq!(f.drop_field.as_deref(), Some("entry_history"));
        assert_eq!(f.update_rate, Some(0.25));
        let f: Fault = "bootstrap-static:error=0.5,status=502".parse().unwrap();
        assert_eq!((f.error_rate, f.error_status), (Some(0.5), Some(502)));
    }

    #[test]
    fn bad_fault_specs_say_what_is_wrong() {
        for (spec, reason) in [
            ("event-live", "expected ENDPOINT"),
            ("events:latency=1", "unknown endpoint"),
            ("fixtures:slow", "unknown fault kind"),
            ("fixtures:error=2", "within 0..=1"),
            ("fixtures:latency=fast", "not a number"),
            ("fixtures:429=every:0", "at least 1"),
        ] {
            let e = spec.parse::<Fault>().unwrap_err();
            assert!(e.to_string().contains(reason), "{spec}: {e}");
        }
    }

    #[test]
    fn every_nth_request_is_rate_limited_and_the_endpoint_fault_wins_over_star() {
        let faults = Faults::new(
            1,
            vec![
                "*:error=1".parse().unwrap(),
                "fixtures:429=every:3,retry-after=4".parse().unwrap(),
            ],
        );
        let outcomes: Vec<Outcome> = (0..6).map(|_| faults.decide("fixtures").outcome).collect();
        use Outcome::*;
        assert_eq!(
            outcomes,
            vec![Serve, Serve, RateLimited(4), Serve, Serve, RateLimited(4)]
        );
        assert_eq!(faults.decide("entry").outcome, Error(500));
        faults.clear(Some("*"));
        assert_eq!(faults.decide("entry").outcome, Serve);
        faults.clear(None);
        assert!(faults.list().is_empty());
    }

    #[test]
    fn rates_are_reproducible_and_roughly_right() {
        let run = || {
            let f = Faults::new(9, vec!["event-live:update=0.3".parse().unwrap()]);
            (0..1000)
                .filter(|_| f.decide("event-live").outcome == Outcome::Updating)
                .count()
        };
        let n = run();
        assert_eq!(n, run());
        assert!((240..360).contains(&n), "{n}");
    }

    #[test]
    fn setting_a_fault_again_merges_it() {
        let f = Faults::new(1, vec!["event-live:latency=10".parse().unwrap()]);
        f.set("event-live:truncate".parse().unwrap());
        let list = f.list();
        assert_eq!(list.len(), 1);
        assert_eq!(
            (list[0].latency_ms, list[0].truncate_rate),
            (Some(10), Some(1.0))
        );
    }

    #[test]
    fn a_field_of_one_object_type_is_dropped_or_added_there_only() {
        let mut v = serde_json::json!({"id": 1, "rows": [{"id": 2, "x": {"id": 3}}], "keep": 4});
        drop_field(&mut v, "rows[].id");
        assert_eq!(
            v,
            serde_json::json!({"id": 1, "rows": [{"x": {"id": 3}}], "keep": 4})
        );
        add_field(&mut v, "rows[].x.new");
        assert_eq!(v["rows"][0]["x"]["new"], "added by the simulator");
        add_field(&mut v, "top");
        assert_eq!(v["top"], "added by the simulator");
        assert_eq!(v["rows"][0]["top"], "added by the simulator");
        let mut top = serde_json::json!([{"id": 1, "stats": []}]);
        drop_field(&mut top, "[].stats");
        assert_eq!(top, serde_json::json!([{"id": 1}]));
        let f: Fault = "bootstrap-static:add=elements[].shirt".parse().unwrap();
        assert_eq!(f.add_field.as_deref(), Some("elements[].shirt"));
    }

    #[test]
    fn a_dropped_field_is_gone_at_every_depth() {
        let mut v = serde_json::json!({"id": 1, "rows": [{"id": 2, "x": {"id": 3}}], "keep": 4});
        drop_field(&mut v, "id");
        assert_eq!(v, serde_json::json!({"rows": [{"x": {}}], "keep": 4}));
    }
}
