//! The store conformance suite: every test runs against SQLite and against
//! PostgreSQL (through REGUA_TEST_POSTGRES_URL, which `.ci/run` sets; each
//! test in a schema of its own). Without that variable the PostgreSQL half
//! says it was skipped.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use std::collections::HashSet;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use regua::api::AgentState;
use regua::domain::{
    ContactResult, Currency, Debt, Debtor, Event, EventKind, Firmness, Money, Phone, PhoneKind,
    Role, User, Zone, cpf_from_base,
};
use regua::server::store::{
    CallWrite, Change, DebtBalance, Idempotency, Imported, Lease, Store, StoreError, Tx, Verdict,
    connect, import_mark, write,
};

/// The unexpired lease on a debtor, as a request's transaction reads it.
async fn lease_on(store: &dyn Store, debtor: i64, now: DateTime<Utc>) -> Option<Lease> {
    write(store, move |tx| {
        Box::pin(async move { tx.lease_on(debtor, now).await })
    })
    .await
    .unwrap()
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A store in a new SQLite file, and the folder that goes when dropped.
async fn sqlite() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("regua.db").display());
    (connect(&url).await.expect("sqlite store"), dir)
}

static CLEANED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

/// A store in a fresh schema of the test database, or `None` (skipped).
async fn postgres() -> Option<Arc<dyn Store>> {
    let url = postgres_schema().await?;
    Some(connect(&url).await.expect("postgres store"))
}

/// A fresh schema of the test database, as the URL of a connection that
/// works in it, or `None` (skipped).
async fn postgres_schema() -> Option<String> {
    let Ok(url) = std::env::var("REGUA_TEST_POSTGRES_URL") else {
        // Straight to stderr: the test harness would swallow eprintln!.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: REGUA_TEST_POSTGRES_URL is not set, so this test did not run on PostgreSQL"
        );
        return None;
    };
    let schema = unique("regua_test");
    let admin = sqlx::PgPool::connect(&url)
        .await
        .expect("PostgreSQL at REGUA_TEST_POSTGRES_URL answers");
    // Schemas of earlier runs go once per run.
    CLEANED
        .get_or_init(|| async {
            let mine = format!("regua_test_{}_%", std::process::id());
            let old: Vec<String> = sqlx::query_scalar(
                "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'regua_test_%' AND nspname NOT LIKE $1",
            )
            .bind(mine)
            .fetch_all(&admin)
            .await
            .unwrap();
            for schema in old {
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {schema} CASCADE")))
                    .execute(&admin)
                    .await
                    .unwrap();
            }
        })
        .await;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let separator = if url.contains('?') { '&' } else { '?' };
    Some(format!(
        "{url}{separator}options=-c%20search_path%3D{schema}"
    ))
}

/// Runs a test body against both stores.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let (store, _dir) = super::sqlite().await;
                    super::$name(store).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(store) = super::postgres().await {
                        super::$name(store).await;
                    }
                }
            )*
        }
    };
}

conformance!(
    an_empty_database_has_neither_users_nor_debtors,
    users_and_sessions,
    import_creates_then_updates_by_external_id,
    a_large_import_keeps_its_order_and_debts,
    histories_and_verdicts_in_bulk,
    an_imports_verdicts_are_marked_until_written,
    history_and_balances_change_together,
    search_by_name_external_id_or_document,
    leases_go_by_priority_and_come_back,
    a_debtor_given_back_comes_last_to_that_agent,
    an_agent_lets_go_of_all_their_leases_at_once,
    concurrent_agents_never_share_a_debtor,
    idempotency_keys,
    the_feed_is_ordered_and_resumable,
    queue_counts_and_reviews,
    one_scheduler_leads,
    agent_states_start_ready_and_keep_since_until_they_change,
    a_call_dialed_is_ended_once_by_its_outcome,
    the_board_reads_blocked_rules_the_floor_and_the_calls,
    a_write_keeps_all_or_nothing_and_sees_itself,
);

async fn an_empty_database_has_neither_users_nor_debtors(store: Arc<dyn Store>) {
    assert!(store.is_empty().await.unwrap());
    two_agents(&store).await;
    assert!(!store.is_empty().await.unwrap(), "users, no debtor");
    setup_queue(&store, 1).await;
    assert!(!store.is_empty().await.unwrap(), "users and a debtor");
    let (other, _dir) = sqlite().await;
    setup_queue(&other, 1).await;
    assert!(!other.is_empty().await.unwrap(), "a debtor, no user");
}

async fn one_scheduler_leads(store: Arc<dyn Store>) {
    assert!(store.try_lead().await.unwrap().is_some());
}

/// Two servers on one PostgreSQL database: one leads the scheduler; when it
/// goes, the other takes over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_only_one_server_leads_the_scheduler() {
    let (Some(a), Some(b)) = (postgres().await, postgres().await) else {
        return;
    };
    // Whoever else holds it now (another test's server) must let go first.
    let mut lead = None;
    for _ in 0..100 {
        lead = a.try_lead().await.unwrap();
        if lead.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        lead.as_mut().unwrap().holds().await,
        "the first server leads"
    );
    assert!(b.try_lead().await.unwrap().is_none(), "the second waits");
    drop(lead);
    let taken = async |store: &Arc<dyn Store>| {
        for _ in 0..50 {
            if let Some(lead) = store.try_lead().await.unwrap() {
                return Some(lead);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        None
    };
    let mut lead = taken(&b)
        .await
        .expect("the second takes over when the first goes");
    assert!(lead.holds().await);
    // Its connection ended (a restart of the database, a backend ended by
    // hand): the lock went with it, and the leader knows before its next
    // pass, so two never run the scheduler at once.
    let admin = sqlx::PgPool::connect(&std::env::var("REGUA_TEST_POSTGRES_URL").unwrap())
        .await
        .unwrap();
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' \
         AND objid = 7878 AND granted \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    assert_eq!(ended, [true]);
    assert!(!lead.holds().await, "the lead is known lost");
    assert!(taken(&a).await.is_some(), "and another takes it");
}

fn t(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0).unwrap()
}

fn debtor(n: u32, name: &str) -> Debtor {
    let base: [u8; 9] = std::array::from_fn(|i| ((n as usize * 7 + i * 3 + 1) % 10) as u8);
    Debtor {
        id: 0,
        external_id: format!("EXT-{n}"),
        name: name.to_string(),
        document: cpf_from_base(base),
        phones: vec![Phone {
            number: format!("+551199999{n:04}"),
            kind: PhoneKind::Mobile,
            consent: true,
        }],
        email: Some(format!("d{n}@example.com")),
        jurisdiction: "SP".parse().unwrap(),
        time_zone: Zone::parse("America/Sao_Paulo"),
        segment: "retail".into(),
        tags: vec!["vip".into()],
        debts: vec![Debt {
            id: 0,
            creditor: "Loja Azul".into(),
            original: Money::new(10_000, Currency::BRL),
            balance: Money::new(12_000, Currency::BRL),
            interest_and_fees: Money::new(2_000, Currency::BRL),
            due_date: NaiveDate::from_ymd_opt(2026, 2, 10).unwrap(),
        }],
    }
}

