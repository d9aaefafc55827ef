//! Typed cache keys and data classes: what can be cached, under which name, and for how long.
//!
//! A [`CacheKey`] is one of three families, each rendered (under `redis.prefix`) the same way in
//! logs, configuration, invalidation messages and Redis:
//!
//! | family | rendered | scope (unit of atomic replacement) |
//! |---|---|---|
//! | [`CacheKey::Meta`] | `meta:{dataset}` | `meta` |
//! | [`CacheKey::Live`] | `live:{event}:{dataset}` | `live:{event}` |
//! | [`CacheKey::Tournament`] | `tournament:{id}:{dataset}` | `tournament:{id}` |
//!
//! Every key knows its [`DataClass`], and the class its TTL ([`ClassTtls`], from `[cache.ttl_secs]`).
//! Datasets are enums, so a key that does not exist cannot be written; strings appear only at the
//! edges (configuration, the invalidation channel), parsed by [`CacheKey::from_str`].

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::config::CacheTtlSettings;

/// How fast a kind of data goes stale, and so how long it is cached (the design's caching
/// classes, see the FPL domain guide).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataClass {
    /// Live match data (points, minutes, bonus) during a gameweek.
    Live,
    /// Player prices and the player list that carries them.
    PlayerValues,
    /// Gameweek status: deadlines, current/finished flags, fixtures' state.
    EventStatus,
    /// League standings.
    Standings,
    /// Tournament statistics and results.
    TournamentStats,
    /// Entries (managers) and their updates.
    Entries,
    /// Data that rarely changes: teams, positions, phases, finished seasons.
    Historical,
}

impl DataClass {
    pub const ALL: [DataClass; 7] = [
        DataClass::Live,
        DataClass::PlayerValues,
        DataClass::EventStatus,
        DataClass::Standings,
        DataClass::TournamentStats,
        DataClass::Entries,
        DataClass::Historical,
    ];

    /// The name used in configuration (`cache.ttl_secs.<name>`) and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            DataClass::Live => "live",
            DataClass::PlayerValues => "player_values",
            DataClass::EventStatus => "event_status",
            DataClass::Standings => "standings",
            DataClass::TournamentStats => "tournament_stats",
            DataClass::Entries => "entries",
            DataClass::Historical => "historical",
        }
    }

    /// Position in [`DataClass::ALL`], for per-class tables.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for DataClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// TTL of every data class, from `[cache.ttl_secs]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassTtls([Duration; 7]);

impl ClassTtls {
    pub fn new(s: &CacheTtlSettings) -> Self {
        let secs = [
            s.live,
            s.player_values,
            s.event_status,
            s.standings,
            s.tournament_stats,
            s.entries,
            s.historical,
        ];
        ClassTtls(secs.map(Duration::from_secs))
    }

    pub fn of(&self, class: DataClass) -> Duration {
        self.0[class.index()]
    }

    /// The longest TTL of any class: how long a revision pointer outlives its last write.
    pub fn longest(&self) -> Duration {
        self.0.iter().copied().max().unwrap_or_default()
    }
}

macro_rules! datasets {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal, $class:ident;)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            pub fn class(self) -> DataClass {
                match self {
                    $($name::$variant => DataClass::$class,)+
                }
            }

            fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|d| d.as_str() == s)
            }
        }
    };
}

datasets! {
    /// Season metadata, written by the meta jobs (bootstrap, fixtures).
    MetaDataset {
        Teams => "teams", Historical;
        ElementTypes => "element_types", Historical;
        Phases => "phases", Historical;
        /// Gameweeks: deadlines and current/next/finished flags change around deadlines.
        Events => "events", EventStatus;
        /// Players carry their price, hence the player-values class.
        Players => "players", PlayerValues;
        /// The daily price snapshot.
        PlayerValues => "player_values", PlayerValues;
        Fixtures => "fixtures", EventStatus;
        /// The FPL event-status document (bonus and league processing).
        EventStatus => "event_status", EventStatus;
    }
}

/// Live data of one gameweek.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LiveDataset {
    /// Per-player live stats.
    Elements,
    /// The gameweek's fixtures with live scores.
    Fixtures,
    /// Live scores of the tracked managers whose entry id is this shard modulo
    /// [`LiveDataset::ENTRY_SHARDS`]: a reader of one manager reads one shard.
    Entries(u8),
}

