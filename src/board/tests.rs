//! Key → action → state, events applied locally, the clock redrawing only
//! what it changes, and snapshots of the board at 80x24 and 120x40.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::collections::BTreeMap;

use super::model::{Board, Effect, Msg, Overlay, Panel, Recount, Sort};
use super::view;
use crate::api::{
    AgentCall, AgentState, BoardAgent, BoardLease, BoardQueue, BoardView, FeedView, HourTally,
    QueueDebtor, QueueView, Tally, Today,
};
use crate::client::events::{FeedEvent, Live};
use crate::config::BoardConfig;
use crate::console::keymap::{Key, Keymap};
use crate::console::theme::Theme;
use crate::domain::{Disposition, Locale};

/// Tuesday 2026-03-10, 13:00 UTC.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 13, 0, 0).unwrap()
}

fn queue(id: &str, name: &str, depth: i64, callable: i64, blocked: &[(&str, i64)]) -> BoardQueue {
    BoardQueue {
        id: id.into(),
        name: name.into(),
        depth,
        callable,
        blocked: blocked.iter().map(|(r, n)| (r.to_string(), *n)).collect(),
        oldest_since: (callable > 0).then(|| now() - Duration::minutes(42)),
        leased: 1,
    }
}

fn agent(id: i64, name: &str, state: AgentState, secs: i64) -> BoardAgent {
    BoardAgent {
        id,
        name: name.into(),
        state,
        reason: (state == AgentState::Paused).then(|| "coaching".to_string()),
        since: now() - Duration::seconds(secs),
        lease: None,
        present: true,
        calls_today: id * 3,
        rpc_today: id,
        promises_today: id / 2,
    }
}

fn snapshot() -> BoardView {
    let mut ana = agent(1, "ana", AgentState::OnCall, 125);
    ana.lease = Some(BoardLease {
        id: 77,
        debtor_id: 42,
        debtor_name: "Maria Aparecida Souza".into(),
        expires_at: now() + Duration::minutes(8),
    });
    let tally = Tally {
        promises_made: 4,
        promises_kept: 1,
        promises_broken: 1,
        promised_minor: 123_456,
        collected_minor: 50_000,
        contacts: 20,
        rpc: 9,
        rpc_rate: 0.45,
    };
    BoardView {
        generated_at: now(),
        currency: "BRL".into(),
        queues: vec![
            queue(
                "early",
                "Early (1–30 days)",
                132,
                97,
                &[("call_window", 30), ("call_cap", 5)],
            ),
            queue(
                "late",
                "Late (31–90 days)",
                40,
                12,
                &[("promise_pause", 28)],
            ),
            queue(
                "broken_promises",
                "Broken promises",
                18,
                0,
                &[("call_window", 18)],
            ),
        ],
        agents: vec![
            ana,
            agent(2, "bruno", AgentState::Ready, 400),
            agent(3, "carla", AgentState::Paused, 90),
            agent(4, "davi", AgentState::WrapUp, 20),
        ],
        today: Today {
            day: NaiveDate::from_ymd_opt(2026, 3, 10).unwrap(),
            per_queue: BTreeMap::from([("early".to_string(), tally.clone())]),
            total: tally,
            hourly: (0..24)
                .map(|hour| HourTally {
                    hour,
                    contacts: if (11..=13).contains(&hour) {
                        i64::from(hour) - 8
                    } else {
                        0
                    },
                    promises: i64::from(hour == 12),
                })
                .collect(),
        },
        recent: vec![
            feed(
                1,
                "outcome_recorded",
                Some(1),
                serde_json::json!({"disposition": "promise_to_pay", "promised_minor": 20000, "queue": null, "from_queue": "early"}),
            ),
            feed(
                2,
                "promise_broken",
                None,
                serde_json::json!({"queue": "broken_promises"}),
            ),
            feed(3, "agent_state", Some(2), serde_json::json!({})),
        ],
        newest_id: 3,
    }
}

fn feed(id: i64, kind: &str, user: Option<i64>, body: serde_json::Value) -> FeedView {
    FeedView {
        id,
        at: now() - Duration::minutes(10 - id),
        kind: kind.into(),
        debtor_id: Some(40 + id),
        user_id: user,
        body,
    }
}

fn board() -> Board {
    board_in(Locale::En)
}

fn board_in(locale: Locale) -> Board {
    let mut b = Board::new(
        locale,
        Keymap::default(),
        BoardConfig::default(),
        "sofia".into(),
        "embedded".into(),
        now(),
    );
    b.update(Msg::Snapshot(Ok(snapshot())));
    b
}

fn key(b: &mut Board, k: &str) -> Vec<Effect> {
    let k: Key = k.parse().unwrap();
    b.update(Msg::Key(k)).0
}

fn typed(b: &mut Board, text: &str) {
    for c in text.chars() {
        let k = if c == ' ' {
            "space".to_string()
        } else {
            c.to_string()
        };
        key(b, &k);
    }
}

fn event(b: &mut Board, id: i64, kind: &str, user: Option<i64>, body: serde_json::Value) -> bool {
    b.update(Msg::Live(Live::Event(FeedEvent {
        id,
        at: now(),
        kind: kind.into(),
        debtor_id: Some(42),
        user_id: user,
        body,
    })))
    .1
}

fn render(b: &Board, w: u16, h: u16) -> String {
    let mut b2 = Board::new(
        b.locale,
        b.keymap.clone(),
        b.limits,
        b.user.clone(),
        b.server.clone(),
        b.now,
    );
    // Same board at this size: the rows that fit depend on it.
    b2.update(Msg::Snapshot(Ok(snapshot())));
    b2.update(Msg::Resize(w, h));
    b2.overlay = b.overlay.clone();
    b2.focus = b.focus;
    b2.filter = b.filter.clone();
    b2.offline = b.offline.clone();
    drawn(&b2, w, h)
}

