//! Reading debtors: search, the full record (audited, the document masked
//! unless revealed, which is audited too), the timeline, the plan and the
//! talking points.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use crate::api::{
    DebtorSummary, DebtorView, ErrorBody, OffersView, Opening, PlanLine, PlanView, ScriptView,
    TalkingPointView,
};
use crate::domain::Event;
use crate::schedule::State as PlanState;
use crate::schedule::explain::{explain, source_name, summary};
use crate::scripts::{CaseError, case, max_installments};
use crate::server::app::{AppState, Id, Query, no_debtor, plan_debtor};
use crate::server::auth::Caller;
use crate::server::error::ApiError;
use crate::server::routes::LocaleQuery;

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/v1/debtors", tag = "debtors", security(("bearer" = [])),
    params(
        ("q" = Option<String>, Query, description = "words of the name, each anywhere in it (any case, with or without accents), the id or external id, or 3 or more digits of the document"),
        ("limit" = Option<u32>, Query, description = "at most this many: 20 unless told, held to 1 to 100"),
    ),
    responses((status = 200, description = "matches, documents masked", body = Vec<DebtorSummary>), (status = 400, description = "a query parameter of the wrong type, or given twice (`bad_query`, named in `field`)", body = ErrorBody), (status = 401, description = "no valid bearer token", body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    _caller: Caller,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Vec<DebtorSummary>>, ApiError> {
    let limit = q.limit.unwrap_or(20).clamp(1, 100);
    let found = state.store.search_debtors(&q.q, limit).await?;
    Ok(Json(
        found
            .into_iter()
            .map(|s| DebtorSummary {
                id: s.id,
                external_id: s.external_id,
                name: s.name,
                // Masked in lists: the full record reveals it, audited.
                document: s
                    .document
                    .parse::<crate::domain::Document>()
                    .map_or(s.document, |d| d.masked()),
            })
            .collect(),
    ))
}

#[derive(Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    reveal: bool,
}

#[utoipa::path(get, path = "/v1/debtors/{id}", tag = "debtors", security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "the debtor's id"),
        ("reveal" = Option<bool>, Query, description = "show the document unmasked (audited)"),
    ),
    responses(
        (status = 200, description = "the full record (audited)", body = DebtorView),
        (status = 400, description = "a query parameter of the wrong type, or given twice (`bad_query`, named in `field`)", body = ErrorBody),
        (status = 401, description = "no valid bearer token", body = ErrorBody),
        (status = 404, description = "no such debtor", body = ErrorBody),
    ))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Query(q): Query<ShowQuery>,
) -> Result<Json<DebtorView>, ApiError> {
    let debtor = state.store.debtor(id).await?.ok_or_else(|| no_debtor(id))?;
    let action = if q.reveal {
        "read_debtor_revealed"
    } else {
        "read_debtor"
    };
    state
        .store
        .audit(
            Some(caller.0.id),
            action,
            Some(id),
            "full record",
            state.clock.now(),
        )
        .await?;
    Ok(Json(DebtorView::of(&debtor, q.reveal)))
}

#[utoipa::path(get, path = "/v1/debtors/{id}/timeline", tag = "debtors", security(("bearer" = [])), params(("id" = i64, Path, description = "the id")),
    responses(
        (status = 200, description = "the history in time order", body = Vec<Event>),
        (status = 401, description = "no valid bearer token", body = ErrorBody),
        (status = 404, description = "no such debtor", body = ErrorBody),
    ))]
pub async fn timeline(
    State(state): State<AppState>,
    _caller: Caller,
    Id(id): Id,
) -> Result<Json<Vec<Event>>, ApiError> {
    if state.store.debtor(id).await?.is_none() {
        return Err(no_debtor(id));
    }
    Ok(Json(state.store.history(id).await?))
}

/// How far ahead a plan lists the debtor's call window.
const CALL_HOURS_AHEAD: chrono::Duration = chrono::Duration::days(14);

#[utoipa::path(get, path = "/v1/debtors/{id}/plan", tag = "debtors", security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "the id"),
        ("locale" = Option<String>, Query, description = "the language of `why` and `explanation`: pt-BR (the default) or en"),
    ),
    responses(
        (status = 200, description = "what the régua will do next, what is blocked and until when", body = PlanView),
        (status = 400, description = "a query parameter of the wrong type, or given twice (`bad_query`, named in `field`)", body = ErrorBody),
        (status = 401, description = "no valid bearer token", body = ErrorBody),
        (status = 404, description = "no such debtor", body = ErrorBody),
        (status = 422, description = "an unknown locale", body = ErrorBody),
    ))]
