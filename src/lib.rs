//! fplsync keeps Fantasy Premier League data in sync: every job kind runs in its own supervised
//! actor, PostgreSQL is the store of record, Redis the shared cache, and operators steer it
//! through an HTTP control endpoint, a Telegram bot, Prometheus metrics and a supervision log.
//!
//! # Layout
//! Modules are layered; a module imports only from the layers below it (and, inside the job
//! kinds, only from the kinds listed before it). The test at the end of this file holds the
//! code to this list.
//!
//! 1. **Domain**, pure: [`run`] (the run vocabulary: kinds, run ids, statuses, triggers),
//!    [`heartbeat`] (a run's sign of life), [`auth`] (API keys and roles), [`fpl::model`] (the
//!    API's models) and [`fpl::samples`], [`scoring`] (bonus and managers' points),
//!    [`tournament::rules`] and [`tournament::model`].
//! 2. **Settings**: [`config`] (layered settings and their validation), [`telemetry`].
//! 3. **Clients and stores**: [`metrics`] (the registry; each subsystem registers its own
//!    families), [`kv`] (Redis), [`store`] (PostgreSQL: migrations, runs, audit), [`fpl`] (the
//!    resilient FPL client with its admission control and circuit breaker).
//! 4. **Supervision**: [`supervisor`] (OTP-style restarts, backoff, intensity, escalation, the
//!    actor registry and the supervision log), on which every actor below is built.
//! 5. **Alerting**: [`alerts`] (the alert, its sink, rules, Telegram delivery, history, actor).
//! 6. **Cache**: [`cache`] (in-process and Redis tiers, read-through to PostgreSQL; its actor;
//!    the data contract of what it publishes, [`cache::contract`]).
//! 7. **Job runtime**: [`jobs`] (kinds as plain async functions, the pure queue and policy,
//!    the thin job actor, the directory every request goes through, and `jobs::work`: bulk
//!    units shared by every instance through PostgreSQL leases, woken by LISTEN/NOTIFY).
//! 8. **Job kinds**, in this order: [`meta`] (`bootstrap`, `fixtures`), [`prune`],
//!    [`managers`] (tracked managers: picks, official results, live scores), [`live`] (the
//!    `live` snapshot), [`tournament`] (storage, standings, `tournament-roster` pages and
//!    `tournament-results` per tournament as shared units, live league tables), [`entries`]
//!    (the hybrid `entries` job and reads of what it stores), [`finalize`].
//! 9. **Drivers**: [`lifecycle`] (the gameweek state machine and its actor), [`scheduler`]
//!    (cron), [`leader`] (which instance runs them).
//! 10. **Surfaces**: [`http`] (the control endpoint), [`bot`] (the Telegram bot).
//! 11. **Composition**: [`app`] (builds and wires everything: the catalog of kinds, the actor
//!     tree, the listeners between parts that must not know each other), [`sim`] (the FPL
//!     simulator, `fplsync sim`), [`demo`] (the two together, `fplsync demo`).

pub mod alerts;
pub mod app;
pub mod auth;
pub mod bot;
pub mod cache;
pub mod config;
pub mod demo;
pub mod entries;
pub mod finalize;
pub mod fpl;
pub mod heartbeat;
pub mod http;
pub mod jobs;
pub mod kv;
pub mod leader;
pub mod lifecycle;
pub mod live;
pub mod managers;
pub mod meta;
pub mod metrics;
pub mod prune;
pub mod run;
pub mod scheduler;
pub mod scoring;
pub mod sim;
pub mod store;
pub mod supervisor;
pub mod telemetry;
pub mod tournament;

pub use app::{Application, Options, StartError};
pub use config::Settings;

#[cfg(test)]
mod layers {
    //! Every import points down: a module may name only modules of a lower layer, or of its own
    //! module. The ranks are the layout above; a dotted rank orders the job kinds among
    //! themselves.

    use std::path::Path;

    /// Module path prefix → rank. The longest prefix of a module's path decides.
    const RANKS: &[(&str, f32)] = &[
        ("run", 0.0),
        ("heartbeat", 0.0),
        ("auth", 0.0),
        ("fpl::model", 0.0),
        ("fpl::samples", 0.1),
        ("scoring", 0.2),
        ("tournament::rules", 0.3),
        ("tournament::model", 0.4),
        ("config", 1.0),
        ("telemetry", 1.1),
        ("metrics", 2.0),
        ("kv", 2.1),
        ("store", 2.1),
        ("fpl", 2.2),
        ("supervisor", 3.0),
        ("alerts", 4.0),
        ("cache", 5.0),
        ("jobs", 6.0),
        ("meta", 7.0),
        ("prune", 7.0),
        ("managers", 7.1),
        ("live", 7.2),
        ("tournament", 7.3),
        ("entries", 7.4),
        ("finalize", 7.5),
        ("lifecycle", 8.0),
        ("scheduler", 8.0),
        ("leader", 8.0),
        ("http", 9.0),
        ("bot", 9.0),
        ("app", 10.0),
        ("sim", 10.1),
        ("demo", 11.0),
        ("main", 12.0),
        ("lib", 12.0),
    ];