async fn users_and_sessions(store: Arc<dyn Store>) {
    let ana = store
        .create_user("ana", Role::Agent, "hash-a", t(1, 9))
        .await
        .unwrap();
    assert_eq!((ana.name.as_str(), ana.role), ("ana", Role::Agent));
    assert!(matches!(
        store.create_user("ana", Role::Admin, "x", t(1, 9)).await,
        Err(StoreError::Conflict(_))
    ));
    let (found, hash) = store.user_by_name("ana").await.unwrap().unwrap();
    assert_eq!((found, hash.as_str()), (ana.clone(), "hash-a"));
    assert_eq!(store.user_by_name("nobody").await.unwrap(), None);

    store
        .create_session(b"token-hash", ana.id, t(1, 17))
        .await
        .unwrap();
    assert_eq!(
        store.session_user(b"token-hash", t(1, 16)).await.unwrap(),
        Some((ana.clone(), t(1, 17)))
    );
    assert_eq!(
        store.session_user(b"token-hash", t(1, 17)).await.unwrap(),
        None,
        "expired"
    );
    // Renewed while unexpired; never moved earlier; an ended one stays ended.
    store
        .create_session(b"wall", ana.id, t(1, 17))
        .await
        .unwrap();
    let ends = |hash: &'static [u8], now| {
        let store = store.clone();
        async move { store.session_user(hash, now).await.unwrap().map(|(_, e)| e) }
    };
    store
        .extend_session(b"wall", t(2, 5), t(1, 16))
        .await
        .unwrap();
    assert_eq!(ends(b"wall", t(1, 16)).await, Some(t(2, 5)));
    store
        .extend_session(b"wall", t(2, 1), t(1, 16))
        .await
        .unwrap();
    assert_eq!(ends(b"wall", t(1, 16)).await, Some(t(2, 5)), "not earlier");
    store
        .extend_session(b"token-hash", t(2, 5), t(1, 18))
        .await
        .unwrap();
    assert_eq!(
        ends(b"token-hash", t(1, 18)).await,
        None,
        "ended stays ended"
    );
    assert_eq!(store.session_user(b"other", t(1, 10)).await.unwrap(), None);

    // Logging out ends one session, not the user's others.
    store
        .create_session(b"desk", ana.id, t(1, 17))
        .await
        .unwrap();
    store
        .create_session(b"laptop", ana.id, t(1, 17))
        .await
        .unwrap();
    assert!(store.revoke_session(b"desk").await.unwrap());
    assert!(!store.revoke_session(b"desk").await.unwrap(), "once");
    assert_eq!(store.session_user(b"desk", t(1, 10)).await.unwrap(), None);
    assert_eq!(
        store
            .session_user(b"laptop", t(1, 10))
            .await
            .unwrap()
            .map(|(u, _)| u.id),
        Some(ana.id)
    );
    // Pruning forgets the expired ones alone.
    store
        .create_session(b"night", ana.id, t(2, 6))
        .await
        .unwrap();
    assert_eq!(store.sessions_prune(t(1, 17)).await.unwrap(), 2);
    assert_eq!(
        ends(b"wall", t(1, 18)).await,
        Some(t(2, 5)),
        "pruned: not yet ended"
    );
    assert_eq!(store.sessions_prune(t(1, 17)).await.unwrap(), 0);
    assert!(
        store
            .session_user(b"night", t(1, 18))
            .await
            .unwrap()
            .is_some()
    );
}

async fn import_creates_then_updates_by_external_id(store: Arc<dyn Store>) {
    let first = store
        .import_debtors(
            [debtor(1, "Maria Silva"), debtor(2, "João Souza")].into(),
            t(1, 9),
        )
        .await
        .unwrap();
    assert_eq!((first.created, first.updated, first.ids.len()), (2, 0, 2));
    assert_eq!(first.known, vec![false, false]);

    let mut changed = debtor(1, "Maria Silva Santos");
    changed.debts[0].balance = Money::new(5_000, Currency::BRL);
    changed.debts.push(debtor(9, "x").debts[0].clone());
    changed.debts[1].due_date = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
    let second = store
        .import_debtors([debtor(7, "Nova"), changed.clone()].into(), t(2, 9))
        .await
        .unwrap();
    assert_eq!((second.created, second.updated), (1, 1));
    assert_eq!(second.known, vec![false, true]);
    let second = Imported {
        ids: second.ids[1..].to_vec(),
        ..second
    };
    assert_eq!(second.ids[0], first.ids[0], "the same debtor, no duplicate");

    let stored = store.debtor(first.ids[0]).await.unwrap().unwrap();
    assert_eq!(stored.name, "Maria Silva Santos");
    assert_eq!(stored.debts.len(), 2, "debts replaced by the import's");
    assert_eq!(stored.debts[0].balance, Money::new(5_000, Currency::BRL));
    // Every field of every debt, in the order given, whatever the ids.
    let without_ids = |debts: &[regua::domain::Debt]| {
        debts
            .iter()
            .map(|d| regua::domain::Debt { id: 0, ..d.clone() })
            .collect::<Vec<_>>()
    };
    assert_eq!(without_ids(&stored.debts), without_ids(&changed.debts));
    assert_eq!(stored.document, debtor(1, "").document);
    assert_eq!(stored.phones, debtor(1, "").phones);
    assert_eq!(stored.tags, vec!["vip".to_string()]);
    assert_eq!(store.debtor(999_999).await.unwrap(), None);

    // Names with control characters are data, stored as given.
    let odd = debtor(3, "\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J Nome");
    let ids = store
        .import_debtors([odd.clone()].into(), t(2, 9))
        .await
        .unwrap()
        .ids;
    assert_eq!(store.debtor(ids[0]).await.unwrap().unwrap().name, odd.name);
}

/// More debtors than one statement writes: each keeps its place, its id and
/// its own debts, and importing them again duplicates nothing.
async fn a_large_import_keeps_its_order_and_debts(store: Arc<dyn Store>) {
    let many: Vec<Debtor> = (0..2_000)
        .map(|n| {
            let mut d = debtor(n, &format!("Devedor {n}"));
            for k in 0..n % 3 {
                let mut more = d.debts[0].clone();
                more.balance = Money::new(i64::from(n * 10 + k), Currency::BRL);
                d.debts.push(more);
            }
            d
        })
        .collect();
    let first = store
        .import_debtors(many.clone().into(), t(1, 9))
        .await
        .unwrap();
    assert_eq!((first.created, first.updated), (2_000, 0));
    let again = store
        .import_debtors(many.clone().into(), t(2, 9))
        .await
        .unwrap();
    assert_eq!((again.created, again.updated), (0, 2_000));
    assert_eq!(again.ids, first.ids, "the same debtors, none duplicated");
    assert_eq!(first.ids.iter().collect::<HashSet<_>>().len(), 2_000);
    for n in [0, 1, 2, 999, 1_999] {
        let stored = store.debtor(first.ids[n]).await.unwrap().unwrap();
        assert_eq!(stored.external_id, many[n].external_id);
        assert_eq!(stored.name, many[n].name);
        let balances: Vec<i64> = stored.debts.iter().map(|d| d.balance.minor).collect();
        let given: Vec<i64> = many[n].debts.iter().map(|d| d.balance.minor).collect();
        assert_eq!(balances, given, "debtor {n}: their debts, once");
    }
}

async fn histories_and_verdicts_in_bulk(store: Arc<dyn Store>) {
    let ids = store
        .import_debtors(
            [debtor(1, "Maria"), debtor(2, "João"), debtor(3, "Rita")].into(),
            t(1, 9),
        )
        .await
        .unwrap()
        .ids;
    let contact = |hour| Event {
        at: t(2, hour),
        kind: EventKind::Contact {
            channel: regua::domain::Channel::Sms,
            firmness: Firmness::Friendly,
            result: ContactResult::Delivered,
            requested: false,
        },
    };
    // Written out of time order: histories come back in it.
    for (id, hours) in [(ids[0], vec![11, 10]), (ids[2], vec![9])] {
        store
            .apply(
                id,
                &Change {
                    events: hours.into_iter().map(contact).collect(),
                    ..Change::default()
                },
            )
            .await
            .unwrap();
    }
    let read = store
        .histories(&[ids[2], 999_999, ids[0], ids[1]])
        .await
        .unwrap();
    assert_eq!(
        read,
        vec![
            vec![contact(9)],
            vec![],
            vec![contact(10), contact(11)],
            vec![]
        ]
    );
    assert_eq!(read[2], store.history(ids[0]).await.unwrap());

    let v = |queue: Option<&str>, priority, at| Verdict {
        queue: queue.map(str::to_string),
        callable: true,
        priority,
        review_at: Some(t(5, 9)),
        at,
        blocked_rule: None,
    };
    let mark = import_mark(t(1, 9));
    store
        .set_verdicts(
            vec![
                (ids[0], v(Some("early"), 30, t(2, 9))),
                (ids[1], v(Some("early"), 50, t(2, 9))),
                (ids[2], v(None, 10, t(2, 9))),
            ],
            mark,
        )
        .await
        .unwrap();
    let early = store.queue_debtors("early", t(2, 10), 10).await.unwrap();
    assert_eq!(
        early.iter().map(|q| q.debtor_id).collect::<Vec<_>>(),
        vec![ids[1], ids[0]],
        "by priority"
    );
    assert_eq!(early[0].waiting_since, Some(t(2, 9)));
    assert_eq!(early[0].review_at, Some(t(5, 9)));
    // Imported again, later: the same queue keeps the place in time, as
    // `apply` does.
    store
        .import_debtors([debtor(2, "João")].into(), t(3, 9))
        .await
        .unwrap();
    store
        .set_verdicts(
            vec![(ids[1], v(Some("early"), 50, t(3, 9)))],
            import_mark(t(3, 9)),
        )
        .await
        .unwrap();
    let early = store.queue_debtors("early", t(3, 10), 10).await.unwrap();
    assert_eq!(early[0].waiting_since, Some(t(2, 9)));
    assert_eq!(
        store.due_for_review(t(5, 9), 10).await.unwrap().len(),
        3,
        "every verdict stored"
    );
    store.set_verdicts(vec![], mark).await.unwrap();
}

