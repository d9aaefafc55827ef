//! `GET /`: the dashboard, one static page (HTML, CSS and a little plain JavaScript, compiled
//! into the binary; no front-end build step) that reads the JSON routes with the caller's key
//! and refreshes itself. And `GET /openapi.json`, the document generated from the route table.

use actix_web::{HttpResponse, web};

use super::ApiState;
use super::routes;

const PAGE: &str = include_str!("dashboard.html");

/// The dashboard page. It holds no data: its script fetches the JSON routes with the key the
/// person enters (kept in the browser's session storage, or given as `#key=...`).
#[utoipa::path(get, path = "/", operation_id = "dashboard", tag = "operations", responses(
    (status = 200, description = "The dashboard (HTML)", body = String, content_type = "text/html")))]
pub async fn index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-cache"))
        .body(PAGE)
}

/// The OpenAPI 3 document of every route, generated from the code.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses(
    (status = 200, description = "OpenAPI 3.1 document", body = Object)))]
pub async fn openapi(state: web::Data<ApiState>) -> HttpResponse {
    let kinds: Vec<String> = state.catalog.kinds().map(|k| k.to_string()).collect();
    HttpResponse::Ok().json(routes::document(state.access.open_probes(), &kinds))
}
