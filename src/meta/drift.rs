//! Schema drift: the decoding the metadata jobs share (so a test can put a payload through
//! exactly what a job does with it), the shape of a payload (its object types and the fields
//! seen in each), and the record of what fplsync has seen of each endpoint per season, from
//! which a field that appears or disappears raises one `schema_drift` warning per field and
//! season, not one per run (the table `schema_fields`, migration 0011).
//!
//! A field is named by its object-type path (`elements[].form`, `[].stats[].identifier`; see
//! `fpl::model`). A field disappears when it was seen before and no object of its type has it
//! now; a type with no object in this payload (an empty list, a null object) says nothing about
//! its fields, so fixtures before kick-off do not "lose" their stats.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use sqlx::PgPool;

use super::sync::SeasonId;
use super::validate::{self, ValidationError};
use crate::fpl::model::{BootstrapStatic, DecodeError, Fixtures, decode};
use crate::store::StoreError;

// ---------------------------------------------------------------------------------------------
// Decoding as the jobs do
// ---------------------------------------------------------------------------------------------

/// Why a payload cannot be synced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// It does not decode (a needed field is missing, or it is not the JSON expected).
    #[error("{endpoint}: {source}")]
    Decode {
        endpoint: &'static str,
        #[source]
        source: DecodeError,
    },
    /// It decodes but its relationships do not hold.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

impl PayloadError {
    /// The missing needed field, if that is what is wrong.
    pub fn missing_field(&self) -> Option<&str> {
        match self {
            PayloadError::Decode { source, .. } => source.missing_field(),
            PayloadError::Invalid(_) => None,
        }
    }
}

/// A `bootstrap-static/` body decoded and validated, as the `bootstrap` job takes it.
pub fn bootstrap(body: &[u8]) -> Result<BootstrapStatic, PayloadError> {
    let b = decode(body).map_err(|source| PayloadError::Decode {
        endpoint: "bootstrap-static",
        source,
    })?;
    validate::bootstrap(&b)?;
    Ok(b)
}

/// A `fixtures/` body decoded, as the `fixtures` job takes it (it then validates the fixtures
/// against the season's stored teams and events, [`validate::fixtures`]).
pub fn fixtures(body: &[u8]) -> Result<Fixtures, PayloadError> {
    decode(body).map_err(|source| PayloadError::Decode {
        endpoint: "fixtures",
        source,
    })
}

// ---------------------------------------------------------------------------------------------
// The shape of a payload
// ---------------------------------------------------------------------------------------------

/// The object types of a JSON body and the field names seen in each (in any of its objects).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shape {
    /// Object-type path (`""` the top level, `elements[]`, `[].stats[]`) → field names.
    types: BTreeMap<String, BTreeSet<String>>,
}

/// The path of field `field` of objects of type `object_type`.
pub fn field_path(object_type: &str, field: &str) -> String {
    if object_type.is_empty() {
        field.to_string()
    } else {
        format!("{object_type}.{field}")
    }
}

/// The object type of a field path: `elements[]` for `elements[].code`, `""` for `events`.
pub fn object_type(path: &str) -> &str {
    path.rsplit_once('.').map_or("", |(t, _)| t)
}

impl Shape {
    /// Walks `body` once without building it (a 2 MB bootstrap costs a few milliseconds).
    pub fn of(body: &[u8]) -> Result<Shape, serde_json::Error> {
        let mut shape = Shape::default();
        let mut de = serde_json::Deserializer::from_slice(body);
        Walk {
            shape: &mut shape,
            base: "",
            key: "",
            element: false,
        }
        .deserialize(&mut de)?;
        de.end()?;
        Ok(shape)
    }

    /// Object types with at least one object in the body.
    pub fn types(&self) -> impl Iterator<Item = &str> {
        self.types.keys().map(String::as_str)
    }

    /// Whether the body has an object of `object_type`.
    pub fn has_type(&self, object_type: &str) -> bool {
        self.types.contains_key(object_type)
    }

