//! Load generator: N agents work a queue through the real API on loopback —
//! lease, record an outcome, next — until nobody callable is left. Reports
//! throughput, latency (p50, p99) and the correctness figures: debtors
//! leased to two agents at once, outcomes lost or recorded twice.
//!
//! cargo bench --bench load                       # SQLite
//! REGUA_TEST_POSTGRES_URL=postgres://… cargo bench --bench load   # and PostgreSQL
//! Environment: REGUA_LOAD_AGENTS (200), REGUA_LOAD_DEBTORS (20000),
//! REGUA_LOAD_SQLITE (1; 0 skips SQLite's run), REGUA_LOAD_REPLICAS (2):
//! on PostgreSQL the agents are also run against that many `serve`
//! replicas on one database, each with its own pools, split between them. REGUA_LOAD_RATE (0): outcomes a second offered in
//! all; each agent starts a lease → outcome round every agents/rate
//! seconds (or at once when late) instead of straight after the last, so
//! the latencies are those at that rate rather than at saturation, where
//! 200 agents with no pause between requests wait on each other by
//! Little's law. REGUA_LOAD_GIVE_BACK (0): one lease in this many is given
//! back unworked, as the console's `x` does, and the agent leases again;
//! the run counts how often the debtor given back came straight back.

use chrono::{DateTime, TimeZone, Utc};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use regua::domain::{Clock, Role};
use regua::schedule::{default_policy, plan};
use regua::server::app::{AppState, verdict};
use regua::server::store::{Change, connect};

struct Fixed(DateTime<Utc>);

