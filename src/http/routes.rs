//! The route table: every route of the control endpoint, who may call it, and the OpenAPI
//! document generated from it.
//!
//! Each handler carries its own `#[utoipa::path(...)]` (method, path, parameters, responses);
//! [`routes`] lists the handlers with their [`Access`]. From that one list come the actix
//! registration, the access check of [`super::access`], the audit of control actions and
//! `GET /openapi.json` — so adding a route is: annotate the handler, add one `route!` line.

use std::sync::LazyLock;

use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use actix_web::web;
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder};
use utoipa::openapi::security::{SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref,
    RefOr, ResponseBuilder, schema::Schema,
};
use utoipa::{PartialSchema, ToSchema};

use super::error::{ErrorBody, ErrorCode};
use super::{
    access, actors, alerts, audit, dashboard, data, jobs, live, managers, ops, prices, recovery,
    tournaments,
};
use crate::auth::Role;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: the dashboard page and the OpenAPI document, which hold no data.
    Open,
    /// A probe (`health`, `ready`, `metrics`): open when `auth.open` names it, else any key.
    Probe,
    /// Any valid key: viewer, operator or admin.
    Read,
    /// A control action: an admin, or an operator — for an action on one job kind, one given
    /// that kind (the handler checks the kind with
    /// [`super::access::Authorized::require_kind`]); acknowledging an alert, any. Audited.
    Operate,
    /// Admins only. Audited when it is not a read (`GET`).
    Admin,
}

impl Access {
    /// The least role that passes the route-level check (`None`: no key needed).
    pub fn least_role(self) -> Option<Role> {
        match self {
            Access::Open => None,
            Access::Probe | Access::Read => Some(Role::Viewer),
            Access::Operate => Some(Role::Operator),
            Access::Admin => Some(Role::Admin),
        }
    }
}

/// One route: an annotated handler and its access.
pub struct Route {
    pub method: Method,
    pub path: String,
    pub access: Access,
    /// The OpenAPI operation id (the handler's name), e.g. `trigger`: the audit log's action.
    pub operation_id: String,
    operation: Operation,
    schemas: Vec<(String, RefOr<Schema>)>,
    handler: fn(actix_web::Route) -> actix_web::Route,
}

impl Route {
    /// Whether calls are recorded in the audit log: everything that is not a read.
    pub fn audited(&self) -> bool {
        self.method != Method::GET && matches!(self.access, Access::Operate | Access::Admin)
    }
}

/// `route!(Access, module::handler)`: the handler's `#[utoipa::path]` gives method, path and
/// the operation; the access is the one thing said here. The schemas an operation refers to
/// are collected through `utoipa::__dev::SchemaReferences`, as utoipa's own router helpers
/// (utoipa-axum, utoipa-actix-web) do; the unit tests below fail if that stops working.
macro_rules! route {
    ($access:ident, $module:ident :: $handler:ident) => {
        pastey::paste! {{
            type P = $module::[<__path_ $handler>];
            let mut schemas = Vec::new();
            <P as utoipa::__dev::SchemaReferences>::schemas(&mut schemas);
            Route::new(
                <P as utoipa::Path>::methods(),
                <P as utoipa::Path>::path(),
                Access::$access,
                <P as utoipa::Path>::operation(),
                schemas,
                |r: actix_web::Route| r.to($module::$handler),
            )
        }}
    };
}