/// The board drawn as it is, at a size it was told of.
fn drawn(b: &Board, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| view::draw(f, b, &Theme::default())).unwrap();
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        for x in 0..w {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

#[test]
fn board_at_80x24() {
    insta::assert_snapshot!(render(&board(), 80, 24));
}

#[test]
fn help_in_portuguese_folds_under_its_column_and_scrolls_to_its_end() {
    let mut b = board_in(Locale::PtBr);
    b.update(Msg::Resize(80, 24));
    key(&mut b, "?");
    let s = drawn(&b, 80, 24);
    assert!(
        s.contains(&format!("  {:<16}devolver o devedor à fila", "x")),
        "{s}"
    );
    assert!(
        s.contains(&format!("│{}selecionado, auditado)", " ".repeat(18))),
        "{s}"
    );
    assert!(s.contains(" ↓ ┘") && !s.contains("filtro e motivo"), "{s}");
    for _ in 0..30 {
        key(&mut b, "pgdown");
        drawn(&b, 80, 24);
    }
    let end = drawn(&b, 80, 24);
    assert!(
        end.contains("filtro e motivo") && !end.contains(" ↓ ┘"),
        "{end}"
    );
    // At the end, one key up is one row up.
    key(&mut b, "k");
    assert!(drawn(&b, 80, 24).contains(" ↓ ┘"));
    key(&mut b, "esc");
    assert!(b.overlay.is_none());
}

#[test]
fn board_at_120x40() {
    insta::assert_snapshot!(render(&board(), 120, 40));
}

/// In the config's default locale: the board's words in Portuguese, as
/// the console's are.
#[test]
fn board_in_portuguese_at_80x24_and_120x40() {
    let b = board_in(Locale::PtBr);
    insta::assert_snapshot!("board_pt_80x24", render(&b, 80, 24));
    insta::assert_snapshot!("board_pt_120x40", render(&b, 120, 40));
    // The filter finds a state by the word on screen.
    let mut b = b;
    key(&mut b, "/");
    typed(&mut b, "pausa");
    let shown: Vec<&str> = b.visible_agents().iter().map(|a| a.name.as_str()).collect();
    assert_eq!(shown, ["carla"]);
    // Typed without its accent, in any case.
    key(&mut b, "esc");
    key(&mut b, "/");
    typed(&mut b, "LIGACAO");
    let shown: Vec<&str> = b.visible_agents().iter().map(|a| a.name.as_str()).collect();
    assert_eq!(shown, ["ana"]);
}

#[test]
fn agent_drill_down_at_80x24() {
    let mut b = board();
    assert_eq!(key(&mut b, "enter"), vec![Effect::LoadAgentCalls(1)]);
    b.update(Msg::AgentCalls(
        1,
        Ok(vec![AgentCall {
            debtor_id: 42,
            debtor_name: "Maria Aparecida Souza".into(),
            started_at: now() - Duration::minutes(30),
            queue: Some("early".into()),
            disposition: Some(Disposition::PromiseToPay),
            promised_minor: Some(20_000),
        }]),
    ));
    insta::assert_snapshot!(render(&b, 80, 24));
}

/// ctrl-r in a drill-down reads it again too; and the agent's own calls
/// and outcomes read their list again as they come (its counts above it
/// had moved while the list stayed).
#[test]
fn refreshing_reads_the_drill_down_again() {
    let mut b = board();
    assert_eq!(key(&mut b, "ctrl-r"), vec![Effect::LoadSnapshot]);
    key(&mut b, "enter");
    assert_eq!(
        key(&mut b, "ctrl-r"),
        vec![Effect::LoadSnapshot, Effect::LoadAgentCalls(1)]
    );
    let calls_asked = |b: &mut Board, id, kind: &str, user| {
        let (fx, _) = b.update(Msg::Live(Live::Event(FeedEvent {
            id,
            at: now(),
            kind: kind.into(),
            debtor_id: Some(42),
            user_id: Some(user),
            body: serde_json::json!({"disposition": "no_answer", "from_queue": "early"}),
        })));
        fx.contains(&Effect::LoadAgentCalls(user))
    };
    assert!(calls_asked(&mut b, 20, "outcome_recorded", 1));
    assert!(calls_asked(&mut b, 21, "call_started", 1));
    assert!(!calls_asked(&mut b, 22, "outcome_recorded", 2), "another's");
    assert!(
        !calls_asked(&mut b, 2, "outcome_recorded", 1),
        "already counted"
    );
}

#[test]
fn the_agent_drill_down_counts_in_words_that_agree() {
    let mut b = board();
    key(&mut b, "down");
    assert_eq!(key(&mut b, "enter"), vec![Effect::LoadAgentCalls(2)]);
    let s = render(&b, 80, 24);
    assert!(
        s.contains("today: 6 calls, 2 right-party, 1 promise "),
        "{s}"
    );
    let mut b = board_in(Locale::PtBr);
    key(&mut b, "down");
    key(&mut b, "enter");
    let s = render(&b, 80, 24);
    assert!(s.contains("hoje: 6 ligações, 2 CPC, 1 promessa "), "{s}");
}

#[test]
fn queue_drill_down_at_120x40() {
    let mut b = board();
    key(&mut b, "tab");
    assert_eq!(b.focus, Panel::Queues);
    key(&mut b, "down");
    assert_eq!(
        key(&mut b, "enter"),
        vec![Effect::LoadQueueDebtors("late".into())]
    );
    b.update(Msg::QueueDebtors(
        "late".into(),
        Ok(vec![
            QueueDebtor {
                debtor_id: 7,
                name: "João Pedro".into(),
                callable: true,
                priority: 80,
                waiting_since: Some(now() - Duration::minutes(75)),
                blocked_by: None,
                review_at: None,
                leased_by: Some(1),
            },
            QueueDebtor {
                debtor_id: 9,
                name: "Rita Lee".into(),
                callable: false,
                priority: 60,
                waiting_since: Some(now() - Duration::minutes(5)),
                blocked_by: Some("promise_pause".into()),
                review_at: Some(now() + Duration::days(3)),
                leased_by: None,
            },
        ]),
    ));
    insta::assert_snapshot!(render(&b, 120, 40));
}

#[test]
fn the_selected_queue_stays_in_view_when_the_panel_holds_fewer() {
    let mut b = board();
    let mut snap = snapshot();
    for i in 0..6 {
        snap.queues.push(queue(
            &format!("extra{i}"),
            &format!("Extra queue {i}"),
            1,
            1,
            &[],
        ));
    }
    b.update(Msg::Snapshot(Ok(snap)));
    b.update(Msg::Resize(80, 24));
    // Nine queues, six rows at 80x24: the border counts the rest.
    let first = drawn(&b, 80, 24);
    assert!(first.contains(" ↓3 "), "{first}");
    assert!(!first.contains("Extra queue 5"), "{first}");
    key(&mut b, "tab");
    assert_eq!(b.focus, Panel::Queues);
    for _ in 0..8 {
        key(&mut b, "down");
    }
    let last = drawn(&b, 80, 24);
    assert!(last.contains("Extra queue 5"), "{last}");
    assert!(last.contains(" ↑3 "), "{last}");
    assert!(!last.contains("Early (1–30 days)"), "{last}");
    assert_eq!(
        key(&mut b, "enter"),
        vec![Effect::LoadQueueDebtors("extra5".into())]
    );
}

#[test]
fn the_ticker_names_the_debtor_an_agent_held() {
    let mut b = board();
    // ana holds debtor 42, Maria: her outcome and the lease's end say so.
    event(
        &mut b,
        100,
        "outcome_recorded",
        Some(1),
        serde_json::json!({"disposition": "no_answer", "promised_minor": 0}),
    );
    let line = view::ticker_line(b.ticker.back().unwrap(), &b);
    assert!(
        line.ends_with("ana: no answer — Maria Aparecida Souza"),
        "{line}"
    );
    event(
        &mut b,
        101,
        "lease_released",
        Some(1),
        serde_json::json!({"lease_id": 77}),
    );
    assert!(b.agents.iter().all(|a| a.lease.is_none()));
    let line = view::ticker_line(b.ticker.back().unwrap(), &b);
    assert!(line.ends_with("— Maria Aparecida Souza"), "{line}");
    // Nobody holds them now, but the board saw their name.
    event(
        &mut b,
        102,
        "payment_received",
        None,
        serde_json::json!({"amount_minor": 5000}),
    );
    let line = view::ticker_line(b.ticker.back().unwrap(), &b);
    assert!(line.ends_with("— Maria Aparecida Souza"), "{line}");
    // A debtor it never saw named: by number.
    b.update(Msg::Live(Live::Event(FeedEvent {
        id: 103,
        at: now(),
        kind: "payment_received".into(),
        debtor_id: Some(99),
        user_id: None,
        body: serde_json::json!({"amount_minor": 5000}),
    })));
    let line = view::ticker_line(b.ticker.back().unwrap(), &b);
    assert!(line.ends_with("debtor 99"), "{line}");
}

/// Money in another currency than the board's is not added to its
/// figures, and the ticker says it in its own currency.
#[test]
fn dollars_are_not_added_to_the_reais() {
    let mut b = board();
    let total = |b: &Board| {
        let t = &b.today.as_ref().unwrap().total;
        (t.collected_minor, t.promised_minor)
    };
    let before = total(&b);
    event(
        &mut b,
        200,
        "payment_received",
        None,
        serde_json::json!({"amount_minor": 5000, "currency": "USD"}),
    );
    event(
        &mut b,
        201,
        "outcome_recorded",
        Some(1),
        serde_json::json!({"disposition": "promise_to_pay", "promised_minor": 7000, "currency": "USD"}),
    );
    assert_eq!(total(&b), before);
    let line = view::ticker_line(&b.ticker[b.ticker.len() - 2], &b);
    assert!(line.contains("payment USD 50.00"), "{line}");
    // One in reais, or from a server that names no currency, is.
    event(
        &mut b,
        202,
        "payment_received",
        None,
        serde_json::json!({"amount_minor": 5000}),
    );
    assert_eq!(total(&b), (before.0 + 5000, before.1));
}

/// A promise kept by a payment reported after it was counted broken
/// takes the broken one back, in its queue, when it was counted today.
#[test]
fn a_promise_kept_late_takes_back_the_broken_one() {
    let mut b = board();
    let broken = |b: &Board| b.today.as_ref().unwrap().total.promises_broken;
    let before = broken(&b);
    event(
        &mut b,
        300,
        "promise_broken",
        None,
        serde_json::json!({"queue": "broken_promises"}),
    );
    assert_eq!(broken(&b), before + 1);
    let unbroken = serde_json::json!({"at": now(), "queue": "broken_promises"});
    event(
        &mut b,
        301,
        "promise_kept",
        Some(1),
        serde_json::json!({"from_queue": "early", "unbroken": unbroken}),
    );
    assert_eq!(broken(&b), before);
    // Counted broken another day: today's count stays.
    let yesterday = now() - chrono::Duration::days(1);
    let unbroken = serde_json::json!({"at": yesterday, "queue": "broken_promises"});
    event(
        &mut b,
        302,
        "promise_kept",
        Some(1),
        serde_json::json!({"from_queue": "early", "unbroken": unbroken}),
    );
    assert_eq!(broken(&b), before);
}

/// The names stay through a snapshot read again (ctrl-r, a reconnection),
/// and an agent the board never saw, or a supervisor letting go of a
/// lease, are named as the event names them.
#[test]
fn the_ticker_keeps_its_names_through_a_reload() {
    let mut b = board();
    let mut view = snapshot();
    view.recent.push(FeedView {
        id: 900,
        at: now(),
        kind: "lease_released".into(),
        debtor_id: Some(501),
        user_id: Some(12),
        body: serde_json::json!({"lease_id": 7, "debtor_id": 501, "agent_id": 12, "by": 5, "by_name": "sofia"}),
    });
    view.recent.push(FeedView {
        id: 901,
        at: now(),
        kind: "outcome_recorded".into(),
        debtor_id: Some(501),
        user_id: Some(12),
        body: serde_json::json!({"disposition": "no_answer", "debtor_name": "Rui Barbosa", "agent_name": "igor"}),
    });
    b.update(Msg::Snapshot(Ok(view)));
    let lines: Vec<String> = b.ticker.iter().map(|e| view::ticker_line(e, &b)).collect();
    let released = lines.iter().find(|l| l.contains("lease 7")).unwrap();
    assert!(
        released.ends_with("lease 7 of igor released by sofia — Rui Barbosa"),
        "{lines:?}"
    );
    assert!(
        lines
            .last()
            .unwrap()
            .ends_with("igor: no answer — Rui Barbosa"),
        "{lines:?}"
    );
}

#[test]
fn the_queue_drill_down_says_every_rule_whole_at_80_columns() {
    let mut b = board();
    let mut snap = snapshot();
    snap.queues[0].blocked = [
        ("no_consented_phone".to_string(), 24),
        ("do_not_contact".to_string(), 3),
        ("unknown_time_zone".to_string(), 2),
    ]
    .into();
    b.update(Msg::Snapshot(Ok(snap)));
    b.update(Msg::Resize(80, 24));
    key(&mut b, "tab");
    key(&mut b, "enter");
    b.update(Msg::QueueDebtors(
        "early".into(),
        Ok(vec![QueueDebtor {
            debtor_id: 171,
            name: "Beatriz Martins Vieira dos Santos".into(),
            callable: false,
            priority: 60,
            waiting_since: Some(now() - Duration::minutes(5)),
            blocked_by: Some("no_consented_phone".into()),
            review_at: None,
            leased_by: None,
        }]),
    ));
    // The rows wrap inside the box: joined again, every word is there.
    let s = drawn(&b, 80, 24);
    let inside: String = s
        .lines()
        .filter_map(|l| l.strip_prefix('│')?.strip_suffix('│'))
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join(" ");
    for said in [
        "no consented phone 24, do not contact 3, unknown time zone 2",
        "blocked: no consented phone",
    ] {
        assert!(inside.contains(said), "{said}:\n{s}");
    }
}

#[test]
fn money_is_in_the_operations_currency_as_the_supervisors_language_writes_it() {
    let b = board();
    let s = render(&b, 120, 40);
    assert!(s.contains("promised BRL 1,234.56"), "{s}");
    assert!(!s.contains("R$"), "{s}");
    let pt = board_in(Locale::PtBr);
    assert!(render(&pt, 120, 40).contains("prometido R$ 1.234,56"));
    let mut usd = Board::new(
        Locale::En,
        Keymap::default(),
        BoardConfig::default(),
        "sofia".into(),
        "test".into(),
        now(),
    );
    let mut view = snapshot();
    view.currency = "USD".into();
    usd.update(Msg::Snapshot(Ok(view)));
    usd.update(Msg::Resize(120, 40));
    let s = drawn(&usd, 120, 40);
    assert!(s.contains("promised USD 1,234.56"), "{s}");
}

#[test]
fn filter_narrows_and_esc_clears() {
    let mut b = board();
    key(&mut b, "/");
    typed(&mut b, "pau");
    let names: Vec<_> = b.visible_agents().iter().map(|a| a.name.clone()).collect();
    assert_eq!(names, vec!["carla"]);
    assert_eq!(b.agent_sel, Some(3));
    // q is text in the prompt, not quit.
    key(&mut b, "q");
    assert!(!b.quit);
    key(&mut b, "backspace");
    key(&mut b, "enter");
    assert_eq!(b.overlay, None);
    assert_eq!(b.filter, "pau");
    key(&mut b, "esc");
    assert_eq!(b.filter, "");
    assert_eq!(b.visible_agents().len(), 4);
}

#[test]
fn sort_cycles_through_columns() {
    let mut b = board();
    key(&mut b, "s");
    assert_eq!(b.sort, Sort::State);
    let names: Vec<_> = b.visible_agents().iter().map(|a| a.name.clone()).collect();
    assert_eq!(names, vec!["carla", "bruno", "davi", "ana"]);
    key(&mut b, "s");
    assert_eq!(b.sort, Sort::Time);
    assert_eq!(b.visible_agents()[0].name, "bruno");
}

/// An agent on the floor by a lease alone (no console open) leaves it
/// when the lease ends, as the server's floor does; one at their desk
/// stays.
#[test]
fn an_agent_here_by_a_lease_alone_leaves_when_it_ends() {
    let mut b = board();
    let mut view = snapshot();
    assert_eq!(view.agents[0].lease.as_ref().map(|l| l.id), Some(77));
    view.agents[0].present = false;
    b.update(Msg::Snapshot(Ok(view)));
    assert!(b.agents.iter().any(|a| a.id == 1));
    let released = serde_json::json!({"lease_id": 77, "debtor_id": 42, "agent_id": 1, "by": 1});
    assert!(event(
        &mut b,
        500,
        "lease_released",
        Some(1),
        released.clone()
    ));
    // Gone at the tick: a lease given back as the next is taken (one
    // event after the other) is no leaving, and asks for no snapshot.
    let taken = serde_json::json!({"lease_id": 78, "debtor_id": 43, "debtor_name": "Rui", "queue": "early"});
    let (fx, _) = b.update(Msg::Live(Live::Event(FeedEvent {
        id: 501,
        at: now(),
        kind: "lease_taken".into(),
        debtor_id: Some(43),
        user_id: Some(1),
        body: taken,
    })));
    assert!(!fx.contains(&Effect::LoadSnapshot), "{fx:?}");
    let (fx, _) = b.update(Msg::Tick(now() + Duration::seconds(1)));
    assert!(!fx.contains(&Effect::LoadSnapshot), "{fx:?}");
    assert!(b.agents.iter().any(|a| a.id == 1), "still holding one");
    let second = serde_json::json!({"lease_id": 78, "debtor_id": 43, "agent_id": 1, "by": 1});
    event(&mut b, 502, "lease_released", Some(1), second);
    assert!(b.agents.iter().any(|a| a.id == 1), "until the tick");
    b.update(Msg::Tick(now() + Duration::seconds(2)));
    assert!(!b.agents.iter().any(|a| a.id == 1), "gone with the lease");
    // At their desk, they stay.
    let mut b = board();
    event(&mut b, 500, "lease_released", Some(1), released);
    b.update(Msg::Tick(now() + Duration::seconds(1)));
    assert!(b.agents.iter().any(|a| a.id == 1));
}

/// Millions received fit their column whole, cents and all.
#[test]
fn a_queues_millions_are_shown_whole() {
    let mut b = board();
    b.update(Msg::Resize(200, 40));
    if let Some(t) = &mut b.today {
        t.per_queue.get_mut("early").unwrap().collected_minor = 234_567_890;
    }
    let s = drawn(&b, 200, 40);
    assert!(s.contains("BRL 2,345,678.90"), "{s}");
}

/// A pause reason stops where the server's limit is, says so, and the
/// prompt shows the end being typed.
#[test]
fn a_pause_reason_stops_at_the_limit_and_shows_its_end() {
    let mut b = board_in(Locale::PtBr);
    b.update(Msg::Resize(80, 24));
    key(&mut b, "p");
    typed(&mut b, &"ç".repeat(90));
    typed(&mut b, "fim");
    let Some(Overlay::Pause { reason, .. }) = &b.overlay else {
        panic!("{:?}", b.overlay)
    };
    assert_eq!(reason.len(), 180 + 3);
    typed(&mut b, &"x".repeat(30));
    let Some(Overlay::Pause { reason, .. }) = &b.overlay else {
        panic!("{:?}", b.overlay)
    };
    assert_eq!(reason.len(), crate::api::MAX_REASON);
    let s = drawn(&b, 80, 24);
    let bar = s.lines().last().unwrap();
    assert!(bar.contains("…") && bar.contains("fimxx"), "{bar}");
    assert!(bar.contains("o motivo vai até 200 bytes"), "{bar}");
}

/// By name as people read them: accents and capitals do not jump ahead
/// (nor fall behind) the rest.
#[test]
fn sorting_by_name_ignores_accents_and_capitals() {
    let mut b = board();
    assert_eq!(b.sort, Sort::Name);
    for a in &mut b.agents {
        if a.name == "carla" {
            a.name = "Ágata".into();
        }
        if a.name == "davi" {
            a.name = "Bia".into();
        }
    }
    let names: Vec<_> = b.visible_agents().iter().map(|a| a.name.clone()).collect();
    assert_eq!(names, ["Ágata", "ana", "Bia", "bruno"]);
}

#[test]
fn pause_asks_a_reason_and_release_names_the_lease() {
    let mut b = board();
    assert_eq!(b.agent_sel, Some(1));
    assert!(key(&mut b, "p").is_empty());
    assert!(matches!(b.overlay, Some(Overlay::Pause { agent: 1, .. })));
    // No reason: asked again, nothing sent.
    assert!(key(&mut b, "enter").is_empty());
    typed(&mut b, "coaching");
    assert_eq!(
        key(&mut b, "enter"),
        vec![Effect::SetState {
            agent: 1,
            state: AgentState::Paused,
            reason: Some("coaching".into())
        }]
    );
    assert_eq!(key(&mut b, "x"), vec![Effect::ReleaseLease(77)]);
    key(&mut b, "j");
    assert!(key(&mut b, "x").is_empty(), "bruno holds no lease");
    key(&mut b, "j");
    // A paused agent is set ready.
    assert_eq!(
        key(&mut b, "p"),
        vec![Effect::SetState {
            agent: 3,
            state: AgentState::Ready,
            reason: None
        }]
    );
}

#[test]
fn an_event_the_snapshot_already_counts_is_not_counted_again() {
    let mut b = board();
    let before = b.today.as_ref().unwrap().total.promises_made;
    // Id 1 is in the snapshot's recent items: the stream brings it again.
    assert!(!event(
        &mut b,
        1,
        "outcome_recorded",
        Some(1),
        serde_json::json!({"disposition": "promise_to_pay", "promised_minor": 20000, "queue": null, "from_queue": "early"})
    ));
    assert_eq!(b.today.as_ref().unwrap().total.promises_made, before);
    assert!(event(
        &mut b,
        4,
        "outcome_recorded",
        Some(1),
        serde_json::json!({"disposition": "promise_to_pay", "promised_minor": 20000, "queue": null, "from_queue": "early"})
    ));
    assert_eq!(b.today.as_ref().unwrap().total.promises_made, before + 1);
}

#[test]
fn events_move_the_figures_without_a_snapshot() {
    let mut b = board();
    assert!(event(
        &mut b,
        10,
        "call_started",
        Some(2),
        serde_json::json!({"queue": "early", "attempt_id": 500})
    ));
    assert!(event(
        &mut b,
        11,
        "outcome_recorded",
        Some(2),
        serde_json::json!({"disposition": "promise_to_pay", "promised_minor": 10000, "queue": null, "from_queue": "early", "attempt_id": 500})
    ));
    let bruno = b.agents.iter().find(|a| a.id == 2).unwrap();
    // The outcome closed the call it started: one call, not two.
    assert_eq!(
        (bruno.calls_today, bruno.rpc_today, bruno.promises_today),
        (7, 3, 2)
    );
    let today = b.today.as_ref().unwrap();
    assert_eq!(today.total.contacts, 21);
    assert_eq!(today.total.promises_made, 5);
    assert_eq!(today.total.promised_minor, 133_456);
    assert_eq!(today.hourly[13].contacts, 6);
    assert_eq!(b.queues[0].depth, 131);
    assert_eq!(b.ticker.back().unwrap().id, 11);

    // Bruno dials again; an outcome sent late from his outbox, recorded
    // yesterday with no call of its own, counts on neither today's figures
    // nor this call's.
    let yesterday = now() - Duration::days(1);
    event(
        &mut b,
        12,
        "call_started",
        Some(2),
        serde_json::json!({"queue": "early", "attempt_id": 501}),
    );
    event(
        &mut b,
        13,
        "outcome_recorded",
        Some(2),
        serde_json::json!({"disposition": "promise_to_pay", "promised_minor": 10000, "queue": null,
            "from_queue": "early", "attempt_id": null, "recorded_at": yesterday}),
    );
    event(
        &mut b,
        14,
        "outcome_recorded",
        Some(2),
        serde_json::json!({"disposition": "no_answer", "promised_minor": 0, "queue": "early",
            "from_queue": "early", "attempt_id": 501}),
    );
    let bruno = b.agents.iter().find(|a| a.id == 2).unwrap();
    assert_eq!(
        (bruno.calls_today, bruno.rpc_today, bruno.promises_today),
        (8, 3, 2)
    );
    let today = b.today.as_ref().unwrap();
    assert_eq!((today.total.contacts, today.total.promises_made), (22, 5));

    let since = (now() + Duration::seconds(5)).to_rfc3339();
    event(
        &mut b,
        15,
        "agent_arrived",
        Some(9),
        serde_json::json!({"user_id": 9, "name": "eva", "state": "paused", "reason": "lunch", "since": since, "by": null,
            "calls_today": 12, "rpc_today": 5, "promises_today": 2}),
    );
    let eva = b.agents.iter().find(|a| a.id == 9).unwrap();
    assert_eq!(
        (eva.state, eva.reason.as_deref()),
        (AgentState::Paused, Some("lunch"))
    );
    assert_eq!(
        (eva.calls_today, eva.rpc_today, eva.promises_today),
        (12, 5, 2),
        "back after lunch with the morning's calls"
    );

    event(
        &mut b,
        16,
        "lease_released",
        Some(1),
        serde_json::json!({"lease_id": 77, "debtor_id": 42, "agent_id": 1, "by": 5}),
    );
    assert_eq!(b.agents[0].lease, None);
    // A reset asks for the snapshot again; nothing else does.
    assert_eq!(
        b.update(Msg::Live(Live::Reset)).0,
        vec![Effect::LoadSnapshot]
    );
}

#[test]
fn the_snapshot_is_read_again_once_the_stream_has_opened() {
    // The one asked for at start may predate the stream's cursor.
    let mut b = board();
    assert_eq!(
        b.update(Msg::Live(Live::Connected)).0,
        vec![Effect::LoadSnapshot]
    );
    // Connected again without a drop between: nothing was missed.
    assert_eq!(b.update(Msg::Live(Live::Connected)).0, vec![]);
    b.update(Msg::Live(Live::Disconnected("gone".into())));
    assert_eq!(
        b.update(Msg::Live(Live::Connected)).0,
        vec![Effect::LoadSnapshot]
    );
}

#[test]
fn a_refused_token_says_the_session_ended() {
    let mut b = board();
    let (fx, changed) = b.update(Msg::Live(Live::SignedOut));
    assert!(changed && fx.is_empty());
    let top = render(&b, 120, 40);
    assert!(
        top.lines()
            .next()
            .unwrap()
            .contains("⚠ offline: session ended; start the board again"),
        "{top}"
    );
}

#[test]
fn a_tick_redraws_only_when_a_clock_on_screen_changes() {
    let mut b = board();
    b.drawn();
    // The selected agent shows seconds: each second is a change.
    assert!(b.update(Msg::Tick(now() + Duration::seconds(1))).1);
    b.drawn();
    // Nobody selected shows seconds: a second later, nothing differs...
    b.agent_sel = None;
    b.drawn();
    assert!(!b.update(Msg::Tick(now() + Duration::seconds(2))).1);
    // ...until a minute turns.
    assert!(b.update(Msg::Tick(now() + Duration::seconds(60))).1);
}

#[test]
fn time_in_state_ages_by_the_thresholds() {
    use super::model::Level;
    let b = board();
    let level = |id: i64| b.level(b.agents.iter().find(|a| a.id == id).unwrap());
    assert_eq!(level(1), Level::Calm, "on a call for 2 minutes");
    assert_eq!(level(2), Level::Alert, "waiting over 5 minutes");
    assert_eq!(level(3), Level::Warn, "paused over a minute");
    assert_eq!(level(4), Level::Calm);
}

/// The selected agent's time in state fits its 5 columns past an hour.
#[test]
fn time_in_state_past_an_hour_is_hours_and_minutes() {
    use super::view::in_state;
    assert_eq!(in_state(Duration::seconds(65), true), "1:05");
    assert_eq!(in_state(Duration::seconds(3599), true), "59:59");
    assert_eq!(in_state(Duration::seconds(3923), true), "1h05");
    assert_eq!(in_state(Duration::seconds(3923), false), "1h05");
}

/// `GET /v1/queues` as the server would answer for `snapshot()`'s queues,
/// with `early` moved by `callable`.
fn counted(b: &Board, early_callable: i64) -> Vec<QueueView> {
    b.queues
        .iter()
        .map(|q| QueueView {
            id: q.id.clone(),
            name: q.name.clone(),
            depth: q.depth,
            callable: if q.id == "early" {
                early_callable
            } else {
                q.callable
            },
            leased: q.leased,
            oldest_since: q.oldest_since,
            blocked: q.blocked.clone(),
        })
        .collect()
}

#[test]
fn queue_counts_are_fetched_again_once_however_many_events_ask() {
    let mut b = board();
    let before = b.queues.clone();
    let recount = |b: &mut Board, id: i64, kind: &str| {
        b.update(Msg::Live(Live::Event(FeedEvent {
            id,
            at: now(),
            kind: kind.into(),
            debtor_id: None,
            user_id: None,
            body: serde_json::json!({ "replanned": 3 }),
        })))
    };
    // The first asks; the burst behind it waits for that answer.
    let (fx, changed) = recount(&mut b, 20, "queues_changed");
    assert_eq!((fx, changed), (vec![Effect::LoadQueues], false));
    assert_eq!(b.recount, Recount::InFlight);
    for id in 21..30 {
        assert_eq!(recount(&mut b, id, "queues_changed").0, vec![]);
    }
    assert_eq!(b.recount, Recount::Again);
    // The answer lands and, asked again meanwhile, one more goes out.
    let fresh = counted(&b, 120);
    let (fx, changed) = b.update(Msg::Queues(Ok(fresh)));
    assert!(changed);
    assert_eq!(fx, vec![Effect::LoadQueues]);
    assert_eq!(b.queues[0].callable, 120);
    assert_eq!(b.queues[1..], before[1..]);
    // The same counts again: nothing to draw, and nothing more to fetch.
    let (fx, changed) = b.update(Msg::Queues(Ok(counted(&b, 120))));
    assert_eq!((fx, changed), (vec![], false));
    assert_eq!(b.recount, Recount::Idle);
    // Events the snapshot already holds, or other kinds, ask nothing.
    assert_eq!(recount(&mut b, 3, "queues_changed").0, vec![]);
    assert_eq!(recount(&mut b, 31, "agent_state").0, vec![]);
    // A failed fetch is said, and the next event asks again.
    assert_eq!(
        recount(&mut b, 32, "queues_changed").0,
        vec![Effect::LoadQueues]
    );
    let (fx, _) = b.update(Msg::Queues(Err("server gone".into())));
    assert_eq!(fx, vec![]);
    assert!(b.notice.as_ref().is_some_and(|(_, t)| t == "server gone"));
    assert_eq!(b.queues[0].callable, 120, "the counts stay");
    assert_eq!(
        recount(&mut b, 33, "queues_changed").0,
        vec![Effect::LoadQueues]
    );
    // A snapshot landing while a count is out may be newer than it.
    b.update(Msg::Snapshot(Ok(snapshot())));
    assert_eq!(b.recount, Recount::Again);
}

/// Leases, calls, outcomes and payments move the counts in ways the board
/// cannot all work out: they are fetched again at the next tick, once
/// however many came, and not when none did.
#[test]
fn queue_counts_settle_at_the_next_tick_after_the_floor_moves() {
    let mut b = board();
    let event = |b: &mut Board, id: i64, kind: &str| {
        b.update(Msg::Live(Live::Event(FeedEvent {
            id,
            at: now(),
            kind: kind.into(),
            debtor_id: Some(7),
            user_id: Some(1),
            body: serde_json::json!({ "lease_id": 99, "debtor_id": 7, "queue": "early" }),
        })))
    };
    let tick = |b: &mut Board, s: i64| b.update(Msg::Tick(now() + Duration::seconds(s))).0;
    assert_eq!(tick(&mut b, 1), vec![], "nothing moved");
    for (id, kind) in [
        (20, "lease_taken"),
        (21, "lease_released"),
        (22, "outcome_recorded"),
    ] {
        assert_eq!(event(&mut b, id, kind).0, vec![], "{kind}: not at once");
    }
    assert_eq!(tick(&mut b, 2), vec![Effect::LoadQueues]);
    assert_eq!(tick(&mut b, 3), vec![], "once");
    // One the snapshot already holds moves nothing.
    event(&mut b, 3, "payment_received");
    assert_eq!(tick(&mut b, 4), vec![]);
}

#[test]
fn an_expired_lease_leaves_its_agent_and_recounts_the_queues() {
    let mut b = board();
    assert!(b.agents[0].lease.is_some());
    let (fx, changed) = b.update(Msg::Live(Live::Event(FeedEvent {
        id: 40,
        at: now(),
        kind: "lease_expired".into(),
        debtor_id: Some(42),
        user_id: Some(1),
        body: serde_json::json!({"lease_id": 77, "debtor_id": 42, "agent_id": 1, "expires_at": now()}),
    })));
    assert!(changed);
    assert_eq!(fx, vec![Effect::LoadQueues]);
    assert_eq!(b.agents[0].lease, None);
    let line = view::ticker_line(b.ticker.back().unwrap(), &b);
    assert!(
        line.ends_with("lease 77 of ana ran out — Maria Aparecida Souza"),
        "{line}"
    );
}

#[test]
fn a_lease_taken_on_a_debtor_ends_the_lapsed_holders_row() {
    let mut b = board();
    // Ana's lease on debtor 42 ran out and bruno took 42 before the
    // scheduler said so.
    event(
        &mut b,
        41,
        "lease_taken",
        Some(2),
        serde_json::json!({"lease_id": 90, "debtor_id": 42, "debtor_name": "Maria", "queue": "early", "expires_at": now()}),
    );
    assert_eq!(b.agents[0].lease, None);
    assert_eq!(b.agents[1].lease.as_ref().map(|l| l.id), Some(90));
}

#[test]
fn a_lease_taken_by_an_agent_with_no_row_asks_the_floor_once() {
    let mut b = board();
    let taken = |lease: i64, debtor: i64| {
        Msg::Live(Live::Event(FeedEvent {
            id: 40 + lease,
            at: now(),
            kind: "lease_taken".into(),
            debtor_id: Some(debtor),
            user_id: Some(9),
            body: serde_json::json!({"lease_id": lease, "debtor_id": debtor, "debtor_name": "Maria", "queue": "early", "expires_at": now()}),
        }))
    };
    // Agent 9 leases with no console open: no row to show it on.
    assert_eq!(b.update(taken(1, 61)).0, vec![Effect::LoadSnapshot]);
    assert_eq!(b.update(taken(2, 62)).0, vec![], "asked already");
    // The floor has them.
    let mut floor = snapshot();
    floor.recent.clear();
    let mut erin = agent(9, "erin", AgentState::Ready, 5);
    erin.lease = Some(BoardLease {
        id: 2,
        debtor_id: 62,
        debtor_name: "Maria".into(),
        expires_at: now(),
    });
    floor.agents.push(erin);
    b.update(Msg::Snapshot(Ok(floor)));
    assert!(b.agents.iter().any(|a| a.id == 9));
    // Rows the board has ask nothing.
    assert_eq!(b.update(taken(3, 63)).0, vec![]);
    // Gone, and back with a lease: asked again.
    event(
        &mut b,
        50,
        "lease_released",
        Some(9),
        serde_json::json!({"lease_id": 3}),
    );
    event(
        &mut b,
        51,
        "agent_left",
        Some(9),
        serde_json::json!({"user_id": 9}),
    );
    assert!(b.agents.iter().all(|a| a.id != 9));
    assert_eq!(b.update(taken(12, 64)).0, vec![Effect::LoadSnapshot]);
    // Their lease ended before the snapshot was read, which left them
    // out: the next lease asks again.
    event(
        &mut b,
        60,
        "lease_released",
        Some(9),
        serde_json::json!({"lease_id": 12, "agent_id": 9}),
    );
    let mut floor = snapshot();
    floor.recent.clear();
    b.update(Msg::Snapshot(Ok(floor)));
    assert_eq!(b.update(taken(30, 65)).0, vec![Effect::LoadSnapshot]);
}

#[test]
fn an_agent_who_leaves_goes_off_the_floor_and_one_with_a_lease_when_it_ends() {
    let mut b = board();
    b.agent_sel = Some(2);
    let left = |id| serde_json::json!({ "user_id": id });
    assert!(event(&mut b, 41, "agent_left", Some(2), left(2)));
    let names = |b: &Board| b.agents.iter().map(|a| a.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&b), ["ana", "carla", "davi"]);
    assert_ne!(b.agent_sel, Some(2), "the selection moves off the row gone");
    // Ana holds debtor 42: she stays while the lease does.
    assert!(!event(&mut b, 42, "agent_left", Some(1), left(1)));
    assert_eq!(names(&b), ["ana", "carla", "davi"]);
    // A supervisor pauses her meanwhile: she is still on her way out.
    let paused = serde_json::json!({
        "user_id": 1, "name": "ana", "state": "paused", "reason": "end of shift",
        "since": now(), "by": 5,
    });
    assert!(event(&mut b, 43, "agent_state", Some(1), paused.clone()));
    event(
        &mut b,
        44,
        "lease_released",
        Some(1),
        serde_json::json!({ "lease_id": 77, "debtor_id": 42 }),
    );
    b.update(Msg::Tick(now() + Duration::seconds(1)));
    assert_eq!(names(&b), ["carla", "davi"]);
    // A state set with no console open does not bring her back.
    assert!(!event(&mut b, 45, "agent_state", Some(1), paused));
    assert_eq!(names(&b), ["carla", "davi"]);
    let line = view::ticker_line(b.ticker.back().unwrap(), &b);
    assert!(
        line.ends_with("lease 77 of ana released — Maria Aparecida Souza"),
        "still named after she left: {line}"
    );
    // Back at her desk: her state brings her row back.
    let back = serde_json::json!({
        "user_id": 1, "name": "ana", "state": "ready", "reason": null,
        "since": now(), "by": null,
    });
    assert!(event(&mut b, 46, "agent_arrived", Some(1), back));
    assert_eq!(names(&b), ["carla", "davi", "ana"]);
}

