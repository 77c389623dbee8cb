//! The API end to end: a real server on 127.0.0.1:0 over a SQLite file, a
//! real HTTP client, a clock the test sets (a Tuesday morning in São Paulo,
//! so calls are allowed).

use chrono::{DateTime, NaiveDate, TimeZone, Timelike, Utc};
use reqwest::header::HeaderValue;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use sha2::Digest;
use std::sync::{Arc, Mutex};

use regua::domain::{Clock, Currency, Locale, Money};
use regua::schedule::default_policy;
use regua::server::app::AppState;
use regua::server::store::connect;

struct TestClock(Mutex<DateTime<Utc>>);

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

struct Server {
    base: String,
    http: Client,
    clock: Arc<TestClock>,
    state: AppState,
    _dir: tempfile::TempDir,
    /// Stops the server when sent, or dropped.
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Tuesday 2026-03-10, 10:00 in São Paulo.
fn morning() -> DateTime<Utc> {
    chrono_tz::America::Sao_Paulo
        .with_ymd_and_hms(2026, 3, 10, 10, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("regua.db").display());
    start_on(&url, true, dir).await
}

async fn start_on(url: &str, seed: bool, dir: tempfile::TempDir) -> Server {
    let store = connect(url).await.unwrap();
    let clock = Arc::new(TestClock(Mutex::new(morning())));
    let state = AppState::new(store, default_policy(), clock.clone());
    if seed {
        regua::server::seed_demo(&state, 80, 3).await.unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(regua::server::serve(listener, state.clone(), async {
        let _ = stopped.await;
    }));
    Server {
        base: format!("http://{addr}"),
        http: Client::new(),
        clock,
        state,
        _dir: dir,
        stop: Some(stop),
    }
}

impl Server {
    fn set_clock(&self, t: DateTime<Utc>) {
        *self.clock.0.lock().unwrap() = t;
    }

    async fn login(&self, user: &str) -> String {
        let r = self
            .post(
                "/v1/sessions",
                None,
                &json!({ "username": user, "password": "demo" }),
            )
            .await;
        assert_eq!(r.0, StatusCode::OK, "{}", r.1);
        r.1["token"].as_str().unwrap().to_string()
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
        key: Option<&str>,
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value, headers)
    }

    async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
        let r = self
            .call(
                Method::POST,
                path,
                token,
                Some(body.to_string().into_bytes()),
                None,
            )
            .await;
        (r.0, r.1)
    }

    async fn put(&self, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
        let r = self
            .call(
                Method::PUT,
                path,
                Some(token),
                Some(body.to_string().into_bytes()),
                None,
            )
            .await;
        (r.0, r.1)
    }

    /// `DELETE /v1/sessions/current` with `token`.
    async fn logout(&self, token: &str) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        self.call(
            Method::DELETE,
            "/v1/sessions/current",
            Some(token),
            None,
            None,
        )
        .await
    }

    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let r = self.call(Method::GET, path, Some(token), None, None).await;
        (r.0, r.1)
    }

    async fn outcome(
        &self,
        debtor: i64,
        token: &str,
        key: Option<&str>,
        body: &Value,
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        self.call(
            Method::POST,
            &format!("/v1/debtors/{debtor}/outcomes"),
            Some(token),
            Some(body.to_string().into_bytes()),
            key,
        )
        .await
    }
}