    /// Field names of `object_type` (empty when the body has no such object).
    pub fn fields_of(&self, object_type: &str) -> impl Iterator<Item = &str> {
        self.types
            .get(object_type)
            .into_iter()
            .flat_map(|f| f.iter().map(String::as_str))
    }

    /// Every field path.
    pub fn fields(&self) -> BTreeSet<String> {
        self.types
            .iter()
            .flat_map(|(t, fields)| fields.iter().map(move |f| field_path(t, f)))
            .collect()
    }
}

/// Visits one JSON value whose path is `base` + `key` (or `base[]` for a list element); the
/// path is only built for objects and lists, so scalars cost nothing.
struct Walk<'a> {
    shape: &'a mut Shape,
    base: &'a str,
    key: &'a str,
    element: bool,
}

impl Walk<'_> {
    fn path(&self) -> String {
        if self.element {
            format!("{}[]", self.base)
        } else {
            field_path(self.base, self.key)
        }
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let path = self.path();
        while seq
            .next_element_seed(Walk {
                shape: &mut *self.shape,
                base: &path,
                key: "",
                element: true,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let path = self.path();
        if !self.shape.types.contains_key(&path) {
            self.shape.types.insert(path.clone(), BTreeSet::new());
        }
        while let Some(key) = map.next_key_seed(Key)? {
            let fields = self.shape.types.get_mut(&path).expect("inserted above");
            if !fields.contains(key.as_ref()) {
                fields.insert(key.to_string());
            }
            map.next_value_seed(Walk {
                shape: &mut *self.shape,
                base: &path,
                key: &key,
                element: false,
            })?;
        }
        Ok(())
    }
}

/// An object key, borrowed from the body where it has no escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
}

// ---------------------------------------------------------------------------------------------
// What was seen before
// ---------------------------------------------------------------------------------------------

/// How a field changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Appeared,
    Disappeared,
}

/// A field that appeared or disappeared, not reported before in its season.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub field: String,
    pub change: Change,
}

/// What `schema_fields` holds of one field.
struct Seen {
    present: bool,
    reported_gone: bool,
}