/// Every route of the control endpoint, in registration order.
pub fn routes() -> Vec<Route> {
    vec![
        route!(Open, dashboard::index),
        route!(Open, dashboard::openapi),
        route!(Probe, ops::health),
        route!(Probe, ops::ready),
        route!(Probe, ops::metrics),
        route!(Read, access::whoami),
        route!(Read, actors::list),
        route!(Read, actors::get),
        route!(Operate, actors::pause),
        route!(Operate, actors::resume),
        route!(Admin, actors::restart),
        route!(Read, actors::supervision),
        route!(Read, jobs::list),
        route!(Read, jobs::get),
        route!(Operate, jobs::trigger),
        route!(Operate, jobs::cancel),
        route!(Read, data::events),
        route!(Read, data::teams),
        route!(Read, data::players),
        route!(Read, data::fixtures),
        route!(Read, data::seasons),
        route!(Read, data::gameweek),
        route!(Read, prices::changes),
        route!(Read, prices::history),
        route!(Read, managers::list),
        route!(Read, managers::get),
        route!(Read, managers::history),
        route!(Read, managers::gameweeks),
        route!(Read, live::lifecycle),
        route!(Read, live::entries),
        route!(Read, live::entry),
        route!(Read, live::league_table),
        route!(Read, alerts::list),
        route!(Operate, alerts::ack),
        route!(Read, tournaments::list),
        route!(Admin, tournaments::create),
        route!(Read, tournaments::get),
        route!(Read, tournaments::standings),
        route!(Read, tournaments::standings_live),
        route!(Admin, tournaments::change),
        route!(Admin, recovery::failed_jobs),
        route!(Admin, recovery::consistency),
        route!(Admin, audit::list),
    ]
}

/// The table, built once: routes keep no state.
pub static ROUTES: LazyLock<Vec<Route>> = LazyLock::new(routes);

impl Route {
    fn new(
        methods: Vec<HttpMethod>,
        path: String,
        access: Access,
        operation: Operation,
        schemas: Vec<(String, RefOr<Schema>)>,
        handler: fn(actix_web::Route) -> actix_web::Route,
    ) -> Self {
        let [method] = methods.as_slice() else {
            panic!("{path}: a route is one method (annotate one handler per method)");
        };
        let method = match method {
            HttpMethod::Get => Method::GET,
            HttpMethod::Post => Method::POST,
            HttpMethod::Put => Method::PUT,
            HttpMethod::Delete => Method::DELETE,
            HttpMethod::Patch => Method::PATCH,
            HttpMethod::Head => Method::HEAD,
            HttpMethod::Options => Method::OPTIONS,
            HttpMethod::Trace => Method::TRACE,
        };
        let operation_id = operation
            .operation_id
            .clone()
            .unwrap_or_else(|| panic!("{path}: the operation has no id"));
        Route {
            method,
            path,
            access,
            operation_id,
            operation,
            schemas,
            handler,
        }
    }

    fn http_method(&self) -> HttpMethod {
        match self.method {
            Method::POST => HttpMethod::Post,
            Method::PUT => HttpMethod::Put,
            Method::DELETE => HttpMethod::Delete,
            Method::PATCH => HttpMethod::Patch,
            _ => HttpMethod::Get,
        }
    }
}

/// The patterns of [`ROUTES`], compiled once, in the same order.
static PATTERNS: LazyLock<Vec<ResourceDef>> = LazyLock::new(|| {
    ROUTES
        .iter()
        .map(|r| ResourceDef::new(r.path.as_str()))
        .collect()
});

/// The route that serves `method` on `path` — the request path as the router sees it
/// (`HttpRequest::match_info().as_str()`), matched in registration order as the router does, so
/// the access check and the handler always agree on the route. `None` for an unknown path or
/// method (answered 404 or 405).
pub fn find(method: &Method, path: &str) -> Option<&'static Route> {
    let first = ROUTES
        .iter()
        .zip(PATTERNS.iter())
        .find(|(_, def)| def.is_match(path))?
        .0;
    ROUTES
        .iter()
        .find(|r| r.path == first.path && r.method == *method)
}

/// Registers every route; paths served by several methods share one resource, whose other
/// methods get a JSON 405.
pub fn register(cfg: &mut web::ServiceConfig) {
    let mut paths: Vec<&str> = Vec::new();
    for r in ROUTES.iter() {
        if !paths.contains(&r.path.as_str()) {
            paths.push(&r.path);
        }
    }
    for path in paths {
        let allowed: Vec<Method> = ROUTES
            .iter()
            .filter(|r| r.path == path)
            .map(|r| r.method.clone())
            .collect();
        let mut resource = super::resource(path, &allowed);
        for r in ROUTES.iter().filter(|r| r.path == path) {
            resource = resource.route((r.handler)(web::method(r.method.clone())));
        }
        cfg.service(resource);
    }
}