fn assert_error(r: &(StatusCode, Value), status: StatusCode, code: &str, field: Option<&str>) {
    assert_eq!(r.0, status, "{}", r.1);
    assert_eq!(r.1["error"]["code"], code, "{}", r.1);
    assert!(
        r.1["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{}",
        r.1
    );
    assert_eq!(r.1["error"]["field"].as_str(), field, "{}", r.1);
}

/// The error's sentence for people says `has`.
fn assert_says(r: &(StatusCode, Value), has: &str) {
    let message = r.1["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(has), "{has:?} in {}", r.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_and_me() {
    let s = start().await;
    let token = s.login("ana").await;
    let me = s.get("/v1/me", &token).await;
    assert_eq!(
        (me.1["name"].as_str(), me.1["role"].as_str()),
        (Some("ana"), Some("agent"))
    );

    let wrong = s
        .post(
            "/v1/sessions",
            None,
            &json!({ "username": "ana", "password": "nope" }),
        )
        .await;
    assert_error(&wrong, StatusCode::UNAUTHORIZED, "bad_credentials", None);
    let nobody = s
        .post(
            "/v1/sessions",
            None,
            &json!({ "username": "zed", "password": "demo" }),
        )
        .await;
    assert_error(&nobody, StatusCode::UNAUTHORIZED, "bad_credentials", None);
    // Every route without a token: `every_route_by_every_role`.
}

/// A session ends 12 h after its last use, not after the login: a board on
/// the wall all day stays signed in, and a live stream counts as use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_in_use_goes_on_and_one_left_unused_ends() {
    let s = start().await;
    let hours = |h: i64| morning() + chrono::Duration::hours(h);
    let desk = s.login("sofia").await;
    let wall = s.login("sofia").await;
    let mut board = open_stream(&s, &wall, None).await;
    let ana = s.login("ana").await;

    // Seven hours on: the desk asks something, the wall only listens and
    // hears something happen.
    s.set_clock(hours(7));
    assert_eq!(s.get("/v1/me", &desk).await.0, StatusCode::OK);
    let r = s
        .outcome(
            1,
            &ana,
            Some("wall-1"),
            &json!({ "disposition": "no_answer" }),
        )
        .await;
    assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);
    next_event(&mut board, "outcome_recorded", &mut String::new())
        .await
        .expect("the wall hears it");
    // Both were renewed at 7 h; ana's token, used at 7 h too, also.
    s.set_clock(hours(18));
    assert_eq!(
        s.get("/v1/me", &desk).await.0,
        StatusCode::OK,
        "used 11 h ago"
    );
    assert_eq!(
        s.get("/v1/me", &wall).await.0,
        StatusCode::OK,
        "listened 11 h ago"
    );
    // Unused since 18 h: ends at 30 h.
    s.set_clock(hours(30));
    assert_eq!(s.get("/v1/me", &desk).await.0, StatusCode::UNAUTHORIZED);
    // Ana's was last used at 7 h.
    s.set_clock(hours(18));
    assert_eq!(
        s.get("/v1/me", &ana).await.0,
        StatusCode::OK,
        "renewed at 7 h: ends at 19 h"
    );
    s.set_clock(hours(31));
    assert_eq!(s.get("/v1/me", &ana).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_limited_per_user_and_address() {
    let s = start().await;
    for _ in 0..5 {
        let r = s
            .post(
                "/v1/sessions",
                None,
                &json!({ "username": "bruno", "password": "guess" }),
            )
            .await;
        assert_eq!(r.0, StatusCode::UNAUTHORIZED);
    }
    let r = s
        .post(
            "/v1/sessions",
            None,
            &json!({ "username": "bruno", "password": "demo" }),
        )
        .await;
    assert_error(&r, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", None);
    // Another user is not locked out by bruno's failures.
    s.login("carla").await;
    let guess = async |name: String| {
        let body = json!({ "username": name, "password": "guess" });
        s.post("/v1/sessions", None, &body).await
    };
    // A name no user can have is refused before it is counted (kept, a
    // stream of megabyte names filled the server's memory).
    let r = guess("x".repeat(100_000)).await;
    assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("username"),
    );
    // Under that, a long name is counted in 32 bytes, whatever its length.
    let r = guess("y".repeat(1_000)).await;
    assert_eq!(r.0, StatusCode::UNAUTHORIZED);
    assert_eq!(s.state.failed_logins.lock().unwrap().len(), 2);
}

/// The first queue with at least `n` callable debtors.
fn with_callable(queues: &Value, n: i64) -> &Value {
    queues
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["callable"].as_i64().unwrap() >= n)
        .unwrap_or_else(|| panic!("no queue with {n} callable: {queues}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lease_read_record_a_promise_once_and_replan() {
    let s = start().await;
    let ana = s.login("ana").await;
    let bruno = s.login("bruno").await;
    let queues = s.get("/v1/queues", &ana).await.1;
    let queue = with_callable(&queues, 1);
    let queue_id = queue["id"].as_str().unwrap();
    assert_eq!(
        queue["oldest_since"],
        json!(morning()),
        "planned into the queue when the demo was seeded: {queue}"
    );
    assert!(
        queues
            .as_array()
            .unwrap()
            .iter()
            .all(|q| q["callable"] != 0 || q["oldest_since"].is_null()),
        "{queues}"
    );
    let leased = s
        .post(
            &format!("/v1/queues/{queue_id}/lease"),
            Some(&ana),
            &json!({}),
        )
        .await;
    assert_eq!(leased.0, StatusCode::OK, "{}", leased.1);
    let debtor = leased.1["debtor"]["id"].as_i64().unwrap();
    assert!(
        leased.1["debtor"]["document"]
            .as_str()
            .unwrap()
            .starts_with("***."),
        "CPF masked"
    );
    let other = s
        .post(
            &format!("/v1/queues/{queue_id}/lease"),
            Some(&bruno),
            &json!({}),
        )
        .await;
    if other.0 == StatusCode::OK {
        assert_ne!(
            other.1["debtor"]["id"].as_i64().unwrap(),
            debtor,
            "never the same debtor to two agents"
        );
    }
    let lease_id = leased.1["lease"]["id"].as_i64().unwrap();
    assert_eq!(
        s.post(
            &format!("/v1/leases/{lease_id}/renew"),
            Some(&ana),
            &json!({})
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        s.post(
            &format!("/v1/leases/{lease_id}/renew"),
            Some(&bruno),
            &json!({})
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );

    // The full record and the plan.
    let full = s
        .get(&format!("/v1/debtors/{debtor}?reveal=true"), &ana)
        .await;
    assert_eq!(full.1["document_revealed"], true);
    assert!(!full.1["document"].as_str().unwrap().contains('*'));
    let plan = s.get(&format!("/v1/debtors/{debtor}/plan"), &ana).await.1;
    assert_eq!(plan["callable_now"], true, "{plan}");
    let balance: i64 = full.1["debts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["balance_minor"].as_i64().unwrap())
        .sum();

    // Bruno may not record on ana's debtor.
    let promise = json!({
        "disposition": "promise_to_pay", "reason": "cash_flow", "note": "paga dia 15\n\u{1b}[2J",
        "promise": { "amount_minor": balance, "due_date": "2026-03-15" }
    });
    let r = s.outcome(debtor, &bruno, Some("b-1"), &promise).await;
    assert_error(
        &(r.0, r.1),
        StatusCode::FORBIDDEN,
        "leased_to_another",
        None,
    );

    let first = s.outcome(debtor, &ana, Some("k-1"), &promise).await;
    assert_eq!(first.0, StatusCode::CREATED, "{}", first.1);
    assert!(first.2.get("idempotency-replayed").is_none());
    let again = s.outcome(debtor, &ana, Some("k-1"), &promise).await;
    assert_eq!(
        (again.0, &again.1),
        (StatusCode::CREATED, &first.1),
        "the first answer again"
    );
    assert_eq!(again.2.get("idempotency-replayed").unwrap(), "true");
    let mut other_body = promise.clone();
    other_body["note"] = json!("another");
    let mismatch = s.outcome(debtor, &ana, Some("k-1"), &other_body).await;
    assert_error(
        &(mismatch.0, mismatch.1),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("Idempotency-Key"),
    );
    // Two keys, or one not ASCII: which was meant is not guessed.
    let url = format!("{}/v1/debtors/{debtor}/outcomes", s.base);
    for keys in [
        vec![
            HeaderValue::from_static("k-1"),
            HeaderValue::from_static("k-2"),
        ],
        vec![HeaderValue::from_bytes("chave-ç".as_bytes()).unwrap()],
    ] {
        let mut req = s.http.post(&url).bearer_auth(&ana).json(&promise);
        for key in keys {
            req = req.header("Idempotency-Key", key);
        }
        let resp = req.send().await.unwrap();
        let r = (resp.status(), resp.json::<Value>().await.unwrap());
        assert_error(
            &r,
            StatusCode::BAD_REQUEST,
            "bad_idempotency_key",
            Some("Idempotency-Key"),
        );
    }
    let missing = s.outcome(debtor, &ana, None, &promise).await;
    assert_error(
        &(missing.0, missing.1),
        StatusCode::BAD_REQUEST,
        "missing_idempotency_key",
        Some("Idempotency-Key"),
    );

    // Stored once, with the note as given; the promise pauses the régua.
    let timeline = s
        .get(&format!("/v1/debtors/{debtor}/timeline"), &ana)
        .await
        .1;
    let promises: Vec<_> = timeline
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["kind"] == "promise" && e["amount"]["minor"] == balance && e["date"] == "2026-03-15"
        })
        .collect();
    assert_eq!(promises.len(), 1, "{timeline}");
    let outcome = timeline
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["kind"] == "outcome")
        .unwrap();
    assert_eq!(outcome["note"], "paga dia 15\n\u{1b}[2J");
    let plan = s.get(&format!("/v1/debtors/{debtor}/plan"), &ana).await.1;
    assert_eq!(plan["state"], "promise_pending", "{plan}");
    assert_eq!(plan["callable_now"], false);
}

/// A promise made, then broken: the talking points ask what happened before
/// they name an amount, and name the promise as it was made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_promise_gets_its_talking_points_with_the_facts_filled_in() {
    let s = start().await;
    let ana = s.login("ana").await;
    let debtor = lease_any(&s, &ana).await;
    let full = s.get(&format!("/v1/debtors/{debtor}"), &ana).await.1;
    let debts = full["debts"].as_array().unwrap();
    let balance: i64 = debts
        .iter()
        .map(|d| d["balance_minor"].as_i64().unwrap())
        .sum();
    let currency = Currency::new(debts[0]["currency"].as_str().unwrap()).unwrap();
    let first_name = full["name"].as_str().unwrap().split(' ').next().unwrap();
    let amount = (balance / 2).max(1);
    let promised = json!({
        "disposition": "promise_to_pay", "reason": "cash_flow",
        "promise": { "amount_minor": amount, "due_date": "2026-03-12" }
    });
    let r = s.outcome(debtor, &ana, Some("script-1"), &promised).await;
    assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);
    let script = s.get(&format!("/v1/debtors/{debtor}/script"), &ana).await.1;
    assert_eq!(script["situation"], "promise_pending", "{script}");

    // The 12th plus two days of grace: broken from the 15th.
    *s.clock.0.lock().unwrap() = morning() + chrono::Duration::days(6);
    let ana = s.login("ana").await;
    let r = s.get(&format!("/v1/debtors/{debtor}/script"), &ana).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    let script = r.1;
    assert_eq!(script["situation"], "broken_promise", "{script}");
    let points = script["points"].as_array().unwrap();
    let stages: Vec<&str> = points
        .iter()
        .map(|p| p["stage"].as_str().unwrap())
        .collect();
    assert_eq!(stages, ["opening", "why", "options", "closing"], "{script}");
    let text = |i: usize| points[i]["text"].as_str().unwrap();
    assert!(!points[0]["title"].as_str().unwrap().is_empty());
    assert!(text(0).contains("Aqui é ana"), "{}", text(0));
    assert!(
        text(0).contains(&format!("falar com {first_name}")),
        "{}",
        text(0)
    );
    assert!(text(1).contains("pagamento para 12/03/2026"), "{}", text(1));
    // Why before money: nothing before the options names an amount.
    let symbol = Money::new(0, currency).display(Locale::PtBr).to_string();
    let symbol = symbol.split(' ').next().unwrap();
    let first_amount = points
        .iter()
        .position(|p| p["text"].as_str().unwrap().contains(symbol));
    assert_eq!(first_amount, Some(2), "{script}");
    let promised = Money::new(amount, currency).display(Locale::PtBr);
    let owed = Money::new(balance, currency).display(Locale::PtBr);
    assert!(
        text(2).contains(&format!("O combinado era {promised}")),
        "{}",
        text(2)
    );
    assert!(
        text(2).contains(&format!("o total em aberto é {owed}")),
        "{}",
        text(2)
    );
    assert!(text(2).contains("até 31/03/2026"), "{}", text(2));
    let offers = &script["offers"];
    assert_eq!(offers["balance_minor"], balance);
    assert_eq!(offers["currency"], currency.code());
    assert_eq!(
        offers["pay_in_full_minor"].as_i64().unwrap()
            + offers["max_discount_minor"].as_i64().unwrap(),
        balance
    );
    assert!(offers["max_installments"].as_u64().unwrap() >= 1);
    assert_eq!(offers["latest_promise_date"], "2026-03-31");

    let english = s
        .get(&format!("/v1/debtors/{debtor}/script?locale=en"), &ana)
        .await
        .1;
    let options = english["points"][2]["text"].as_str().unwrap();
    let promised = Money::new(amount, currency).display(Locale::En);
    assert!(
        options.contains(&format!("We had agreed {promised}")),
        "{options}"
    );
    let bad = s
        .get(&format!("/v1/debtors/{debtor}/script?locale=fr"), &ana)
        .await;
    assert_error(
        &bad,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("locale"),
    );
    let nobody = s.get("/v1/debtors/999999/script", &ana).await;
    assert_error(
        &nobody,
        StatusCode::NOT_FOUND,
        "debtor_not_found",
        Some("id"),
    );
}

/// What people read comes in their language: queue names (the policy's
/// name.pt-BR and name.en) and the plan's reasons.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queues_and_plans_are_said_in_the_language_asked_for() {
    let s = start().await;
    let ana = s.login("ana").await;
    let sofia = s.login("sofia").await;
    let name_of = |list: &serde_json::Value, id: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|q| q["id"] == id)
            .map(|q| q["name"].as_str().unwrap().to_string())
            .unwrap()
    };
    let (status, pt) = s.get("/v1/queues", &ana).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(name_of(&pt, "broken_promises"), "Promessas quebradas");
    let en = s.get("/v1/queues?locale=en", &ana).await.1;
    assert_eq!(name_of(&en, "broken_promises"), "Broken promises");
    assert_eq!(s.get("/v1/queues?locale=pt-BR", &ana).await.1, pt);
    // Language tags are case-insensitive; an empty one is none.
    assert_eq!(s.get("/v1/queues?locale=EN", &ana).await.1, en);
    assert_eq!(s.get("/v1/queues?locale=", &ana).await.1, pt);
    let board = s.get("/v1/board?locale=en", &sofia).await.1;
    assert_eq!(name_of(&board["queues"], "early"), "Early (1–29 days)");
    let board = s.get("/v1/board", &sofia).await.1;
    assert_eq!(name_of(&board["queues"], "early"), "Atraso 1–29 dias");
    // The figures' currency is the policy's, for the board to write them.
    assert_eq!(board["currency"], "BRL");
    // And the plan's reasons.
    let pt = s.get("/v1/debtors/1/plan", &ana).await.1;
    let en = s.get("/v1/debtors/1/plan?locale=en", &ana).await.1;
    let last = |p: &serde_json::Value| {
        let lines = p["explanation"].as_array().unwrap();
        lines.last().unwrap().as_str().unwrap().to_string()
    };
    assert!(last(&pt).starts_with("prioridade "), "{pt}");
    assert!(last(&en).starts_with("priority "), "{en}");
    // The summary is the explanation without its action and block lines.
    for p in [&pt, &en] {
        let lines = p["explanation"].as_array().unwrap();
        let summary = p["summary"].as_array().unwrap();
        let said = p["actions"].as_array().unwrap().len() + p["blocked"].as_array().unwrap().len();
        assert_eq!(summary.len() + said, lines.len(), "{p}");
        assert_eq!(summary[0], lines[0]);
        assert_eq!(summary.last(), lines.last());
    }
    // With the debtor's call window ahead, opening by opening.
    let hours = pt["call_hours"].as_array().unwrap();
    assert!(hours.len() >= 5, "two weeks of openings: {hours:?}");
    let at =
        |v: &serde_json::Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    for pair in hours.windows(2) {
        assert!(at(&pair[0]["from"]) < at(&pair[0]["to"]), "{pair:?}");
        assert!(at(&pair[0]["to"]) < at(&pair[1]["from"]), "{pair:?}");
    }
    for path in [
        "/v1/queues?locale=fr",
        "/v1/board?locale=de",
        "/v1/debtors/1/plan?locale=es",
    ] {
        let bad = s.get(path, &sofia).await;
        assert_error(
            &bad,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("locale"),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_4xx_naming_the_field() {
    let s = start().await;
    let ana = s.login("ana").await;
    let debtor = lease_any(&s, &ana).await;
    let raw = |body: &[u8]| body.to_vec();
    let post = |body: Vec<u8>, key: &'static str| {
        let s = &s;
        let ana = ana.clone();
        async move {
            s.call(
                Method::POST,
                &format!("/v1/debtors/{debtor}/outcomes"),
                Some(&ana),
                Some(body),
                Some(key),
            )
            .await
        }
    };
    let r = post(raw(b"{\"disposition\": "), "a").await;
    assert_error(
        &(r.0, r.1),
        StatusCode::BAD_REQUEST,
        "malformed_json",
        Some("disposition"),
    );
    let r = post(raw(b"{\"disposition\": \"no_answer\", \"colour\": 1}"), "b").await;
    assert_error(
        &(r.0, r.1),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("colour"),
    );
    let r = post(raw(b"{\"disposition\": \"promise_to_pay\", \"promise\": {\"amount_minor\": \"ten\", \"due_date\": \"2026-03-15\"}}"), "c").await;
    assert_error(
        &(r.0, r.1),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("promise.amount_minor"),
    );
    let r = post(raw(b"{\"disposition\": \"shouted\"}"), "d").await;
    assert_error(
        &(r.0, r.1),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("disposition"),
    );
    // Well-formed JSON of the wrong shape, which serde_json reports as
    // syntax; and fields missing or said twice, named.
    for (body, key, field) in [
        (&b"{\"disposition\": 5}"[..], "d1", "disposition"),
        (b"{}", "d2", "disposition"),
        (
            b"{\"disposition\": \"no_answer\", \"disposition\": \"refused\"}",
            "d3",
            "disposition",
        ),
        (
            b"{\"disposition\": \"promise_to_pay\", \"promise\": {\"due_date\": \"2026-03-15\"}}",
            "d4",
            "promise.amount_minor",
        ),
        // An object's fields in order, as a list, are not the object.
        (
            b"{\"disposition\": \"promise_to_pay\", \"promise\": [100, \"2026-03-15\"]}",
            "d5",
            "promise",
        ),
    ] {
        let r = post(raw(body), key).await;
        assert_error(
            &(r.0, r.1),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some(field),
        );
    }
    let before = outcomes_on(&s, &ana, debtor).await;
    let r = post(
        raw(b"[\"no_answer\", null, \"a list\", null, null, null, null]"),
        "d6",
    )
    .await;
    assert_error(
        &(r.0, r.1),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        None,
    );
    assert_eq!(
        outcomes_on(&s, &ana, debtor).await,
        before,
        "nothing recorded"
    );
    // Brackets in a note are only text.
    let r = post(
        raw(b"{\"disposition\": \"no_answer\", \"note\": \"[ligar] de novo\"}"),
        "d7",
    )
    .await;
    assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);
    let r = post(
        raw(b"{\"disposition\": \"no_answer\", \"note\": \"\xff\xfe\"}"),
        "e",
    )
    .await;
    assert_eq!(r.0, StatusCode::BAD_REQUEST, "{}", r.1);
    assert_eq!(r.1["error"]["code"], "malformed_json", "{}", r.1);
    let big = format!(
        "{{\"disposition\": \"no_answer\", \"note\": \"{}\"}}",
        "x".repeat(300 * 1024)
    );
    let r = post(big.into_bytes(), "f").await;
    assert_error(
        &(r.0, r.1),
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        None,
    );
    // What goes with another disposition is refused, not thrown away.
    for (body, key, field) in [
        (
            json!({ "disposition": "no_answer", "promise": { "amount_minor": 100, "due_date": "2026-03-15" } }),
            "x1",
            "promise",
        ),
        (
            json!({ "disposition": "promise_to_pay", "promise": { "amount_minor": 100, "due_date": "2026-03-15" }, "callback_at": "2026-03-11T13:00:00Z" }),
            "x2",
            "callback_at",
        ),
        (
            json!({ "disposition": "refused", "plan": { "installments": 3, "first_date": "2026-03-15" } }),
            "x3",
            "plan",
        ),
    ] {
        let r = s.outcome(debtor, &ana, Some(key), &body).await;
        assert_error(
            &(r.0, r.1),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some(field),
        );
    }
    // Business rules name their field too.
    let r = post(raw(b"{\"disposition\": \"promise_to_pay\"}"), "g").await;
    assert_error(
        &(r.0, r.1),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("promise"),
    );
    let far = json!({ "disposition": "promise_to_pay", "promise": { "amount_minor": 100, "due_date": "2026-09-01" } });
    let r = s.outcome(debtor, &ana, Some("h"), &far).await;
    assert_error(
        &(r.0, r.1),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("promise"),
    );
    // A callback past the policy's 30 days is a year typed wrong.
    let next_year =
        json!({ "disposition": "callback_requested", "callback_at": "2027-03-11T13:00:00Z" });
    let r = s.outcome(debtor, &ana, Some("h2"), &next_year).await;
    let r = (r.0, r.1);
    assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("callback_at"),
    );
    assert_says(&r, "30 days");
    let plan = s.get(&format!("/v1/debtors/{debtor}/plan"), &ana).await.1;
    assert_eq!(plan["latest_callback"], json!("2026-04-09T13:00:00Z"));
    // Sunday is closed in every UF's preset: a callback then is refused with the reason.
    let sunday = chrono_tz::America::Sao_Paulo
        .from_local_datetime(
            &NaiveDate::from_ymd_opt(2026, 3, 15)
                .unwrap()
                .and_hms_opt(10, 0, 0)
                .unwrap(),
        )
        .unwrap();
    let cb =
        json!({ "disposition": "callback_requested", "callback_at": sunday.with_timezone(&Utc) });
    let r = s.outcome(debtor, &ana, Some("i"), &cb).await;
    let r = (r.0, r.1);
    assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("callback_at"),
    );
    assert_says(&r, "Sunday");

    // Ids that do not exist, or are not ids.
    assert_error(
        &s.get("/v1/debtors/999999", &ana).await,
        StatusCode::NOT_FOUND,
        "debtor_not_found",
        Some("id"),
    );
    assert_error(
        &s.get("/v1/debtors/abc", &ana).await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("id"),
    );
    assert_error(
        &s.get("/v1/debtors/999999/plan", &ana).await,
        StatusCode::NOT_FOUND,
        "debtor_not_found",
        Some("id"),
    );
    let r = s
        .outcome(
            999_999,
            &ana,
            Some("j"),
            &json!({ "disposition": "no_answer" }),
        )
        .await;
    assert_error(
        &(r.0, r.1),
        StatusCode::NOT_FOUND,
        "debtor_not_found",
        Some("id"),
    );
    assert_error(
        &s.post("/v1/queues/nope/lease", Some(&ana), &json!({}))
            .await,
        StatusCode::NOT_FOUND,
        "unknown_queue",
        Some("id"),
    );
    assert_error(
        &s.get("/v1/nothing", &ana).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    let r = s
        .call(Method::DELETE, "/v1/me", Some(&ana), None, None)
        .await;
    assert_error(
        &(r.0, r.1),
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        None,
    );
    assert_eq!(r.2.get("allow").unwrap(), "GET,HEAD");
    assert_error(
        &s.post("/v1/queues/%FF/lease", Some(&ana), &json!({})).await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("id"),
    );

    // Query parameters of the wrong type, or given twice, are named.
    for (path, field) in [
        ("/v1/debtors?limit=abc".to_string(), "limit"),
        ("/v1/debtors?limit=-1".to_string(), "limit"),
        ("/v1/debtors?q=a&q=b".to_string(), "q"),
        (format!("/v1/debtors/{debtor}?reveal=maybe"), "reveal"),
        ("/v1/queues?locale=en&locale=pt-BR".to_string(), "locale"),
    ] {
        assert_error(
            &s.get(&path, &ana).await,
            StatusCode::BAD_REQUEST,
            "bad_query",
            Some(field),
        );
    }
}

