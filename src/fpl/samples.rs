//! Genuine FPL API responses from five seasons (copied, gzipped, from the shared sample set),
//! embedded in the binary: the simulator replays them and the tests decode and score them.
//!
//! Names are `<endpoint>/<file>.json`, e.g. `event-live/ayspunk__FPL__live.11ca943.json`.

use std::io::Read;

use flate2::read::GzDecoder;
use serde::de::DeserializeOwned;

/// (name, gzipped JSON) of every embedded sample.
pub static SAMPLES: &[(&str, &[u8])] = &[
    (
        "bootstrap-static/Unholy-smoke__fpl-mirror__bootstrap-static.61d9904.json",
        include_bytes!(
            "samples/bootstrap-static/Unholy-smoke__fpl-mirror__bootstrap-static.61d9904.json.gz"
        ),
    ),
    (
        "bootstrap-static/ayspunk__FPL__bootstrap.11ca943.json",
        include_bytes!("samples/bootstrap-static/ayspunk__FPL__bootstrap.11ca943.json.gz"),
    ),
    (
        "bootstrap-static/fplbot__fplbot__bootstrap-static.json",
        include_bytes!("samples/bootstrap-static/fplbot__fplbot__bootstrap-static.json.gz"),
    ),
    (
        "bootstrap-static/tonglam__letletme_data__bootstrap-static.bbb9999d.json",
        include_bytes!(
            "samples/bootstrap-static/tonglam__letletme_data__bootstrap-static.bbb9999d.json.gz"
        ),
    ),
    (
        "element-summary/cesignon__fpl-data__1.json",
        include_bytes!("samples/element-summary/cesignon__fpl-data__1.json.gz"),
    ),
    (
        "entry-history/cesignon__fpl-data__history.json",
        include_bytes!("samples/entry-history/cesignon__fpl-data__history.json.gz"),
    ),
    (
        "entry-picks/ayspunk__FPL__league-picks.11ca943.json",
        include_bytes!("samples/entry-picks/ayspunk__FPL__league-picks.11ca943.json.gz"),
    ),
    (
        "entry-picks/ayspunk__FPL__picks.11ca943.json",
        include_bytes!("samples/entry-picks/ayspunk__FPL__picks.11ca943.json.gz"),
    ),
    (
        "entry-picks/cesignon__fpl-data__picks-gw6.json",
        include_bytes!("samples/entry-picks/cesignon__fpl-data__picks-gw6.json.gz"),
    ),
    (
        "entry-picks/shariski__fpl-autopilot__picks.json",
        include_bytes!("samples/entry-picks/shariski__fpl-autopilot__picks.json.gz"),
    ),
    (
        "entry/ayspunk__FPL__manager.11ca943.json",
        include_bytes!("samples/entry/ayspunk__FPL__manager.11ca943.json.gz"),
    ),
    (
        "entry/shariski__fpl-autopilot__entry.json",
        include_bytes!("samples/entry/shariski__fpl-autopilot__entry.json.gz"),
    ),
    (
        "event-live/ayspunk__FPL__live.11ca943.json",
        include_bytes!("samples/event-live/ayspunk__FPL__live.11ca943.json.gz"),
    ),
    (
        "event-live/ayspunk__FPL__live.5b1d97c.json",
        include_bytes!("samples/event-live/ayspunk__FPL__live.5b1d97c.json.gz"),
    ),
    (
        "event-live/ayspunk__FPL__live.8349cd6.json",
        include_bytes!("samples/event-live/ayspunk__FPL__live.8349cd6.json.gz"),
    ),
    (
        "event-live/lovegroa__fpl-live-backend__live-gameweek-10-future-empty.json",
        include_bytes!(
            "samples/event-live/lovegroa__fpl-live-backend__live-gameweek-10-future-empty.json.gz"
        ),
    ),
    (
        "event-status/Unholy-smoke__fpl-mirror__event-status.d071d28-preseason.json",
        include_bytes!(
            "samples/event-status/Unholy-smoke__fpl-mirror__event-status.d071d28-preseason.json.gz"
        ),
    ),
    (
        "event-status/Unholy-smoke__fpl-mirror__event-status.json",
        include_bytes!("samples/event-status/Unholy-smoke__fpl-mirror__event-status.json.gz"),
    ),
    (
        "fixtures/ayspunk__FPL__fixtures.11ca943.json",
        include_bytes!("samples/fixtures/ayspunk__FPL__fixtures.11ca943.json.gz"),
    ),
    (
        "fixtures/ayspunk__FPL__fixtures.5b1d97c.json",
        include_bytes!("samples/fixtures/ayspunk__FPL__fixtures.5b1d97c.json.gz"),
    ),
    (
        "fixtures/ayspunk__FPL__fixtures.8349cd6.json",
        include_bytes!("samples/fixtures/ayspunk__FPL__fixtures.8349cd6.json.gz"),
    ),
    (
        "leagues-classic-standings/Unholy-smoke__fpl-mirror__league-standings.json",
        include_bytes!(
            "samples/leagues-classic-standings/Unholy-smoke__fpl-mirror__league-standings.json.gz"
        ),
    ),
];

/// The 2025-26 gameweek-38 snapshots: all matches in play, all finished provisionally, final.
pub mod gw38 {
    pub const BOOTSTRAP: &str = "bootstrap-static/ayspunk__FPL__bootstrap.11ca943.json";
    pub const LIVE_IN_PLAY: &str = "event-live/ayspunk__FPL__live.8349cd6.json";
    pub const LIVE_PROVISIONAL: &str = "event-live/ayspunk__FPL__live.5b1d97c.json";
    pub const LIVE_FINAL: &str = "event-live/ayspunk__FPL__live.11ca943.json";
    pub const FIXTURES_IN_PLAY: &str = "fixtures/ayspunk__FPL__fixtures.8349cd6.json";
    pub const FIXTURES_PROVISIONAL: &str = "fixtures/ayspunk__FPL__fixtures.5b1d97c.json";
    pub const FIXTURES_FINAL: &str = "fixtures/ayspunk__FPL__fixtures.11ca943.json";
    /// A map of entry id to that manager's gameweek-38 picks response, for 72 managers.
    pub const LEAGUE_PICKS: &str = "entry-picks/ayspunk__FPL__league-picks.11ca943.json";
}

#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error("no embedded sample is named `{0}`")]
    Unknown(String),
    #[error("sample `{name}` is not valid gzip: {source}")]
    Gzip {
        name: String,
        #[source]
        source: std::io::Error,
    },
    #[error("sample `{name}` does not decode: {source}")]
    Decode {
        name: String,
        #[source]
        source: serde_json::Error,
    },
}

/// The JSON text of sample `name`.
pub fn json(name: &str) -> Result<String, SampleError> {
    let (_, gz) = SAMPLES
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| SampleError::Unknown(name.to_string()))?;
    let mut text = String::new();
    GzDecoder::new(*gz)
        .read_to_string(&mut text)
        .map_err(|source| SampleError::Gzip {
            name: name.to_string(),
            source,
        })?;
    Ok(text)
}

/// Sample `name` decoded as `T`.
pub fn decode<T: DeserializeOwned>(name: &str) -> Result<T, SampleError> {
    serde_json::from_str(&json(name)?).map_err(|source| SampleError::Decode {
        name: name.to_string(),
        source,
    })
}
