//! `/metrics` in Prometheus' text format: requests by route and status, a
//! latency histogram, leases out and queue depths (read at scrape time).

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use super::app::AppState;
use super::error::ApiError;
use super::store::QueueCount;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// (method, route, status) → count.
    requests: BTreeMap<(String, String, u16), u64>,
    /// Cumulative counts per bucket, then +Inf, sum and count.
    latency: [u64; BUCKETS.len()],
    latency_sum: f64,
    latency_count: u64,
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut m = self.inner.lock().expect("not poisoned");
        *m.requests
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                m.latency[i] += 1;
            }
        }
        m.latency_sum += seconds;
        m.latency_count += 1;
    }
}

/// Times every request and counts it under its route's template (never
/// the raw path, so ids do not blow up the label set).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(req).await;
    state.metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text", body = String, content_type = "text/plain")))]
pub async fn render(State(state): State<AppState>) -> Result<Response, ApiError> {
    // Without its database the requests are still counted (they are what
    // matters then), with the database said down and no queue figures.
    let counts = state.store.queue_counts(state.clock.now()).await;
    let mut out = String::new();
    {
        let m = state.metrics.inner.lock().expect("not poisoned");
        out.push_str(
            "# HELP regua_http_requests_total Requests answered, by method, route and status.\n",
        );
        out.push_str("# TYPE regua_http_requests_total counter\n");
        for ((method, route, status), n) in &m.requests {
            let _ = writeln!(
                out,
                "regua_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP regua_http_request_duration_seconds Time to answer a request.\n");
        out.push_str("# TYPE regua_http_request_duration_seconds histogram\n");
        for (bound, n) in BUCKETS.iter().zip(m.latency) {
            let _ = writeln!(
                out,
                "regua_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "regua_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {}",
            m.latency_count
        );
        let _ = writeln!(
            out,
            "regua_http_request_duration_seconds_sum {}",
            m.latency_sum
        );
        let _ = writeln!(
            out,
            "regua_http_request_duration_seconds_count {}",
            m.latency_count
        );
    }
    out.push_str("# HELP regua_database_up Whether the database answered this scrape.\n# TYPE regua_database_up gauge\n");
    let _ = writeln!(out, "regua_database_up {}", i32::from(counts.is_ok()));
    let Ok(counts) = counts else {
        return Ok(([("content-type", "text/plain; version=0.0.4")], out).into_response());
    };
    out.push_str("# HELP regua_leases_active Debtors held by an agent now.\n# TYPE regua_leases_active gauge\n");
    let _ = writeln!(
        out,
        "regua_leases_active {}",
        counts.iter().map(|c| c.leased).sum::<i64>()
    );
    // Every queue of the policy, an empty one at 0: a series that vanished
    // would read as no data, not as nobody waiting.
    let count = |queue: &str| counts.iter().find(|c| c.queue == queue);
    for (name, help, figure) in [
        (
            "regua_queue_depth",
            "Debtors waiting in each queue.",
            (|c: &QueueCount| c.waiting) as fn(&QueueCount) -> i64,
        ),
        (
            "regua_queue_callable",
            "Debtors in each queue who may be called now.",
            |c: &QueueCount| c.callable,
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for q in &state.policy.queues {
            let n = count(&q.id).map_or(0, figure);
            let _ = writeln!(out, "{name}{{queue=\"{}\"}} {n}", q.id);
        }
    }
    Ok(([("content-type", "text/plain; version=0.0.4")], out).into_response())
}