/// Between an import's two writes (its debtors, then their verdicts) its
/// debtors are marked for review: cut off there (the process killed), none
/// is left with no verdict for the scheduler to find; and a verdict a write
/// stored meanwhile is newer than the import's, and stays.
async fn an_imports_verdicts_are_marked_until_written(store: Arc<dyn Store>) {
    let now = t(1, 9);
    let ids = store
        .import_debtors([debtor(1, "Maria"), debtor(2, "João")].into(), now)
        .await
        .unwrap()
        .ids;
    assert_eq!(
        store.due_for_review(now, 10).await.unwrap(),
        Vec::<i64>::new()
    );
    let mut due = store.due_for_review(import_mark(now), 10).await.unwrap();
    due.sort();
    assert_eq!(
        due, ids,
        "the scheduler plans them if the import stops here"
    );
    let queued = |queue: &str| Verdict {
        queue: Some(queue.into()),
        callable: true,
        priority: 10,
        review_at: Some(t(5, 9)),
        at: now,
        blocked_rule: None,
    };
    // An outcome planned the first meanwhile.
    store
        .apply(
            ids[0],
            &Change {
                verdict: Some(queued("disputes")),
                ..Change::default()
            },
        )
        .await
        .unwrap();
    store
        .set_verdicts(
            vec![(ids[0], queued("early")), (ids[1], queued("early"))],
            import_mark(now),
        )
        .await
        .unwrap();
    let early = store.queue_debtors("early", now, 10).await.unwrap();
    assert_eq!(
        early.iter().map(|q| q.debtor_id).collect::<Vec<_>>(),
        [ids[1]]
    );
    let disputes = store.queue_debtors("disputes", now, 10).await.unwrap();
    assert_eq!(
        disputes.iter().map(|q| q.debtor_id).collect::<Vec<_>>(),
        [ids[0]]
    );
}

async fn history_and_balances_change_together(store: Arc<dyn Store>) {
    let id = store
        .import_debtors([debtor(1, "Maria")].into(), t(1, 9))
        .await
        .unwrap()
        .ids[0];
    let debt_id = store.debtor(id).await.unwrap().unwrap().debts[0].id;
    let call = Event {
        at: t(3, 10),
        kind: EventKind::Contact {
            channel: regua::domain::Channel::Call,
            firmness: Firmness::Friendly,
            result: ContactResult::Connected { right_party: true },
            requested: false,
        },
    };
    let pay = Event {
        at: t(4, 12),
        kind: EventKind::Payment {
            amount: Money::new(2_000, Currency::BRL),
        },
    };
    let verdict = Verdict {
        queue: Some("early".into()),
        callable: true,
        priority: 40,
        review_at: Some(t(5, 8)),
        at: t(1, 9),
        blocked_rule: None,
    };
    let written = store
        .apply(
            id,
            &Change {
                events: vec![pay.clone(), call.clone()],
                balances: vec![DebtBalance {
                    debt_id,
                    balance_minor: 10_000,
                    interest_fees_minor: 500,
                }],
                verdict: Some(verdict),
                call: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(written.len(), 2);
    assert!(written[0] < written[1], "ids of the rows written, in order");
    assert_eq!(
        store.history(id).await.unwrap(),
        vec![call, pay],
        "in time order, whatever the order written"
    );
    let debt = &store.debtor(id).await.unwrap().unwrap().debts[0];
    assert_eq!(
        (debt.balance.minor, debt.interest_and_fees.minor),
        (10_000, 500)
    );
    assert_eq!(store.due_for_review(t(5, 8), 10).await.unwrap(), vec![id]);
    assert!(store.due_for_review(t(5, 7), 10).await.unwrap().is_empty());
    // An event for a debtor that does not exist changes nothing.
    let bad = Change {
        events: vec![Event {
            at: t(6, 1),
            kind: EventKind::Payment {
                amount: Money::new(1, Currency::BRL),
            },
        }],
        ..Change::default()
    };
    assert!(store.apply(424_242, &bad).await.is_err());
}

async fn search_by_name_external_id_or_document(store: Arc<dyn Store>) {
    let maria = debtor(1, "Maria Aparecida Silva");
    let ids = store
        .import_debtors(
            [
                maria.clone(),
                debtor(2, "João Souza"),
                debtor(3, "100% Pago_Ltda"),
            ]
            .into(),
            t(1, 9),
        )
        .await
        .unwrap()
        .ids;
    let names = |found: Vec<regua::server::store::DebtorSummary>| {
        found.into_iter().map(|s| s.name).collect::<Vec<_>>()
    };
    assert_eq!(
        names(store.search_debtors("aparecida", 10).await.unwrap()),
        vec!["Maria Aparecida Silva"]
    );
    assert_eq!(
        names(store.search_debtors("EXT-2", 10).await.unwrap()),
        vec!["João Souza"]
    );
    let digits: String = maria
        .document
        .to_string()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let found = store.search_debtors(&digits, 10).await.unwrap();
    assert_eq!(found.iter().map(|s| s.id).collect::<Vec<_>>(), vec![ids[0]]);
    // The id the results list shows finds its debtor.
    let found = store.search_debtors(&ids[1].to_string(), 10).await.unwrap();
    assert!(found.iter().any(|s| s.id == ids[1]), "{found:?}");
    // First, though another's CPF holds the same digits and sorts before
    // ("002" is id 2, and in Abel's CPF).
    let mut abel = debtor(4, "Abel Aarão");
    abel.document = cpf_from_base([0, 0, 2, 5, 8, 1, 4, 7, 0]);
    store.import_debtors([abel].into(), t(1, 9)).await.unwrap();
    let typed = format!("{:03}", ids[1]);
    let found = store.search_debtors(&typed, 10).await.unwrap();
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].id, ids[1], "{found:?}");
    // Wildcards in what the agent types are letters, not patterns.
    assert_eq!(
        names(store.search_debtors("%", 10).await.unwrap()),
        vec!["100% Pago_Ltda"]
    );
    assert_eq!(
        names(store.search_debtors("_", 10).await.unwrap()),
        vec!["100% Pago_Ltda"]
    );
    assert_eq!(store.search_debtors("", 2).await.unwrap().len(), 2, "limit");
    // Names are found without their accents and in any case.
    for typed in ["joao", "JOÃO", "João", "SOUZA", "ao sou", "  joão   souza "] {
        assert_eq!(
            names(store.search_debtors(typed, 10).await.unwrap()),
            vec!["João Souza"],
            "{typed}"
        );
    }
    // Each word anywhere in the name.
    assert_eq!(
        names(store.search_debtors("maria silva", 10).await.unwrap()),
        vec!["Maria Aparecida Silva"]
    );
    for typed in ["silva maria", "Maria Silva Aparecida", "a a a a silva"] {
        assert_eq!(
            names(store.search_debtors(typed, 10).await.unwrap()),
            vec!["Maria Aparecida Silva"],
            "{typed}"
        );
    }
    assert!(
        store
            .search_debtors("maria souza", 10)
            .await
            .unwrap()
            .is_empty()
    );
    // A name imported again is found by its new spelling only.
    store
        .import_debtors([debtor(2, "Joana Conceição")].into(), t(2, 9))
        .await
        .unwrap();
    assert!(store.search_debtors("joao", 10).await.unwrap().is_empty());
    assert_eq!(
        names(store.search_debtors("conceicao", 10).await.unwrap()),
        vec!["Joana Conceição"]
    );
}