/// Name of the security scheme in the document; its scopes are the least role a route needs.
const SCHEME: &str = "api_key";

/// The OpenAPI 3 document of every route in the table. `open` lists the probes that answer
/// without a key (`auth.open`).
pub fn openapi(open: &[String]) -> OpenApi {
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build()
    };
    let mut paths = PathsBuilder::new();
    let mut components = ComponentsBuilder::new()
        .schema("ErrorBody", ErrorBody::schema())
        .schema("ErrorCode", ErrorCode::schema())
        .security_scheme(
            SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key from `auth.keys` as `Authorization: Bearer <key>` (or the \
                         `X-API-Key` header). Scopes name the least role a route needs.",
                    ))
                    .build(),
            ),
        )
        .security_scheme(
            "api_key_header",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
    let mut seen = std::collections::BTreeSet::new();
    for r in ROUTES.iter() {
        let mut op = r.operation.clone();
        let open_probe = r.access == Access::Probe && open.contains(&r.operation_id);
        match r.access.least_role().filter(|_| !open_probe) {
            None => op.security = Some(vec![SecurityRequirement::default()]),
            Some(role) => {
                op.security = Some(vec![
                    SecurityRequirement::new(SCHEME, [role.as_str()]),
                    SecurityRequirement::new("api_key_header", [role.as_str()]),
                ]);
                let responses = &mut op.responses.responses;
                responses.entry("401".into()).or_insert_with(|| {
                    error("`unauthorized`: no key, or a key that is not configured").into()
                });
                if role != Role::Viewer {
                    let what = if r.access == Access::Operate {
                        "`forbidden`: the key's role may not do this (a viewer), or an \
                         operator not given this job kind"
                    } else {
                        "`forbidden`: only an admin may do this"
                    };
                    responses
                        .entry("403".into())
                        .or_insert_with(|| error(what).into());
                }
            }
        }
        let responses = &mut op.responses.responses;
        responses
            .entry("405".into())
            .or_insert_with(|| error("`method_not_allowed`").into());
        // The access layer reads a control action's body to audit it.
        if r.audited() {
            responses
                .entry("400".into())
                .or_insert_with(|| error("`invalid_body`: the body cannot be read").into());
            responses
                .entry("413".into())
                .or_insert_with(|| error("`payload_too_large`: more than 64 KiB").into());
        }
        paths = paths.path_from_operation(&r.path, r.http_method(), op);
        for (name, schema) in &r.schemas {
            if seen.insert(name.clone()) {
                components = components.schema(name.clone(), schema.clone());
            }
        }
    }
    let mut document = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("fplsync control endpoint")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Operates fplsync: the actor tree, job runs and triggers, the supervision \
                     and audit logs, synced data. Every error is `{\"error\": <ErrorCode>, \
                     \"message\": ...}`.",
                ))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components.build()))
        .build();
    // `ErrorBody` refers to `RunId`, which no operation may list itself.
    if let Some(c) = document.components.as_mut() {
        c.schemas
            .entry(<crate::run::RunId as ToSchema>::name().into_owned())
            .or_insert_with(crate::run::RunId::schema);
    }
    document
}

