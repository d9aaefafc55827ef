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

use std::collections::{BTreeMap, BTreeSet, HashMap};

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
    /// Reads `body`'s shape in one pass over its bytes, building nothing of it: a 2 MB
    /// bootstrap costs about as much as scanning it (objects of one type usually repeat the
    /// same keys, which are then compared, not looked up one by one).
    pub fn of(body: &[u8]) -> Result<Shape, ShapeError> {
        Scanner {
            body,
            shape: Shape::default(),
            last: HashMap::new(),
            scratch: Vec::new(),
        }
        .run()
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

/// A body that is not JSON (the shape of a payload is read after it decoded, so this is rare).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not JSON at byte {0}")]
pub struct ShapeError(pub usize);

/// An open object or list.
struct Frame {
    object: bool,
    /// An object's type path; a list's own path.
    path: String,
    /// A list's elements' path (`path[]`).
    element: String,
    /// An object's keys so far, as byte ranges of the body.
    keys: Vec<(usize, usize)>,
}

/// Where the value being read sits.
#[derive(Clone, Copy)]
enum Slot {
    Root,
    /// Under the key at this byte range of the innermost object.
    Field(usize, usize),
    /// An element of the innermost list.
    Element,
}

struct Scanner<'a> {
    body: &'a [u8],
    shape: Shape,
    /// The keys (joined) of the last object of each type, to skip repeats.
    last: HashMap<String, Vec<u8>>,
    scratch: Vec<u8>,
}

