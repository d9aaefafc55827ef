//! Configuration from a file layered over the defaults.

use std::io::Write;

use fplsync::Settings;

#[test]
fn a_config_file_overrides_the_defaults_and_keeps_the_rest() {
    let mut file = tempfile();
    writeln!(
        file.1,
        "[http]\nbind = \"0.0.0.0:9999\"\n[scheduler.jobs]\nprune = \"0 0 5 * * *\""
    )
    .unwrap();
    let s = Settings::load(Some(&file.0)).unwrap();
    assert_eq!(s.http.bind, "0.0.0.0:9999");
    assert_eq!(s.http.workers, 2);
    assert_eq!(s.scheduler.jobs["prune"], "0 0 5 * * *");
    std::fs::remove_file(&file.0).unwrap();
}

#[test]
fn a_config_file_with_a_wrong_type_is_refused_naming_the_key() {
    let mut file = tempfile();
    writeln!(file.1, "[database]\nmax_connections = \"lots\"").unwrap();
    let err = Settings::load(Some(&file.0)).unwrap_err().to_string();
    assert!(err.contains("database.max_connections"), "{err}");
    std::fs::remove_file(&file.0).unwrap();
}

#[test]
fn api_keys_come_from_a_config_file_and_bad_ones_are_refused_naming_the_key() {
    let hash = fplsync::auth::hash_key("a-long-enough-secret-key");
    let mut file = tempfile();
    writeln!(
        file.1,
        "[[auth.keys]]\nname = \"on-call\"\nrole = \"operator\"\nkinds = [\"prune\"]\n\
         sha256 = \"{hash}\""
    )
    .unwrap();
    let s = Settings::load(Some(&file.0)).unwrap();
    assert_eq!(s.auth.keys.len(), 1);
    assert_eq!(s.auth.keys[0].role, fplsync::auth::Role::Operator);
    assert_eq!(s.auth.open, ["health", "ready", "metrics"]);
    std::fs::remove_file(&file.0).unwrap();

    for (toml, key) in [
        (
            "[[auth.keys]]\nname = \"x\"\nrole = \"viewer\"\nsha256 = \"not-hex\"",
            "auth.keys[0].sha256",
        ),
        (
            "[[auth.keys]]\nname = \"x\"\nrole = \"god\"\nsha256 = \"00\"",
            "auth.keys",
        ),
        ("[auth]\nopen = [\"jobs\"]", "auth.open"),
        ("[auth]\ntrigger_limit = 0", "auth.trigger_limit"),
        (
            "[auth]\naudit_retention_days = 0",
            "auth.audit_retention_days",
        ),
        (
            "[[auth.keys]]\nname = \"x\"\nrole = \"admin\"\nkinds = [\"prune\"]\n\
             sha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"",
            "auth.keys[0].kinds",
        ),
    ] {
        let mut file = tempfile();
        writeln!(file.1, "{toml}").unwrap();
        let err = Settings::load(Some(&file.0)).unwrap_err().to_string();
        assert!(err.contains(key), "{toml}: {err}");
        std::fs::remove_file(&file.0).unwrap();
    }
}

fn tempfile() -> (std::path::PathBuf, std::fs::File) {
    let path = std::env::temp_dir().join(format!(
        "fplsync-config-{}.toml",
        crate::helpers::unique_id()
    ));
    let file = std::fs::File::create(&path).unwrap();
    (path, file)
}