/// A body shorter than its `Content-Length` is answered with a 408 once
/// its time is up, not held open for good: a JSON body, and a portfolio
/// whose sender goes quiet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_arrives_whole_gets_a_408() {
    let s = start().await;
    let ana = s.login("ana").await;
    let sofia = s.login("sofia").await;
    let debtor = lease_any(&s, &ana).await;
    let outcome = format!(
        "POST /v1/debtors/{debtor}/outcomes HTTP/1.1\r\nAuthorization: Bearer {ana}\r\n\
         Idempotency-Key: slow\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\n\r\n{{\"disp"
    );
    let import = format!(
        "POST /v1/import/portfolio HTTP/1.1\r\nAuthorization: Bearer {sofia}\r\n\
         Content-Type: text/csv\r\nContent-Length: 100000\r\n\r\nexternal_id,name"
    );
    let (outcome, import) = tokio::join!(half_sent(&s, &outcome), half_sent(&s, &import));
    for answer in [outcome, import] {
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("body_timeout"), "{answer}");
    }
}

/// A portfolio said to be over the limit is refused at once, with the
/// error body, before any of it is read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portfolio_over_the_limit_gets_a_413() {
    let s = start().await;
    let sofia = s.login("sofia").await;
    let over = regua::server::routes::import::IMPORT_LIMIT + 1;
    let answer = half_sent(
        &s,
        &format!(
            "POST /v1/import/portfolio HTTP/1.1\r\nAuthorization: Bearer {sofia}\r\n\
             Content-Type: text/csv\r\nContent-Length: {over}\r\n\r\nexternal_id"
        ),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("too_large"), "{answer}");
}

/// Sends `request` (its head and the start of its body) and reads the
/// answer, which must come within the server's body time.
async fn half_sent(s: &Server, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = s.base.trim_start_matches("http://");
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = request.replacen("\r\n", &format!("\r\nHost: {addr}\r\n"), 1);
    tcp.write_all(request.as_bytes()).await.unwrap();
    let limit = regua::server::app::BODY_TIMEOUT + std::time::Duration::from_secs(5);
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).contains("\r\n\r\n{") {
        let n = tokio::time::timeout(limit, tcp.read(&mut chunk))
            .await
            .expect("an answer within the body's time")
            .unwrap();
        assert!(n > 0, "closed without an answer");
        answer.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// The scheme's name in any case; a 401 says which scheme to use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_is_read_in_any_case_and_a_401_names_it() {
    let s = start().await;
    let ana = s.login("ana").await;
    let me = |value: String| {
        let s = &s;
        async move {
            s.http
                .get(format!("{}/v1/me", s.base))
                .header("Authorization", value)
                .send()
                .await
                .unwrap()
        }
    };
    for scheme in ["Bearer", "bearer", "BEARER"] {
        assert_eq!(me(format!("{scheme} {ana}")).await.status(), StatusCode::OK);
    }
    for value in [format!("Basic {ana}"), "Bearer ".into(), ana.clone()] {
        let resp = me(value).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(resp.headers().get("www-authenticate").unwrap(), "Bearer");
    }
}

/// A debtor's timeline, its events in order.
async fn timeline(s: &Server, token: &str, debtor: i64) -> Vec<Value> {
    let timeline = s
        .get(&format!("/v1/debtors/{debtor}/timeline"), token)
        .await
        .1;
    timeline.as_array().unwrap().clone()
}

/// The number a debtor may be called on.
async fn consented_phone(s: &Server, token: &str, debtor: i64) -> String {
    let record = s.get(&format!("/v1/debtors/{debtor}"), token).await.1;
    let phones = record["phones"].as_array().unwrap();
    let phone = phones.iter().find(|p| p["consent"] == true);
    let phone = phone.expect("a callable debtor has a number to call");
    phone["number"].as_str().unwrap().to_string()
}

/// Outcomes on a debtor's timeline.
async fn outcomes_on(s: &Server, token: &str, debtor: i64) -> usize {
    let events = timeline(s, token, debtor).await;
    events.iter().filter(|e| e["kind"] == "outcome").count()
}

/// A key answers again only for the call it was first used on: the same key
/// and body on another debtor had been answered with the first debtor's
/// outcome, and the second never recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_is_bound_to_the_call_it_was_first_used_on() {
    let s = start().await;
    let ana = s.login("ana").await;
    let first = lease_any(&s, &ana).await;
    let second = lease_any(&s, &ana).await;
    assert_ne!(first, second);
    let body = json!({ "disposition": "no_answer" });
    let r = s.outcome(first, &ana, Some("once"), &body).await;
    assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);
    let before = outcomes_on(&s, &ana, second).await;
    let r = s.outcome(second, &ana, Some("once"), &body).await;
    assert_error(
        &(r.0, r.1),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("Idempotency-Key"),
    );
    assert_eq!(outcomes_on(&s, &ana, second).await, before);
    // The same key on the right call is still its replay.
    let r = s.outcome(first, &ana, Some("once"), &body).await;
    assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);
    assert_eq!(r.2.get("idempotency-replayed").unwrap(), "true");

    // What is stored is what a server of the version before reads: the
    // body's hash alone (so it still replays this key during a rolling
    // upgrade, or after going back), and the call beside it.
    let db = format!("sqlite://{}", s._dir.path().join("regua.db").display());
    let db = sqlx::SqlitePool::connect(&db).await.unwrap();
    let (hash, scope): (Vec<u8>, Option<String>) =
        sqlx::query_as("SELECT body_hash, scope FROM idempotency WHERE key = 'once'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(hash, sha2::Sha256::digest(body.to_string()).to_vec());
    assert_eq!(scope.unwrap(), format!("POST /v1/debtors/{first}/outcomes"));
    // A key stored by that version (no call kept) still replays.
    sqlx::query("UPDATE idempotency SET scope = NULL WHERE key = 'once'")
        .execute(&db)
        .await
        .unwrap();
    let r = s.outcome(first, &ana, Some("once"), &body).await;
    assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);
    assert_eq!(r.2.get("idempotency-replayed").unwrap(), "true");
}

/// Reads server-sent events until one of `kind` arrives (or gives up).
async fn next_event(
    resp: &mut reqwest::Response,
    kind: &str,
    buffer: &mut String,
) -> Option<(String, Value)> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut id = String::new();
            let mut event = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            if event == kind {
                return Some((id, serde_json::from_str(&data).unwrap_or(Value::Null)));
            }
        }
        let chunk = tokio::time::timeout_at(deadline, resp.chunk())
            .await
            .ok()?
            .ok()??;
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

/// A `Last-Event-ID` the feed never gave (ahead of it, past i64, not a
/// number) is told to load again and goes on from now: it had waited in
/// silence for ids the feed would take weeks to reach, replayed everything
/// (an overflow), or quietly started from now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_the_feed_never_gave_is_told_to_load_again() {
    let s = start().await;
    let sofia = s.login("sofia").await;
    let mut newest = 0;
    for kind in ["a", "b"] {
        newest = s.state.publish(kind, None, None, json!({})).await.unwrap();
    }
    let ahead = (newest + 1000).to_string();
    let max = i64::MAX.to_string();
    let mut streams = Vec::new();
    for cursor in [ahead.as_str(), max.as_str(), "abc", " "] {
        streams.push(open_stream(&s, &sofia, Some(cursor)).await);
    }
    s.state.publish("c", None, None, json!({})).await.unwrap();
    for mut stream in streams {
        assert_eq!(kinds_until(&mut stream, "c").await, ["reset", "c"]);
    }
    // A feed with nothing in it (a new database): told, and then live.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("regua.db").display());
    let empty = start_on(&url, false, dir).await;
    let hash = regua::server::auth::hash_password("demo".into()).await;
    empty
        .state
        .store
        .create_user("sofia", regua::domain::Role::Supervisor, &hash, morning())
        .await
        .unwrap();
    let wall = empty.login("sofia").await;
    let mut stream = open_stream(&empty, &wall, Some(&max)).await;
    empty
        .state
        .publish("c", None, None, json!({}))
        .await
        .unwrap();
    assert_eq!(kinds_until(&mut stream, "c").await, ["reset", "c"]);
    // One from before the feed: told, then everything kept.
    let mut before = open_stream(&s, &sofia, Some("-5")).await;
    let kinds = kinds_until(&mut before, "c").await;
    assert_eq!(
        kinds.first().map(String::as_str),
        Some("reset"),
        "{kinds:?}"
    );
    assert!(
        kinds.ends_with(&["a".into(), "b".into(), "c".into()]),
        "{kinds:?}"
    );
}

async fn open_stream(s: &Server, token: &str, last_id: Option<&str>) -> reqwest::Response {
    let mut req = s
        .http
        .get(format!("{}/v1/events", s.base))
        .bearer_auth(token);
    if let Some(id) = last_id {
        req = req.header("Last-Event-ID", id);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp
}

async fn lease_any(s: &Server, token: &str) -> i64 {
    let queues = s.get("/v1/queues", token).await.1;
    for q in queues
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["callable"] != 0)
        .map(|q| q["id"].as_str().unwrap())
    {
        let r = s
            .post(&format!("/v1/queues/{q}/lease"), Some(token), &json!({}))
            .await;
        if r.0 == StatusCode::OK {
            return r.1["debtor"]["id"].as_i64().unwrap();
        }
    }
    panic!("nobody to lease");
}

/// `x` then `n` in the console: the agent moves on instead of being handed
/// the debtor they just gave back, who stays anyone else's to take.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_debtor_given_back_is_not_handed_straight_back() {
    let s = start().await;
    let ana = s.login("ana").await;
    let bruno = s.login("bruno").await;
    let queue = callable_queue(&s, &ana, 2).await;
    let lease = async |token: &str| lease_from(&s, &queue, token).await;
    let (first_lease, first) = lease(&ana).await;
    let r = s
        .call(
            Method::DELETE,
            &format!("/v1/leases/{first_lease}"),
            Some(&ana),
            None,
            None,
        )
        .await;
    assert_eq!(r.0, StatusCode::NO_CONTENT, "{}", r.1);
    let (_, next) = lease(&ana).await;
    assert_ne!(next, first, "the same debtor came straight back");
    assert_eq!(lease(&bruno).await.1, first, "others may take them");
}

/// An agent works one debtor at a time: taking the next gives back the
/// one held. The console lets go first, but a let-go that never arrived (a
/// console that died, a network gone) kept that debtor from everyone until
/// the lease ran out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taking_the_next_debtor_gives_back_the_one_held() {
    let s = start().await;
    let ana = s.login("ana").await;
    let bruno = s.login("bruno").await;
    let sofia = s.login("sofia").await;
    let queue = callable_queue(&s, &ana, 2).await;
    let (first_lease, first) = lease_from(&s, &queue, &ana).await;
    let (second_lease, second) = lease_from(&s, &queue, &ana).await;
    assert_ne!(second, first);
    let renew = async |lease: i64| {
        let path = format!("/v1/leases/{lease}/renew");
        s.post(&path, Some(&ana), &json!({})).await
    };
    assert_error(
        &renew(first_lease).await,
        StatusCode::NOT_FOUND,
        "lease_not_found",
        Some("id"),
    );
    assert_eq!(renew(second_lease).await.0, StatusCode::OK);
    assert_eq!(
        lease_from(&s, &queue, &bruno).await.1,
        first,
        "back in the queue at once"
    );
    let board = s.get("/v1/board", &sofia).await.1;
    let released: Vec<_> = board["recent"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "lease_released")
        .map(|e| e["body"]["lease_id"].clone())
        .collect();
    assert_eq!(released, vec![json!(first_lease)], "{board}");
}

/// A debtor under a promise waits in no queue; the payment that keeps it
/// counts, with the promise kept, for the queue the promise was made from
/// (the board's row for that queue had said 0 kept, R$ 0 received).
/// A debtor leased from a callable queue who promised R$ 10,00 by 12
/// March: the queue, the debtor, and the outcome's answer.
async fn promised_ten(s: &Server, agent: &str) -> (String, i64, Value) {
    let queue = callable_queue(s, agent, 1).await;
    let (_, debtor) = lease_from(s, &queue, agent).await;
    let promised = json!({
        "disposition": "promise_to_pay",
        "promise": { "amount_minor": 1000, "due_date": "2026-03-12" }
    });
    let r = s
        .outcome(debtor, agent, Some("promised-ten"), &promised)
        .await;
    assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);
    (queue, debtor, r.1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_promise_counts_for_the_queue_it_was_made_from() {
    let s = start().await;
    let ana = s.login("ana").await;
    let sofia = s.login("sofia").await;
    let (queue, debtor, answer) = promised_ten(&s, &ana).await;
    assert_eq!(answer["queue"], Value::Null, "waits in no queue: {answer}");
    let paid = json!({ "debtor_id": debtor, "amount_minor": 1000 });
    let r = s
        .call(
            Method::POST,
            "/v1/payments",
            Some(&sofia),
            Some(paid.to_string().into_bytes()),
            Some("kp-pay"),
        )
        .await;
    assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);
    let board = s.get("/v1/board", &sofia).await.1;
    let row = &board["today"]["per_queue"][&queue];
    assert_eq!(
        (&row["promises_kept"], &row["collected_minor"]),
        (&json!(1), &json!(1000)),
        "{}",
        board["today"]
    );
}

