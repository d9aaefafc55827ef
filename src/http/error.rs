//! The one error type of the control endpoint: `{"error": "<stable_code>", "message": "..."}`
//! with the right status (and `Retry-After` where waiting helps).

use actix_web::http::StatusCode;
use actix_web::http::header::RETRY_AFTER;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::run::RunId;
use crate::store::StoreError;

/// Every stable error code the endpoint answers with. The OpenAPI document lists them (schema
/// `ErrorCode`), and the malformed-request test checks every error it provokes against them:
/// add a new code here.
pub const CODES: &[&str] = &[
    "invalid_query",
    "invalid_path",
    "invalid_json",
    "invalid_params",
    "invalid_status",
    "invalid_limit",
    "invalid_body",
    "payload_too_large",
    "unknown_kind",
    "unknown_actor",
    "run_not_found",
    "not_found",
    "method_not_allowed",
    "unauthorized",
    "forbidden",
    "rate_limited",
    "already_running",
    "not_controllable",
    "not_restartable",
    "control_refused",
    "restart_refused",
    "mailbox_full",
    "actor_unavailable",
    "supervisor_unavailable",
    "database_unavailable",
    "run_finished",
    "no_data",
    "unknown_season",
    "cache_unavailable",
    "corrupt_data",
    "not_leader",
    "invalid_event",
    "no_live_score",
    "invalid_severity",
    "tournament_not_found",
    "invalid_tournament",
    "unknown_league",
    "fpl_unavailable",
    "invalid_state",
    "not_a_league",
    "unknown_action",
    "invalid_input",
    "unsupported_media_type",
    "roster_not_ready",
    "manager_not_found",
    "player_not_found",
    "league_not_tracked",
    "alert_not_found",
];

/// Refuses the query parameter `name` with `code` unless it is absent or one of `allowed`.
pub fn one_of(
    value: Option<&str>,
    name: &str,
    allowed: &[&str],
    code: &'static str,
) -> Result<(), ApiError> {
    match value.filter(|v| !allowed.contains(v)) {
        Some(v) => Err(ApiError::bad_request(
            code,
            format!("{name} must be one of {}, got `{v}`", allowed.join(", ")),
        )),
        None => Ok(()),
    }
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable, machine-readable code; clients match on it, so never change one.
    pub code: &'static str,
    pub message: String,
    pub retry_after_secs: Option<u64>,
    /// The run a refusal is about (`already_running`: the run that is queued or running).
    pub run_id: Option<RunId>,
}

/// The body of every error answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody<'a> {
    /// Stable, machine-readable code.
    #[schema(value_type = ErrorCode)]
    pub error: &'a str,
    /// For people; may change.
    pub message: &'a str,
    /// With `already_running`: the run that holds the kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub run_id: Option<RunId>,
}

/// The stable error codes, as a string enum in the OpenAPI document.
pub struct ErrorCode;

impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(CODES.iter().copied()))
            .description(Some("A stable error code: clients match on it."))
            .into()
    }
}

impl utoipa::ToSchema for ErrorCode {}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after_secs: None,
            run_id: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 400 `invalid_query` when a text filter holds a NUL character, which no stored text
    /// contains and PostgreSQL refuses outright.
    pub fn check_text(name: &str, value: Option<&str>) -> Result<(), Self> {
        match value {
            Some(v) if v.contains('\0') => Err(Self::bad_request(
                "invalid_query",
                format!("{name} contains a NUL character"),
            )),
            _ => Ok(()),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn with_run(mut self, run: RunId) -> Self {
        self.run_id = Some(run);
        self
    }

    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs.max(1));
        self
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after_secs {
            response.insert_header((RETRY_AFTER, secs.to_string()));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((
                actix_web::http::header::WWW_AUTHENTICATE,
                "Bearer realm=\"fplsync\"",
            ));
        }
        response.json(ErrorBody {
            error: self.code,
            message: &self.message,
            run_id: self.run_id,
        })
    }
}

/// What a failed query says about the database: only a database that could not be reached or
/// did not answer is "unavailable". PostgreSQL refusing a value (SQLSTATE class 22, "data
/// exception": a NUL in text, a number out of range, …) is the request's fault — the handlers
/// validate their inputs at the edge, so this is the backstop that keeps a caller's bytes from
/// ever reporting a healthy database down. A stored row that does not decode is `corrupt_data`.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if let StoreError::Query(q) = &e {
            if let Some(db) = q.as_database_error()
                && db.code().is_some_and(|c| c.starts_with("22"))
            {
                tracing::warn!(error = %e, "PostgreSQL refused a value of the request");
                return ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_input",
                    format!(
                        "the database refused a value of the request: {}",
                        db.message()
                    ),
                );
            }
            if matches!(q, sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_)) {
                tracing::error!(error = %e, "a stored row does not decode");
                return ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "corrupt_data",
                    e.to_string(),
                );
            }
        }
        if let StoreError::Corrupt(_) = &e {
            tracing::error!(error = %e, "stored data is invalid");
            return ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "corrupt_data",
                e.to_string(),
            );
        }
        tracing::error!(error = %e, "request failed on the database");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            e.to_string(),
        )
        .retry_after(5)
    }
}
