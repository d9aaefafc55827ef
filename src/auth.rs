//! Who is calling: API keys, their roles, and the check of a presented key.
//!
//! Keys are never stored: configuration holds the SHA-256 of each key (hex, from `fplsync
//! hash-key`), a name for the audit log, a role and, for operators, the job kinds they may
//! steer. A presented key is hashed and compared with every configured hash in constant time,
//! so neither the comparison nor which entry matched leaks through timing.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads: the actor tree, runs, the supervision log, data.
    Viewer,
    /// Reads, plus trigger, cancel, pause and resume of the job kinds it is given.
    Operator,
    /// Everything, every kind.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

/// One API key: only its SHA-256 is configured.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeySettings {
    /// Who holds it, as the audit log shows it.
    pub name: String,
    pub role: Role,
    /// For an operator: the job kinds it may trigger, cancel, pause and resume.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// SHA-256 of the key, 64 hex digits (`fplsync hash-key`).
    pub sha256: String,
}

/// The SHA-256 of `key`, in lower-case hex: what configuration stores.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// One configured key, its hash decoded.
#[derive(Clone)]
struct Entry {
    hash: [u8; 32],
    caller: Caller,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The key's configured name; recorded in the audit log.
    pub name: String,
    pub role: Role,
    /// Kinds an operator may steer (empty for other roles, which need none).
    pub kinds: Vec<String>,
}

impl Caller {
    /// Whether this caller may trigger, cancel, pause or resume runs of `kind`.
    pub fn may_operate(&self, kind: &str) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Operator => self.kinds.iter().any(|k| k == kind),
            Role::Viewer => false,
        }
    }
}

/// The configured keys, ready for lookups.
#[derive(Clone, Default)]
pub struct KeyRing {
    entries: Vec<Entry>,
}

impl KeyRing {
    /// Builds from `auth.keys`; the hashes were validated at load (64 hex digits).
    pub fn new(keys: &[ApiKeySettings]) -> Self {
        let entries = keys
            .iter()
            .filter_map(|k| {
                let mut hash = [0u8; 32];
                hex::decode_to_slice(k.sha256.trim(), &mut hash).ok()?;
                Some(Entry {
                    hash,
                    caller: Caller {
                        name: k.name.clone(),
                        role: k.role,
                        kinds: k.kinds.clone(),
                    },
                })
            })
            .collect();
        KeyRing { entries }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The caller holding `key`, if it is configured. Every entry is compared, in constant
    /// time, whatever matches.
    pub fn authenticate(&self, key: &str) -> Option<Caller> {
        let presented: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        let mut found = None;
        for entry in &self.entries {
            if bool::from(entry.hash.ct_eq(&presented)) {
                found = Some(&entry.caller);
            }
        }
        found.cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> KeyRing {
        KeyRing::new(&[
            ApiKeySettings {
                name: "ops".into(),
                role: Role::Operator,
                kinds: vec!["prune".into()],
                sha256: hash_key("s3cret"),
            },
            ApiKeySettings {
                name: "root".into(),
                role: Role::Admin,
                kinds: vec![],
                sha256: hash_key("r00t").to_uppercase(),
            },
        ])
    }

    #[test]
    fn a_key_is_stored_as_the_hex_sha256_of_its_text() {
        assert_eq!(
            hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_configured_key_authenticates_as_its_named_caller_and_others_do_not() {
        let ring = ring();
        let ops = ring.authenticate("s3cret").expect("known key");
        assert_eq!((ops.name.as_str(), ops.role), ("ops", Role::Operator));
        assert_eq!(ring.authenticate("r00t").unwrap().role, Role::Admin);
        assert_eq!(ring.authenticate("s3cret "), None);
        assert_eq!(ring.authenticate(""), None);
    }

    #[test]
    fn operators_steer_only_their_kinds_admins_every_kind_and_viewers_none() {
        let ring = ring();
        let ops = ring.authenticate("s3cret").unwrap();
        assert!(ops.may_operate("prune"));
        assert!(!ops.may_operate("bootstrap"));
        assert!(ring.authenticate("r00t").unwrap().may_operate("bootstrap"));
        let viewer = Caller {
            name: "v".into(),
            role: Role::Viewer,
            kinds: vec!["prune".into()],
        };
        assert!(!viewer.may_operate("prune"));
    }
}