/// The board adds money up in the policy's currency: a payment or a
/// promise in dollars is counted, its amount not added to the reais, and
/// the ticker says it in dollars.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_adds_no_dollars_to_its_reais() {
    let s = start().await;
    let ana = s.login("ana").await;
    let sofia = s.login("sofia").await;
    let csv = "external_id,name,document,jurisdiction,time_zone,phone,phone_consent,debt_id,creditor,original,balance,due_date,currency\n\
               USD-1,Ann Lee,529.982.247-25,US-NY,America/New_York,+12125550100,yes,U-1,Acme,100.00,200.00,2026-02-01,USD\n";
    let r = s
        .call(
            Method::POST,
            "/v1/import/portfolio",
            Some(&sofia),
            Some(csv.as_bytes().to_vec()),
            None,
        )
        .await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    let found = s.get("/v1/debtors?q=USD-1", &sofia).await.1;
    let debtor = found[0]["id"].as_i64().unwrap();
    let total = |board: &Value| {
        let t = &board["today"]["total"];
        (
            t["promises_made"].as_i64().unwrap(),
            t["promised_minor"].as_i64().unwrap(),
            t["collected_minor"].as_i64().unwrap(),
        )
    };
    let before = total(&s.get("/v1/board", &sofia).await.1);
    let promised = json!({
        "disposition": "promise_to_pay",
        "promise": { "amount_minor": 5_000, "due_date": "2026-03-12" }
    });
    let r = s.outcome(debtor, &ana, Some("usd-1"), &promised).await;
    assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);
    let paid = json!({ "debtor_id": debtor, "amount_minor": 5_000 });
    pay_as(&s, &sofia, paid, "usd-pay").await;
    let board = s.get("/v1/board", &sofia).await.1;
    assert_eq!(board["currency"], "BRL");
    assert_eq!(
        total(&board),
        (before.0 + 1, before.1, before.2),
        "{}",
        board["today"]["total"]
    );
    let payment = board["recent"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "payment_received")
        .unwrap();
    assert_eq!(payment["body"]["currency"], "USD", "{payment}");
}

/// A promise counts in the hour it was recorded, the call in the hour it
/// was dialed, in the snapshot as on the live board: a reload had moved a
/// promise recorded at 11:03 of a call dialed at 10:58 back to 10:00.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promise_counts_in_the_hour_it_was_recorded() {
    let s = start().await;
    let sofia = s.login("sofia").await;
    let dialed = morning() + chrono::Duration::minutes(58);
    s.set_clock(dialed);
    let ana = s.login("ana").await;
    let debtor = lease_any(&s, &ana).await;
    let phone = consented_phone(&s, &ana, debtor).await;
    let r = s
        .call(
            Method::POST,
            &format!("/v1/debtors/{debtor}/calls"),
            Some(&ana),
            Some(json!({ "phone": phone }).to_string().into_bytes()),
            Some("hour-call"),
        )
        .await;
    assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);
    s.set_clock(dialed + chrono::Duration::minutes(5));
    let promised = json!({
        "disposition": "promise_to_pay",
        "promise": { "amount_minor": 1000, "due_date": "2026-03-12" }
    });
    let r = s.outcome(debtor, &ana, Some("hour-out"), &promised).await;
    assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);
    let board = s.get("/v1/board", &sofia).await.1;
    let hourly = board["today"]["hourly"].as_array().unwrap();
    let (call, kept) = (
        dialed.hour() as usize,
        (dialed + chrono::Duration::minutes(5)).hour() as usize,
    );
    assert_eq!(
        (&hourly[call]["contacts"], &hourly[call]["promises"]),
        (&json!(1), &json!(0)),
        "{hourly:?}"
    );
    assert_eq!(hourly[kept]["promises"], 1, "{hourly:?}");
}

/// On PostgreSQL too, several lease calls of one agent at once (two
/// consoles, a retry) leave them holding one debtor: each had found
/// nothing to give back and leased.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_one_agents_leases_at_once_leave_one() {
    let Some(db) = postgres_schema("one agent's leases at once").await else {
        return;
    };
    let s = start_on(&db.url, true, tempfile::tempdir().unwrap()).await;
    let ana = s.login("ana").await;
    let queue = callable_queue(&s, &ana, 3).await;
    let path = format!("/v1/queues/{queue}/lease");
    let nothing = json!({});
    let mut most = 0;
    for _ in 0..6 {
        let asked: Vec<_> = (0..4)
            .map(|_| s.post(&path, Some(&ana), &nothing))
            .collect();
        futures_util::future::join_all(asked).await;
        let held: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM {0}.leases l JOIN {0}.users u ON u.id = l.agent_id WHERE u.name = 'ana'",
            db.name
        )))
        .fetch_one(&db.admin)
        .await
        .unwrap();
        most = most.max(held);
    }
    db.drop().await;
    assert_eq!(most, 1, "ana held {most} leases at once");
}

/// Two imports of the same debtors at once, one file the other upside
/// down: both land (in opposite orders they had deadlocked on PostgreSQL,
/// and one answered 500).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_two_imports_of_the_same_debtors_at_once_both_land() {
    let Some(db) = postgres_schema("two imports at once").await else {
        return;
    };
    let s = start_on(&db.url, true, tempfile::tempdir().unwrap()).await;
    let sofia = s.login("sofia").await;
    let header = "external_id,name,document,jurisdiction,phone,phone_consent,debt_id,creditor,original,balance,due_date";
    let rows: Vec<String> = (0..1500)
        .map(|i| format!("TWO-{i:05},Pessoa {i},529.982.247-25,SP,+5511987650001,yes,C-{i},Loja,10.00,10.00,2026-02-01"))
        .collect();
    let file = |rows: &mut dyn Iterator<Item = &String>| {
        let mut f = header.to_string();
        for r in rows {
            f.push('\n');
            f.push_str(r);
        }
        f.into_bytes()
    };
    let (up, down) = (file(&mut rows.iter()), file(&mut rows.iter().rev()));
    for _ in 0..3 {
        let send = |body: Vec<u8>| {
            s.call(
                Method::POST,
                "/v1/import/portfolio",
                Some(&sofia),
                Some(body),
                None,
            )
        };
        let (a, b) = tokio::join!(send(up.clone()), send(down.clone()));
        assert_eq!(
            (a.0, b.0),
            (StatusCode::OK, StatusCode::OK),
            "{} {}",
            a.1,
            b.1
        );
    }
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM {}.debtors WHERE external_id LIKE 'TWO-%'",
        db.name
    )))
    .fetch_one(&db.admin)
    .await
    .unwrap();
    db.drop().await;
    assert_eq!(n, 1500);
}

/// The id of a queue with at least `n` debtors callable now.
async fn callable_queue(s: &Server, token: &str, n: i64) -> String {
    let queues = s.get("/v1/queues", token).await.1;
    with_callable(&queues, n)["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Leases the next debtor of `queue`: the lease's id and the debtor's.
async fn lease_from(s: &Server, queue: &str, token: &str) -> (i64, i64) {
    let r = s
        .post(
            &format!("/v1/queues/{queue}/lease"),
            Some(token),
            &json!({}),
        )
        .await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    (
        r.1["lease"]["id"].as_i64().unwrap(),
        r.1["debtor"]["id"].as_i64().unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_reach_live_streams_and_a_reconnect_misses_nothing() {
    let s = start().await;
    let ana = s.login("ana").await;
    let sofia = s.login("sofia").await;
    let mut live = open_stream(&s, &sofia, None).await;
    let debtor = lease_any(&s, &ana).await;
    let sent = std::time::Instant::now();
    let r = s
        .outcome(
            debtor,
            &ana,
            Some("live-1"),
            &json!({ "disposition": "no_answer" }),
        )
        .await;
    assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);
    let mut buffer = String::new();
    let (id, event) = next_event(&mut live, "outcome_recorded", &mut buffer)
        .await
        .expect("the outcome arrives");
    assert!(
        sent.elapsed() < std::time::Duration::from_secs(1),
        "within a second"
    );
    assert_eq!(event["debtor_id"], debtor);
    // Reconnecting from before it gets it again: nothing missed.
    let before: i64 = id.parse::<i64>().unwrap() - 1;
    let mut again = open_stream(&s, &sofia, Some(&before.to_string())).await;
    let (id2, _) = next_event(&mut again, "outcome_recorded", &mut String::new())
        .await
        .expect("resumed");
    assert_eq!(id2, id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_keep_the_ledger_and_stop_the_regua() {
    let s = start().await;
    let ana = s.login("ana").await;
    let admin = s.login("admin").await;
    // A debtor who still owes something, with a number they may be
    // called on.
    let consented = |v: &Value| {
        let phones = v["phones"].as_array().unwrap();
        phones.iter().find(|p| p["consent"] == true).cloned()
    };
    let owed_by = |v: &Value| {
        v["debts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["balance_minor"].as_i64().unwrap())
            .sum::<i64>()
    };
    let mut debtor = 0;
    let mut owed = 0;
    for id in 1..80 {
        let d = s.get(&format!("/v1/debtors/{id}"), &admin).await.1;
        if owed_by(&d) > 0 && consented(&d).is_some() {
            (debtor, owed) = (id, owed_by(&d));
            break;
        }
    }
    assert!(owed > 0);
    let pay = |amount: i64| json!({ "debtor_id": debtor, "amount_minor": amount });
    let post = |token: String, body: Value, key: &'static str| {
        let s = &s;
        async move {
            s.call(
                Method::POST,
                "/v1/payments",
                Some(&token),
                Some(body.to_string().into_bytes()),
                Some(key),
            )
            .await
        }
    };
    let r = post(ana.clone(), pay(100), "p-0").await;
    assert_error(&(r.0, r.1), StatusCode::FORBIDDEN, "forbidden", None);
    let r = post(admin.clone(), pay(owed + 1), "p-1").await;
    assert_error(
        &(r.0, r.1),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("amount_minor"),
    );
    let r = post(admin.clone(), pay(-5), "p-2").await;
    assert_error(
        &(r.0, r.1),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("amount_minor"),
    );
    // A date no payment feed sends (it had been kept, and the timeline
    // then began in the year -262143).
    for (at, key) in [
        ("-262143-01-01T00:00:00Z", "p-2a"),
        ("1999-12-31T23:59:59Z", "p-2b"),
    ] {
        let body = json!({ "debtor_id": debtor, "amount_minor": 100, "paid_at": at });
        let r = post(admin.clone(), body, key).await;
        assert_error(
            &(r.0, r.1),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("paid_at"),
        );
    }
    let r = post(
        admin.clone(),
        json!({ "debtor_id": 999999, "amount_minor": 1 }),
        "p-3",
    )
    .await;
    assert_error(
        &(r.0, r.1),
        StatusCode::NOT_FOUND,
        "debtor_not_found",
        Some("debtor_id"),
    );
    let payments = || async {
        let timeline = s
            .get(&format!("/v1/debtors/{debtor}/timeline"), &admin)
            .await
            .1;
        let events = timeline.as_array().unwrap().iter();
        events.filter(|e| e["kind"] == "payment").count()
    };
    let before = payments().await;
    let first = post(admin.clone(), pay(owed), "p-4").await;
    assert_eq!(first.0, StatusCode::CREATED, "{}", first.1);
    assert_eq!(first.1["balance_minor"], 0);
    let again = post(admin.clone(), pay(owed), "p-4").await;
    assert_eq!((again.0, again.1.clone()), (first.0, first.1.clone()));
    assert_eq!(payments().await, before + 1, "recorded once");
    let plan = s.get(&format!("/v1/debtors/{debtor}/plan"), &admin).await.1;
    assert_eq!(plan["state"], "paid_in_full", "{plan}");
    assert!(plan["actions"].as_array().unwrap().is_empty());
    // Nor is a collection call placed to them.
    let d = s.get(&format!("/v1/debtors/{debtor}"), &admin).await.1;
    let phone = json!({ "phone": consented(&d).unwrap()["number"] });
    let r = s
        .call(
            Method::POST,
            &format!("/v1/debtors/{debtor}/calls"),
            Some(&ana),
            Some(phone.to_string().into_bytes()),
            Some("paid-call"),
        )
        .await;
    let r = (r.0, r.1);
    assert_error(&r, StatusCode::CONFLICT, "call_blocked", None);
    assert_eq!(r.1["error"]["details"]["rule"], "nothing_owed", "{}", r.1);
}

/// A settlement the agent offered from the policy's discount: paid in
/// time, the rest is forgiven and the régua stops, even when the payment
/// is reported after the grace; paid late, nothing is forgiven and the
/// rest is still owed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_settlement_forgives_the_rest_and_a_late_one_does_not() {
    let s = start().await;
    let ana = s.login("ana").await;
    let admin = s.login("admin").await;
    // Three debtors whose offers have a discount, and what they are.
    let mut found = Vec::new();
    for id in 1..200 {
        let script = s.get(&format!("/v1/debtors/{id}/script"), &ana).await.1;
        let offers = &script["offers"];
        if offers["max_discount_minor"].as_i64().unwrap_or(0) > 0 {
            found.push((
                id,
                offers["balance_minor"].as_i64().unwrap(),
                offers["pay_in_full_minor"].as_i64().unwrap(),
            ));
        }
        if found.len() == 3 {
            break;
        }
    }
    let [
        (kept, balance, in_full),
        (late, late_balance, late_in_full),
        (reported, _, reported_in_full),
    ] = found[..]
    else {
        panic!("three debtors with a discount: {found:?}");
    };
    let settle = |amount: i64| {
        json!({
            "disposition": "promise_to_pay",
            "promise": { "amount_minor": amount, "due_date": "2026-03-12", "settles": true }
        })
    };
    // More discount than the policy gives: refused at the amount.
    let r = s
        .outcome(kept, &ana, Some("st-0"), &settle(in_full - 1))
        .await;
    assert_error(
        &(r.0, r.1),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("promise.amount_minor"),
    );
    let r = s.outcome(kept, &ana, Some("st-1"), &settle(in_full)).await;
    assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);
    for (debtor, amount, key) in [
        (late, late_in_full, "st-2"),
        (reported, reported_in_full, "st-3"),
    ] {
        let r = s.outcome(debtor, &ana, Some(key), &settle(amount)).await;
        assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);
    }
    let promise = timeline(&s, &admin, kept).await;
    let promise = promise.iter().rfind(|e| e["kind"] == "promise").unwrap();
    assert_eq!(promise["forgives"]["minor"], balance - in_full, "{promise}");
    // In two parts: the first keeps nothing yet and forgives nothing.
    let pay = |debtor: i64, amount: i64| json!({ "debtor_id": debtor, "amount_minor": amount });
    let first = pay_as(&s, &admin, pay(kept, in_full - 100), "st-p1").await;
    assert_eq!(first["forgiven_minor"], 0, "{first}");
    assert_eq!(first["balance_minor"], balance - in_full + 100, "{first}");
    let last = pay_as(&s, &admin, pay(kept, 100), "st-p2").await;
    assert_eq!(
        (&last["forgiven_minor"], &last["balance_minor"]),
        (&json!(balance - in_full), &json!(0)),
        "{last}"
    );
    let events = timeline(&s, &admin, kept).await;
    let forgiven = events.iter().filter(|e| e["kind"] == "forgiven");
    let forgiven: Vec<_> = forgiven.map(|e| e["amount"]["minor"].clone()).collect();
    assert_eq!(forgiven, [json!(balance - in_full)]);
    let plan = s.get(&format!("/v1/debtors/{kept}/plan"), &admin).await.1;
    assert_eq!(plan["state"], "paid_in_full", "{plan}");
    let d = s.get(&format!("/v1/debtors/{kept}"), &admin).await.1;
    let owed: i64 = d["debts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["balance_minor"].as_i64().unwrap())
        .sum();
    assert_eq!(owed, 0, "the store's balances too: {d}");
    // The other pays the settled figure after its date and grace: the
    // promise broke, so the discount went with it.
    s.set_clock(morning() + chrono::Duration::days(10));
    let admin = s.login("admin").await;
    let paid = pay_as(&s, &admin, pay(late, late_in_full), "st-p3").await;
    assert_eq!(
        (&paid["forgiven_minor"], &paid["balance_minor"]),
        (&json!(0), &json!(late_balance - late_in_full)),
        "{paid}"
    );
    // Paid on its last day of grace and only reported now: the bank's
    // file came late, the debtor did not.
    let mut body = pay(reported, reported_in_full);
    body["paid_at"] = json!("2026-03-14T15:00:00Z");
    let paid = pay_as(&s, &admin, body, "st-p4").await;
    assert_eq!(paid["balance_minor"], 0, "{paid}");
}

/// A payment goes to interest and fees first (Código Civil art. 354), so
/// the discount for paying the rest in full is on what interest is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_pays_interest_first_and_the_discount_shrinks_with_it() {
    let s = start().await;
    let admin = s.login("admin").await;
    let offers = |v: &Value| {
        let o = &v["offers"];
        (
            o["balance_minor"].as_i64().unwrap(),
            o["max_discount_minor"].as_i64().unwrap(),
        )
    };
    // One debt: with several, the oldest's principal goes before a
    // younger one's interest, and the halves below would not hold.
    let mut found = None;
    for id in 1..200 {
        let script = s.get(&format!("/v1/debtors/{id}/script"), &admin).await.1;
        let debts = s.get(&format!("/v1/debtors/{id}"), &admin).await.1["debts"].clone();
        if script["offers"]["max_discount_minor"].as_i64().unwrap_or(0) > 100
            && debts.as_array().is_some_and(|d| d.len() == 1)
        {
            found = Some((id, offers(&script)));
            break;
        }
    }
    let (debtor, (balance, discount)) = found.expect("a debtor with a discount");
    let d = s.get(&format!("/v1/debtors/{debtor}"), &admin).await.1;
    let interest: i64 = d["debts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["interest_and_fees_minor"].as_i64().unwrap())
        .sum();
    assert!(interest < balance, "{d}");
    // Half the interest paid: about half the discount left.
    let body = json!({ "debtor_id": debtor, "amount_minor": interest / 2 });
    pay_as(&s, &admin, body, "int-1").await;
    let script = s
        .get(&format!("/v1/debtors/{debtor}/script"), &admin)
        .await
        .1;
    let (left, half) = offers(&script);
    assert_eq!(left, balance - interest / 2);
    assert!(
        (discount / 2 - 1..=discount / 2 + 1).contains(&half),
        "{half} of {discount}"
    );
    // The rest of it: no interest left to forgive.
    let body = json!({ "debtor_id": debtor, "amount_minor": interest - interest / 2 });
    pay_as(&s, &admin, body, "int-2").await;
    let script = s
        .get(&format!("/v1/debtors/{debtor}/script"), &admin)
        .await
        .1;
    assert_eq!(
        offers(&script),
        (balance - interest, 0),
        "{}",
        script["offers"]
    );
}

/// A promise paid in time but reported after the scheduler counted it
/// broken (a bank's file comes days late) is kept, and the board takes
/// the broken one back, in the snapshot as it is counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promise_kept_by_a_payment_reported_late_is_not_also_broken() {
    let s = start().await;
    let ana = s.login("ana").await;
    let (_, debtor, _) = promised_ten(&s, &ana).await;
    // Its grace ends with the 14th in São Paulo: broken at the first pass
    // after midnight there.
    s.set_clock(Utc.with_ymd_and_hms(2026, 3, 15, 3, 0, 20).unwrap());
    regua::server::scheduler_pass(&s.state).await.unwrap();
    let sofia = s.login("sofia").await;
    let counts = |board: Value| {
        let t = &board["today"]["total"];
        (t["promises_kept"].clone(), t["promises_broken"].clone())
    };
    let board = s.get("/v1/board", &sofia).await.1;
    assert_eq!(counts(board), (json!(0), json!(1)));
    let body =
        json!({ "debtor_id": debtor, "amount_minor": 1000, "paid_at": "2026-03-14T15:00:00Z" });
    pay_as(&s, &sofia, body, "ub-pay").await;
    let board = s.get("/v1/board", &sofia).await.1;
    assert_eq!(counts(board), (json!(1), json!(0)));
}

/// A payment through the API, which must be taken.
async fn pay_as(s: &Server, token: &str, body: Value, key: &str) -> Value {
    let r = s
        .call(
            Method::POST,
            "/v1/payments",
            Some(token),
            Some(body.to_string().into_bytes()),
            Some(key),
        )
        .await;
    assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);
    r.1
}

/// Two servers on one PostgreSQL database: an outcome written through one
/// reaches the live stream of the other (LISTEN/NOTIFY).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_an_event_reaches_the_other_servers_streams() {
    let Some(db) = postgres_schema("two servers on PostgreSQL").await else {
        return;
    };
    let url = db.url.clone();
    let one = start_on(&url, true, tempfile::tempdir().unwrap()).await;
    let two = start_on(&url, false, tempfile::tempdir().unwrap()).await;
    let ana = one.login("ana").await;
    let sofia = two.login("sofia").await;
    let mut live = open_stream(&two, &sofia, None).await;
    let debtor = lease_any(&one, &ana).await;
    let r = one
        .outcome(
            debtor,
            &ana,
            Some("pg-1"),
            &json!({ "disposition": "no_answer" }),
        )
        .await;
    assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);
    let (_, event) = next_event(&mut live, "outcome_recorded", &mut String::new())
        .await
        .expect("the other server hears of it");
    assert_eq!(event["debtor_id"], debtor);
    db.drop().await;
}