pub async fn plan(
    State(state): State<AppState>,
    _caller: Caller,
    Id(id): Id,
    Query(q): Query<LocaleQuery>,
) -> Result<Json<PlanView>, ApiError> {
    let locale = q.locale()?;
    let (debtor, _, p) = plan_debtor(&state, id).await?;
    let policy = &state.policy;
    let now = state.clock.now();
    let state_name = match p.state {
        PlanState::Active => "active".to_string(),
        PlanState::PromisePending { .. } => "promise_pending".into(),
        PlanState::PaidInFull => "paid_in_full".into(),
        PlanState::Stopped(flag) => format!("stopped_{}", flag.name()),
        PlanState::MixedCurrencies => "mixed_currencies".into(),
    };
    Ok(Json(PlanView {
        state: state_name,
        queue: p.queue.map(|q| policy.queue(q).id.clone()),
        callable_now: p.callable_now,
        days_past_due: p.days_past_due,
        priority: p.score.total,
        actions: p
            .actions
            .iter()
            .map(|a| PlanLine {
                at: Some(a.at),
                channel: a.channel.name().into(),
                firmness: a.firmness.name().into(),
                why: source_name(policy, a.source, locale),
            })
            .collect(),
        blocked: p
            .blocked
            .iter()
            .map(|b| PlanLine {
                at: b.refusal.clears_at,
                channel: b.channel.name().into(),
                firmness: b.firmness.name().into(),
                why: b.refusal.block.said(locale),
            })
            .collect(),
        explanation: explain(&p, policy, &debtor, now, locale),
        summary: summary(&p, policy, locale),
        call_hours: policy
            .compliance
            .call_hours(&debtor, now, now + CALL_HOURS_AHEAD)
            .into_iter()
            .map(|(from, to)| Opening { from, to })
            .collect(),
        latest_callback: Some(policy.latest_callback(now)),
    }))
}

#[utoipa::path(get, path = "/v1/debtors/{id}/script", tag = "debtors", security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "the id"),
        ("locale" = Option<String>, Query, description = "pt-BR (the default) or en"),
    ),
    responses(
        (status = 200, description = "the talking points for the debtor's situation, rendered with their facts, and the offers allowed", body = ScriptView),
        (status = 400, description = "a query parameter of the wrong type, or given twice (`bad_query`, named in `field`)", body = ErrorBody),
        (status = 401, description = "no valid bearer token", body = ErrorBody),
        (status = 404, description = "no such debtor", body = ErrorBody),
        (status = 409, description = "debts in more than one currency", body = ErrorBody),
        (status = 422, description = "an unknown locale", body = ErrorBody),
    ))]
pub async fn script(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Query(q): Query<LocaleQuery>,
) -> Result<Json<ScriptView>, ApiError> {
    let locale = q.locale()?;
    let (debtor, history, p) = plan_debtor(&state, id).await?;
    let c = case(
        &debtor,
        &history,
        &p,
        &state.policy,
        &caller.0.name,
        state.clock.now(),
    )
    .map_err(|e| {
        // The debtor's debts, not the request, are at fault.
        let code = match e {
            CaseError::MixedCurrencies => "mixed_currencies",
            CaseError::Offers(_) => "offers_unavailable",
        };
        ApiError::new(StatusCode::CONFLICT, code, e.to_string())
    })?;
    let points = state
        .policy
        .talking_points
        .render(&c, locale)
        .map_err(|e| {
            eprintln!("regua serve: talking points for debtor {id}: {e}");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the talking points could not be written",
            )
        })?;
    Ok(Json(ScriptView {
        situation: c.situation.name().into(),
        points: points
            .into_iter()
            .map(|p| TalkingPointView {
                stage: p.stage.name().into(),
                title: p.title,
                text: p.text,
            })
            .collect(),
        offers: c.facts.offers.map(|t| OffersView {
            balance_minor: t.balance.minor,
            currency: t.balance.currency.code().into(),
            pay_in_full_minor: t.pay_in_full.minor,
            max_discount_minor: t.max_discount.minor,
            max_installments: max_installments(&t),
            min_installment_minor: t.min_installment.minor,
            latest_promise_date: t.latest_promise_date,
        }),
    }))
}
