//! `POST /v1/import/portfolio`: a portfolio CSV (columns in README), all or
//! nothing; every bad row comes back with its line, column and reason.
//! Debtors already known by their external id are updated, not duplicated;
//! each is planned at once so the queues show them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::api::ErrorBody;
use crate::api::ImportResponse;
use crate::import::parse_portfolio;
use crate::server::app::{AppState, Upload};
use crate::server::auth::Supervisor;
use crate::server::error::ApiError;
use crate::server::import;

/// The bad rows an error answer lists (with how many there were in all).
pub const MAX_ROWS_SHOWN: usize = 1000;

/// A portfolio body may be this large (about a million rows).
pub const IMPORT_LIMIT: usize = 512 * 1024 * 1024;

#[utoipa::path(post, path = "/v1/import/portfolio", tag = "import", security(("bearer" = ["supervisor", "admin"])),
    request_body(content = String, content_type = "text/csv", description = "the portfolio, columns as README says"),
    responses(
        (status = 200, description = "imported, all of it", body = ImportResponse),
        (status = 400, description = "the body could not be read", body = ErrorBody),
        (status = 401, description = "no valid bearer token", body = ErrorBody), (status = 403, description = "your role may not do this", body = ErrorBody),
        (status = 408, description = "the body stopped arriving for 10 s", body = ErrorBody),
        (status = 413, description = "the body is over 512 MiB", body = ErrorBody),
        (status = 422, description = "`bad_rows`: every bad row by line, column and reason in `details`; nothing imported", body = ErrorBody),
    ))]
pub async fn portfolio(
    State(state): State<AppState>,
    caller: Supervisor,
    Upload(body): Upload<IMPORT_LIMIT>,
) -> Result<Json<ImportResponse>, ApiError> {
    let debtors = tokio::task::spawn_blocking(move || parse_portfolio(&body))
        .await
        .expect("parsing does not panic");
    let debtors = debtors.map_err(|errors| {
        let first = errors
            .errors
            .first()
            .map(|e| e.column.clone())
            .filter(|c| !c.is_empty());
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_rows",
            errors.to_string(),
        );
        e.field = first;
        // Enough to fix a file by; a million bad rows need not come back.
        let shown = &errors.errors[..errors.errors.len().min(MAX_ROWS_SHOWN)];
        e.details = Some(serde_json::json!({ "rows": shown, "total": errors.errors.len() }));
        e
    })?;
    let now = state.clock.now();
    let imported = import(&state, debtors).await?;
    // The board and the agents' queue screens count again.
    state
        .publish(
            "queues_changed",
            None,
            None,
            serde_json::json!({ "replanned": imported.ids.len() }),
        )
        .await?;
    state
        .store
        .audit(
            Some(caller.0.id),
            "import",
            None,
            &format!("{} created, {} updated", imported.created, imported.updated),
            now,
        )
        .await?;
    Ok(Json(ImportResponse {
        debtors: imported.ids.len() as u64,
        created: imported.created,
        updated: imported.updated,
    }))
}