/// A schema of its own on `REGUA_TEST_POSTGRES_URL`'s database, or `None`
/// (saying what was skipped) without one.
struct PgSchema {
    url: String,
    name: String,
    admin: sqlx::PgPool,
}

/// `REGUA_TEST_POSTGRES_URL`, or `None` having said on stderr that `what`
/// was not tested.
fn postgres_url(what: &str) -> Option<String> {
    let url = std::env::var("REGUA_TEST_POSTGRES_URL").ok();
    if url.is_none() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: REGUA_TEST_POSTGRES_URL is not set, so {what} was not tested"
        );
    }
    url
}

async fn postgres_schema(what: &str) -> Option<PgSchema> {
    let base = postgres_url(what)?;
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("regua_api_{}_{n}", std::process::id());
    let admin = sqlx::PgPool::connect(&base).await.unwrap();
    for sql in [
        format!("DROP SCHEMA IF EXISTS {name} CASCADE"),
        format!("CREATE SCHEMA {name}"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&admin)
            .await
            .unwrap();
    }
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{name}");
    Some(PgSchema { url, name, admin })
}

impl PgSchema {
    async fn drop(self) {
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&self.admin)
            .await
            .ok();
    }
}

/// `/healthz` asks the database: a replica whose database is gone says so
/// (503), and a balancer takes it out of its turn; it had said `ok`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_health_says_when_the_database_is_gone() {
    let Some(base) = postgres_url("health without a database") else {
        return;
    };
    let name = format!("regua_health_{}", std::process::id());
    let admin = sqlx::PgPool::connect(&base).await.unwrap();
    let run = async |sql: String| {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&admin)
            .await
            .unwrap();
    };
    run(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
    run(format!("CREATE DATABASE {name}")).await;
    let mut url = reqwest::Url::parse(&base).unwrap();
    url.set_path(&format!("/{name}"));
    let s = start_on(url.as_str(), true, tempfile::tempdir().unwrap()).await;
    let health = async || {
        let r = s
            .http
            .get(format!("{}/healthz", s.base))
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    };
    assert_eq!(health().await, (StatusCode::OK, "ok".to_string()));
    run(format!("DROP DATABASE {name} WITH (FORCE)")).await;
    let (status, body) = health().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body.contains("database_unavailable"), "{body}");
}

/// Two deployments in two schemas of one database: one's feed ids mean
/// nothing to the other's streams. A server wakes its streams only for an
/// id newer than the newest it was told of, so another schema's larger ids,
/// heard on a shared channel, kept this schema's streams asleep.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_another_schemas_feed_does_not_silence_this_ones() {
    let (Some(a), Some(b)) = (
        postgres_schema("two schemas on one PostgreSQL database").await,
        postgres_schema("two schemas on one PostgreSQL database").await,
    ) else {
        return;
    };
    let here = start_on(&a.url, true, tempfile::tempdir().unwrap()).await;
    let there = start_on(&b.url, false, tempfile::tempdir().unwrap()).await;
    let sofia = here.login("sofia").await;
    let mut live = open_stream(&here, &sofia, None).await;
    let newest = here
        .state
        .store
        .feed_bounds()
        .await
        .unwrap()
        .map_or(0, |b| b.1);
    for _ in 0..newest + 3 {
        there
            .state
            .publish("elsewhere", None, None, json!({}))
            .await
            .unwrap();
    }
    // Time for the other schema's notices to arrive, were they heard here.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    here.state
        .publish("here", None, None, json!({}))
        .await
        .unwrap();
    assert_eq!(kinds_until(&mut live, "here").await, ["here"]);
    a.drop().await;
    b.drop().await;
}

/// A stream that resumes from before what the server keeps of the feed
/// reads the older items from the store, then goes on with the kept ones,
/// in order and with none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_resuming_from_before_what_is_kept_misses_nothing() {
    let s = start().await;
    let sofia = s.login("sofia").await;
    let mut first = 0;
    for kind in ["a", "b", "c"] {
        let id = s.state.publish(kind, None, None, json!({})).await.unwrap();
        if kind == "a" {
            first = id;
        }
    }
    // The first stream, from now on, starts what the server keeps here.
    let mut now_on = open_stream(&s, &sofia, None).await;
    s.state.publish("d", None, None, json!({})).await.unwrap();
    assert_eq!(kinds_until(&mut now_on, "d").await, ["d"]);
    let mut resumed = open_stream(&s, &sofia, Some(&first.to_string())).await;
    assert_eq!(kinds_until(&mut resumed, "d").await, ["b", "c", "d"]);
}

/// On PostgreSQL a feed item takes its id before its transaction commits,
/// so a newer item can be committed, and seen, first: a stream must wait
/// for the older one rather than move past it and never send it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_stream_waits_for_an_older_item_still_committing() {
    let Some(db) = postgres_schema("a stream on PostgreSQL waiting for an older item").await else {
        return;
    };
    let s = start_on(&db.url, true, tempfile::tempdir().unwrap()).await;
    let sofia = s.login("sofia").await;
    let mut live = open_stream(&s, &sofia, None).await;
    let store = s.state.store.clone();
    let slow = tokio::spawn(async move {
        regua::server::store::write(&*store, |tx| {
            Box::pin(async move {
                tx.publish("older", None, None, &json!({}), morning())
                    .await?;
                // Its id is taken; the commit comes half a second later.
                tx.flush().await?;
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                Ok::<_, regua::server::store::StoreError>(())
            })
        })
        .await
        .unwrap();
    });
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    s.state
        .publish("newer", None, None, json!({}))
        .await
        .unwrap();
    assert_eq!(kinds_until(&mut live, "newer").await, ["older", "newer"]);
    slow.await.unwrap();

    // An id taken by a transaction that rolled back never comes: what
    // follows it goes out after a wait, not never.
    let refused = regua::server::store::write(&*s.state.store, |tx| {
        Box::pin(async move {
            tx.publish("rolled_back", None, None, &json!({}), morning())
                .await?;
            tx.flush().await?;
            Err::<(), _>(regua::server::store::StoreError::Conflict("no".into()))
        })
    })
    .await;
    assert!(refused.is_err());
    let published = std::time::Instant::now();
    s.state
        .publish("after", None, None, json!({}))
        .await
        .unwrap();
    assert_eq!(kinds_until(&mut live, "after").await, ["after"]);
    let waited = published.elapsed();
    assert!(
        waited >= std::time::Duration::from_millis(1500),
        "held back for the hole: {waited:?}"
    );
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_metrics() {
    let s = start().await;
    let ana = s.login("ana").await;
    s.get("/v1/queues", &ana).await;
    s.get("/v1/debtors/1", &ana).await;
    let health = s
        .http
        .get(format!("{}/healthz", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.text().await.unwrap(), "ok");
    let text = s
        .http
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            "regua_http_requests_total{method=\"GET\",route=\"/v1/queues\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains("route=\"/v1/debtors/{id}\""),
        "routes by template, not by id: {text}"
    );
    assert!(
        text.contains("regua_http_request_duration_seconds_count"),
        "{text}"
    );
    assert!(
        text.contains("regua_queue_depth{queue=\"late_30\"}"),
        "{text}"
    );
    assert!(text.contains("regua_leases_active 0"), "{text}");
    assert!(text.contains("regua_database_up 1"), "{text}");
    // Every queue, an empty one at 0, and each metric's lines together
    // under its HELP and TYPE, as the text format wants them.
    for q in s.get("/v1/queues", &ana).await.1.as_array().unwrap() {
        for metric in ["regua_queue_depth", "regua_queue_callable"] {
            let line = format!("{metric}{{queue=\"{}\"}} ", q["id"].as_str().unwrap());
            assert!(text.contains(&line), "{line}: {text}");
        }
    }
    let names: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            l.split(['{', ' '])
                .next()
                .unwrap()
                .trim_end_matches("_bucket")
        })
        .map(|n| n.trim_end_matches("_sum").trim_end_matches("_count"))
        .collect();
    let mut seen: Vec<&str> = Vec::new();
    for n in names {
        if seen.last() != Some(&n) {
            assert!(!seen.contains(&n), "{n} is split in two: {text}");
            assert!(text.contains(&format!("# TYPE {n} ")), "{n} has no TYPE");
            seen.push(n);
        }
    }
}