/// A database written before names had a search key (`name_key`, migration
/// 0009) gets them at the next start (on PostgreSQL, with two servers
/// starting at once): its debtors are found as new ones are.
async fn names_from_before_the_search_key_are_found(url: &str) {
    let store = connect(url).await.unwrap();
    let debtors: Vec<Debtor> = (0..12_000)
        .map(|i| debtor(i, &format!("Conceição {i}")))
        .collect();
    store.import_debtors(debtors.into(), t(1, 9)).await.unwrap();
    drop(store);
    let clear = "UPDATE debtors SET name_key = NULL";
    let cleared = if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(clear)
            .execute(&pool)
            .await
            .unwrap()
            .rows_affected()
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(clear)
            .execute(&pool)
            .await
            .unwrap()
            .rows_affected()
    };
    assert_eq!(cleared, 12_000);
    let store = if url.starts_with("sqlite:") {
        connect(url).await.unwrap()
    } else {
        // Replicas that start together both start.
        let (one, other) = tokio::join!(connect(url), connect(url));
        drop(other.unwrap());
        one.unwrap()
    };
    let found = store.search_debtors("conceicao 11999", 10).await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    let found = store.search_debtors("CONCEIÇÃO 1", 100).await.unwrap();
    assert_eq!(found.len(), 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_names_from_before_the_search_key_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("regua.db").display());
    names_from_before_the_search_key_are_found(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_names_from_before_the_search_key_are_found() {
    if let Some(url) = postgres_schema().await {
        names_from_before_the_search_key_are_found(&url).await;
    }
}

async fn setup_queue(store: &Arc<dyn Store>, n: u32) -> Vec<i64> {
    let debtors: Vec<Debtor> = (0..n).map(|i| debtor(i, &format!("Devedor {i}"))).collect();
    let ids = store
        .import_debtors(debtors.into(), t(1, 9))
        .await
        .unwrap()
        .ids;
    for (i, id) in ids.iter().enumerate() {
        let verdict = Verdict {
            queue: Some("early".into()),
            callable: true,
            priority: i as i32,
            review_at: None,
            at: t(1, 9) + Duration::minutes(i as i64),
            blocked_rule: None,
        };
        store
            .apply(
                *id,
                &Change {
                    verdict: Some(verdict),
                    ..Change::default()
                },
            )
            .await
            .unwrap();
    }
    ids
}

/// Two agents, Ana and Bruno.
async fn two_agents(store: &Arc<dyn Store>) -> (User, User) {
    let ana = store
        .create_user("ana", Role::Agent, "h", t(1, 9))
        .await
        .unwrap();
    let bruno = store
        .create_user("bruno", Role::Agent, "h", t(1, 9))
        .await
        .unwrap();
    (ana, bruno)
}

async fn leases_go_by_priority_and_come_back(store: Arc<dyn Store>) {
    let (ana, bruno) = two_agents(&store).await;
    let ids = setup_queue(&store, 3).await;
    let ttl = Duration::minutes(10);
    let now = t(2, 10);
    let a = store
        .lease_next("early", ana.id, now, ttl)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (a.debtor_id, a.agent_id, a.expires_at),
        (ids[2], ana.id, now + ttl),
        "highest priority first"
    );
    let b = store
        .lease_next("early", bruno.id, now, ttl)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.debtor_id, ids[1]);
    assert_eq!(lease_on(&*store, ids[2], now).await, Some(a.clone()));
    assert_eq!(
        store.lease_next("late_30", ana.id, now, ttl).await.unwrap(),
        None,
        "another queue is empty"
    );

    // Only the holder renews or releases.
    assert_eq!(
        store.renew_lease(a.id, bruno.id, now, ttl).await.unwrap(),
        None
    );
    let renewed = store
        .renew_lease(a.id, ana.id, now + Duration::minutes(5), ttl)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renewed.expires_at, now + Duration::minutes(15));
    assert_eq!(
        store.release_lease(b.id, Some(ana.id), None).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .release_lease(b.id, Some(bruno.id), None)
            .await
            .unwrap(),
        Some(b.clone())
    );
    // A released lease returns the debtor to the queue.
    let again = store
        .lease_next("early", bruno.id, now, ttl)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.debtor_id, ids[1]);
    let c = store
        .lease_next("early", bruno.id, now, ttl)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.debtor_id, ids[0]);
    assert_eq!(
        store.lease_next("early", bruno.id, now, ttl).await.unwrap(),
        None,
        "all held"
    );
    // So does an expired one, and a lapsed lease cannot be renewed.
    let later = now + Duration::minutes(16);
    assert_eq!(
        store.renew_lease(a.id, ana.id, later, ttl).await.unwrap(),
        None
    );
    let d = store
        .lease_next("early", bruno.id, later, ttl)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.debtor_id, ids[2]);
    assert_eq!(
        lease_on(&*store, ids[2], later).await.unwrap().agent_id,
        bruno.id
    );
    // A debtor who may not be called now is not leased.
    let verdict = Verdict {
        queue: Some("early".into()),
        callable: false,
        priority: 99,
        review_at: None,
        at: t(1, 9),
        blocked_rule: None,
    };
    store
        .apply(
            ids[0],
            &Change {
                verdict: Some(verdict),
                ..Change::default()
            },
        )
        .await
        .unwrap();
    // Expiry names the leases it ends, each once (the scheduler tells
    // their agents); `a` went when `d` took its debtor.
    assert_eq!(
        store
            .expire_leases(later + Duration::hours(1))
            .await
            .unwrap(),
        vec![again, c, d]
    );
    assert_eq!(
        store
            .expire_leases(later + Duration::hours(1))
            .await
            .unwrap(),
        vec![]
    );
    let e = store
        .lease_next("early", ana.id, later + Duration::hours(1), ttl)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(e.debtor_id, ids[0]);
}

async fn a_debtor_given_back_comes_last_to_that_agent(store: Arc<dyn Store>) {
    let (ana, bruno) = two_agents(&store).await;
    let ids = setup_queue(&store, 3).await;
    let (ttl, now) = (Duration::minutes(10), t(2, 10));
    let until = now + Duration::minutes(15);
    let next = async |agent: i64, at: DateTime<Utc>| {
        store
            .lease_next("early", agent, at, ttl)
            .await
            .unwrap()
            .unwrap()
    };
    let top = next(ana.id, now).await;
    assert_eq!(top.debtor_id, ids[2]);
    assert_eq!(
        store
            .release_lease(top.id, Some(ana.id), Some(until))
            .await
            .unwrap(),
        Some(top.clone())
    );
    // Ana moves on; the debtor she gave back is anyone else's to take.
    let second = next(ana.id, now).await;
    assert_eq!(second.debtor_id, ids[1]);
    let taken = next(bruno.id, now).await;
    assert_eq!(taken.debtor_id, ids[2]);
    // Given back again, by someone else, without a skip: still last for Ana.
    store
        .release_lease(taken.id, Some(bruno.id), None)
        .await
        .unwrap();
    assert_eq!(next(ana.id, now).await.debtor_id, ids[0]);
    // Nobody else left: the skipped debtor comes rather than nothing.
    let last = next(ana.id, now).await;
    assert_eq!(last.debtor_id, ids[2]);
    assert_eq!(
        store.lease_next("early", ana.id, now, ttl).await.unwrap(),
        None,
        "all held"
    );
    // Skipping again moves the skip's end, not a second row.
    let later = until + Duration::minutes(5);
    store
        .release_lease(last.id, Some(ana.id), Some(later))
        .await
        .unwrap();
    store
        .release_lease(second.id, Some(ana.id), None)
        .await
        .unwrap();
    assert_eq!(next(ana.id, until).await.debtor_id, ids[1]);
    // Once the skip is over the queue's order is back.
    assert_eq!(
        store
            .skips_prune(later - Duration::seconds(1))
            .await
            .unwrap(),
        0
    );
    let top = next(ana.id, later).await;
    assert_eq!(top.debtor_id, ids[2]);
    assert_eq!(store.skips_prune(later).await.unwrap(), 1);
    // A supervisor letting go of her lease sets the debtor aside for her
    // too, not for the supervisor.
    store
        .release_lease(top.id, None, Some(later + Duration::minutes(15)))
        .await
        .unwrap();
    assert_eq!(next(ana.id, later).await.debtor_id, ids[0]);
}

