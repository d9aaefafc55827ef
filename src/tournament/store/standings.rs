//! The standings recomputed from every stored gameweek: group tables, qualification, the
//! bracket and its legs, and the standings document they make.

use std::collections::HashMap;

use bytes::Bytes;
use serde_json::{Value, json};
use sqlx::{PgPool, Postgres, Transaction};

use super::TournamentError;
use crate::cache::TournamentDataset;
use crate::fpl::model::EntryId;
use crate::store::StoreError;
use crate::tournament::model::{GroupStage, TournamentId, TournamentRow};
use crate::tournament::rules::{self, LegScore, Seed};

/// Group table rows for one UNNEST insert: played, won, drawn, lost, points, for, against.
#[derive(Default)]
pub(super) struct StandingColumns {
    group: Vec<i32>,
    entry: Vec<i64>,
    rank: Vec<i32>,
    counts: [Vec<i64>; 7],
}

/// Battle race fixture scores for one UNNEST update.
#[derive(Default)]
pub(super) struct FixtureScores {
    event: Vec<i32>,
    home: Vec<i64>,
    home_points: Vec<Option<i32>>,
    away_points: Vec<Option<i32>>,
}

/// A roster entry as recompute reads it.
#[derive(sqlx::FromRow)]
pub(super) struct Member {
    entry_id: i64,
    name: Option<String>,
    player_name: Option<String>,
    overall_rank: Option<i64>,
    group_no: Option<i32>,
}

pub(super) async fn processed_events(
    tx: &mut Transaction<'_, Postgres>,
    id: TournamentId,
) -> Result<Vec<u16>, TournamentError> {
    let events: Vec<i32> = sqlx::query_scalar(
        "SELECT event_id FROM tournament_events WHERE tournament_id = $1 ORDER BY event_id",
    )
    .bind(id.0)
    .fetch_all(&mut **tx)
    .await?;
    Ok(events.into_iter().map(|e| e as u16).collect())
}