/// The board's snapshot brings the newest events its ticker shows, however
/// many agents' states came after them (they had filled all 50 places), and
/// the newest id it counts, whatever its kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_boards_recent_events_are_the_tickers_whatever_came_after() {
    let s = start().await;
    let ana = s.login("ana").await;
    let admin = s.login("admin").await;
    // A payment on the first debtor who owes something.
    let mut paid = None;
    for id in 1..80 {
        let body = json!({ "debtor_id": id, "amount_minor": 100 });
        let key = format!("ticker-pay-{id}");
        let r = s
            .call(
                Method::POST,
                "/v1/payments",
                Some(&admin),
                Some(body.to_string().into_bytes()),
                Some(&key),
            )
            .await;
        if r.0 == StatusCode::CREATED {
            paid = Some(id);
            break;
        }
    }
    assert!(paid.is_some(), "somebody owes");
    for i in 0..60 {
        let state = if i % 2 == 0 { "paused" } else { "ready" };
        let body = json!({ "state": state, "reason": (i % 2 == 0).then_some("café") });
        let r = s.put("/v1/me/state", &ana, &body).await;
        assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    }
    let board = s.get("/v1/board", &admin).await.1;
    let recent = board["recent"].as_array().unwrap();
    let kinds: Vec<&str> = recent.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"payment_received"), "{kinds:?}");
    assert!(!kinds.contains(&"agent_state"), "{kinds:?}");
    let newest = recent
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .max()
        .unwrap();
    assert!(
        board["newest_id"].as_i64().unwrap() >= newest + 60,
        "{board}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn importing_a_portfolio_is_all_or_nothing_and_updates_by_external_id() {
    let s = start().await;
    let ana = s.login("ana").await;
    let sofia = s.login("sofia").await;
    let csv = "external_id,name,document,jurisdiction,phone,phone_consent,debt_id,creditor,original,balance,due_date\n\
               IMP-1,Rita Lima,529.982.247-25,SP,+5511987650001,yes,C-1,Loja Azul,100.00,120.50,2026-02-01\n\
               IMP-1,Rita Lima,529.982.247-25,SP,,,C-2,Loja Azul,50.00,50.00,2026-02-15\n\
               IMP-2,Caio Alves,11144477735,RJ,+5521987650002,no,C-3,TelePlus,80.00,80.00,2026-01-10\n";
    let send = |token: String, body: &'static str| {
        let s = &s;
        async move {
            s.call(
                Method::POST,
                "/v1/import/portfolio",
                Some(&token),
                Some(body.as_bytes().to_vec()),
                None,
            )
            .await
        }
    };
    let r = send(ana.clone(), csv).await;
    assert_error(&(r.0, r.1), StatusCode::FORBIDDEN, "forbidden", None);
    let mut stream = open_stream(&s, &sofia, None).await;
    let r = send(sofia.clone(), csv).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    assert_eq!(
        (r.1["debtors"].as_u64(), r.1["created"].as_u64()),
        (Some(2), Some(2))
    );
    // Boards and queue screens hear that the queues moved.
    kinds_until(&mut stream, "queues_changed").await;
    let again = send(sofia.clone(), csv).await;
    assert_eq!(
        (again.1["created"].as_u64(), again.1["updated"].as_u64()),
        (Some(0), Some(2)),
        "no duplicates"
    );
    let found = s.get("/v1/debtors?q=IMP-1", &sofia).await.1;
    let id = found[0]["id"].as_i64().unwrap();
    let rita = s.get(&format!("/v1/debtors/{id}"), &sofia).await.1;
    assert_eq!(rita["debts"].as_array().unwrap().len(), 2);

    let bad = "external_id,name,document,jurisdiction,phone,phone_consent,debt_id,creditor,original,balance,due_date\n\
               IMP-3,Ana Bad,529.982.247-26,SP,,,C-9,Loja,10.00,10.00,2026-02-01\n\
               IMP-4,Bia Bad,11144477735,XX,,,C-8,Loja,10.00,-1.00,2026-02-30\n";
    let r = send(sofia.clone(), bad).await;
    assert_eq!(r.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.1);
    assert_eq!(r.1["error"]["code"], "bad_rows");
    let rows = r.1["error"]["details"]["rows"].as_array().unwrap();
    let at = |line: u64, column: &str| {
        rows.iter()
            .any(|e| e["line"] == line && e["column"] == column)
    };
    assert!(
        at(2, "document") && at(3, "jurisdiction") && at(3, "balance") && at(3, "due_date"),
        "{}",
        r.1
    );
    assert_eq!(
        s.get("/v1/debtors?q=IMP-3", &sofia).await.1,
        json!([]),
        "nothing imported"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_start_ready_pause_with_a_reason_and_the_board_hears_it() {
    let s = start().await;
    let ana = s.login("ana").await;
    let sofia = s.login("sofia").await;
    let me = s.get("/v1/me", &ana).await.1;
    assert_eq!(
        (&me["name"], &me["role"], &me["state"], &me["reason"]),
        (
            &json!("ana"),
            &json!("agent"),
            &json!("ready"),
            &Value::Null
        ),
        "{me}"
    );
    assert_eq!(me["since"], json!(morning()));

    let mut live = open_stream(&s, &sofia, None).await;
    let r = s
        .put("/v1/me/state", &ana, &json!({ "state": "paused" }))
        .await;
    assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("reason"),
    );
    let r = s
        .put(
            "/v1/me/state",
            &ana,
            &json!({ "state": "paused", "reason": "  " }),
        )
        .await;
    assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("reason"),
    );
    let r = s
        .put(
            "/v1/me/state",
            &ana,
            &json!({ "state": "ready", "reason": "why" }),
        )
        .await;
    assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("reason"),
    );
    let r = s
        .put("/v1/me/state", &ana, &json!({ "state": "asleep" }))
        .await;
    assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("state"),
    );

    let r = s
        .put(
            "/v1/me/state",
            &ana,
            &json!({ "state": "paused", "reason": "lunch" }),
        )
        .await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    assert_eq!(
        r.1,
        json!({ "state": "paused", "reason": "lunch", "since": morning() })
    );
    let me = s.get("/v1/me", &ana).await.1;
    assert_eq!(
        (&me["state"], &me["reason"]),
        (&json!("paused"), &json!("lunch"))
    );
    let (_, event) = next_event(&mut live, "agent_state", &mut String::new())
        .await
        .expect("the board hears of the pause");
    assert_eq!(event["body"]["name"], "ana");
    assert_eq!(event["body"]["state"], "paused");
    assert_eq!(event["body"]["reason"], "lunch");
    // A second login keeps the state.
    let again = s.login("ana").await;
    assert_eq!(s.get("/v1/me", &again).await.1["state"], "paused");
}

/// The call contacts of a debtor's timeline.
async fn calls_of(s: &Server, token: &str, debtor: i64) -> Vec<Value> {
    let mut events = timeline(s, token, debtor).await;
    events.retain(|e| e["kind"] == "contact" && e["channel"] == "call");
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_dialed_then_its_outcome_count_one_attempt() {
    let s = start().await;
    let ana = s.login("ana").await;
    let bruno = s.login("bruno").await;
    let debtor = lease_any(&s, &ana).await;
    let phone = consented_phone(&s, &ana, debtor).await;
    let path = format!("/v1/debtors/{debtor}/calls");
    let dial = |token: String, number: String, key: &'static str| {
        let s = &s;
        let path = path.clone();
        async move {
            let r = s
                .call(
                    Method::POST,
                    &path,
                    Some(&token),
                    Some(json!({ "phone": number }).to_string().into_bytes()),
                    Some(key),
                )
                .await;
            (r.0, r.1)
        }
    };
    let r = dial(ana.clone(), "+5511900000000".into(), "c-1").await;
    assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("phone"),
    );
    let r = dial(bruno.clone(), phone.clone(), "c-2").await;
    assert_error(&r, StatusCode::FORBIDDEN, "leased_to_another", None);

    let before = calls_of(&s, &ana, debtor).await.len();
    let r = dial(ana.clone(), phone.clone(), "c-3").await;
    assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);
    assert_eq!(r.1["debtor_id"], debtor);
    assert_eq!(r.1["started_at"], json!(morning()));
    assert!(r.1["attempt_id"].is_i64());
    assert_eq!(
        dial(ana.clone(), phone.clone(), "c-3").await,
        r,
        "the same key dials once"
    );
    assert_eq!(s.get("/v1/me", &ana).await.1["state"], "on_call");
    let calls = calls_of(&s, &ana, debtor).await;
    assert_eq!(calls.len(), before + 1);
    assert_eq!(calls.last().unwrap()["result"], "dialed");

    s.set_clock(morning() + chrono::Duration::minutes(4));
    let o = s
        .outcome(
            debtor,
            &ana,
            Some("o-1"),
            &json!({ "disposition": "no_answer" }),
        )
        .await;
    assert_eq!(o.0, StatusCode::CREATED, "{}", o.1);
    let calls = calls_of(&s, &ana, debtor).await;
    assert_eq!(
        calls.len(),
        before + 1,
        "one attempt for one call: {calls:?}"
    );
    let attempt = calls.last().unwrap();
    assert_eq!(
        (&attempt["result"], &attempt["at"]),
        (&json!("no_answer"), &json!(morning())),
        "the attempt dialed holds its result"
    );
    assert_eq!(s.get("/v1/me", &ana).await.1["state"], "wrap_up");

    // An outcome with no call dialed before it is an attempt of its own.
    let o = s
        .outcome(
            debtor,
            &ana,
            Some("o-2"),
            &json!({ "disposition": "no_answer" }),
        )
        .await;
    assert_eq!(o.0, StatusCode::CREATED, "{}", o.1);
    assert_eq!(calls_of(&s, &ana, debtor).await.len(), before + 2);
}