#[test]
fn a_frame_that_changes_no_cell_writes_nothing() {
    use ratatui::backend::CrosstermBackend;
    use ratatui::layout::Rect;
    use ratatui::{TerminalOptions, Viewport};

    use crate::console::terminal::Sent;

    let mut b = board();
    b.update(Msg::Resize(80, 24));
    let sent = Sent::default();
    let mut term = Terminal::with_options(
        CrosstermBackend::new(sent.clone()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, 80, 24)),
        },
    )
    .unwrap();
    let theme = Theme::default();
    let mut shown = None;
    let mut draw = |b: &Board, shown: &mut _| {
        super::run::draw(&mut term, b, &theme, shown).unwrap();
        std::mem::take(&mut *sent.0.borrow_mut()).len()
    };
    assert!(
        draw(&b, &mut shown) > 1000,
        "the first frame is drawn whole"
    );
    assert_eq!(draw(&b, &mut shown), 0, "nothing changed, nothing written");
    // A change writes only itself.
    assert!(event(
        &mut b,
        9,
        "agent_state",
        Some(2),
        serde_json::json!({ "user_id": 2, "name": "bruno", "state": "paused", "reason": "lunch", "since": now() }),
    ));
    let changed = draw(&b, &mut shown);
    assert!((1..1000).contains(&changed), "{changed} bytes");
    assert_eq!(draw(&b, &mut shown), 0);
}

