//! Conditional reads of stored data: every answer carries an `ETag` (a hash of its body) and a
//! `Cache-Control` whose `max-age` is the TTL of the data's class (`[cache.ttl_secs]`), and a
//! request whose `If-None-Match` names the current tag gets 304 without a body — so a front-end
//! polling during a gameweek moves bytes only when the data moved.
//!
//! The answers need an API key, so they are `private`: a browser may keep them, a shared cache
//! may not.

use actix_web::http::header::{CACHE_CONTROL, ETAG, IF_NONE_MATCH};
use actix_web::{HttpRequest, HttpResponse};
use bytes::Bytes;
use serde::Serialize;

use super::ApiState;
use crate::cache::{ClassTtls, DataClass};

/// The strong tag of `body`.
fn tag(body: &[u8]) -> String {
    format!("\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(body))
}

/// Whether an `If-None-Match` value names `tag` (RFC 9110 §13.1.2: weak comparison, `*` matches
/// any). A value that is not a list of tags matches nothing.
fn matches(header: &str, tag: &str) -> bool {
    header.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == tag
    })
}

/// `body` (JSON) as the answer to `req`: 200 with it, or 304 when the client holds it already.
pub fn respond(req: &HttpRequest, state: &ApiState, class: DataClass, body: Bytes) -> HttpResponse {
    let etag = tag(&body);
    let max_age = ClassTtls::new(&state.settings.cache.ttl_secs)
        .of(class)
        .as_secs();
    let control = format!("private, max-age={max_age}");
    let held = req
        .headers()
        .get_all(IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .any(|v| matches(v, &etag));
    let mut response = if held {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((ETAG, etag))
        .insert_header((CACHE_CONTROL, control));
    if held {
        response.finish()
    } else {
        response.content_type("application/json").body(body)
    }
}

/// [`respond`] with `value` serialised.
pub fn respond_json<T: Serialize>(
    req: &HttpRequest,
    state: &ApiState,
    class: DataClass,
    value: &T,
) -> HttpResponse {
    let body = serde_json::to_vec(value).expect("answers serialise");
    respond(req, state, class, Bytes::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_names_the_tag_in_a_list_weakly_or_by_a_star() {
        let t = tag(b"[1,2]");
        assert!(matches(&t, &t));
        assert!(matches(&format!("\"x\", W/{t}"), &t));
        assert!(matches("*", &t));
        assert!(!matches("\"other\"", &t));
        assert!(!matches("", &t));
        assert_ne!(tag(b"[1,2]"), tag(b"[1,3]"));
    }
}