/// An outcome that waited in the agent's outbox comes with its age
/// (`Regua-Recorded-Ago`, on the console's own clock) and is dated when it
/// was recorded: it resolves the call dialed before it, not one dialed
/// after; a callback whose time passed meanwhile is kept and due at once;
/// the agent, long past that call, is not put back in wrap-up; and a
/// colleague who took the debtor since does not make it lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outcome_sent_late_is_dated_when_it_was_recorded() {
    let s = start().await;
    let ana = s.login("ana").await;
    let bruno = s.login("bruno").await;
    let queue = callable_queue(&s, &ana, 2).await;
    let (lease, debtor) = lease_from(&s, &queue, &ana).await;
    let phone = consented_phone(&s, &ana, debtor).await;
    let dial = |token: String, key: &'static str| {
        let s = &s;
        let phone = phone.clone();
        async move {
            let r = s
                .call(
                    Method::POST,
                    &format!("/v1/debtors/{debtor}/calls"),
                    Some(&token),
                    Some(json!({ "phone": phone }).to_string().into_bytes()),
                    Some(key),
                )
                .await;
            assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);
        }
    };
    let before = calls_of(&s, &ana, debtor).await.len();
    dial(ana.clone(), "late-dial").await;
    // Ana's console loses the server; her lease is given back, and bruno
    // takes the debtor.
    let r = s
        .call(
            Method::DELETE,
            &format!("/v1/leases/{lease}"),
            Some(&ana),
            None,
            None,
        )
        .await;
    assert_eq!(r.0, StatusCode::NO_CONTENT, "{}", r.1);
    // (Called a moment ago, the debtor is no longer first in his queue:
    // the lease is written as the server would.)
    let bruno_id = agent_id(&s, &bruno).await.as_i64().unwrap();
    let db = format!("sqlite://{}", s._dir.path().join("regua.db").display());
    let db = sqlx::SqlitePool::connect(&db).await.unwrap();
    sqlx::query("INSERT INTO leases (debtor_id, agent_id, expires_ms) VALUES (?, ?, ?)")
        .bind(debtor)
        .bind(bruno_id)
        .bind((morning() + chrono::Duration::hours(2)).timestamp_millis())
        .execute(&db)
        .await
        .unwrap();

    let minutes = |m| morning() + chrono::Duration::minutes(m);
    s.set_clock(minutes(45));
    let late = |token: &str, body: Value, ago: &'static str, key: &'static str| {
        let s = &s;
        let token = token.to_string();
        async move {
            let resp = s
                .http
                .post(format!("{}/v1/debtors/{debtor}/outcomes", s.base))
                .bearer_auth(&token)
                .header("Idempotency-Key", key)
                .header("Regua-Recorded-Ago", ago)
                .json(&body)
                .send()
                .await
                .unwrap();
            (resp.status(), resp.json::<Value>().await.unwrap())
        }
    };
    let callback = json!({ "disposition": "callback_requested", "callback_at": minutes(20) });
    let r = late(&ana, callback.clone(), "soon", "late-bad").await;
    assert_error(
        &r,
        StatusCode::BAD_REQUEST,
        "bad_header",
        Some("Regua-Recorded-Ago"),
    );
    // A fresh outcome on bruno's debtor is refused, as always.
    let fresh = s.outcome(debtor, &ana, Some("late-fresh"), &callback).await;
    assert_error(
        &(fresh.0, fresh.1),
        StatusCode::FORBIDDEN,
        "leased_to_another",
        None,
    );

    // Recorded 43 minutes ago, 2 after the dial.
    let o = late(&ana, callback, "2580", "late-1").await;
    assert_eq!(o.0, StatusCode::CREATED, "{}", o.1);
    assert_eq!(o.1["recorded_at"], json!(minutes(2)));
    assert_eq!(
        o.1["queue"], "callbacks_due",
        "the callback's time has passed: it is due"
    );
    let calls = calls_of(&s, &ana, debtor).await;
    assert_eq!(
        calls.len(),
        before + 1,
        "one attempt for one call: {calls:?}"
    );
    assert_eq!(calls.last().unwrap()["at"], json!(morning()));
    let outcome = timeline(&s, &ana, debtor)
        .await
        .into_iter()
        .rfind(|e| e["kind"] == "outcome")
        .unwrap();
    assert_eq!(outcome["at"], json!(minutes(2)));
    assert_ne!(s.get("/v1/me", &ana).await.1["state"], "wrap_up");

    // Bruno dials now; an outcome of his from before this call does not
    // take its attempt, and one older than the keys are kept is dated as
    // far back as they are.
    dial(bruno.clone(), "late-dial-2").await;
    let no_answer = json!({ "disposition": "no_answer" });
    let o = late(&bruno, no_answer, "864000", "late-2").await;
    assert_eq!(o.0, StatusCode::CREATED, "{}", o.1);
    assert_eq!(
        o.1["recorded_at"],
        json!(minutes(45) - chrono::Duration::days(7))
    );
    let calls = calls_of(&s, &ana, debtor).await;
    assert_eq!(calls.len(), before + 3, "{calls:?}");
    let dialed: Vec<_> = calls.iter().filter(|c| c["result"] == "dialed").collect();
    assert_eq!(dialed.len(), 1, "bruno's call is still his: {calls:?}");
    assert_eq!(dialed[0]["at"], json!(minutes(45)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_on_a_sunday_in_sao_paulo_waits_for_monday_8() {
    let s = start().await;
    let sofia = s.login("sofia").await;
    let csv = "external_id,name,document,jurisdiction,phone,phone_consent,debt_id,creditor,original,balance,due_date\n\
               SUN-1,Rita Lima,529.982.247-25,SP,+5511987650001,yes,C-1,Loja Azul,100.00,120.50,2026-02-01\n";
    let r = s
        .call(
            Method::POST,
            "/v1/import/portfolio",
            Some(&sofia),
            Some(csv.as_bytes().to_vec()),
            None,
        )
        .await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    let debtor = s.get("/v1/debtors?q=SUN-1", &sofia).await.1[0]["id"]
        .as_i64()
        .unwrap();
    let sunday = chrono_tz::America::Sao_Paulo
        .with_ymd_and_hms(2026, 3, 15, 10, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    s.set_clock(sunday);
    let ana = s.login("ana").await;
    let r = s
        .call(
            Method::POST,
            &format!("/v1/debtors/{debtor}/calls"),
            Some(&ana),
            Some(
                json!({ "phone": "+5511987650001" })
                    .to_string()
                    .into_bytes(),
            ),
            Some("sun-1"),
        )
        .await;
    let r = (r.0, r.1);
    assert_error(&r, StatusCode::CONFLICT, "call_blocked", None);
    assert_eq!(r.1["error"]["details"]["rule"], "call_window", "{}", r.1);
    assert_eq!(
        r.1["error"]["details"]["clears_at"], "2026-03-16T11:00:00Z",
        "{}",
        r.1
    );
    assert_says(&r, "Sunday");
    assert_says(&r, "Monday 2026-03-16 08:00 local");
    assert!(
        calls_of(&s, &ana, debtor).await.is_empty(),
        "nothing dialed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_and_what_supervisors_may_do_to_agents() {
    let s = start().await;
    let ana = s.login("ana").await;
    let _console = open_stream(&s, &ana, None).await;
    let bruno = s.login("bruno").await;
    let sofia = s.login("sofia").await;
    let ana_id = s.get("/v1/me", &ana).await.1["id"].as_i64().unwrap();
    assert_error(
        &s.get("/v1/board", &ana).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    );

    let debtor = lease_any(&s, &ana).await;
    let record = s.get(&format!("/v1/debtors/{debtor}"), &ana).await.1;
    let phone = consented_phone(&s, &ana, debtor).await;
    let r = s
        .call(
            Method::POST,
            &format!("/v1/debtors/{debtor}/calls"),
            Some(&ana),
            Some(json!({ "phone": phone }).to_string().into_bytes()),
            Some("b-call"),
        )
        .await;
    assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);
    let r = s
        .outcome(
            debtor,
            &ana,
            Some("b-out"),
            &json!({ "disposition": "right_party_contact" }),
        )
        .await;
    assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);

    let board = s.get("/v1/board", &sofia).await;
    assert_eq!(board.0, StatusCode::OK, "{}", board.1);
    let board = board.1;
    assert_eq!(board["generated_at"], json!(morning()));
    // The outcome says the queue the call was placed from (the board counts
    // the queue's promises and contacts by it), not where the dialed
    // attempt left the debtor.
    let body_of = |kind: &str| {
        board["recent"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == kind)
            .unwrap_or_else(|| panic!("{kind} in {board}"))["body"]
            .clone()
    };
    // (The snapshot's events are the ticker's and the leases taken: the
    // lease says the queue the call was placed from.)
    let placed_from = body_of("lease_taken")["queue"].clone();
    assert!(placed_from.is_string(), "{placed_from}");
    assert_eq!(body_of("outcome_recorded")["from_queue"], placed_from);
    // With the names a board started later cannot look up.
    let outcome = body_of("outcome_recorded");
    assert_eq!(
        (&outcome["debtor_name"], &outcome["agent_name"]),
        (&record["name"], &json!("ana"))
    );
    let queues = board["queues"].as_array().unwrap();
    assert!(!queues.is_empty());
    for q in queues {
        let blocked: i64 = q["blocked"]
            .as_object()
            .unwrap()
            .values()
            .map(|n| n.as_i64().unwrap())
            .sum();
        assert!(
            q["callable"].as_i64().unwrap() + blocked <= q["depth"].as_i64().unwrap(),
            "{q}"
        );
    }
    assert!(
        queues
            .iter()
            .any(|q| !q["blocked"].as_object().unwrap().is_empty()),
        "demo debtors wait on some rule: {queues:?}"
    );
    let agent = |board: &Value, name: &str| {
        board["agents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} on the board: {board}"))
    };
    let a = agent(&board, "ana");
    assert_eq!(
        (
            &a["state"],
            &a["calls_today"],
            &a["rpc_today"],
            &a["promises_today"]
        ),
        (&json!("wrap_up"), &json!(1), &json!(1), &json!(0)),
        "{a}"
    );
    assert_eq!(a["lease"]["debtor_id"], debtor, "{a}");
    assert_eq!(a["lease"]["debtor_name"], record["name"]);
    let total = &board["today"]["total"];
    assert_eq!(
        (&total["contacts"], &total["rpc"]),
        (&json!(1), &json!(1)),
        "{total}"
    );
    assert_eq!(total["rpc_rate"], 1.0);
    let hourly = board["today"]["hourly"].as_array().unwrap();
    assert_eq!(hourly.len(), 24);
    assert_eq!(hourly[13]["contacts"], 1, "10:00 in São Paulo is 13:00 UTC");
    let kinds: Vec<_> = board["recent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    // The ticker's kinds and the leases taken; the rest moved the tables.
    assert_eq!(kinds, ["lease_taken", "outcome_recorded"]);
    let newest = s.state.store.feed_bounds().await.unwrap().unwrap().1;
    assert_eq!(board["newest_id"], newest);

    // Only an agent's state is set by someone else: not a peer's, not an
    // admin's.
    let admin = s.login("admin").await;
    let admin_id = s.get("/v1/me", &admin).await.1["id"].as_i64().unwrap();
    let sofia_id = s.get("/v1/me", &sofia).await.1["id"].as_i64().unwrap();
    for (id, by) in [(admin_id, &sofia), (sofia_id, &admin)] {
        let r = s
            .put(
                &format!("/v1/agents/{id}/state"),
                by,
                &json!({ "state": "paused", "reason": "x" }),
            )
            .await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("id"));
    }
    assert_eq!(s.get("/v1/me", &admin).await.1["state"], json!("ready"));

    // A supervisor pauses an agent (with a reason) and takes back a lease.
    let path = format!("/v1/agents/{ana_id}/state");
    let r = s.put(&path, &ana, &json!({ "state": "ready" })).await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden", None);
    let r = s.put(&path, &sofia, &json!({ "state": "paused" })).await;
    assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("reason"),
    );
    let r = s
        .put(
            &path,
            &sofia,
            &json!({ "state": "paused", "reason": "coaching" }),
        )
        .await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    let me = s.get("/v1/me", &ana).await.1;
    assert_eq!(
        (&me["state"], &me["reason"]),
        (&json!("paused"), &json!("coaching"))
    );
    assert_error(
        &s.put(
            "/v1/agents/999999/state",
            &sofia,
            &json!({ "state": "ready" }),
        )
        .await,
        StatusCode::NOT_FOUND,
        "user_not_found",
        Some("id"),
    );
    assert_error(
        &s.get("/v1/agents/999999/calls", &sofia).await,
        StatusCode::NOT_FOUND,
        "user_not_found",
        Some("id"),
    );

    let lease_id = agent(&s.get("/v1/board", &sofia).await.1, "ana")["lease"]["id"]
        .as_i64()
        .unwrap();
    let r = s
        .call(
            Method::DELETE,
            &format!("/v1/leases/{lease_id}"),
            Some(&bruno),
            None,
            None,
        )
        .await;
    assert_eq!(
        r.0,
        StatusCode::NOT_FOUND,
        "an agent lets go of their own only"
    );
    let r = s
        .call(
            Method::DELETE,
            &format!("/v1/leases/{lease_id}"),
            Some(&sofia),
            None,
            None,
        )
        .await;
    assert_eq!(r.0, StatusCode::NO_CONTENT, "{}", r.1);
    let r = s
        .post(
            &format!("/v1/leases/{lease_id}/renew"),
            Some(&ana),
            &json!({}),
        )
        .await;
    assert_error(
        &(r.0, r.1),
        StatusCode::NOT_FOUND,
        "lease_not_found",
        Some("id"),
    );
    let board = s.get("/v1/board", &sofia).await.1;
    assert_eq!(agent(&board, "ana")["lease"], Value::Null);
    let released = board["recent"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["kind"] == "lease_released")
        .expect("published");
    assert_eq!(
        (
            &released["debtor_id"],
            &released["user_id"],
            &released["body"]["by"]
        ),
        (&json!(debtor), &json!(ana_id), &agent_id(&s, &sofia).await)
    );
}

fn user_of(role: &str) -> &'static str {
    match role {
        "agent" => "ana",
        "supervisor" => "sofia",
        _ => "admin",
    }
}

async fn agent_id(s: &Server, token: &str) -> Value {
    s.get("/v1/me", token).await.1["id"].clone()
}

/// Every operation `/openapi.json` describes: method, path template, and
/// the roles it allows (`None`: public; an empty list: any signed-in role).
async fn documented(s: &Server) -> Vec<(Method, String, Option<Vec<String>>)> {
    let doc = s
        .http
        .get(format!("{}/openapi.json", s.base))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let roles = op["security"].as_array().map(|reqs| {
                reqs.iter()
                    .flat_map(|r| r["bearer"].as_array().cloned().unwrap_or_default())
                    .map(|r| r.as_str().unwrap().to_string())
                    .collect()
            });
            ops.push((method, path.clone(), roles));
        }
    }
    ops
}

/// A request that reads the body only when it is not a live stream.
async fn status_of(
    s: &Server,
    method: &Method,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, Value) {
    sent(s, method, path, token, "{}").await
}

