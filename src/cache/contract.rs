#![doc = include_str!("contract.md")]

use super::key::{CacheKey, LiveDataset, MetaDataset, TournamentDataset};

/// The OpenAPI component (`/openapi.json` → `components.schemas`) that describes the value of
/// `key`; `None` for a dataset no job writes yet.
pub fn schema_of(key: CacheKey) -> Option<&'static str> {
    Some(match key {
        CacheKey::Meta(d) => match d {
            MetaDataset::Teams => "DatasetTeams",
            MetaDataset::ElementTypes => "DatasetElementTypes",
            MetaDataset::Phases => "DatasetPhases",
            MetaDataset::Events => "DatasetEvents",
            MetaDataset::Players => "DatasetPlayers",
            MetaDataset::PlayerValues => "DatasetPlayerValues",
            MetaDataset::Fixtures => "DatasetFixtures",
            MetaDataset::EventStatus => return None,
        },
        CacheKey::Live { dataset, .. } => match dataset {
            LiveDataset::Elements => "DatasetLiveElements",
            // The gameweek's fixtures: the same objects as `meta:fixtures`.
            LiveDataset::Fixtures => "DatasetFixtures",
            LiveDataset::Entries(_) => "DatasetLiveEntries",
        },
        CacheKey::Tournament { dataset, .. } => match dataset {
            TournamentDataset::Standings => "DatasetTournamentStandings",
            TournamentDataset::Entries => "DatasetTournamentEntries",
            TournamentDataset::Results => "DatasetTournamentResults",
            TournamentDataset::Stats => return None,
        },
    })
}

/// The key as the document writes it: `live:{event}:entries.{shard}` for every event and shard.
pub fn pattern(key: CacheKey) -> String {
    match key {
        CacheKey::Meta(d) => format!("meta:{}", d.as_str()),
        CacheKey::Live { dataset, .. } => match dataset {
            LiveDataset::Entries(_) => "live:{event}:entries.{shard}".into(),
            other => format!("live:{{event}}:{}", other.as_str()),
        },
        CacheKey::Tournament { dataset, .. } => format!("tournament:{{id}}:{}", dataset.as_str()),
    }
}

/// One key of every dataset (one shard stands for all 64).
pub fn every_dataset() -> Vec<CacheKey> {
    let meta = MetaDataset::ALL.iter().map(|d| CacheKey::Meta(*d));
    let live = [
        LiveDataset::Elements,
        LiveDataset::Fixtures,
        LiveDataset::Entries(0),
    ]
    .into_iter()
    .map(|dataset| CacheKey::Live { event: 1, dataset });
    let tournament = TournamentDataset::ALL
        .iter()
        .map(|d| CacheKey::Tournament { id: 1, dataset: *d });
    meta.chain(live).chain(tournament).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCUMENT: &str = include_str!("contract.md");

    #[test]
    fn the_document_names_every_dataset_with_its_schema_and_class() {
        for key in every_dataset() {
            let pattern = format!("`{}`", pattern(key));
            let row = DOCUMENT
                .lines()
                .find(|l| l.starts_with('|') && l.contains(&pattern))
                .unwrap_or_else(|| panic!("{pattern} is not in the table of contract.md"));
            assert!(
                row.contains(key.class().as_str()),
                "{pattern}: class in {row}"
            );
            match schema_of(key) {
                Some(schema) => assert!(row.contains(schema), "{pattern}: {schema} in {row}"),
                None => assert!(row.contains("not written"), "{pattern}: {row}"),
            }
        }
        for word in [
            "{scope}:rev",
            "cache:invalidate",
            "@{rev}",
            "old_revision_grace_secs",
        ] {
            assert!(DOCUMENT.contains(word), "{word}");
        }
    }
}