#[test]
fn blocked_rules_are_said_whole_as_many_as_fit() {
    let blocked = [("call_window".to_string(), 30), ("call_cap".to_string(), 5)].into();
    let said = |width| view::blocked_text(&blocked, Locale::En, width);
    assert_eq!(said(60), "outside hours 30, call cap 5");
    assert_eq!(said(27), "outside hours 30, …");
    // A first rule too wide alone: its words are cut, its count kept.
    assert_eq!(said(12), "outside… 30");
    assert_eq!(said(15), "outside hou… 30");
    // Wide enough for it alone, not for the "…" after it.
    assert_eq!(said(16), "outside hours 30");
    assert_eq!(said(20), "outside hours 30, …");
    let one = [("no_consented_phone".to_string(), 29)].into();
    assert_eq!(
        view::blocked_text(&one, Locale::PtBr, 20),
        "sem telefone aut… 29"
    );
    let newer = [("a_rule_of_a_newer_server".to_string(), 2)].into();
    assert_eq!(
        view::blocked_text(&newer, Locale::PtBr, 60),
        "a_rule_of_a_newer_server 2"
    );
}

/// At the end of the day the board asks for the new day's counts (once),
/// by its own clock or by an event of the new day, whichever comes first;
/// what happened on another day is not added to today's.
#[test]
fn a_new_day_starts_the_counts_again() {
    let at = |t: DateTime<Utc>, id: i64, kind: &str, body: serde_json::Value| {
        Msg::Live(Live::Event(FeedEvent {
            id,
            at: t,
            kind: kind.into(),
            debtor_id: Some(42),
            user_id: Some(1),
            body,
        }))
    };
    let snapshot_asked = |fx: &[Effect]| fx.contains(&Effect::LoadSnapshot);
    let midnight = Utc.with_ymd_and_hms(2026, 3, 11, 0, 0, 5).unwrap();
    let yesterday = now() - Duration::days(1);

    // A payment of yesterday (a feed that resumed late) is the ticker's.
    let mut b = board();
    let collected = b.today.as_ref().unwrap().total.collected_minor;
    let (fx, _) = b.update(at(
        yesterday,
        10,
        "payment_received",
        serde_json::json!({"amount_minor": 10_000}),
    ));
    assert!(!snapshot_asked(&fx));
    assert_eq!(b.today.as_ref().unwrap().total.collected_minor, collected);

    // The server's new day, in an event: a snapshot, asked once.
    let payment = serde_json::json!({"amount_minor": 20_000});
    let (fx, _) = b.update(at(midnight, 11, "payment_received", payment.clone()));
    assert!(snapshot_asked(&fx));
    assert_eq!(b.today.as_ref().unwrap().total.collected_minor, collected);
    let (fx, _) = b.update(at(midnight, 12, "payment_received", payment));
    assert!(!snapshot_asked(&fx));
    let (fx, _) = b.update(Msg::Tick(midnight));
    assert!(!snapshot_asked(&fx));

    // The board's own clock, with no event: the same.
    let mut b = board();
    let (fx, _) = b.update(Msg::Tick(now() + Duration::hours(10)));
    assert!(!snapshot_asked(&fx));
    let (fx, _) = b.update(Msg::Tick(midnight));
    assert!(snapshot_asked(&fx));
    let (fx, _) = b.update(Msg::Tick(midnight + Duration::seconds(1)));
    assert!(!snapshot_asked(&fx));
}

/// The snapshot says the newest item it counts, whatever its kind (its
/// `recent` holds the ticker's kinds alone): the stream's items up to it
/// are not counted again.
#[test]
fn the_snapshots_newest_id_is_counted_whatever_its_kind() {
    let mut view = snapshot();
    view.newest_id = 10;
    let mut b = Board::new(
        Locale::En,
        Keymap::default(),
        BoardConfig::default(),
        "sofia".into(),
        "embedded".into(),
        now(),
    );
    b.update(Msg::Snapshot(Ok(view)));
    let made = |b: &Board| b.today.as_ref().unwrap().total.promises_made;
    let before = made(&b);
    let promise = serde_json::json!({"disposition": "promise_to_pay", "promised_minor": 20000, "queue": null, "from_queue": "early"});
    event(&mut b, 9, "outcome_recorded", Some(1), promise.clone());
    assert_eq!(made(&b), before, "in the snapshot already");
    event(&mut b, 11, "outcome_recorded", Some(1), promise);
    assert_eq!(made(&b), before + 1);
}