/// `status_of` with this body for a write.
async fn sent(
    s: &Server,
    method: &Method,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (StatusCode, Value) {
    let mut req = s
        .http
        .request(method.clone(), format!("{}{path}", s.base))
        .header("Idempotency-Key", format!("walk-{}", rand_key()));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if *method == Method::POST || *method == Method::PUT {
        req = req
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let stream = resp
        .headers()
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap_or("").starts_with("text/event-stream"));
    if stream {
        return (status, Value::Null);
    }
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn rand_key() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// A path template with ids that exist for queues and nowhere else, so no
/// walk step touches another's work.
fn concrete(path: &str) -> String {
    if path.starts_with("/v1/queues/") {
        path.replace("{id}", "early")
    } else {
        path.replace("{id}", "999999")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_describes_every_route_the_router_serves() {
    let s = start().await;
    let r = s
        .http
        .get(format!("{}/openapi.json", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"],
        json!({ "type": "http", "scheme": "bearer" })
    );

    // The router and the document come from one list (`app::api`): what
    // the server routes is what the document says, and the other way round.
    let (_, from_code) = regua::server::app::api().split_for_parts();
    let served: Vec<_> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let listed: Vec<_> = from_code.paths.paths.keys().cloned().collect();
    assert_eq!(served, listed);
    let ops = documented(&s).await;
    let sofia = s.login("sofia").await;
    for (method, path, _) in &ops {
        let own;
        let token = if path == "/v1/sessions/current" {
            own = s.login("sofia").await;
            &own
        } else {
            &sofia
        };
        let r = status_of(&s, method, &concrete(path), Some(token)).await;
        let fallback = r.0 == StatusCode::NOT_FOUND && r.1["error"]["message"] == "no such route";
        assert!(
            !fallback && r.0 != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path} is documented but not routed: {} {}",
            r.0,
            r.1
        );
    }
    // The calls of DESIGN.md's contract (talking points come on their own branch).
    for (method, path) in [
        ("POST", "/v1/sessions"),
        ("GET", "/v1/me"),
        ("PUT", "/v1/me/state"),
        ("GET", "/v1/queues"),
        ("POST", "/v1/queues/{id}/lease"),
        ("POST", "/v1/leases/{id}/renew"),
        ("DELETE", "/v1/leases/{id}"),
        ("GET", "/v1/debtors"),
        ("GET", "/v1/debtors/{id}"),
        ("GET", "/v1/debtors/{id}/timeline"),
        ("GET", "/v1/debtors/{id}/plan"),
        ("POST", "/v1/debtors/{id}/calls"),
        ("POST", "/v1/debtors/{id}/outcomes"),
        ("POST", "/v1/payments"),
        ("POST", "/v1/import/portfolio"),
        ("GET", "/v1/board"),
        ("PUT", "/v1/agents/{id}/state"),
        ("GET", "/v1/events"),
        ("GET", "/healthz"),
        ("GET", "/metrics"),
        ("GET", "/openapi.json"),
    ] {
        assert!(
            ops.iter()
                .any(|(m, p, _)| m.as_str() == method && p == path),
            "{method} {path} documented"
        );
    }
    // Every schema a description points at is in the document.
    let text = doc.to_string();
    for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &piece[..piece.find('"').unwrap()];
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "schema {name} is referenced but missing"
        );
    }
}

/// Every documented route, by every role: no token is a 401 (public routes
/// aside), a role the route does not list a 403, a role it does anything
/// else; and nobody but the holder records a call or an outcome on a
/// leased debtor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_by_every_role() {
    let s = start().await;
    let tokens = [
        ("agent", s.login("ana").await),
        ("supervisor", s.login("sofia").await),
        ("admin", s.login("admin").await),
    ];
    let ops = documented(&s).await;
    assert!(ops.len() >= 20, "{ops:?}");
    for (method, path, roles) in &ops {
        let at = concrete(path);
        let anonymous = status_of(&s, method, &at, None).await;
        let Some(roles) = roles else {
            assert_ne!(
                anonymous.0,
                StatusCode::UNAUTHORIZED,
                "{method} {path} is public"
            );
            continue;
        };
        assert_eq!(
            anonymous.0,
            StatusCode::UNAUTHORIZED,
            "{method} {path} without a token"
        );
        let forged = status_of(&s, method, &at, Some("not-a-token")).await;
        assert_eq!(
            forged.0,
            StatusCode::UNAUTHORIZED,
            "{method} {path} with a forged token"
        );
        for (role, token) in &tokens {
            // Logging out would end the token the walk goes on with.
            let own;
            let token = if path == "/v1/sessions/current" {
                own = s.login(user_of(role)).await;
                &own
            } else {
                token
            };
            let r = status_of(&s, method, &at, Some(token)).await;
            if roles.is_empty() || roles.iter().any(|r| r == role) {
                assert!(
                    r.0 != StatusCode::UNAUTHORIZED && r.0 != StatusCode::FORBIDDEN,
                    "{method} {path} as {role}: {} {}",
                    r.0,
                    r.1
                );
            } else {
                assert_eq!(
                    (r.0, r.1["error"]["code"].as_str()),
                    (StatusCode::FORBIDDEN, Some("forbidden")),
                    "{method} {path} as {role}: {}",
                    r.1
                );
            }
        }
    }
    for (method, path) in [
        (Method::GET, "/v1/board"),
        (Method::POST, "/v1/import/portfolio"),
        (Method::PUT, "/v1/agents/{id}/state"),
        (Method::POST, "/v1/payments"),
    ] {
        let roles = ops
            .iter()
            .find(|(m, p, _)| *m == method && p == path)
            .and_then(|(_, _, r)| r.clone());
        assert_eq!(
            roles,
            Some(vec!["supervisor".to_string(), "admin".to_string()]),
            "{method} {path}"
        );
    }

    // Writes on a debtor: only the lease's holder.
    let bruno = s.login("bruno").await;
    let debtor = lease_any(&s, &tokens[0].1).await;
    let writes: Vec<_> = ops
        .iter()
        .filter(|(m, p, _)| *m == Method::POST && p.starts_with("/v1/debtors/{id}/"))
        .collect();
    assert_eq!(writes.len(), 2, "calls and outcomes: {writes:?}");
    let phone = consented_phone(&s, &tokens[0].1, debtor).await;
    for (method, path, _) in writes {
        let at = path.replace("{id}", &debtor.to_string());
        // Well-formed, so only who sends it decides.
        let body = if path.ends_with("/calls") {
            json!({ "phone": phone })
        } else {
            json!({ "disposition": "no_answer" })
        }
        .to_string();
        for token in [&bruno, &tokens[1].1, &tokens[2].1] {
            let r = sent(&s, method, &at, Some(token), &body).await;
            assert_eq!(
                (r.0, r.1["error"]["code"].as_str()),
                (StatusCode::FORBIDDEN, Some("leased_to_another")),
                "{method} {at}: {}",
                r.1
            );
        }
        let holder = sent(&s, method, &at, Some(&tokens[0].1), &body).await;
        assert_eq!(holder.0, StatusCode::CREATED, "{}", holder.1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_out_ends_that_token_alone() {
    let s = start().await;
    let desk = s.login("ana").await;
    let laptop = s.login("ana").await;
    let r = s.logout(&desk).await;
    assert_eq!(r.0, StatusCode::NO_CONTENT, "{}", r.1);
    assert_error(
        &s.get("/v1/me", &desk).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        None,
    );
    let again = s.logout(&desk).await;
    assert_eq!(again.0, StatusCode::UNAUTHORIZED);
    assert_eq!(s.get("/v1/me", &laptop).await.0, StatusCode::OK);
    // A live stream opened with it is refused from then on.
    let r = s
        .http
        .get(format!("{}/v1/events", s.base))
        .bearer_auth(&desk)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

/// Reads a live stream until the server ends it; `false` if it is still
/// open after `within`.
async fn ends_within(resp: &mut reqwest::Response, within: std::time::Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, resp.chunk()).await {
            Err(_) => return false,
            Ok(Ok(Some(_))) => continue,
            Ok(_) => return true,
        }
    }
}

/// A live stream is a session's like any request: it ends when the session
/// does, at once for a logout on its server and within a look for one on
/// another, while the user's other sessions' streams go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_stream_ends_with_its_session() {
    use regua::server::routes::events::SESSION_LOOK;
    let s = start().await;
    let desk = s.login("sofia").await;
    let wall = s.login("sofia").await;
    let mut at_desk = open_stream(&s, &desk, None).await;
    let mut on_wall = open_stream(&s, &wall, None).await;
    let r = s.logout(&desk).await;
    assert_eq!(r.0, StatusCode::NO_CONTENT, "{}", r.1);
    assert!(
        ends_within(&mut at_desk, std::time::Duration::from_secs(2)).await,
        "the logged-out stream still open after 2 s"
    );
    s.state
        .publish("queues_changed", None, None, json!({ "replanned": 0 }))
        .await
        .unwrap();
    assert!(
        next_event(&mut on_wall, "queues_changed", &mut String::new())
            .await
            .is_some(),
        "the other session's stream goes on"
    );
    // Logged out through another server: only the store knows.
    let hash = regua::server::auth::token_hash(&wall);
    assert!(s.state.store.revoke_session(&hash).await.unwrap());
    assert!(
        ends_within(
            &mut on_wall,
            SESSION_LOOK + std::time::Duration::from_secs(3)
        )
        .await,
        "a stream whose session another server ended still open"
    );
}

/// A stopping server ends the live streams so it can stop, but its agents
/// stay on the floor: their consoles resume on the next server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_server_leaves_its_agents_on_the_floor() {
    let mut s = start().await;
    let ana = s.login("ana").await;
    let mut console = open_stream(&s, &ana, None).await;
    let floor = |s: &Server| {
        let store = s.state.store.clone();
        async move {
            let kinds: Vec<String> = store
                .feed_latest_of(&["agent_arrived", "agent_left"], 50)
                .await
                .unwrap()
                .into_iter()
                .map(|i| i.kind)
                .collect();
            kinds
        }
    };
    assert!(floor(&s).await.contains(&"agent_arrived".to_string()));
    s.stop.take().unwrap().send(()).unwrap();
    assert!(
        ends_within(&mut console, std::time::Duration::from_secs(5)).await,
        "the stream still open 5 s after the server was told to stop"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let kinds = floor(&s).await;
    assert!(!kinds.contains(&"agent_left".to_string()), "{kinds:?}");
}

/// The board's floor is the agents whose console holds the live stream
/// open, not every agent whose token is still valid: a kept token outlives
/// the console by hours.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_is_on_the_floor_while_their_stream_is_open() {
    let s = start().await;
    let ana = s.login("ana").await;
    let sofia = s.login("sofia").await;
    let on_floor = || async {
        let board = s.get("/v1/board", &sofia).await.1;
        board["agents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["name"] == "ana")
    };
    assert!(!on_floor().await, "logged in, no console open");
    let mut board = open_stream(&s, &sofia, None).await;
    assert!(!on_floor().await, "a supervisor's stream is not an agent's");

    let console = open_stream(&s, &ana, None).await;
    let mut buffer = String::new();
    let (_, arrived) = next_event(&mut board, "agent_arrived", &mut buffer)
        .await
        .expect("the board hears her arrive");
    assert_eq!(
        (
            &arrived["body"]["name"],
            &arrived["body"]["state"],
            &arrived["body"]["calls_today"]
        ),
        (&json!("ana"), &json!("ready"), &json!(0)),
        "{arrived}"
    );
    assert!(on_floor().await);
    // A second console of hers, closed, leaves her on the floor.
    drop(open_stream(&s, &ana, None).await);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(on_floor().await);

    drop(console);
    let closed = std::time::Instant::now();
    let (_, left) = next_event(&mut board, "agent_left", &mut buffer)
        .await
        .expect("the board hears her leave when her console closes");
    eprintln!("she left the floor {:?} after closing", closed.elapsed());
    assert_eq!(left["user_id"], json!(agent_id(&s, &ana).await), "{left}");
    assert!(!on_floor().await);

    // A console that went without a word (a network gone) leaves the floor
    // at the scheduler's first pass after 45 s unseen.
    let mut console = open_stream(&s, &ana, None).await;
    next_event(&mut board, "agent_arrived", &mut buffer)
        .await
        .expect("back");
    s.set_clock(morning() + chrono::Duration::seconds(46));
    assert!(!on_floor().await, "unseen for 46 s");
    regua::server::scheduler_pass(&s.state).await.unwrap();
    next_event(&mut board, "agent_left", &mut buffer)
        .await
        .expect("the pass tells the board");
    // Who arrives and leaves is the board's to hear, not her console's.
    let outcome = json!({ "disposition": "no_answer" });
    let r = s.outcome(1, &ana, Some("floor-1"), &outcome).await;
    assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);
    assert_eq!(
        kinds_until(&mut console, "outcome_recorded").await,
        ["agent_state", "outcome_recorded"]
    );
    // Back with the day's call behind her: the board's new row starts
    // from it, not from zero.
    let _again = open_stream(&s, &ana, None).await;
    let (_, arrived) = next_event(&mut board, "agent_arrived", &mut buffer)
        .await
        .expect("back again");
    assert_eq!(
        (
            &arrived["body"]["calls_today"],
            &arrived["body"]["rpc_today"]
        ),
        (&json!(1), &json!(0)),
        "{arrived}"
    );
}

/// Every event a stream brings until one of `kind`: their kinds, in order.
async fn kinds_until(resp: &mut reqwest::Response, kind: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut buffer = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if let Some(k) = block.lines().find_map(|l| l.strip_prefix("event:")) {
                seen.push(k.trim().to_string());
                if k.trim() == kind {
                    return seen;
                }
            }
        }
        let chunk = tokio::time::timeout_at(deadline, resp.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {kind} within 5 s; saw {seen:?}"))
            .unwrap()
            .unwrap();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

/// The scheduler's pass tells the floor what it moved: each expired lease
/// to the board and to its agent, `queues_changed` to everyone when the
/// re-plans changed the counts; a pass that changes nothing says nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_says_when_leases_expire_and_queues_move() {
    let s = start().await;
    let ana = s.login("ana").await;
    let bruno = s.login("bruno").await;
    let sofia = s.login("sofia").await;
    let debtor = lease_any(&s, &ana).await;
    let ana_id = agent_id(&s, &ana).await;
    // A promise for the 12th: the debtor waits out of the queues until it
    // is kept or, two days of grace later, broken.
    let promised = json!({
        "disposition": "promise_to_pay", "reason": "cash_flow",
        "promise": { "amount_minor": 1000, "due_date": "2026-03-12" }
    });
    let r = s.outcome(debtor, &ana, Some("sched-1"), &promised).await;
    assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);
    let before = s.get("/v1/queues", &sofia).await.1;
    assert!(before[0]["blocked"].is_object(), "{}", before[0]);
    let mut board = open_stream(&s, &sofia, None).await;
    let mut agent = open_stream(&s, &ana, None).await;
    let mut other = open_stream(&s, &bruno, None).await;

    // Six days later the lease has long run out and the promise is broken:
    // the pass ends one and moves the debtor back into a queue. (The
    // sessions ran out too; streams already open go on.)
    s.set_clock(morning() + chrono::Duration::days(6));
    regua::server::scheduler_pass(&s.state).await.unwrap();
    let sofia = s.login("sofia").await;
    let mut buffer = String::new();
    let (_, expired) = next_event(&mut board, "lease_expired", &mut buffer)
        .await
        .expect("the board hears the lease run out");
    assert_eq!(expired["debtor_id"], debtor);
    assert_eq!(expired["user_id"], ana_id);
    let lease = expired["body"]["lease_id"].clone();
    assert!(lease.is_i64(), "{expired}");
    let moved = next_event(&mut board, "queues_changed", &mut buffer)
        .await
        .expect("and the queues move");
    assert!(moved.1["body"]["replanned"].as_i64().unwrap() > 0);
    let (_, told) = next_event(&mut agent, "lease_expired", &mut String::new())
        .await
        .expect("its agent is told");
    assert_eq!(told["body"]["lease_id"], lease);
    // Another agent hears the queues move, not of ana's lease.
    assert_eq!(
        kinds_until(&mut other, "queues_changed").await,
        vec!["queues_changed"]
    );
    let after = s.get("/v1/queues", &sofia).await.1;
    assert_ne!(before, after, "the counts the board fetches moved");

    // Nothing left to do: nothing published.
    let newest = |b: &Value| b["recent"].as_array().unwrap().last().unwrap()["id"].clone();
    let was = newest(&s.get("/v1/board", &sofia).await.1);
    regua::server::scheduler_pass(&s.state).await.unwrap();
    assert_eq!(newest(&s.get("/v1/board", &sofia).await.1), was);
}