    fn rank(module: &str) -> f32 {
        RANKS
            .iter()
            .filter(|(prefix, _)| module == *prefix || module.starts_with(&format!("{prefix}::")))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, r)| *r)
            .unwrap_or_else(|| panic!("module {module} has no layer: add it to RANKS"))
    }

    /// `src/fpl/model.rs` → `fpl::model`; `src/fpl/mod.rs` → `fpl`.
    fn module_of(path: &Path, src: &Path) -> String {
        let rel = path.strip_prefix(src).unwrap().with_extension("");
        let parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .filter(|p| p != "mod")
            .collect();
        parts.join("::")
    }

    /// The code of a file without its tests and comments: what it imports when it runs.
    fn code(text: &str) -> String {
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        text.lines()
            .map(|l| l.split("//").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Every module path a piece of code names through `crate::` (groups included) or
    /// `super::`, resolved from `module` (whose own directory is `dir_module`).
    fn names(code: &str, dir_module: &str) -> Vec<String> {
        let mut out = Vec::new();
        let word = |s: &str| {
            s.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or_default()
                .trim_end_matches(':')
                .to_string()
        };
        for (i, _) in code.match_indices("crate::") {
            let rest = &code[i + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let inner = &group[..group.find('}').unwrap_or(group.len())];
                out.extend(
                    inner
                        .split(',')
                        .map(|p| word(p.trim()))
                        .filter(|p| !p.is_empty()),
                );
            } else {
                out.push(word(rest));
            }
        }
        for (i, _) in code.match_indices("super::") {
            if code[..i].ends_with("::") {
                continue; // super::super:: is counted from its first segment
            }
            let mut rest = &code[i..];
            let mut base: Vec<&str> = dir_module.split("::").filter(|s| !s.is_empty()).collect();
            while let Some(r) = rest.strip_prefix("super::") {
                base.pop();
                rest = r;
            }
            let name = word(rest);
            if !name.is_empty() && !name.starts_with('{') {
                base.push(&name);
                out.push(base.join("::"));
            }
        }
        out
    }

    fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn no_module_imports_from_a_layer_above_its_own() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut all = Vec::new();
        files(&src, &mut all);
        let mut upward = Vec::new();
        for path in all {
            let module = module_of(&path, &src);
            let top = module.split("::").next().unwrap().to_string();
            // `super::` in a file names siblings: resolve it from the file's own module
            // (mod.rs is its directory's module; `a/b.rs` is inside `a`).
            let is_mod = path.file_stem().is_some_and(|s| s == "mod");
            let dir_module = if is_mod {
                format!("{module}::_")
            } else {
                module.clone()
            };
            let text = std::fs::read_to_string(&path).unwrap();
            let own = rank(&module);
            for name in names(&code(&text), &dir_module) {
                let first = name.split("::").next().unwrap_or_default();
                if first.is_empty() || first == top && rank(&name) <= own {
                    continue;
                }
                // Names that are not modules of the crate (a function `crate::x`) rank as
                // their module does, by the longest known prefix.
                if RANKS
                    .iter()
                    .all(|(p, _)| p.split("::").next() != Some(first))
                {
                    continue;
                }
                let theirs = rank(&name);
                if theirs > own || (theirs == own && first != top) {
                    upward.push(format!(
                        "{module} (layer {own}) names {name} (layer {theirs})"
                    ));
                }
            }
        }
        upward.sort();
        upward.dedup();
        assert!(
            upward.is_empty(),
            "imports that point up or sideways:\n{}",
            upward.join("\n")
        );
    }

    #[test]
    fn the_check_sees_an_upward_import() {
        let code = code(
            "use crate::jobs::JobError;\n// use crate::app::x;\nuse crate::{run, cache::Cache};",
        );
        assert_eq!(
            names(&code, "fpl::client"),
            ["jobs::JobError", "run", "cache::Cache"]
        );
        assert_eq!(
            names("use super::metrics::X;", "fpl::client"),
            ["fpl::metrics::X"]
        );
        assert_eq!(names("use super::X;", "fpl::_"), ["fpl::X"]);
        assert!(rank("jobs::JobError") > rank("fpl::client"));
        assert!(rank("fpl::model") < rank("scoring"));
    }
}