impl Scanner<'_> {
    fn run(mut self) -> Result<Shape, ShapeError> {
        let b = self.body;
        let mut stack: Vec<Frame> = Vec::new();
        let mut i = skip_ws(b, 0);
        let mut slot = Slot::Root;
        loop {
            // A value at `i`, in `slot`.
            match b.get(i) {
                Some(&c @ (b'{' | b'[')) => {
                    let path = match slot {
                        Slot::Root => String::new(),
                        Slot::Field(s, e) => {
                            let parent = &stack.last().ok_or(ShapeError(i))?.path;
                            field_path(parent, self.key(s, e)?)
                        }
                        Slot::Element => stack.last().ok_or(ShapeError(i))?.element.clone(),
                    };
                    i = skip_ws(b, i + 1);
                    if c == b'{' {
                        stack.push(Frame {
                            object: true,
                            path,
                            element: String::new(),
                            keys: Vec::new(),
                        });
                        if b.get(i) != Some(&b'}') {
                            let (s, e, next) = read_key(b, i)?;
                            stack.last_mut().expect("pushed").keys.push((s, e));
                            slot = Slot::Field(s, e);
                            i = next;
                            continue;
                        }
                    } else {
                        let element = format!("{path}[]");
                        stack.push(Frame {
                            object: false,
                            path,
                            element,
                            keys: Vec::new(),
                        });
                        if b.get(i) != Some(&b']') {
                            slot = Slot::Element;
                            continue;
                        }
                    }
                    // An empty container: closed below.
                }
                Some(b'"') => i = skip_string(b, i)?,
                Some(_) => i = skip_scalar(b, i),
                None => return Err(ShapeError(i)),
            }
            // After a value: close what ends here, then on to the next sibling.
            loop {
                i = skip_ws(b, i);
                let Some(top) = stack.last_mut() else {
                    return if i == b.len() {
                        Ok(self.shape)
                    } else {
                        Err(ShapeError(i))
                    };
                };
                match b.get(i) {
                    Some(b',') => {
                        i = skip_ws(b, i + 1);
                        if top.object {
                            let (s, e, next) = read_key(b, i)?;
                            top.keys.push((s, e));
                            slot = Slot::Field(s, e);
                            i = next;
                        } else {
                            slot = Slot::Element;
                        }
                        break;
                    }
                    Some(b'}') if top.object => {
                        i += 1;
                        let frame = stack.pop().expect("a frame");
                        self.finish(frame)?;
                    }
                    Some(b']') if !top.object => {
                        i += 1;
                        stack.pop();
                    }
                    _ => return Err(ShapeError(i)),
                }
            }
        }
    }

    fn key(&self, s: usize, e: usize) -> Result<&str, ShapeError> {
        std::str::from_utf8(&self.body[s..e]).map_err(|_| ShapeError(s))
    }

    /// Adds a closed object's keys to its type, unless they repeat the type's last object's.
    fn finish(&mut self, frame: Frame) -> Result<(), ShapeError> {
        self.scratch.clear();
        for &(s, e) in &frame.keys {
            self.scratch.extend_from_slice(&self.body[s..e]);
            self.scratch.push(b',');
        }
        if self.last.get(&frame.path) == Some(&self.scratch) {
            return Ok(());
        }
        let mut fields = BTreeSet::new();
        for &(s, e) in &frame.keys {
            fields.insert(self.key(s, e)?.to_string());
        }
        self.shape
            .types
            .entry(frame.path.clone())
            .or_default()
            .extend(fields);
        self.last.insert(frame.path, self.scratch.clone());
        Ok(())
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// The end of the string starting at `i` (its opening quote).
fn skip_string(b: &[u8], i: usize) -> Result<usize, ShapeError> {
    let mut j = i + 1;
    while let Some(&c) = b.get(j) {
        match c {
            b'\\' => j += 2,
            b'"' => return Ok(j + 1),
            _ => j += 1,
        }
    }
    Err(ShapeError(i))
}

/// The end of the number or literal starting at `i`.
fn skip_scalar(b: &[u8], mut i: usize) -> usize {
    while b
        .get(i)
        .is_some_and(|c| !matches!(c, b',' | b'}' | b']') && !c.is_ascii_whitespace())
    {
        i += 1;
    }
    i
}

/// A key at `i`: its byte range (inside the quotes) and where its value starts.
fn read_key(b: &[u8], i: usize) -> Result<(usize, usize, usize), ShapeError> {
    if b.get(i) != Some(&b'"') {
        return Err(ShapeError(i));
    }
    let end = skip_string(b, i)?;
    let colon = skip_ws(b, end);
    if b.get(colon) != Some(&b':') {
        return Err(ShapeError(colon));
    }
    Ok((i + 1, end - 1, skip_ws(b, colon + 1)))
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

    /// The shape of `v` (at `path`) as a plain walk of the parsed value sees it.
    fn reference(v: &serde_json::Value, path: &str, out: &mut BTreeMap<String, BTreeSet<String>>) {
        match v {
            serde_json::Value::Object(map) => {
                let fields = out.entry(path.to_string()).or_default();
                fields.extend(map.keys().cloned());
                for (k, x) in map {
                    reference(x, &field_path(path, k), out);
                }
            }
            serde_json::Value::Array(items) => {
                for x in items {
                    reference(x, &format!("{path}[]"), out);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn the_shape_of_every_real_sample_is_what_a_walk_of_its_parsed_value_finds() {
        for (name, _) in samples::SAMPLES {
            let text = samples::json(name).unwrap();
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            let mut expected = BTreeMap::new();
            reference(&value, "", &mut expected);
            assert_eq!(
                Shape::of(text.as_bytes()).unwrap().types,
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn strings_that_look_like_json_and_whitespace_do_not_confuse_the_shape() {
        let body = br#" { "s" : "a,}]\"x{[:" , "n" : -1.5e3 ,
                         "l" : [ [ { "deep" : true } ] , { } ] , "t": null } "#;
        let shape = Shape::of(body).unwrap();
        let fields: Vec<String> = shape.fields().into_iter().collect();
        assert_eq!(fields, ["l", "l[][].deep", "n", "s", "t"]);
        assert!(
            shape.has_type("l[]"),
            "the empty object is an object of its type"
        );
        for bad in [
            &b"{\"a\": 1"[..],
            b"[1, 2",
            b"{1: 2}",
            b"{\"a\" 1}",
            b"{} x",
        ] {
            assert!(Shape::of(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
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