impl LiveDataset {
    /// Shards of the managers' live scores.
    pub const ENTRY_SHARDS: u8 = 64;

    /// Every dataset, every shard included.
    pub fn all() -> impl Iterator<Item = LiveDataset> {
        [LiveDataset::Elements, LiveDataset::Fixtures]
            .into_iter()
            .chain((0..Self::ENTRY_SHARDS).map(LiveDataset::Entries))
    }

    /// The shard holding `entry`'s live score.
    pub fn entries_of(entry: u64) -> LiveDataset {
        LiveDataset::Entries((entry % u64::from(Self::ENTRY_SHARDS)) as u8)
    }

    pub fn as_str(self) -> Cow<'static, str> {
        match self {
            LiveDataset::Elements => Cow::Borrowed("elements"),
            LiveDataset::Fixtures => Cow::Borrowed("fixtures"),
            LiveDataset::Entries(shard) => Cow::Owned(format!("entries.{shard}")),
        }
    }

    pub fn class(self) -> DataClass {
        DataClass::Live
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "elements" => Some(LiveDataset::Elements),
            "fixtures" => Some(LiveDataset::Fixtures),
            _ => {
                let shard: u8 = s.strip_prefix("entries.")?.parse().ok()?;
                (shard < Self::ENTRY_SHARDS).then_some(LiveDataset::Entries(shard))
            }
        }
    }
}

datasets! {
    /// Data of one tournament (a league followed by the service).
    TournamentDataset {
        Standings => "standings", Standings;
        Entries => "entries", Entries;
        Results => "results", TournamentStats;
        Stats => "stats", TournamentStats;
    }
}

/// A key family: each has its own loader (see [`Loaders`](super::Loaders)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    Meta,
    Live,
    Tournament,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Meta => "meta",
            Family::Live => "live",
            Family::Tournament => "tournament",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of keys replaced together: a `Put` of several keys of one scope is one revision of it,
/// and a read of several keys of one scope sees one revision (see the module doc of
/// [`cache`](super)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Meta,
    Live(u32),
    Tournament(u64),
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Meta => f.write_str("meta"),
            Scope::Live(event) => write!(f, "live:{event}"),
            Scope::Tournament(id) => write!(f, "tournament:{id}"),
        }
    }
}

/// A typed cache key. Renders as `meta:{dataset}`, `live:{event}:{dataset}` or
/// `tournament:{id}:{dataset}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CacheKey {
    Meta(MetaDataset),
    Live { event: u32, dataset: LiveDataset },
    Tournament { id: u64, dataset: TournamentDataset },
}

impl CacheKey {
    pub fn class(self) -> DataClass {
        match self {
            CacheKey::Meta(d) => d.class(),
            CacheKey::Live { dataset, .. } => dataset.class(),
            CacheKey::Tournament { dataset, .. } => dataset.class(),
        }
    }

    pub fn family(self) -> Family {
        match self {
            CacheKey::Meta(_) => Family::Meta,
            CacheKey::Live { .. } => Family::Live,
            CacheKey::Tournament { .. } => Family::Tournament,
        }
    }

    pub fn scope(self) -> Scope {
        match self {
            CacheKey::Meta(_) => Scope::Meta,
            CacheKey::Live { event, .. } => Scope::Live(event),
            CacheKey::Tournament { id, .. } => Scope::Tournament(id),
        }
    }

    /// The key's name within its scope (its dataset).
    pub fn member(self) -> Cow<'static, str> {
        match self {
            CacheKey::Meta(d) => Cow::Borrowed(d.as_str()),
            CacheKey::Live { dataset, .. } => dataset.as_str(),
            CacheKey::Tournament { dataset, .. } => Cow::Borrowed(dataset.as_str()),
        }
    }

    /// The key as Redis names it: `prefix` + the rendered key.
    pub fn render(self, prefix: &str) -> String {
        format!("{prefix}{self}")
    }
}

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.scope(), self.member())
    }
}

/// Why a string is not a cache key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a cache key (meta:{{dataset}}, live:{{event}}:{{dataset}} or \
     tournament:{{id}}:{{dataset}}, with a known dataset)"
)]
pub struct BadKey(pub String);

impl FromStr for CacheKey {
    type Err = BadKey;