/// Compares `shape` with what fplsync saw before of `endpoint` in `season` — or, for the
/// season's first payload of the endpoint, with what it saw last in the season before (a
/// field FPL added over the summer is news too) — records what it sees, and returns the changes
/// not reported before in this season. The very first payload of an endpoint is the baseline
/// and reports nothing. A field that comes back after disappearing is recorded, not reported.
pub async fn observe(
    db: &PgPool,
    season: SeasonId,
    endpoint: &str,
    shape: &Shape,
) -> Result<Vec<Drift>, StoreError> {
    let rows: Vec<(String, bool, bool)> = sqlx::query_as(
        "SELECT field, present, reported_gone FROM schema_fields \
         WHERE season_id = $1 AND endpoint = $2",
    )
    .bind(season.0)
    .bind(endpoint)
    .fetch_all(db)
    .await?;
    let first_of_season = rows.is_empty();
    let known: HashMap<String, Seen> = if first_of_season {
        // The latest earlier season that saw the endpoint.
        sqlx::query_as::<_, (String,)>(
            "SELECT f.field FROM schema_fields f WHERE f.endpoint = $2 AND f.present \
             AND f.season_id = (SELECT p.season_id FROM schema_fields p \
                 JOIN seasons s ON s.id = p.season_id \
                 WHERE p.endpoint = $2 AND s.first_deadline < \
                     (SELECT first_deadline FROM seasons WHERE id = $1) \
                 ORDER BY s.first_deadline DESC LIMIT 1)",
        )
        .bind(season.0)
        .bind(endpoint)
        .fetch_all(db)
        .await?
        .into_iter()
        .map(|(f,)| {
            let seen = Seen {
                present: true,
                reported_gone: false,
            };
            (f, seen)
        })
        .collect()
    } else {
        rows.into_iter()
            .map(|(f, present, reported_gone)| {
                let seen = Seen {
                    present,
                    reported_gone,
                };
                (f, seen)
            })
            .collect()
    };
    let baseline = known.is_empty();
    let now = shape.fields();
    let mut drifts = Vec::new();
    // (field, present, reported_gone) to write.
    let mut writes: Vec<(String, bool, bool)> = Vec::new();
    for field in &now {
        match known.get(field) {
            None => {
                if !baseline {
                    drifts.push(Drift {
                        field: field.clone(),
                        change: Change::Appeared,
                    });
                }
                writes.push((field.clone(), true, false));
            }
            Some(seen) if !seen.present || first_of_season => {
                writes.push((field.clone(), true, seen.reported_gone));
            }
            Some(_) => {}
        }
    }
    for (field, seen) in &known {
        if now.contains(field) {
            continue;
        }
        // Only a field of a type this payload has objects of can be judged missing; the
        // others carry over into a new season as they were.
        if !seen.present || !shape.has_type(object_type(field)) {
            if first_of_season {
                writes.push((field.clone(), seen.present, seen.reported_gone));
            }
            continue;
        }
        if !seen.reported_gone {
            drifts.push(Drift {
                field: field.clone(),
                change: Change::Disappeared,
            });
        }
        writes.push((field.clone(), false, true));
    }
    if !writes.is_empty() {
        sqlx::query(
            "INSERT INTO schema_fields (season_id, endpoint, field, present, reported_gone) \
             SELECT $1, $2, u.field, u.present, u.gone \
             FROM UNNEST($3::text[], $4::boolean[], $5::boolean[]) AS u(field, present, gone) \
             ON CONFLICT (season_id, endpoint, field) DO UPDATE SET present = EXCLUDED.present, \
             reported_gone = EXCLUDED.reported_gone, changed_at = now()",
        )
        .bind(season.0)
        .bind(endpoint)
        .bind(writes.iter().map(|w| w.0.as_str()).collect::<Vec<_>>())
        .bind(writes.iter().map(|w| w.1).collect::<Vec<_>>())
        .bind(writes.iter().map(|w| w.2).collect::<Vec<_>>())
        .execute(db)
        .await?;
    }
    drifts.sort_by(|a, b| a.field.cmp(&b.field));
    Ok(drifts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fpl::samples::{self, gw38};

    #[test]
    fn a_shape_names_every_object_type_and_its_fields() {
        let body = br#"{"a": 1, "rows": [{"x": 1, "s": [{"v": 2}]}, {"y": null, "s": []}],
                        "o": {"k": "s"}, "none": null, "empty": []}"#;
        let shape = Shape::of(body).unwrap();
        let types: Vec<&str> = shape.types().collect();
        assert_eq!(types, ["", "o", "rows[]", "rows[].s[]"]);
        let fields: Vec<String> = shape.fields().into_iter().collect();
        assert_eq!(
            fields,
            [
                "a",
                "empty",
                "none",
                "o",
                "o.k",
                "rows",
                "rows[].s",
                "rows[].s[].v",
                "rows[].x",
                "rows[].y",
            ]
        );
        let top = Shape::of(br#"[{"id": 1, "stats": []}]"#).unwrap();
        assert!(top.fields().contains("[].stats"));
        assert!(!top.has_type("[].stats[]"));
        assert_eq!(object_type("[].stats[].identifier"), "[].stats[]");
        assert_eq!(object_type("events"), "");
    }

    #[test]
    fn the_real_bootstrap_has_the_object_types_the_model_decodes() {
        let body = samples::json(gw38::BOOTSTRAP).unwrap();
        let shape = Shape::of(body.as_bytes()).unwrap();
        for t in ["", "events[]", "teams[]", "element_types[]", "elements[]"] {
            assert!(shape.has_type(t), "{t}");
        }
        let fields = shape.fields();
        assert!(fields.contains("elements[].code"));
        assert!(fields.contains("events[].chip_plays[].num_played"));
        bootstrap(body.as_bytes()).unwrap();
    }
}