async fn an_agent_lets_go_of_all_their_leases_at_once(store: Arc<dyn Store>) {
    let (ana, bruno) = two_agents(&store).await;
    let ids = setup_queue(&store, 3).await;
    let (ttl, now) = (Duration::minutes(10), t(2, 10));
    let mut held = Vec::new();
    for agent in [ana.id, ana.id, bruno.id] {
        held.push(
            store
                .lease_next("early", agent, now, ttl)
                .await
                .unwrap()
                .unwrap(),
        );
    }
    let until = now + Duration::minutes(15);
    let release = async |agent: i64| {
        write(&*store, move |tx| {
            Box::pin(async move { tx.release_leases_of(agent, until).await })
        })
        .await
        .unwrap()
    };
    let mut ended = release(ana.id).await;
    ended.sort_by_key(|l| l.id);
    assert_eq!(ended, held[..2]);
    assert_eq!(release(ana.id).await, vec![], "nothing left to let go");
    assert_eq!(lease_on(&*store, ids[2], now).await, None);
    assert_eq!(
        lease_on(&*store, ids[0], now).await,
        Some(held[2].clone()),
        "Bruno's stays"
    );
    // Both are back in the queue at once, for others first.
    let next = async |agent: i64| {
        let lease = store.lease_next("early", agent, now, ttl).await.unwrap();
        lease.unwrap().debtor_id
    };
    assert_eq!(next(bruno.id).await, ids[2]);
    assert_eq!(next(ana.id).await, ids[1]);
}

async fn concurrent_agents_never_share_a_debtor(store: Arc<dyn Store>) {
    const DEBTORS: u32 = 60;
    const AGENTS: usize = 24;
    setup_queue(&store, DEBTORS).await;
    let mut agents = Vec::new();
    for i in 0..AGENTS {
        agents.push(
            store
                .create_user(&format!("agent{i}"), Role::Agent, "h", t(1, 9))
                .await
                .unwrap(),
        );
    }
    let now = t(2, 10);
    let mut tasks = Vec::new();
    for agent in agents {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(lease) = store
                .lease_next("early", agent.id, now, Duration::minutes(10))
                .await
                .unwrap()
            {
                mine.push(lease.debtor_id);
            }
            mine
        }));
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    for task in tasks {
        for debtor in task.await.unwrap() {
            assert!(seen.insert(debtor), "debtor {debtor} leased twice");
            total += 1;
        }
    }
    assert_eq!(total, DEBTORS as usize, "every debtor leased once");
}

/// The call the keys of these tests are used on, unless one says another.
const CALL: &str = "POST /v1/payments";

/// Takes `key` for `user` on `CALL` in a job of its own, and answers it with
/// `answer` (keeping the job) or fails (taking everything back).
async fn begin_key(
    store: &dyn Store,
    user: i64,
    key: &'static str,
    body: &'static [u8],
    at: DateTime<Utc>,
    answer: Option<&'static str>,
) -> Idempotency {
    begin_key_on(store, CALL, user, key, body, at, answer).await
}

/// `begin_key` on the call `scope`.
async fn begin_key_on(
    store: &dyn Store,
    scope: &'static str,
    user: i64,
    key: &'static str,
    body: &'static [u8],
    at: DateTime<Utc>,
    answer: Option<&'static str>,
) -> Idempotency {
    let out = write(store, move |tx: &mut dyn Tx| {
        Box::pin(async move {
            let seen = tx.idempotency_begin(user, key, scope, body, at).await?;
            match answer {
                Some(a) if seen == Idempotency::New => {
                    tx.idempotency_finish(user, key, 201, a).await?;
                    Ok(seen)
                }
                Some(_) => Ok(seen),
                None => Err(StoreError::Conflict(format!("{seen:?}"))),
            }
        })
    })
    .await;
    match out {
        Ok(seen) => seen,
        Err(StoreError::Conflict(seen)) => match seen.as_str() {
            "New" => Idempotency::New,
            "InFlight" => Idempotency::InFlight,
            "Mismatch" => Idempotency::Mismatch,
            other => panic!("unexpected {other}"),
        },
        Err(e) => panic!("{e}"),
    }
}

async fn idempotency_keys(store: Arc<dyn Store>) {
    let ana = store
        .create_user("ana", Role::Agent, "h", t(1, 9))
        .await
        .unwrap();
    let bruno = store
        .create_user("bruno", Role::Agent, "h", t(1, 9))
        .await
        .unwrap();
    let s = &*store;
    let answer = Some("{\"id\":7}");
    assert_eq!(
        begin_key(s, ana.id, "k1", b"body-a", t(1, 10), answer).await,
        Idempotency::New
    );
    assert_eq!(
        begin_key(s, ana.id, "k1", b"body-a", t(1, 11), answer).await,
        Idempotency::Replay {
            status: 201,
            body: "{\"id\":7}".into()
        }
    );
    assert_eq!(
        begin_key(s, ana.id, "k1", b"body-b", t(1, 11), answer).await,
        Idempotency::Mismatch
    );
    // The same body on another call is not this key's.
    let elsewhere = "POST /v1/debtors/2/outcomes";
    assert_eq!(
        begin_key_on(s, elsewhere, ana.id, "k1", b"body-a", t(1, 11), answer).await,
        Idempotency::Mismatch
    );
    // Keys belong to their user.
    assert_eq!(
        begin_key(s, bruno.id, "k1", b"body-b", t(1, 10), answer).await,
        Idempotency::New
    );
    // A request that failed leaves no key behind: a retry runs.
    assert_eq!(
        begin_key(s, ana.id, "k2", b"x", t(1, 10), None).await,
        Idempotency::New
    );
    assert_eq!(
        begin_key(s, ana.id, "k2", b"x", t(1, 10), answer).await,
        Idempotency::New
    );
    // A key an earlier server took in a commit of its own and never
    // answered is taken over, whatever body it was first sent with.
    write(s, move |tx: &mut dyn Tx| {
        Box::pin(async move {
            tx.idempotency_begin(ana.id, "k3", CALL, b"lost", t(1, 12))
                .await
                .map(|_| ())
        })
    })
    .await
    .unwrap();
    assert_eq!(
        begin_key(s, ana.id, "k3", b"again", t(1, 12), answer).await,
        Idempotency::New
    );
    assert_eq!(
        store
            .idempotency_prune(t(1, 10) + Duration::seconds(1))
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        begin_key(s, ana.id, "k1", b"body-a", t(9, 11), answer).await,
        Idempotency::New
    );
}