/// The OpenAPI document as served: [`openapi`] with what only the running service knows or
/// what utoipa's derive cannot say — the job kinds as the enum of every `kind` parameter, and
/// the exact JSON schema of each request body (required fields, bounds, and
/// `additionalProperties: false`, since every body refuses unknown fields), and the schemas of
/// the datasets published to Redis (the data contract, `Dataset*`).
pub fn document(open: &[String], kinds: &[String]) -> serde_json::Value {
    use serde_json::{Value, json};
    let mut doc = serde_json::to_value(openapi(open)).expect("the document serializes");
    let bodies: [(&str, Value, bool); 5] = [
        ("ack_alert", super::alerts::ack_schema(), true),
        ("trigger", super::jobs::trigger_schema(), false),
        (
            "create_tournament",
            super::tournaments::create_schema(),
            true,
        ),
        (
            "failed_jobs",
            super::recovery::failed_jobs_schema(kinds),
            true,
        ),
        ("consistency", super::recovery::consistency_schema(), false),
    ];
    // The published datasets' schemas (the data contract), for readers of Redis.
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        for (name, schema) in super::contract::schemas() {
            schemas.insert(name.into(), schema);
        }
    }
    let Some(paths) = doc["paths"].as_object_mut() else {
        return doc;
    };
    for item in paths.values_mut().filter_map(Value::as_object_mut) {
        for op in item.values_mut().filter_map(Value::as_object_mut) {
            let params = op.get_mut("parameters").and_then(Value::as_array_mut);
            for p in params.into_iter().flatten() {
                if p["name"] == "kind" {
                    p["schema"] = json!({"type": "string", "enum": kinds});
                }
            }
            let id = op
                .get("operationId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if let Some((_, schema, required)) = bodies.iter().find(|(o, ..)| *o == id) {
                op.insert(
                    "requestBody".into(),
                    json!({
                        "required": required,
                        "content": {"application/json": {"schema": schema}},
                    }),
                );
            }
        }
    }
    doc
}

trait PathsFromOperation {
    fn path_from_operation(self, path: &str, method: HttpMethod, op: Operation) -> Self;
}

impl PathsFromOperation for PathsBuilder {
    fn path_from_operation(self, path: &str, method: HttpMethod, op: Operation) -> Self {
        self.path(path, utoipa::openapi::path::PathItem::new(method, op))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_one_method_on_a_distinct_path_and_operation() {
        let mut seen = std::collections::BTreeSet::new();
        for r in ROUTES.iter() {
            assert!(
                seen.insert((r.method.to_string(), r.path.clone())),
                "{} {} twice",
                r.method,
                r.path
            );
        }
        let ids: std::collections::BTreeSet<_> = ROUTES.iter().map(|r| &r.operation_id).collect();
        assert_eq!(ids.len(), ROUTES.len(), "operation ids are unique");
    }

    #[test]
    fn the_document_lists_every_route_with_its_least_role() {
        let doc = serde_json::to_value(openapi(&["health".into()])).unwrap();
        for r in ROUTES.iter() {
            let op = &doc["paths"][&r.path][r.method.as_str().to_lowercase()];
            assert!(op.is_object(), "{} {} missing", r.method, r.path);
            let security = &op["security"][0];
            match (r.access.least_role(), r.operation_id.as_str()) {
                (None, _) | (_, "health") => assert_eq!(security, &serde_json::json!({})),
                (Some(role), _) => assert_eq!(security[SCHEME][0], role.as_str(), "{}", r.path),
            }
        }
        // Every schema an operation refers to is in the document.
        fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(m) => {
                    if let Some(r) = m.get("$ref").and_then(|r| r.as_str()) {
                        out.push(r.trim_start_matches("#/components/schemas/").to_string());
                    }
                    m.values().for_each(|v| refs(v, out));
                }
                serde_json::Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(all.len() > 20);
        for name in &all {
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "{name} is defined"
            );
        }
        let text = doc.to_string();
        for name in [
            "RunRecord",
            "ActorView",
            "AuditRecord",
            "Accepted",
            "RunId",
            "Readiness",
        ] {
            assert!(
                text.contains(&format!("#/components/schemas/{name}")),
                "{name} used"
            );
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "{name} defined"
            );
        }
        assert!(
            doc["components"]["schemas"]["ErrorCode"]["enum"]
                .as_array()
                .unwrap()
                .contains(&serde_json::json!("forbidden"))
        );
    }
}