impl Clock for Fixed {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Default)]
struct Tally {
    lease_ms: Vec<f64>,
    leases_ok: u64,
    outcome_ms: Vec<f64>,
    /// Debtor → the agent holding it now.
    held: HashMap<i64, usize>,
    double_leases: u64,
    given_back: u64,
    /// Leases that handed an agent the debtor they had just given back.
    straight_back: u64,
    outcomes_ok: HashMap<i64, u32>,
    errors: u64,
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

async fn run(
    label: &str,
    url: &str,
    agents: usize,
    debtors: usize,
    replicas: usize,
    rate: usize,
    give_back: usize,
) {
    // A Tuesday, 10:00 in São Paulo: the window is open.
    let now = chrono_tz::America::Sao_Paulo
        .with_ymd_and_hms(2026, 3, 10, 10, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    let store = connect(url).await.expect("store");
    let policy = default_policy();
    let state = AppState::new(store.clone(), policy.clone(), Arc::new(Fixed(now)));
    let hash = regua::server::auth::hash_password("load".into()).await;
    for i in 0..agents {
        store
            .create_user(&format!("agent{i}"), Role::Agent, &hash, now)
            .await
            .unwrap();
    }
    let today = now.date_naive();
    let portfolio: Vec<_> = (0..debtors)
        .map(|i| regua::simulate::portfolio::debtor(7, i, today).debtor)
        .collect();
    let ids = store
        .import_debtors(portfolio.clone().into(), now)
        .await
        .unwrap()
        .ids;
    let mut queues: HashMap<String, usize> = HashMap::new();
    for (id, mut d) in ids.iter().zip(portfolio) {
        d.id = *id;
        let v = verdict(&policy, &d, &plan(&d, &[], &policy, now), now);
        if v.callable {
            *queues.entry(v.queue.clone().unwrap()).or_default() += 1;
        }
        store
            .apply(
                *id,
                &Change {
                    verdict: Some(v),
                    ..Change::default()
                },
            )
            .await
            .unwrap();
    }
    let callable: usize = queues.values().sum();
    let mut bases = Vec::new();
    let mut stops = Vec::new();
    for replica in 0..replicas {
        let state = if replica == 0 {
            state.clone()
        } else {
            let store = connect(url).await.expect("store");
            AppState::new(store, policy.clone(), Arc::new(Fixed(now)))
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        bases.push(format!("http://{}", listener.local_addr().unwrap()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        stops.push(stop);
        tokio::spawn(regua::server::serve(listener, state, async {
            let _ = stopped.await;
        }));
    }

    let http = Client::builder()
        .pool_max_idle_per_host(agents)
        .build()
        .unwrap();
    let mut tokens = Vec::new();
    for i in 0..agents {
        let base = &bases[i % replicas];
        let r: Value = http
            .post(format!("{base}/v1/sessions"))
            .json(&json!({ "username": format!("agent{i}"), "password": "load" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tokens.push(r["token"].as_str().unwrap().to_string());
    }
    let tally = Arc::new(Mutex::new(Tally::default()));
    let queue_names: Vec<String> = queues.keys().cloned().collect();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (agent, token) in tokens.into_iter().enumerate() {
        let (http, base, tally, queue_names) = (
            http.clone(),
            bases[agent % replicas].clone(),
            tally.clone(),
            queue_names.clone(),
        );
        // Agents' rounds are spread evenly over each period.
        let period = (rate > 0).then(|| Duration::from_secs_f64(agents as f64 / rate as f64));
        let mut next = tokio::time::Instant::from_std(started)
            + period.map_or(Duration::ZERO, |p| p.mul_f64(agent as f64 / agents as f64));
        tasks.push(tokio::spawn(async move {
            let (mut n, mut leased) = (0, 0);
            let mut gave_back = None;
            let mut from = agent % queue_names.len();
            'work: loop {
                if let Some(period) = period {
                    tokio::time::sleep_until(next).await;
                    next = (next + period).max(tokio::time::Instant::now());
                }
                let mut got = None;
                // Like an agent, stay on the queue that last gave a debtor.
                let mut order = queue_names.clone();
                order.rotate_left(from);
                for (i, q) in order.iter().enumerate() {
                    let t = Instant::now();
                    let r = http
                        .post(format!("{base}/v1/queues/{q}/lease"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .unwrap();
                    let ms = t.elapsed().as_secs_f64() * 1000.0;
                    let status = r.status();
                    let body: Value = r.json().await.unwrap_or(Value::Null);
                    let mut t = tally.lock().unwrap();
                    t.lease_ms.push(ms);
                    if status == StatusCode::OK {
                        t.leases_ok += 1;
                        from = (from + i) % order.len();
                        got = Some((
                            body["lease"]["id"].as_i64().unwrap(),
                            body["debtor"]["id"].as_i64().unwrap(),
                        ));
                        break;
                    }
                }
                let Some((lease, debtor)) = got else {
                    break 'work;
                };
                {
                    let mut t = tally.lock().unwrap();
                    if t.held.insert(debtor, agent).is_some() {
                        t.double_leases += 1;
                    }
                    if gave_back.take() == Some(debtor) {
                        t.straight_back += 1;
                    }
                }
                leased += 1;
                if give_back > 0 && leased % give_back == 0 {
                    tally.lock().unwrap().held.remove(&debtor);
                    let r = http
                        .delete(format!("{base}/v1/leases/{lease}"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .unwrap();
                    let mut t = tally.lock().unwrap();
                    if r.status() == StatusCode::NO_CONTENT {
                        t.given_back += 1;
                        gave_back = Some(debtor);
                    } else {
                        t.errors += 1;
                    }
                    continue;
                }
                n += 1;
                let t = Instant::now();
                let r = http
                    .post(format!("{base}/v1/debtors/{debtor}/outcomes"))
                    .bearer_auth(&token)
                    .header("Idempotency-Key", format!("load-{agent}-{n}"))
                    .json(&json!({ "disposition": "no_answer" }))
                    .send()
                    .await
                    .unwrap();
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                let mut t = tally.lock().unwrap();
                t.outcome_ms.push(ms);
                t.held.remove(&debtor);
                if r.status() == StatusCode::CREATED {
                    *t.outcomes_ok.entry(debtor).or_default() += 1;
                } else {
                    t.errors += 1;
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    for stop in stops {
        let _ = stop.send(());
    }
    // What the store holds: each acknowledged outcome exactly once.
    let mut t = std::mem::take(&mut *tally.lock().unwrap());
    let (mut lost, mut duplicated) = (0, 0);
    for (debtor, acked) in &t.outcomes_ok {
        let stored = store
            .history(*debtor)
            .await
            .unwrap()
            .iter()
            .filter(|e| matches!(e.kind, regua::domain::EventKind::Outcome { .. }))
            .count() as u32;
        lost += acked.saturating_sub(stored);
        duplicated += stored.saturating_sub(*acked);
    }
    let outcomes: u32 = t.outcomes_ok.values().sum();
    let lease_calls = t.lease_ms.len();
    let offered = if rate > 0 {
        format!("{rate} outcomes/s offered")
    } else {
        "no pause between requests".to_string()
    };
    println!(
        "{label}: {agents} agents on {replicas} server(s), {offered}, {callable} callable of {debtors} debtors: {outcomes} outcomes in {elapsed:.2} s = {:.0} outcomes/s, {:.0} leases/s ({:.0} lease calls/s with the empty queues' 404s)",
        outcomes as f64 / elapsed,
        t.leases_ok as f64 / elapsed,
        lease_calls as f64 / elapsed
    );
    println!(
        "{label}: lease p50 {:.1} ms p99 {:.1} ms; outcome p50 {:.1} ms p99 {:.1} ms",
        percentile(&mut t.lease_ms, 0.5),
        percentile(&mut t.lease_ms, 0.99),
        percentile(&mut t.outcome_ms, 0.5),
        percentile(&mut t.outcome_ms, 0.99)
    );
    println!(
        "{label}: double leases {}, lost outcomes {lost}, duplicated outcomes {duplicated}, failed requests {}",
        t.double_leases, t.errors
    );
    if give_back > 0 {
        println!(
            "{label}: {} leases given back, {} of them handed straight back to the agent who gave them",
            t.given_back, t.straight_back
        );
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not run us.
    let agents = env("REGUA_LOAD_AGENTS", 200);
    let debtors = env("REGUA_LOAD_DEBTORS", 20_000);
    let replicas = env("REGUA_LOAD_REPLICAS", 2).max(1);
    let rate = env("REGUA_LOAD_RATE", 0);
    let give_back = env("REGUA_LOAD_GIVE_BACK", 0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        if env("REGUA_LOAD_SQLITE", 1) != 0 {
            run(
                "sqlite",
                &format!("sqlite://{}", dir.path().join("load.db").display()),
                agents,
                debtors,
                1,
                rate,
                give_back,
            )
            .await;
        }
        if let Ok(base) = std::env::var("REGUA_TEST_POSTGRES_URL") {
            let mut runs = vec![1];
            if replicas > 1 {
                runs.push(replicas);
            }
            for (n, servers) in runs.into_iter().enumerate() {
                let schema = format!("regua_load_{}_{n}", std::process::id());
                let admin = sqlx::PgPool::connect(&base).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(&admin)
                    .await
                    .unwrap();
                let sep = if base.contains('?') { '&' } else { '?' };
                run(
                    "postgres",
                    &format!("{base}{sep}options=-c%20search_path%3D{schema}"),
                    agents,
                    debtors,
                    servers,
                    rate,
                    give_back,
                )
                .await;
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                    .execute(&admin)
                    .await
                    .unwrap();
            }
        }
    });
}