/// While one transaction holds a key, another with the same key never runs
/// it a second time: on PostgreSQL, which runs both at once, it hears the
/// key is in flight; SQLite runs them one after the other, and the second
/// gets the first answer.
async fn a_key_in_flight_runs_once(store: Arc<dyn Store>, side_by_side: bool) {
    let ana = store
        .create_user("ana", Role::Agent, "h", t(1, 9))
        .await
        .unwrap();
    let (taken, has_taken) = tokio::sync::oneshot::channel::<()>();
    let (seen, was_seen) = tokio::sync::oneshot::channel::<()>();
    let first = {
        let store = store.clone();
        tokio::spawn(async move {
            write(&*store, move |tx: &mut dyn Tx| {
                Box::pin(async move {
                    let begun = tx
                        .idempotency_begin(ana.id, "k", CALL, b"b", t(1, 10))
                        .await?;
                    let _ = taken.send(());
                    // Held until the second has asked. SQLite's writer runs
                    // a job to its end without waiting on anything else:
                    // there the second comes after.
                    if side_by_side {
                        let _ = was_seen.await;
                    }
                    tx.idempotency_finish(ana.id, "k", 201, "{}").await?;
                    Ok::<_, StoreError>(begun)
                })
            })
            .await
        })
    };
    has_taken.await.unwrap();
    let second = begin_key(&*store, ana.id, "k", b"b", t(1, 10), Some("{}")).await;
    let _ = seen.send(());
    assert_eq!(first.await.unwrap().unwrap(), Idempotency::New);
    assert!(
        matches!(second, Idempotency::InFlight | Idempotency::Replay { .. }),
        "{second:?}"
    );
    if side_by_side {
        assert_eq!(second, Idempotency::InFlight);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_in_flight_runs_once_on_sqlite() {
    let (store, _dir) = sqlite().await;
    a_key_in_flight_runs_once(store, false).await;
}

/// SQLite's writer runs each job to its end on its own thread: one that
/// waits on anything but the database is dropped, unanswered and with
/// nothing kept, and the writer goes on with the next.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_waits_on_more_than_the_database_is_dropped_on_sqlite() {
    let (store, _dir) = sqlite().await;
    let (_never_sent, never) = tokio::sync::oneshot::channel::<()>();
    let waited = write(&*store, move |tx: &mut dyn Tx| {
        Box::pin(async move {
            tx.publish("waited", None, None, &serde_json::json!({}), t(1, 10))
                .await?;
            let _ = never.await;
            Ok::<_, StoreError>(())
        })
    })
    .await;
    assert!(
        matches!(waited, Err(StoreError::NotCommitted(_))),
        "{waited:?}"
    );
    let next = store
        .publish("after", None, None, &serde_json::json!({}), t(1, 11))
        .await
        .unwrap();
    let feed = store.feed_after(0, 10, t(1, 11)).await.unwrap();
    assert_eq!(
        feed.iter()
            .map(|(f, _)| (f.id, f.kind.as_str()))
            .collect::<Vec<_>>(),
        [(next, "after")]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_in_flight_runs_once_on_postgres() {
    if let Some(store) = postgres().await {
        a_key_in_flight_runs_once(store, true).await;
    }
}

async fn the_feed_is_ordered_and_resumable(store: Arc<dyn Store>) {
    let ana = store
        .create_user("ana", Role::Agent, "h", t(1, 9))
        .await
        .unwrap();
    let debtors = setup_queue(&store, 2).await;
    let lease = store
        .lease_next("early", ana.id, t(1, 10), Duration::minutes(10))
        .await
        .unwrap()
        .unwrap();
    let about = |i: usize| (i < 4).then(|| debtors[i % 2]);
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            store
                .publish(
                    "outcome_recorded",
                    about(i),
                    None,
                    &serde_json::json!({ "n": i }),
                    t(1, 10),
                )
                .await
                .unwrap(),
        );
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "increasing ids");
    let all = store.feed_after(0, 100, t(1, 10)).await.unwrap();
    assert_eq!(all.iter().map(|(f, _)| f.id).collect::<Vec<_>>(), ids);
    assert_eq!(all[2].0.body, serde_json::json!({ "n": 2 }));
    assert_eq!(all[2].0.kind, "outcome_recorded");
    // Each item says who holds its debtor now: agents see those items.
    let holders: Vec<_> = (0..5)
        .map(|i| (about(i) == Some(lease.debtor_id)).then_some(ana.id))
        .collect();
    assert_eq!(all.iter().map(|(_, h)| *h).collect::<Vec<_>>(), holders);
    let rest = store.feed_after(ids[1], 2, t(1, 10)).await.unwrap();
    assert_eq!(
        rest.iter().map(|(f, _)| f.id).collect::<Vec<_>>(),
        ids[2..4].to_vec()
    );
    // Once the lease has run out nobody holds them.
    let later = store.feed_after(0, 100, t(1, 11)).await.unwrap();
    assert!(later.iter().all(|(_, h)| h.is_none()), "{later:?}");
    store
        .audit(None, "read_debtor", Some(1), "full record", t(1, 10))
        .await
        .unwrap();
    // Older than what is kept: gone, and the bounds say where the feed
    // starts now (a cursor before it gets `reset`).
    let late = store
        .publish(
            "payment_received",
            None,
            None,
            &serde_json::json!({}),
            t(9, 10),
        )
        .await
        .unwrap();
    assert_eq!(store.feed_prune(t(5, 0)).await.unwrap(), 5);
    assert_eq!(store.feed_bounds().await.unwrap(), Some((late, late)));
}

async fn queue_counts_and_reviews(store: Arc<dyn Store>) {
    let ana = store
        .create_user("ana", Role::Agent, "h", t(1, 9))
        .await
        .unwrap();
    let ids = setup_queue(&store, 4).await;
    let verdict = Verdict {
        queue: Some("broken_promises".into()),
        callable: false,
        priority: 1,
        review_at: Some(t(3, 8)),
        at: t(1, 9),
        blocked_rule: None,
    };
    store
        .apply(
            ids[0],
            &Change {
                verdict: Some(verdict),
                ..Change::default()
            },
        )
        .await
        .unwrap();
    store
        .lease_next("early", ana.id, t(2, 10), Duration::minutes(10))
        .await
        .unwrap()
        .unwrap();
    let counts = store.queue_counts(t(2, 10)).await.unwrap();
    let early = counts.iter().find(|c| c.queue == "early").unwrap();
    assert_eq!((early.waiting, early.callable, early.leased), (3, 2, 1));
    let broken = counts
        .iter()
        .find(|c| c.queue == "broken_promises")
        .unwrap();
    assert_eq!((broken.waiting, broken.callable, broken.leased), (1, 0, 0));
    assert_eq!(
        (early.oldest, broken.oldest),
        (Some(t(1, 9) + Duration::minutes(1)), None),
        "the longest-waiting callable debtor nobody holds"
    );
    // Planned again into the same queue, a debtor keeps their place in time;
    // moved to another queue, they start again there.
    let again = |queue: &str, at| Verdict {
        queue: Some(queue.into()),
        callable: true,
        priority: 1,
        review_at: None,
        at,
        blocked_rule: None,
    };
    for v in [again("early", t(2, 9)), again("late_30", t(2, 9))] {
        let ids = [ids[1], ids[2]];
        let id = if v.queue.as_deref() == Some("early") {
            ids[0]
        } else {
            ids[1]
        };
        store
            .apply(
                id,
                &Change {
                    verdict: Some(v),
                    ..Change::default()
                },
            )
            .await
            .unwrap();
    }
    let counts = store.queue_counts(t(2, 10)).await.unwrap();
    let oldest = |q: &str| counts.iter().find(|c| c.queue == q).unwrap().oldest;
    assert_eq!(
        (oldest("early"), oldest("late_30")),
        (Some(t(1, 9) + Duration::minutes(1)), Some(t(2, 9)))
    );
    // Once the lease lapses, the debtor counts as waiting again.
    let later = store.queue_counts(t(2, 11)).await.unwrap();
    assert_eq!(
        later.iter().find(|c| c.queue == "early").unwrap().callable,
        2
    );
    assert_eq!(
        store.due_for_review(t(3, 9), 10).await.unwrap(),
        vec![ids[0]]
    );
}

async fn agent_states_start_ready_and_keep_since_until_they_change(store: Arc<dyn Store>) {
    let ana = store
        .create_user("ana", Role::Agent, "h", t(1, 8))
        .await
        .unwrap();
    assert_eq!(store.agent_state(ana.id).await.unwrap(), None);
    let first = store.begin_agent_state(ana.id, t(1, 9)).await.unwrap();
    assert_eq!((first.state, first.since), (AgentState::Ready, t(1, 9)));
    assert_eq!(
        store.begin_agent_state(ana.id, t(1, 10)).await.unwrap(),
        first,
        "a second login keeps the state"
    );
    let (paused, changed) = store
        .set_agent_state(ana.id, AgentState::Paused, Some("lunch"), t(1, 12))
        .await
        .unwrap();
    assert!(changed);
    assert_eq!(
        (paused.state, paused.reason.as_deref(), paused.since),
        (AgentState::Paused, Some("lunch"), t(1, 12))
    );
    let (same, changed) = store
        .set_agent_state(ana.id, AgentState::Paused, Some("lunch"), t(1, 13))
        .await
        .unwrap();
    assert!(!changed);
    assert_eq!(same.since, t(1, 12), "the same state keeps its since");
    let (other, changed) = store
        .set_agent_state(ana.id, AgentState::Paused, Some("training"), t(1, 14))
        .await
        .unwrap();
    assert!(changed, "another reason is another pause");
    assert_eq!(other.since, t(1, 14));
    let (ready, _) = store
        .set_agent_state(ana.id, AgentState::Ready, None, t(1, 15))
        .await
        .unwrap();
    assert_eq!(store.agent_state(ana.id).await.unwrap(), Some(ready));
}

async fn a_call_dialed_is_ended_once_by_its_outcome(store: Arc<dyn Store>) {
    let ana = store
        .create_user("ana", Role::Agent, "h", t(1, 8))
        .await
        .unwrap();
    let id = store
        .import_debtors([debtor(1, "Maria")].into(), t(1, 9))
        .await
        .unwrap()
        .ids[0];
    let contact = |result| Event {
        at: t(3, 10),
        kind: EventKind::Contact {
            channel: regua::domain::Channel::Call,
            firmness: Firmness::Friendly,
            result,
            requested: false,
        },
    };
    let dialed = contact(ContactResult::Dialed);
    let ids = store
        .apply(
            id,
            &Change {
                events: vec![dialed.clone()],
                call: Some(CallWrite {
                    counted_in: Currency::BRL,
                    agent_id: ana.id,
                    queue: Some("early".into()),
                    ends: None,
                }),
                ..Change::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .open_call(id, ana.id, t(3, 11), t(3, 12))
            .await
            .unwrap(),
        None,
        "too old"
    );
    assert_eq!(
        store.open_call(id, ana.id, t(3, 8), t(3, 9)).await.unwrap(),
        None,
        "dialed after the time asked about"
    );
    let open = store
        .open_call(id, ana.id, t(3, 9), t(3, 11))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((open.attempt_id, &open.attempt), (ids[0], &dialed));
    let outcome = Event {
        at: t(3, 10) + Duration::minutes(5),
        kind: EventKind::Outcome {
            disposition: regua::domain::Disposition::NoAnswer,
            reason: None,
            note: None,
        },
    };
    let answered = contact(ContactResult::NoAnswer);
    let end = Change {
        events: vec![outcome.clone()],
        call: Some(CallWrite {
            counted_in: Currency::BRL,
            agent_id: ana.id,
            queue: Some("early".into()),
            ends: Some((open.clone(), answered.clone())),
        }),
        ..Change::default()
    };
    store.apply(id, &end).await.unwrap();
    assert_eq!(
        store.history(id).await.unwrap(),
        vec![answered, outcome],
        "the attempt holds its result; no second attempt"
    );
    assert_eq!(
        store
            .open_call(id, ana.id, t(3, 9), t(3, 11))
            .await
            .unwrap(),
        None
    );
    assert!(
        matches!(store.apply(id, &end).await, Err(StoreError::Conflict(_))),
        "a call ends once"
    );
    assert_eq!(store.history(id).await.unwrap().len(), 2, "nothing written");
}

async fn the_board_reads_blocked_rules_the_floor_and_the_calls(store: Arc<dyn Store>) {
    let ana = store
        .create_user("ana", Role::Agent, "h", t(1, 8))
        .await
        .unwrap();
    let bruno = store
        .create_user("bruno", Role::Agent, "h", t(1, 8))
        .await
        .unwrap();
    let davi = store
        .create_user("davi", Role::Agent, "h", t(1, 8))
        .await
        .unwrap();
    for u in [&ana, &bruno, &davi] {
        store.begin_agent_state(u.id, t(2, 8)).await.unwrap();
    }
    store
        .create_session(b"davi", davi.id, t(2, 20))
        .await
        .unwrap();
    let ids = setup_queue(&store, 3).await;
    for (id, rule) in [(ids[1], "call_window"), (ids[2], "call_cap")] {
        let v = Verdict {
            queue: Some("early".into()),
            callable: false,
            priority: 1,
            review_at: None,
            at: t(1, 9),
            blocked_rule: Some(rule.into()),
        };
        store
            .apply(
                id,
                &Change {
                    verdict: Some(v),
                    ..Change::default()
                },
            )
            .await
            .unwrap();
    }
    let now = t(2, 12);
    let lease = store
        .lease_next("early", bruno.id, now, Duration::minutes(10))
        .await
        .unwrap()
        .unwrap();
    let counts = store.queue_counts(now).await.unwrap();
    let early = counts.iter().find(|c| c.queue == "early").unwrap();
    assert_eq!((early.waiting, early.callable, early.leased), (3, 0, 1));
    assert_eq!(
        early
            .blocked
            .iter()
            .map(|(r, n)| (r.as_str(), *n))
            .collect::<Vec<_>>(),
        vec![("call_cap", 1), ("call_window", 1)]
    );

    // Ana's console is open; davi's was, until 11:00; bruno's never was.
    let see = |id: i64, at: Option<DateTime<Utc>>| {
        write(&*store, move |tx: &mut dyn Tx| {
            Box::pin(async move { tx.see(id, at).await })
        })
    };
    let (davi_state, before) = see(davi.id, Some(t(2, 11))).await.unwrap().unwrap();
    assert_eq!((davi_state.state, before), (AgentState::Ready, None));
    see(ana.id, Some(t(2, 9))).await.unwrap();
    let (_, before) = see(ana.id, Some(now)).await.unwrap().unwrap();
    assert_eq!(before, Some(t(2, 9)), "when she was seen before");
    let floor = store.floor(now, t(2, 11)).await.unwrap();
    let names: Vec<_> = floor.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["ana", "bruno"],
        "seen lately or holding a lease; davi's token is live, but his console was seen too long ago"
    );
    let present: Vec<_> = floor.iter().map(|a| a.present).collect();
    assert_eq!(
        present,
        vec![true, false],
        "bruno is here by his lease alone"
    );
    assert_eq!(store.lapse_presence(t(2, 11)).await.unwrap(), vec![davi.id]);
    assert_eq!(
        store.lapse_presence(t(2, 11)).await.unwrap(),
        Vec::<i64>::new()
    );
    let (_, before) = see(davi.id, None).await.unwrap().unwrap();
    assert_eq!(before, None, "lapsed");
    let nobody = store
        .create_user("nobody", Role::Agent, "h", t(1, 8))
        .await
        .unwrap();
    assert!(
        see(nobody.id, Some(now)).await.unwrap().is_none(),
        "no state yet"
    );
    assert_eq!(floor[0].lease, None);
    assert_eq!(
        floor[1].lease,
        Some((lease.clone(), "Devedor 0".to_string()))
    );

    let call = |result, disposition, promise: Option<i64>, hour| {
        let at = t(2, hour);
        let mut events = vec![
            Event {
                at,
                kind: EventKind::Contact {
                    channel: regua::domain::Channel::Call,
                    firmness: Firmness::Friendly,
                    result,
                    requested: false,
                },
            },
            Event {
                at,
                kind: EventKind::Outcome {
                    disposition,
                    reason: None,
                    note: None,
                },
            },
        ];
        if let Some(minor) = promise {
            events.push(Event {
                at,
                kind: EventKind::Promise {
                    amount: Money::new(minor, Currency::BRL),
                    date: NaiveDate::from_ymd_opt(2026, 3, 9).unwrap(),
                    grace_days: 2,
                    forgives: None,
                },
            });
        }
        Change {
            events,
            call: Some(CallWrite {
                counted_in: Currency::BRL,
                agent_id: ana.id,
                queue: Some("early".into()),
                ends: None,
            }),
            ..Change::default()
        }
    };
    use regua::domain::Disposition;
    store
        .apply(
            ids[1],
            &call(ContactResult::NoAnswer, Disposition::NoAnswer, None, 10),
        )
        .await
        .unwrap();
    store
        .apply(
            ids[2],
            &call(
                ContactResult::Connected { right_party: true },
                Disposition::PromiseToPay,
                Some(5_000),
                11,
            ),
        )
        .await
        .unwrap();
    let mut tallies = store.call_tallies(t(2, 0), None).await.unwrap();
    tallies.sort_by_key(|c| c.hour);
    let seen: Vec<_> = tallies
        .iter()
        .map(|c| {
            (
                c.agent_id,
                c.queue.as_deref(),
                c.disposition.as_deref(),
                c.hour,
                c.outcome_hour,
                c.calls,
                c.promised_minor,
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (ana.id, Some("early"), Some("no_answer"), 10, 10, 1, 0),
            (
                ana.id,
                Some("early"),
                Some("promise_to_pay"),
                11,
                11,
                1,
                5_000
            ),
        ]
    );
    assert!(store.call_tallies(t(3, 0), None).await.unwrap().is_empty());
    // One agent's alone.
    assert_eq!(
        store
            .call_tallies(t(2, 0), Some(ana.id))
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        store
            .call_tallies(t(2, 0), Some(bruno.id))
            .await
            .unwrap()
            .is_empty()
    );

    // Anyone's lease, for a supervisor.
    assert_eq!(
        store.release_lease(lease.id, None, None).await.unwrap(),
        Some(lease)
    );
}

fn payment(day: u32, minor: i64) -> Event {
    Event {
        at: t(day, 12),
        kind: EventKind::Payment {
            amount: Money::new(minor, Currency::BRL),
        },
    }
}

/// `write`: a job reads what it wrote, keeps everything when it succeeds and
/// nothing when it fails, and many at once (on SQLite, sharing commits) do
/// not take one another's writes with them.
fn callable_early() -> Verdict {
    Verdict {
        queue: Some("early".into()),
        callable: true,
        priority: 10,
        review_at: None,
        at: t(2, 12),
        blocked_rule: None,
    }
}

async fn a_write_keeps_all_or_nothing_and_sees_itself(store: Arc<dyn Store>) {
    let agent_id = store
        .create_user("ana", Role::Agent, "hash", t(1, 9))
        .await
        .unwrap()
        .id;
    let id = store
        .import_debtors([debtor(1, "Maria")].into(), t(1, 9))
        .await
        .unwrap()
        .ids[0];
    let (seen, leased, fed) = write(&*store, move |tx: &mut dyn Tx| {
        Box::pin(async move {
            let (held, _) = tx.hold(id).await?.expect("stored");
            assert_eq!(held.name, "Maria");
            assert!(tx.hold(424_242).await?.is_none());
            tx.apply(
                id,
                &Change {
                    events: vec![payment(2, 100)],
                    verdict: Some(callable_early()),
                    ..Change::default()
                },
            )
            .await?;
            tx.publish(
                "payment_received",
                Some(id),
                None,
                &serde_json::json!({}),
                t(2, 12),
            )
            .await?;
            // A write nobody waits on may be held back (PostgreSQL), but
            // what is read after it sees it.
            let leased = tx
                .lease_next("early", agent_id, t(2, 12), Duration::minutes(10))
                .await?
                .map(|l| l.debtor_id);
            tx.flush().await?;
            let fed = tx.published().expect("the feed item is sent");
            Ok::<_, StoreError>((tx.history(id).await?.len(), leased, fed))
        })
    })
    .await
    .unwrap();
    assert_eq!(seen, 1, "a job reads its own writes");
    assert_eq!(leased, Some(id), "and the verdict it wrote");
    assert_eq!(store.feed_bounds().await.unwrap().map(|b| b.1), Some(fed));
    // Two writes of one row in one job, with no read between: the second
    // is the one that stays.
    write(&*store, move |tx: &mut dyn Tx| {
        Box::pin(async move {
            let late = Verdict {
                queue: Some("late".into()),
                ..callable_early()
            };
            for v in [callable_early(), late] {
                let change = Change {
                    verdict: Some(v),
                    ..Change::default()
                };
                tx.apply(id, &change).await?;
            }
            Ok::<_, StoreError>(())
        })
    })
    .await
    .unwrap();
    let in_queue = |queue: &'static str| {
        let store = store.clone();
        async move {
            let waiting = store.queue_debtors(queue, t(2, 12), 10).await.unwrap();
            waiting.iter().map(|d| d.debtor_id).collect::<Vec<_>>()
        }
    };
    assert_eq!(in_queue("early").await, Vec::<i64>::new());
    assert_eq!(in_queue("late").await, vec![id]);
    // A write held back that fails when sent fails the job, and nothing
    // of it stays.
    let verdicts_before = store.queue_counts(t(2, 12)).await.unwrap();
    let refused: Result<(), StoreError> = write(&*store, move |tx: &mut dyn Tx| {
        Box::pin(async move {
            tx.audit(None, "test", Some(id), "kept only with the rest", t(2, 12))
                .await?;
            tx.apply(
                424_242,
                &Change {
                    verdict: Some(callable_early()),
                    ..Change::default()
                },
            )
            .await?;
            Ok(())
        })
    })
    .await;
    assert!(refused.is_err(), "a verdict for nobody: {refused:?}");
    assert_eq!(store.queue_counts(t(2, 12)).await.unwrap(), verdicts_before);
    let feed_before = store.feed_bounds().await.unwrap();
    let failed: Result<(), StoreError> = write(&*store, move |tx: &mut dyn Tx| {
        Box::pin(async move {
            tx.apply(
                id,
                &Change {
                    events: vec![payment(3, 200)],
                    ..Change::default()
                },
            )
            .await?;
            tx.publish(
                "payment_received",
                Some(id),
                None,
                &serde_json::json!({}),
                t(3, 12),
            )
            .await?;
            Err(StoreError::Conflict("something the job refused".into()))
        })
    })
    .await;
    assert!(
        matches!(failed, Err(StoreError::Conflict(_))),
        "its own error comes back"
    );
    assert_eq!(
        store.history(id).await.unwrap(),
        vec![payment(2, 100)],
        "nothing of a failed job stays"
    );
    assert_eq!(store.feed_bounds().await.unwrap(), feed_before);
    // Forty at once, every other one failing after it wrote.
    let jobs = (0..40u32).map(|n| {
        let store = store.clone();
        tokio::spawn(async move {
            write(&*store, move |tx: &mut dyn Tx| {
                Box::pin(async move {
                    tx.apply(
                        id,
                        &Change {
                            events: vec![payment(4, i64::from(n) + 1)],
                            ..Change::default()
                        },
                    )
                    .await?;
                    if n % 2 == 1 {
                        return Err(StoreError::Conflict(format!("job {n}")));
                    }
                    Ok(())
                })
            })
            .await
        })
    });
    let mut kept = 0;
    for job in jobs.collect::<Vec<_>>() {
        if job.await.unwrap().is_ok() {
            kept += 1;
        }
    }
    assert_eq!(kept, 20);
    let mut amounts: Vec<i64> = store
        .history(id)
        .await
        .unwrap()
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Payment { amount } if e.at == t(4, 12) => Some(amount.minor),
            _ => None,
        })
        .collect();
    amounts.sort();
    assert_eq!(
        amounts,
        (0..40).step_by(2).map(|n| n + 1).collect::<Vec<i64>>(),
        "exactly the jobs that succeeded"
    );
    // A job that panics after writing: nothing of it stays, and the store
    // goes on writing for others.
    let store2 = store.clone();
    let panicked = tokio::spawn(async move {
        write(&*store2, move |tx: &mut dyn Tx| {
            Box::pin(async move {
                tx.apply(
                    id,
                    &Change {
                        events: vec![payment(5, 7)],
                        ..Change::default()
                    },
                )
                .await?;
                panic!("a bug in a job");
                #[allow(unreachable_code)]
                Ok::<(), StoreError>(())
            })
        })
        .await
    })
    .await;
    assert!(
        !matches!(panicked, Ok(Ok(()))),
        "a panicking job is not answered as written"
    );
    store
        .apply(
            id,
            &Change {
                events: vec![payment(6, 9)],
                ..Change::default()
            },
        )
        .await
        .expect("the writer goes on after a job panicked");
    let days: Vec<_> = store
        .history(id)
        .await
        .unwrap()
        .iter()
        .map(|e| e.at)
        .collect();
    assert!(!days.contains(&t(5, 12)) && days.contains(&t(6, 12)));
}
