//! The invalidation broadcast: every write through one instance tells all the others, through
//! Redis pub/sub on `{prefix}cache:invalidate`, to drop their local copies of the keys written.
//!
//! - **Payload.** JSON `{"from": "<instance id>", "keys": ["live:38:elements", ...]}`. An
//!   instance ignores its own messages (it already updated its local tier when it wrote); keys it
//!   cannot parse (from a newer version) are skipped.
//! - **Connection.** A dedicated pub/sub connection (a subscribed connection can send nothing
//!   else), owned by a task the cache actor starts and aborts. When the connection is lost the
//!   task tells the actor (which degrades) and retries every `cache.probe_interval_ms`; each
//!   time it is subscribed again it tells the actor, which drops its whole local tier, because
//!   invalidations sent while it was not listening are lost.

use std::time::Duration;

use actix::Addr;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::actor::{CacheActor, Invalidate, Origin, Subscription};
use super::key::CacheKey;
use crate::kv::Kv;

/// One invalidation message.
#[derive(Debug, Serialize, Deserialize)]
struct Announcement {
    from: String,
    keys: Vec<String>,
}

/// The payload announcing that `instance` changed `keys`.
pub fn announce(instance: &str, keys: impl IntoIterator<Item = CacheKey>) -> String {
    let msg = Announcement {
        from: instance.to_string(),
        keys: keys.into_iter().map(|k| k.to_string()).collect(),
    };
    serde_json::to_string(&msg).expect("an announcement serialises")
}

/// The keys another instance announced, or None for our own message or a malformed one.
pub fn keys_from_others(payload: &[u8], me: &str) -> Option<Vec<CacheKey>> {
    let msg: Announcement = serde_json::from_slice(payload).ok()?;
    if msg.from == me {
        return None;
    }
    Some(msg.keys.iter().filter_map(|k| k.parse().ok()).collect())
}

/// Subscribes and forwards other instances' invalidations to `actor`, resubscribing after
/// `retry` whenever the connection is lost. Ends when the actor is gone.
pub async fn run(kv: Kv, channel: String, me: String, actor: Addr<CacheActor>, retry: Duration) {
    loop {
        match kv.pubsub().await {
            Ok(mut conn) => match conn.subscribe(&channel).await {
                Ok(()) => {
                    if actor.send(Subscription { up: true }).await.is_err() {
                        return;
                    }
                    // The sink half must live as long as we read, or the connection closes.
                    let (_sink, mut stream) = conn.split();
                    while let Some(msg) = stream.next().await {
                        let Some(keys) = keys_from_others(msg.get_payload_bytes(), &me) else {
                            continue;
                        };
                        let invalidate = Invalidate {
                            keys,
                            origin: Origin::Remote,
                        };
                        // `send` waits for room: a full mailbox slows reading, Redis buffers.
                        if actor.send(invalidate).await.is_err() {
                            return;
                        }
                    }
                    tracing::warn!(%channel, "cache invalidation subscription lost");
                }
                Err(e) => tracing::debug!(error = %e, "cannot subscribe to cache invalidations"),
            },
            Err(e) => tracing::debug!(error = %e, "no pub/sub connection for cache invalidations"),
        }
        if actor.send(Subscription { up: false }).await.is_err() {
            return;
        }
        tokio::time::sleep(retry).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::key::MetaDataset;

    #[test]
    fn an_instance_ignores_its_own_invalidations_and_takes_the_others() {
        let teams = CacheKey::Meta(MetaDataset::Teams);
        let payload = announce("a1", [teams]);
        assert_eq!(keys_from_others(payload.as_bytes(), "a1"), None);
        assert_eq!(
            keys_from_others(payload.as_bytes(), "b2"),
            Some(vec![teams])
        );
    }

    #[test]
    fn unknown_keys_and_malformed_payloads_are_skipped() {
        let payload = br#"{"from":"x","keys":["meta:teams","meta:unknown"]}"#;
        assert_eq!(
            keys_from_others(payload, "me"),
            Some(vec![CacheKey::Meta(MetaDataset::Teams)])
        );
        assert_eq!(keys_from_others(b"not json", "me"), None);
    }
}