    fn from_str(s: &str) -> Result<Self, BadKey> {
        let parts: Vec<&str> = s.split(':').collect();
        let parse = || match parts.as_slice() {
            ["meta", d] => MetaDataset::parse(d).map(CacheKey::Meta),
            ["live", event, d] => Some(CacheKey::Live {
                event: event.parse().ok().filter(|e| *e > 0)?,
                dataset: LiveDataset::parse(d)?,
            }),
            ["tournament", id, d] => Some(CacheKey::Tournament {
                id: id.parse().ok()?,
                dataset: TournamentDataset::parse(d)?,
            }),
            _ => None,
        };
        parse().ok_or_else(|| BadKey(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_key() -> Vec<CacheKey> {
        let meta = MetaDataset::ALL.iter().map(|d| CacheKey::Meta(*d));
        let live = LiveDataset::all().map(|dataset| CacheKey::Live { event: 38, dataset });
        let tournament = TournamentDataset::ALL.iter().map(|d| CacheKey::Tournament {
            id: 314,
            dataset: *d,
        });
        meta.chain(live).chain(tournament).collect()
    }

    #[test]
    fn cache_keys_render_in_their_three_families_and_parse_back() {
        assert_eq!(CacheKey::Meta(MetaDataset::Teams).to_string(), "meta:teams");
        assert_eq!(
            CacheKey::Meta(MetaDataset::ElementTypes).to_string(),
            "meta:element_types"
        );
        let live = CacheKey::Live {
            event: 7,
            dataset: LiveDataset::Elements,
        };
        assert_eq!(live.to_string(), "live:7:elements");
        let t = CacheKey::Tournament {
            id: 12,
            dataset: TournamentDataset::Standings,
        };
        assert_eq!(t.to_string(), "tournament:12:standings");
        assert_eq!(t.render("fplsync:"), "fplsync:tournament:12:standings");
        for key in every_key() {
            assert_eq!(key.to_string().parse::<CacheKey>(), Ok(key));
        }
    }

    #[test]
    fn strings_that_are_not_keys_are_refused_with_the_expected_forms() {
        for bad in [
            "",
            "meta",
            "meta:nope",
            "meta:teams:1",
            "live:x:elements",
            "live:0:elements",
            "live:3",
            "tournament:1:nope",
            "other:teams",
        ] {
            let err = bad.parse::<CacheKey>().unwrap_err();
            assert!(err.to_string().contains("live:{event}:{dataset}"), "{err}");
        }
    }

    #[test]
    fn every_key_knows_its_class_and_scope() {
        assert_eq!(
            CacheKey::Meta(MetaDataset::Teams).class(),
            DataClass::Historical
        );
        assert_eq!(
            CacheKey::Meta(MetaDataset::Players).class(),
            DataClass::PlayerValues
        );
        assert_eq!(
            CacheKey::Meta(MetaDataset::Events).class(),
            DataClass::EventStatus
        );
        let live = CacheKey::Live {
            event: 3,
            dataset: LiveDataset::Fixtures,
        };
        assert_eq!(
            (live.class(), live.scope()),
            (DataClass::Live, Scope::Live(3))
        );
        let t = |dataset| CacheKey::Tournament { id: 9, dataset };
        assert_eq!(
            t(TournamentDataset::Standings).class(),
            DataClass::Standings
        );
        assert_eq!(t(TournamentDataset::Entries).class(), DataClass::Entries);
        assert_eq!(
            t(TournamentDataset::Results).class(),
            DataClass::TournamentStats
        );
        assert_eq!(
            t(TournamentDataset::Stats).scope().to_string(),
            "tournament:9"
        );
    }

    #[test]
    fn ttls_come_from_configuration_per_class() {
        let settings = CacheTtlSettings {
            live: 60,
            player_values: 300,
            event_status: 120,
            standings: 900,
            tournament_stats: 1800,
            entries: 600,
            historical: 3600,
        };
        let ttls = ClassTtls::new(&settings);
        let secs: Vec<u64> = DataClass::ALL
            .iter()
            .map(|c| ttls.of(*c).as_secs())
            .collect();
        assert_eq!(secs, [60, 300, 120, 900, 1800, 600, 3600]);
        assert_eq!(ttls.longest(), Duration::from_secs(3600));
    }
}