/// Recomputes group tables, qualification and the bracket from every stored gameweek, and
/// stores them with the standings document. Deterministic: the same stored statistics always
/// give the same standings, whatever order gameweeks were processed in.
pub(super) async fn recompute(
    tx: &mut Transaction<'_, Postgres>,
    row: &TournamentRow,
) -> Result<(), TournamentError> {
    let id = row.id();
    let members: Vec<Member> = sqlx::query_as(
        "SELECT entry_id, name, player_name, overall_rank, seed, group_no \
             FROM tournament_entries WHERE tournament_id = $1 ORDER BY seed NULLS LAST, entry_id",
    )
    .bind(id.0)
    .fetch_all(&mut **tx)
    .await?;
    let names: HashMap<i64, (Option<String>, Option<String>)> = members
        .iter()
        .map(|m| (m.entry_id, (m.name.clone(), m.player_name.clone())))
        .collect();
    let stats: HashMap<(u64, u16), LegScore> = sqlx::query_as::<_, (i64, i32, i32, i32, i32)>(
        "SELECT entry_id, event_id, net_points, goals_scored, goals_conceded \
         FROM tournament_entry_stats WHERE tournament_id = $1",
    )
    .bind(id.0)
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .map(|(e, ev, net, gs, gc)| {
        let s = LegScore {
            net_points: net,
            goals_scored: gs,
            goals_conceded: gc,
        };
        ((e as u64, ev as u16), s)
    })
    .collect();
    let net = |e: EntryId, ev: u16| stats.get(&(e.0, ev)).map(|s| s.net_points);
    let done = processed_events(tx, id).await?;
    let seed = |m: &Member| Seed {
        entry: EntryId(m.entry_id as u64),
        overall_rank: m.overall_rank.map(|r| r as u64),
    };
    let with_names = |mut v: Value| {
        let entry = v["entry"].as_i64().unwrap_or(0);
        if let (Some(obj), Some((name, player))) = (v.as_object_mut(), names.get(&entry)) {
            obj.insert("name".into(), json!(name));
            obj.insert("player_name".into(), json!(player));
        }
        v
    };

    sqlx::query("DELETE FROM tournament_group_standings WHERE tournament_id = $1")
        .bind(id.0)
        .execute(&mut **tx)
        .await?;
    let stage = row.group_stage();
    let mut rows = StandingColumns::default();
    let mut group_docs = Vec::new();
    let mut qualifiers = Vec::new();
    let group_complete = stage
        .spec()
        .is_none_or(|g| g.events().iter().all(|e| done.contains(e)));
    if let Some(g) = stage.spec() {
        for group in 1..=g.groups as i32 {
            let ms: Vec<Seed> = members
                .iter()
                .filter(|m| m.group_no == Some(group))
                .map(seed)
                .collect();
            // (entry, rank, played, won, drawn, lost, points, for, against, row json)
            let mut table: Vec<(i64, i32, [i64; 7], Value)> = Vec::new();
            let mut fixtures_doc = Vec::new();
            match stage {
                GroupStage::PointsRace { .. } => {
                    for r in rules::points_race(&ms, &g.events(), net) {
                        let v = serde_json::to_value(&r).unwrap_or_default();
                        table.push((
                            r.entry.0 as i64,
                            r.rank as i32,
                            [r.played as i64, 0, 0, 0, r.points, r.points, 0],
                            v,
                        ));
                    }
                }
                _ => {
                    let fixtures: Vec<rules::GroupFixture> = sqlx::query_as::<_, (i32, i64, i64)>(
                        "SELECT event_id, home_entry, away_entry FROM tournament_group_fixtures \
                         WHERE tournament_id = $1 AND group_no = $2 ORDER BY event_id, home_entry",
                    )
                    .bind(id.0)
                    .bind(group)
                    .fetch_all(&mut **tx)
                    .await?
                    .into_iter()
                    .map(|(ev, h, a)| rules::GroupFixture {
                        event: ev as u16,
                        home: EntryId(h as u64),
                        away: EntryId(a as u64),
                    })
                    .collect();
                    let mut scores = FixtureScores::default();
                    for f in &fixtures {
                        let (h, a) = (net(f.home, f.event), net(f.away, f.event));
                        let scored = rules::score_battle(h, a);
                        scores.event.push(i32::from(f.event));
                        scores.home.push(f.home.0 as i64);
                        scores.home_points.push(scored.map(|s| i32::from(s.0)));
                        scores.away_points.push(scored.map(|s| i32::from(s.1)));
                        fixtures_doc.push(json!({
                            "event": f.event, "home": f.home, "away": f.away,
                            "home_net": h, "away_net": a,
                            "home_points": scored.map(|s| s.0), "away_points": scored.map(|s| s.1),
                        }));
                    }
                    sqlx::query(
                        "UPDATE tournament_group_fixtures f SET home_points = u.hp, \
                         away_points = u.ap FROM UNNEST($2::int[], $3::bigint[], $4::int[], \
                         $5::int[]) AS u(ev, h, hp, ap) WHERE f.tournament_id = $1 \
                         AND f.event_id = u.ev AND f.home_entry = u.h",
                    )
                    .bind(id.0)
                    .bind(&scores.event)
                    .bind(&scores.home)
                    .bind(&scores.home_points)
                    .bind(&scores.away_points)
                    .execute(&mut **tx)
                    .await?;
                    for r in rules::battle_table(&ms, &fixtures, net) {
                        let v = serde_json::to_value(&r).unwrap_or_default();
                        let nums = [
                            r.played as i64,
                            r.won as i64,
                            r.drawn as i64,
                            r.lost as i64,
                            r.points,
                            r.points_for,
                            r.points_against,
                        ];
                        table.push((r.entry.0 as i64, r.rank as i32, nums, v));
                    }
                }
            }
            for (entry, rank, n, _) in &table {
                rows.group.push(group);
                rows.entry.push(*entry);
                rows.rank.push(*rank);
                rows.counts.iter_mut().zip(n).for_each(|(c, n)| c.push(*n));
                if (*rank as u32) <= g.qualifiers_per_group {
                    let m = members.iter().find(|m| m.entry_id == *entry);
                    qualifiers.push(rules::Qualifier {
                        entry: EntryId(*entry as u64),
                        group: group as u32,
                        group_rank: *rank as u32,
                        overall_rank: m.and_then(|m| m.overall_rank).map(|r| r as u64),
                    });
                }
            }
            group_docs.push(json!({
                "group": group,
                "rows": table.into_iter().map(|t| with_names(t.3)).collect::<Vec<_>>(),
                "fixtures": fixtures_doc,
            }));
        }
    }

    sqlx::query(
        "INSERT INTO tournament_group_standings (tournament_id, group_no, entry_id, rank, played, \
         won, drawn, lost, points, points_for, points_against) \
         SELECT $1, u.g, u.e, u.r, u.p, u.w, u.d, u.l, u.pts, u.f, u.a FROM UNNEST($2::int[], \
         $3::bigint[], $4::int[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], \
         $9::bigint[], $10::bigint[], $11::bigint[]) AS u(g, e, r, p, w, d, l, pts, f, a)",
    )
    .bind(id.0)
    .bind(&rows.group)
    .bind(&rows.entry)
    .bind(&rows.rank)
    .bind(&rows.counts[0])
    .bind(&rows.counts[1])
    .bind(&rows.counts[2])
    .bind(&rows.counts[3])
    .bind(&rows.counts[4])
    .bind(&rows.counts[5])
    .bind(&rows.counts[6])
    .execute(&mut **tx)
    .await?;

    sqlx::query("DELETE FROM tournament_knockout_legs WHERE tournament_id = $1")
        .bind(id.0)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM tournament_knockout_matches WHERE tournament_id = $1")
        .bind(id.0)
        .execute(&mut **tx)
        .await?;
    let knockout = row.knockout();
    let knockout_doc = match knockout.first_event() {
        None => json!({"mode": "none"}),
        Some(first) => {
            // The bracket waits for the group stage it depends on.
            let entrants: Option<Vec<EntryId>> = match stage.spec() {
                None => Some(members.iter().map(|m| EntryId(m.entry_id as u64)).collect()),
                Some(_) if group_complete => Some(
                    rules::qualification_order(qualifiers.clone())
                        .into_iter()
                        .map(|q| q.entry)
                        .collect(),
                ),
                Some(_) => None,
            };
            match entrants {
                None => json!({
                    "mode": knockout.mode(),
                    "waiting_for_group_stage": true,
                    "rounds": [],
                }),
                Some(entrants) => {
                    let first_round = rules::first_round(&entrants);
                    let events = rules::round_events(
                        first,
                        rules::knockout_rounds(entrants.len()),
                        knockout.legs(),
                    );
                    let lookup = |e: EntryId, ev: u16| stats.get(&(e.0, ev)).copied();
                    let bracket = rules::resolve_bracket(&first_round, &events, lookup);
                    store_bracket(tx, id, &bracket).await?;
                    let champion = bracket
                        .last()
                        .and_then(|r| r.first())
                        .and_then(|m| m.winner);
                    json!({
                        "mode": knockout.mode(),
                        "waiting_for_group_stage": false,
                        "size": rules::bracket_size(entrants.len()),
                        "seeds": entrants,
                        "rounds": bracket.iter().zip(&events).enumerate().map(|(i, (matches, evs))| json!({
                            "round": i + 1,
                            "events": evs,
                            "matches": matches,
                        })).collect::<Vec<_>>(),
                        "champion": champion,
                    })
                }
            }
        }
    };
    let doc = json!({
        "tournament": id.0,
        "name": row.name,
        "processed_events": done,
        "group_stage": {
            "mode": stage.mode(),
            "complete": group_complete,
            "groups": group_docs,
        },
        "knockout": knockout_doc,
    });
    sqlx::query("UPDATE tournaments SET standings = $2, updated_at = now() WHERE id = $1")
        .bind(id.0)
        .bind(doc)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(super) async fn store_bracket(
    tx: &mut Transaction<'_, Postgres>,
    id: TournamentId,
    bracket: &[Vec<rules::KnockoutMatch>],
) -> Result<(), TournamentError> {
    let decided = |d: Option<rules::Decided>| {
        d.and_then(|d| serde_json::to_value(d).ok())
            .and_then(|v| v.as_str().map(str::to_string))
    };
    let id64 = |e: Option<EntryId>| e.map(|e| e.0 as i64);
    let matches: Vec<&rules::KnockoutMatch> = bracket.iter().flatten().collect();
    let col = |f: &dyn Fn(&rules::KnockoutMatch) -> Option<i64>| -> Vec<Option<i64>> {
        matches.iter().map(|m| f(m)).collect()
    };
    let rounds: Vec<i32> = matches.iter().map(|m| m.round as i32).collect();
    let slots: Vec<i32> = matches.iter().map(|m| m.slot as i32).collect();
    let decided_by: Vec<Option<String>> = matches.iter().map(|m| decided(m.decided_by)).collect();
    sqlx::query(
        "INSERT INTO tournament_knockout_matches (tournament_id, round, slot, home_entry, \
         away_entry, winner, decided_by) SELECT $1, u.r, u.s, u.h, u.a, u.w, u.d \
         FROM UNNEST($2::int[], $3::int[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[]) \
         AS u(r, s, h, a, w, d)",
    )
    .bind(id.0)
    .bind(&rounds)
    .bind(&slots)
    .bind(col(&|m| id64(m.home)))
    .bind(col(&|m| id64(m.away)))
    .bind(col(&|m| id64(m.winner)))
    .bind(&decided_by)
    .execute(&mut **tx)
    .await?;
    let legs: Vec<(&rules::KnockoutMatch, usize, &rules::KnockoutLeg)> = matches
        .iter()
        .flat_map(|m| m.legs.iter().enumerate().map(move |(i, l)| (*m, i, l)))
        .collect();
    let score = |f: &dyn Fn(&rules::KnockoutLeg) -> Option<i32>| -> Vec<Option<i32>> {
        legs.iter().map(|(_, _, l)| f(l)).collect()
    };
    sqlx::query(
        "INSERT INTO tournament_knockout_legs (tournament_id, round, slot, leg, event_id, \
         home_net, away_net, home_goals, away_goals, home_conceded, away_conceded, winner, \
         decided_by) SELECT $1, u.r, u.s, u.l, u.ev, u.hn, u.an, u.hg, u.ag, u.hc, u.ac, u.w, u.d \
         FROM UNNEST($2::int[], $3::int[], $4::int[], $5::int[], $6::int[], $7::int[], \
         $8::int[], $9::int[], $10::int[], $11::int[], $12::bigint[], $13::text[]) \
         AS u(r, s, l, ev, hn, an, hg, ag, hc, ac, w, d)",
    )
    .bind(id.0)
    .bind(
        legs.iter()
            .map(|(m, _, _)| m.round as i32)
            .collect::<Vec<_>>(),
    )
    .bind(
        legs.iter()
            .map(|(m, _, _)| m.slot as i32)
            .collect::<Vec<_>>(),
    )
    .bind(
        legs.iter()
            .map(|(_, i, _)| *i as i32 + 1)
            .collect::<Vec<_>>(),
    )
    .bind(
        legs.iter()
            .map(|(_, _, l)| i32::from(l.event))
            .collect::<Vec<_>>(),
    )
    .bind(score(&|l| l.home.map(|s| s.net_points)))
    .bind(score(&|l| l.away.map(|s| s.net_points)))
    .bind(score(&|l| l.home.map(|s| s.goals_scored)))
    .bind(score(&|l| l.away.map(|s| s.goals_scored)))
    .bind(score(&|l| l.home.map(|s| s.goals_conceded)))
    .bind(score(&|l| l.away.map(|s| s.goals_conceded)))
    .bind(
        legs.iter()
            .map(|(_, _, l)| id64(l.winner))
            .collect::<Vec<_>>(),
    )
    .bind(
        legs.iter()
            .map(|(_, _, l)| decided(l.decided_by))
            .collect::<Vec<_>>(),
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A tournament dataset as JSON, from PostgreSQL: what the cache serves and reloads.
pub async fn load(
    db: &PgPool,
    id: u64,
    dataset: TournamentDataset,
) -> Result<Option<Bytes>, StoreError> {
    let Ok(id) = i64::try_from(id) else {
        return Ok(None);
    };
    let sql = match dataset {
        TournamentDataset::Standings => "SELECT standings::text FROM tournaments WHERE id = $1",
        TournamentDataset::Entries => {
            "SELECT json_agg(json_build_object('entry', entry_id, 'name', name, 'player_name', \
             player_name, 'league_rank', league_rank, 'overall_rank', overall_rank, 'seed', seed, \
             'group', group_no) ORDER BY seed NULLS LAST, entry_id)::text \
             FROM tournament_entries WHERE tournament_id = $1"
        }
        // The latest processed gameweek's statistics of every entry, with its cup match.
        TournamentDataset::Results => {
            "SELECT json_agg(json_build_object('entry', s.entry_id, 'event', s.event_id, \
             'points', s.points, 'transfers_cost', s.transfers_cost, 'net_points', s.net_points, \
             'captain_points', s.captain_points, 'bench_points', s.bench_points, \
             'autosub_points', s.autosub_points, 'goals_scored', s.goals_scored, \
             'goals_conceded', s.goals_conceded, 'active_chip', s.active_chip, \
             'cup', (SELECT json_build_object('opponent', c.opponent, 'score', c.score, \
                     'opponent_score', c.opponent_score, 'won', c.won) \
                     FROM tournament_cup_results c WHERE c.tournament_id = s.tournament_id \
                     AND c.entry_id = s.entry_id AND c.event_id = s.event_id)) \
             ORDER BY s.entry_id)::text FROM tournament_entry_stats s \
             WHERE s.tournament_id = $1 AND s.event_id = (SELECT max(event_id) \
             FROM tournament_entry_stats WHERE tournament_id = $1)"
        }
        TournamentDataset::Stats => return Ok(None),
    };
    let text: Option<Option<String>> = sqlx::query_scalar(sql).bind(id).fetch_optional(db).await?;
    Ok(text.flatten().map(Bytes::from))
}
