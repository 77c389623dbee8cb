//! Key → action → state, and snapshots of each screen at 80x24 and 120x40
//! on ratatui's test backend.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::app::{AgentStatus, App, Effect, Msg, Offline, Overlay, Remote, Severity};
use super::keymap::{Key, Keymap, Mode};
use super::outbox_list::Unsent;
use super::theme::Theme;
use super::views;
use crate::api::{
    DebtView, DebtorSummary, DebtorView, LeaseResponse, LeaseView, OffersView, Opening, PhoneView,
    PlanLine, PlanView, QueueView, ScriptView, TalkingPointView,
};
use crate::client::outbox::Gist;
use crate::domain::{
    Channel, ContactResult, Currency, Disposition, Event, EventKind, Firmness, Installment, Locale,
    Money, PhoneKind, Reason,
};

/// Tuesday 2026-03-10, 10:00 in São Paulo.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 13, 0, 0).unwrap()
}

fn queues() -> Vec<QueueView> {
    vec![
        QueueView {
            id: "early".into(),
            name: "Early (1–30 days)".into(),
            depth: 132,
            callable: 97,
            leased: 3,
            oldest_since: Some(now() - chrono::Duration::minutes(42)),
            blocked: Default::default(),
        },
        QueueView {
            id: "broken_promises".into(),
            name: "Broken promises".into(),
            depth: 18,
            callable: 0,
            leased: 0,
            oldest_since: None,
            blocked: Default::default(),
        },
    ]
}

fn debtor() -> DebtorView {
    DebtorView {
        id: 42,
        external_id: "C-0042".into(),
        name: "Maria Aparecida Souza".into(),
        document: "***.456.789-**".into(),
        document_revealed: false,
        phones: vec![PhoneView {
            number: "+5511987654321".into(),
            kind: PhoneKind::Mobile,
            consent: true,
        }],
        email: Some("maria@example.com".into()),
        jurisdiction: "SP".into(),
        time_zone: "America/Sao_Paulo".into(),
        segment: "retail".into(),
        tags: vec![],
        debts: vec![DebtView {
            id: 7,
            creditor: "Loja Azul".into(),
            currency: "BRL".into(),
            original_minor: 150_000,
            balance_minor: 123_456,
            interest_and_fees_minor: 23_456,
            due_date: NaiveDate::from_ymd_opt(2026, 2, 1).unwrap(),
        }],
    }
}

fn brl(minor: i64) -> Money {
    Money::new(minor, Currency::new("BRL").unwrap())
}

fn timeline() -> Vec<Event> {
    let at = |d: u32, h: u32| Utc.with_ymd_and_hms(2026, 2, d, h, 0, 0).unwrap();
    vec![
        Event {
            at: at(10, 14),
            kind: EventKind::Contact {
                channel: Channel::Call,
                firmness: Firmness::Friendly,
                result: ContactResult::Connected { right_party: true },
                requested: false,
            },
        },
        Event {
            at: at(10, 14),
            kind: EventKind::Outcome {
                disposition: Disposition::PromiseToPay,
                reason: Some(Reason::JobLoss),
                note: Some("lost her job in January; new one starts in March".into()),
            },
        },
        Event {
            at: at(10, 14),
            kind: EventKind::Promise {
                amount: brl(50_000),
                date: NaiveDate::from_ymd_opt(2026, 2, 20).unwrap(),
                grace_days: 2,
                forgives: None,
            },
        },
        Event {
            at: at(18, 12),
            kind: EventKind::Payment {
                amount: brl(26_544),
            },
        },
    ]
}

fn plan(callable: bool, locale: Locale) -> PlanView {
    let blocked = if callable {
        vec![]
    } else {
        vec![PlanLine {
            at: Some(Utc.with_ymd_and_hms(2026, 3, 16, 11, 0, 0).unwrap()),
            channel: "call".into(),
            firmness: "friendly".into(),
            why: "São Paulo (Lei 15.426/2014): no calls on Sundays".into(),
        }]
    };
    // As the server writes it, in the locale asked for: state, queue, each
    // action, each blocked one, priority; the summary without the middle.
    let pt = locale == Locale::PtBr;
    let said = |pt_text: &str, en_text: &str| if pt { pt_text } else { en_text }.to_string();
    let queue = match (pt, callable) {
        (true, true) => "fila Early (1–30 days): pode receber ligação agora",
        (true, false) => "fila Early (1–30 days): não pode receber ligação agora",
        (false, true) => "queue Early (1–30 days): may be called now",
        (false, false) => "queue Early (1–30 days): may not be called now",
    };
    let mut explanation = vec![
        said("em cobrança", "active"),
        queue.to_string(),
        said(
            "agora ligação (amigável) — step D+30 call",
            "now call (friendly) — step D+30 call",
        ),
    ];
    for b in &blocked {
        explanation.push(format!(
            "{} — {}",
            said("bloqueio de ligação", "call blocked"),
            b.why
        ));
    }
    let priority = said(
        "prioridade 612 = base 20; 37 dias de atraso: +9",
        "priority 612 = base 20; 37 days past due: +9",
    );
    explanation.push(priority.clone());
    let summary = vec![explanation[0].clone(), queue.to_string(), priority];
    PlanView {
        state: "active".into(),
        queue: Some("early".into()),
        callable_now: callable,
        days_past_due: 37,
        priority: 612,
        actions: vec![PlanLine {
            at: Some(now()),
            channel: "call".into(),
            firmness: "friendly".into(),
            why: "step D+30 call".into(),
        }],
        explanation,
        summary,
        blocked,
        // São Paulo: today until 20 h, tomorrow 8–20 h.
        call_hours: vec![
            Opening {
                from: now(),
                to: Utc.with_ymd_and_hms(2026, 3, 10, 23, 0, 0).unwrap(),
            },
            Opening {
                from: Utc.with_ymd_and_hms(2026, 3, 11, 11, 0, 0).unwrap(),
                to: Utc.with_ymd_and_hms(2026, 3, 11, 23, 0, 0).unwrap(),
            },
        ],
        latest_callback: Some(now() + chrono::Duration::days(30)),
    }
}

fn script() -> ScriptView {
    ScriptView {
        situation: "broken_promise".into(),
        points: vec![
            TalkingPointView {
                stage: "opening".into(),
                title: "Identify".into(),
                text: "Good morning, may I speak with Maria? This is Ana from Loja Azul.".into(),
            },
            TalkingPointView {
                stage: "why".into(),
                title: "Ask why".into(),
                text: "Last time we agreed on R$ 500,00 by 20/02. What got in the way?".into(),
            },
        ],
        offers: Some(OffersView {
            balance_minor: 123_456,
            currency: "BRL".into(),
            pay_in_full_minor: 100_000,
            max_discount_minor: 23_456,
            max_installments: 6,
            min_installment_minor: 5_000,
            latest_promise_date: NaiveDate::from_ymd_opt(2026, 3, 25).unwrap(),
        }),
    }
}

fn app(locale: Locale) -> App {
    let mut app = App::new(
        locale,
        Keymap::default(),
        "ana".into(),
        "embedded".into(),
        now(),
    );
    app.update(Msg::Queues(Ok(queues())));
    app
}

fn key(app: &mut App, k: &str) -> Vec<Effect> {
    app.update(Msg::Key(k.parse::<Key>().unwrap())).0
}

fn typed(app: &mut App, text: &str) -> Vec<Effect> {
    text.chars()
        .flat_map(|c| {
            app.update(Msg::Key(Key::new(
                ratatui::crossterm::event::KeyCode::Char(c),
                ratatui::crossterm::event::KeyModifiers::NONE,
            )))
            .0
        })
        .collect()
}

/// Leases debtor 42 from the early queue with everything loaded.
fn leased(locale: Locale, callable: bool) -> App {
    let mut a = app(locale);
    assert_eq!(
        key(&mut a, "n"),
        vec![Effect::Lease {
            queue: "early".into()
        }]
    );
    let (fx, _) = a.update(leased_42(9));
    assert!(
        fx.contains(&Effect::LoadDebtor {
            id: 42,
            reveal: false
        }),
        "{fx:?}"
    );
    a.update(Msg::Timeline(42, Ok(timeline())));
    a.update(Msg::Plan(42, Ok(plan(callable, locale))));
    a.update(Msg::Script(42, Ok(script())));
    a
}

fn screen(app: &App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    let theme = Theme::load("dark", Some("1")).unwrap();
    term.draw(|f| views::draw(f, app, &theme)).unwrap();
    let buf = term.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[test]
fn lease_call_record_a_promise_and_take_the_next() {
    let mut a = leased(Locale::En, true);
    assert_eq!(a.mode(), super::keymap::Mode::Workspace);
    let fx = key(&mut a, "c");
    assert!(
        fx.contains(&Effect::Call {
            debtor_id: 42,
            phone: "+5511987654321".into(),
            name: "Maria Aparecida Souza".into()
        }),
        "{fx:?}"
    );
    assert_eq!(a.agent.status, AgentStatus::OnCall);
    // While the call is on, a second `c` does nothing.
    assert!(key(&mut a, "c").is_empty());
    a.update(Msg::CallEnded(Ok(())));
    assert!(
        matches!(a.overlay, Some(Overlay::Outcome(_))),
        "the form opens after the call"
    );
    typed(&mut a, "promise");
    key(&mut a, "tab");
    key(&mut a, "down"); // reason: billing error
    key(&mut a, "down"); // job loss
    key(&mut a, "tab");
    typed(&mut a, "300.50");
    key(&mut a, "tab");
    typed(&mut a, "2026-03-20");
    let fx = key(&mut a, "ctrl-s");
    let record = fx
        .iter()
        .find_map(|e| match e {
            Effect::Record {
                debtor_id,
                request,
                gist,
            } => {
                assert_eq!(gist.about.as_deref(), Some("Maria Aparecida Souza"));
                assert_eq!(gist.currency, Some(crate::domain::Currency::BRL));
                assert_eq!(gist.zone, Some(chrono_tz::America::Sao_Paulo));
                Some((*debtor_id, request.clone()))
            }
            _ => None,
        })
        .expect("the outcome is recorded");
    assert_eq!(record.0, 42);
    assert_eq!(record.1.disposition, Disposition::PromiseToPay);
    assert_eq!(record.1.reason, Some(Reason::JobLoss));
    assert_eq!(record.1.promise.as_ref().unwrap().amount_minor, 30_050);
    assert_eq!(a.agent.status, AgentStatus::WrapUp);
    assert!(a.overlay.is_none());
    // Next: the lease is given back and the same queue asked again.
    let fx = key(&mut a, "n");
    assert_eq!(
        fx,
        vec![
            Effect::Release { lease: 9 },
            Effect::Lease {
                queue: "early".into()
            }
        ]
    );
}

/// The number being called stays on screen for the whole call: dialled
/// by hand, the notice that gave it was gone at the next key.
#[test]
fn the_number_called_stays_in_view_during_the_call() {
    let mut a = leased(Locale::PtBr, true);
    key(&mut a, "c");
    a.update(Msg::CallEnded(Err(
        "sem dial_command: disque +5511987654321 no telefone".into(),
    )));
    // The form the call's end opened, put away to read the record.
    key(&mut a, "esc");
    a.notice = None;
    let s = screen(&a, 80, 24);
    assert!(s.contains("● em ligação · +5511987654321"), "{s}");
}

#[test]
fn a_blocked_call_says_which_rule_and_when_it_clears_in_local_time() {
    let mut a = leased(Locale::En, false);
    let fx = key(&mut a, "c");
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Call { .. })),
        "{fx:?}"
    );
    let (_, text) = a.notice.clone().unwrap();
    assert!(text.contains("Lei 15.426/2014"), "{text}");
    assert!(text.contains("Mon 03-16 08:00 (local)"), "{text}");
    assert_eq!(a.agent.status, AgentStatus::Ready);
}

/// A long note shows its end, with the button under it: the form does
/// not scroll, and a 13-line note had pushed both off a 24-row screen.
#[test]
fn a_long_note_shows_its_end_and_the_button() {
    let mut a = leased(Locale::PtBr, true);
    key(&mut a, "o");
    typed(&mut a, "acordo");
    let Some(Overlay::Outcome(form)) = &mut a.overlay else {
        panic!("{:?}", a.overlay)
    };
    form.installments = "12".into();
    form.first_date = "+3".into();
    form.note = (1..=13)
        .map(|i| format!("Linha {i}"))
        .collect::<Vec<_>>()
        .join("\n");
    let s = screen(&a, 80, 24);
    assert!(s.contains("Linha 13"), "{s}");
    assert!(s.contains("[ Registrar ]"), "{s}");
    assert!(s.contains("linhas acima"), "{s}");
    assert!(!s.contains("Linha 1 "), "{s}");
}

/// A supervisor's pause reaches the agent's console: the top line says
/// it, and `n` does not lease (which had undone the pause in silence).
#[test]
fn a_pause_set_by_a_supervisor_holds_in_the_console() {
    let mut a = app(Locale::PtBr);
    let paused = |name: &str| Msg::StateSet {
        name: name.into(),
        state: super::app::AgentState {
            status: AgentStatus::Paused,
            reason: Some("treinamento".into()),
            since: now(),
        },
        by_other: true,
    };
    a.update(paused("bruno"));
    assert_eq!(a.agent.status, AgentStatus::Ready, "another agent's");
    a.update(paused("ana"));
    assert_eq!(a.agent.status, AgentStatus::Paused);
    let s = screen(&a, 80, 24);
    assert!(s.contains("em pausa (treinamento)"), "{s}");
    assert!(
        s.contains("a supervisão mudou seu estado: em pausa (treinamento)"),
        "{s}"
    );
    let fx = key(&mut a, "n");
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Lease { .. })),
        "{fx:?}"
    );
}

/// F1 in the form shows the form's keys over it, and closing the help
/// finds the form as it was; `?` there is still typed.
#[test]
fn help_over_the_outcome_form_keeps_the_form() {
    let mut a = leased(Locale::PtBr, true);
    key(&mut a, "o");
    typed(&mut a, "promessa");
    key(&mut a, "tab");
    key(&mut a, "tab");
    typed(&mut a, "150,00");
    key(&mut a, "f1");
    assert!(
        matches!(a.overlay, Some(Overlay::Help(Mode::Outcome, _, Some(_)))),
        "{:?}",
        a.overlay
    );
    let s = screen(&a, 80, 24);
    assert!(s.contains("ctrl-s"), "{s}");
    key(&mut a, "esc");
    let Some(Overlay::Outcome(form)) = &a.overlay else {
        panic!("the form is gone: {:?}", a.overlay)
    };
    assert_eq!(form.amount, "150,00");
    typed(&mut a, "?");
    let Some(Overlay::Outcome(form)) = &a.overlay else {
        panic!("the form is gone: {:?}", a.overlay)
    };
    assert_eq!(form.amount, "150,00?");
    // ctrl-c with the help over the filled form asks first, as without.
    key(&mut a, "f1");
    let fx = key(&mut a, "ctrl-c");
    assert!(!a.quit && !fx.contains(&Effect::Quit), "{fx:?}");
    assert!(
        a.notice.as_ref().is_some_and(|(_, t)| t.contains("ctrl-c")),
        "{:?}",
        a.notice
    );
}

/// Sends the open outcome form, which must stay open, refused: the field
/// at fault and why.
fn refused(a: &mut App) -> (super::outcome_form::Field, String) {
    let fx = key(a, "ctrl-s");
    assert!(!fx.iter().any(|e| matches!(e, Effect::Record { .. })));
    let Some(Overlay::Outcome(form)) = &a.overlay else {
        panic!("form closed")
    };
    form.error.clone().expect("a refusal says why")
}

#[test]
fn a_bad_promise_stays_in_the_form_with_its_field() {
    let mut a = leased(Locale::PtBr, true);
    key(&mut a, "o");
    typed(&mut a, "promessa");
    key(&mut a, "tab");
    key(&mut a, "tab");
    typed(&mut a, "9.999,00");
    key(&mut a, "tab");
    typed(&mut a, "+3");
    let (field, message) = refused(&mut a);
    assert_eq!(field, super::outcome_form::Field::Amount);
    assert_eq!(message, "o valor é maior que o saldo (R$ 1.234,56)");
    // The policy's limits are beside the fields, as the offers panel is
    // behind the form at 80 columns.
    let s = screen(&a, 80, 24);
    assert!(
        s.contains("9.999,00▏  saldo R$ 1.234,56 · à vista R$ 1.000,00"),
        "{s}"
    );
    assert!(s.contains("+3  dd/mm/aaaa ou +N, até 25/03/2026"), "{s}");
}

/// A settlement: the agent ticks it with its key (Tab goes amount, date,
/// note as before), sees what it forgives as the amount is typed, and a
/// discount past the policy's stays in the form at the amount.
#[test]
fn a_settlement_says_what_it_forgives_and_a_bigger_discount_stays() {
    let mut a = leased(Locale::PtBr, true);
    key(&mut a, "o");
    // Not a promise yet: nothing to settle, and nothing ticked unseen.
    key(&mut a, "ctrl-q");
    assert_eq!(a.state()["input"]["settles"], false);
    typed(&mut a, "promessa");
    key(&mut a, "tab");
    key(&mut a, "tab");
    typed(&mut a, "950,00");
    key(&mut a, "tab");
    typed(&mut a, "+3");
    let s = screen(&a, 80, 24);
    assert!(
        s.contains("Quitação      [ ] não  à vista por R$ 1.000,00 · ctrl-q marca"),
        "{s}"
    );
    key(&mut a, "ctrl-q");
    assert_eq!(a.state()["input"]["settles"], true);
    let s = screen(&a, 80, 24);
    assert!(
        s.contains("Quitação      [x] sim  mínimo R$ 1.000,00"),
        "{s}"
    );
    assert_eq!(
        refused(&mut a),
        (
            super::outcome_form::Field::Amount,
            "a quitação é de no mínimo R$ 1.000,00 (o desconto vai até R$ 234,56)".to_string()
        )
    );
    let Some(Overlay::Outcome(form)) = &mut a.overlay else {
        panic!("form closed")
    };
    form.amount = "1.000,00".into();
    let s = screen(&a, 80, 24);
    assert!(
        s.contains("[x] sim  perdoa R$ 234,56 se pagar até a data"),
        "{s}"
    );
    let fx = key(&mut a, "ctrl-s");
    let promise = fx
        .iter()
        .find_map(|e| match e {
            Effect::Record { request, .. } => request.promise.clone(),
            _ => None,
        })
        .expect("the settlement is recorded");
    assert_eq!((promise.amount_minor, promise.settles), (100_000, true));
}

#[test]
fn a_callback_outside_the_call_window_stays_in_the_form() {
    let mut a = leased(Locale::PtBr, true);
    key(&mut a, "o");
    typed(&mut a, "retorno");
    key(&mut a, "tab");
    key(&mut a, "tab");
    typed(&mut a, "10/03/2026");
    key(&mut a, "tab");
    typed(&mut a, "21:30");
    assert_eq!(
        refused(&mut a),
        (
            super::outcome_form::Field::CallbackTime,
            "fora do horário de ligação da pessoa; o próximo começa qua 11/03 08:00 (hora local)"
                .to_string()
        )
    );
    // Inside it, or past what the plan lists: sent (the server decides).
    for (date, time) in [("11/03/2026", "19:59"), ("30/03/2026", "22:00")] {
        let Some(Overlay::Outcome(form)) = &mut a.overlay else {
            panic!("form closed")
        };
        form.callback_date = date.into();
        form.callback_time = time.into();
        let mut b = leased(Locale::PtBr, true);
        b.overlay = a.overlay.clone();
        let fx = key(&mut b, "ctrl-s");
        assert!(
            fx.iter().any(|e| matches!(e, Effect::Record { .. })),
            "{date} {time}: {:?}",
            b.overlay
        );
    }
}

#[test]
fn an_unfinished_debtor_is_not_dropped() {
    let mut a = leased(Locale::En, true);
    assert!(key(&mut a, "n").is_empty());
    assert!(key(&mut a, "esc").is_empty());
    assert!(a.work.is_some());
    assert!(a.notice.as_ref().unwrap().1.contains("record an outcome"));
    // Releasing gives the debtor back.
    let fx = key(&mut a, "x");
    assert!(fx.contains(&Effect::Release { lease: 9 }));
    assert!(a.work.is_none());
}

/// A worked debtor left for another opened from search is given back, as
/// `n` gives it: the screen no longer shows them, and the lease was kept
/// (and renewed) for nobody.
#[test]
fn opening_another_debtor_gives_back_the_one_worked() {
    let mut a = leased(Locale::En, true);
    key(&mut a, "o");
    typed(&mut a, "no answer");
    key(&mut a, "ctrl-s");
    key(&mut a, "/");
    let fx = typed(&mut a, "x");
    let Some(Effect::Search { seq, .. }) = fx.last().cloned() else {
        panic!("{fx:?}")
    };
    a.update(Msg::Found {
        seq,
        result: Ok(vec![DebtorSummary {
            id: 77,
            external_id: "C-0077".into(),
            name: "Rui".into(),
            document: "***".into(),
        }]),
    });
    let fx = key(&mut a, "enter");
    assert!(fx.contains(&Effect::Release { lease: 9 }), "{fx:?}");
    assert_eq!(a.work.as_ref().map(|w| w.debtor_id), Some(77));
}

/// F1 in the search shows its keys over it; the answer that lands
/// meanwhile is there when the help closes.
#[test]
fn help_over_the_search_keeps_it_and_its_answer() {
    let mut a = app(Locale::En);
    key(&mut a, "/");
    let fx = typed(&mut a, "mar");
    let Some(Effect::Search { seq, .. }) = fx.last().cloned() else {
        panic!("{fx:?}")
    };
    key(&mut a, "f1");
    assert!(
        matches!(a.overlay, Some(Overlay::Help(Mode::Search, _, Some(_)))),
        "{:?}",
        a.overlay
    );
    a.update(Msg::Found {
        seq,
        result: Ok(vec![DebtorSummary {
            id: 42,
            external_id: "C-0042".into(),
            name: "Maria".into(),
            document: "***".into(),
        }]),
    });
    key(&mut a, "esc");
    let Some(Overlay::Search(s)) = &a.overlay else {
        panic!("{:?}", a.overlay)
    };
    assert_eq!(s.query, "mar");
    assert_eq!(s.results.ready().map(Vec::len), Some(1));
}

#[test]
fn search_asks_as_you_type_and_keeps_only_the_latest_answer() {
    let mut a = app(Locale::En);
    key(&mut a, "/");
    let fx = typed(&mut a, "mar");
    assert_eq!(fx.len(), 3);
    assert_eq!(
        fx[2],
        Effect::Search {
            query: "mar".into(),
            seq: 3
        }
    );
    let stale = DebtorSummary {
        id: 1,
        external_id: "A".into(),
        name: "Marcos".into(),
        document: "***".into(),
    };
    a.update(Msg::Found {
        seq: 2,
        result: Ok(vec![stale]),
    });
    let Some(Overlay::Search(s)) = &a.overlay else {
        panic!()
    };
    assert_eq!(s.results, Remote::Loading, "an old answer is dropped");
    a.update(Msg::Found {
        seq: 3,
        result: Ok(vec![DebtorSummary {
            id: 42,
            external_id: "C-0042".into(),
            name: "Maria".into(),
            document: "***".into(),
        }]),
    });
    // `q` is text here, not quit.
    typed(&mut a, "q");
    assert!(!a.quit);
    key(&mut a, "backspace");
    a.update(Msg::Found {
        seq: 5,
        result: Ok(vec![DebtorSummary {
            id: 42,
            external_id: "C-0042".into(),
            name: "Maria".into(),
            document: "***".into(),
        }]),
    });
    let fx = key(&mut a, "enter");
    assert_eq!(
        fx,
        vec![Effect::LoadDebtor {
            id: 42,
            reveal: false
        }]
    );
    assert!(a.work.as_ref().unwrap().lease.is_none(), "read only");
}

#[test]
fn every_disposition_can_be_reached_and_the_selected_one_stays_in_view() {
    let mut a = leased(Locale::En, true);
    key(&mut a, "o");
    // At 80x24 the form lists all twelve.
    let screen24 = screen(&a, 80, 24);
    for d in Disposition::ALL {
        let said = super::words::disposition(Locale::En, d);
        assert!(screen24.contains(said), "{said} missing:\n{screen24}");
    }
    // On a shorter screen the list is a window that follows the selection
    // to the last, and says rows are hidden above.
    for _ in 0..11 {
        key(&mut a, "down");
    }
    let short = screen(&a, 80, 16);
    let last = short
        .lines()
        .find(|l| l.contains("cease contact") && !l.contains("Disposition"))
        .unwrap_or_else(|| panic!("the selection left the screen:\n{short}"));
    assert!(!short.contains("right-party contact"), "{short}");
    assert!(short.contains("↑ "), "{short}");
    assert!(last.contains("│    cease contact"), "{last}");
}

#[test]
fn the_selected_search_result_stays_in_view() {
    let mut a = app(Locale::En);
    key(&mut a, "/");
    typed(&mut a, "a");
    let found: Vec<DebtorSummary> = (1..=20)
        .map(|i| DebtorSummary {
            id: i,
            external_id: format!("E{i}"),
            name: format!("Debtor number {i}"),
            document: "***".into(),
        })
        .collect();
    a.update(Msg::Found {
        seq: 1,
        result: Ok(found),
    });
    // 80x24 holds the query and 19 of the 20.
    let top = screen(&a, 80, 24);
    assert!(top.contains("Debtor number 19"), "{top}");
    assert!(!top.contains("Debtor number 20"), "{top}");
    assert!(top.contains("↓     19  Debtor number 19"), "{top}");
    for _ in 0..19 {
        key(&mut a, "down");
    }
    let bottom = screen(&a, 80, 24);
    assert!(bottom.contains("Debtor number 20"), "{bottom}");
    assert!(bottom.contains("↑      2  Debtor number 2 "), "{bottom}");
    let fx = key(&mut a, "enter");
    assert_eq!(
        fx,
        vec![Effect::LoadDebtor {
            id: 20,
            reveal: false
        }]
    );
}

#[test]
fn a_narrow_header_drops_whole_parts_and_wraps_the_call_window() {
    let mut a = leased(Locale::PtBr, true);
    // A promise keeps calls off: the reason is a long sentence.
    let mut p = plan(true, Locale::PtBr);
    p.state = "promise_pending".into();
    p.callable_now = false;
    p.actions.clear();
    p.explanation[0] =
        "promessa para 20/03/2026 (tolerância até 22/03/2026): os passos firmes esperam".into();
    a.update(Msg::Plan(42, Ok(p)));
    let s = screen(&a, 80, 24);
    let rows: Vec<&str> = s.lines().collect();
    // The owed row keeps the lease and drops the priority whole (it is in
    // the plan panel) rather than cut it.
    assert!(
        rows[2].ends_with("reserva 10 min · Early (1–30 days)"),
        "{s}"
    );
    assert!(!s.contains("prioridade 612"), "{s}");
    // The call window's sentence is whole, over two rows.
    assert!(
        rows[3].starts_with("○ nenhuma ligação prevista agora — promessa"),
        "{s}"
    );
    assert!(rows[4].contains("esperam"), "{s}");
    assert!(rows[4].contains("22/03/2026"), "{s}");
    // Very narrow, the sentence takes three rows at most, the panels keep
    // the rest (the plan panel says it whole).
    let tiny = screen(&a, 30, 24);
    let rows: Vec<&str> = tiny.lines().collect();
    assert!(rows[3].starts_with("○ nenhuma"), "{tiny}");
    assert!(
        rows[5].starts_with("  ") && rows[5].ends_with(" …"),
        "{tiny}"
    );
    assert!(rows[6].contains("Roteiro"), "{tiny}");
    // At 50 columns the first row drops the zone's name and the CPF, not
    // the local time; offline with a write waiting, the top line drops the
    // server, the time in state and the count before the warning.
    a.update(Msg::Connection(Err(Offline::Dropped("gone".into()))));
    a.outbox.waiting = 1;
    let narrow = screen(&a, 50, 24);
    let rows: Vec<&str> = narrow.lines().collect();
    assert!(rows[0].contains("⚠ sem conexão"), "{narrow}");
    assert!(
        rows[1].trim_end().ends_with("hora local 10:00") && !rows[1].contains("***"),
        "{narrow}"
    );
    a.outbox.waiting = 0;
    a.update(Msg::Connection(Ok(())));
    // Wide, it is all on one row each.
    let wide = screen(&a, 200, 50);
    assert!(
        wide.contains("reserva 10 min · Early (1–30 days) · prioridade 612"),
        "{wide}"
    );
    assert!(wide.contains("(America/Sao_Paulo)"), "{wide}");
}

#[test]
fn paused_in_a_worked_workspace_the_bar_offers_the_way_back_not_next() {
    let mut a = leased(Locale::PtBr, true);
    key(&mut a, "o");
    typed(&mut a, "não atendeu");
    key(&mut a, "ctrl-s");
    key(&mut a, "p");
    typed(&mut a, "café");
    key(&mut a, "enter");
    assert_eq!(a.agent.status, AgentStatus::Paused);
    assert!(a.work.is_some());
    a.notice = None;
    let bar = screen(&a, 80, 24).lines().last().unwrap().to_string();
    assert!(bar.starts_with(" p retomar  c ligar"), "{bar}");
    assert!(!bar.contains("próximo"), "{bar}");
}

/// A pause reason stops at the server's limit, saying so, rather than
/// being refused whole when sent.
#[test]
fn a_pause_reason_stops_at_the_limit() {
    let mut a = app(Locale::PtBr);
    key(&mut a, "p");
    typed(&mut a, &"ç".repeat(150));
    let Some(Overlay::Pause(reason)) = &a.overlay else {
        panic!("{:?}", a.overlay)
    };
    assert_eq!(reason.len(), crate::api::MAX_REASON);
    let (_, said) = a.notice.clone().unwrap();
    assert_eq!(said, "o motivo vai até 200 bytes");
}

/// The pause prompt is a screen of its own (`[keys.pause]`): the outcome
/// form's keys are not its (with `enter` moving between the form's fields,
/// a pause could not be sent).
#[test]
fn the_pause_prompt_has_keys_of_its_own() {
    let mut a = app(Locale::En);
    a.keymap = Keymap::with(
        &[super::keymap::Binding {
            mode: "outcome".into(),
            key: "enter".into(),
            steps: vec!["next-panel".into()],
            line: 1,
        }],
        &[],
    )
    .unwrap();
    key(&mut a, "p");
    assert_eq!(a.state()["screen"], "pause");
    typed(&mut a, "lunch");
    let fx = key(&mut a, "enter");
    assert!(a.overlay.is_none(), "sent: {:?}", a.overlay);
    assert!(
        fx.iter().any(|e| matches!(e, Effect::SetState { .. })),
        "{fx:?}"
    );
}

#[test]
fn dates_count_from_the_debtors_today_near_midnight() {
    let mut a = leased(Locale::PtBr, true);
    // 23:30 on 10 March in São Paulo, already 11 March in UTC.
    a.now = Utc.with_ymd_and_hms(2026, 3, 11, 2, 30, 0).unwrap();
    key(&mut a, "o");
    typed(&mut a, "parcel");
    key(&mut a, "tab");
    key(&mut a, "tab");
    typed(&mut a, "2");
    key(&mut a, "tab");
    typed(&mut a, "+1");
    // The preview counts as the form sends: tomorrow is the 11th there.
    let s = screen(&a, 80, 24);
    assert!(s.contains("11/03/2026 R$ 617,28"), "{s}");
    // A debt due later than the debtor's today "vence", one before "venceu".
    let mut d = debtor();
    d.debts[0].due_date = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
    a.overlay = None;
    a.update(Msg::Debtor(42, Ok(d)));
    let wide = screen(&a, 160, 40);
    assert!(wide.contains("vence em 10/03/2026"), "{wide}");
}

#[test]
fn pause_needs_a_reason_and_p_again_is_ready() {
    let mut a = app(Locale::En);
    key(&mut a, "p");
    assert!(key(&mut a, "enter").is_empty());
    typed(&mut a, "lunch");
    let fx = key(&mut a, "enter");
    assert_eq!(
        fx,
        vec![Effect::SetState {
            status: AgentStatus::Paused,
            reason: Some("lunch".into())
        }]
    );
    // The key bar leads with the way back.
    let bar = screen(&a, 80, 24).lines().last().unwrap().to_string();
    assert!(bar.starts_with(" p resume  / search"), "{bar}");
    assert!(key(&mut a, "n").is_empty(), "no leasing while paused");
    let fx = key(&mut a, "p");
    assert_eq!(
        fx,
        vec![Effect::SetState {
            status: AgentStatus::Ready,
            reason: None
        }]
    );
}

#[test]
fn live_changes_to_the_debtor_on_screen_reload_it() {
    let mut a = leased(Locale::En, true);
    let (fx, _) = a.update(Msg::Live {
        kind: "payment_recorded".into(),
        debtor: Some(42),
        ended: None,
    });
    assert_eq!(
        fx,
        vec![Effect::LoadDebtor {
            id: 42,
            reveal: false
        }]
    );
    let (fx, _) = a.update(Msg::Live {
        kind: "payment_recorded".into(),
        debtor: Some(7),
        ended: None,
    });
    assert!(fx.is_empty());
    // Queue counts are fetched on the next tick, once however many came.
    let (fx, _) = a.update(Msg::Tick(now() + chrono::Duration::seconds(1)));
    assert_eq!(fx, vec![Effect::LoadQueues]);
    let (fx, _) = a.update(Msg::Tick(now() + chrono::Duration::seconds(2)));
    assert!(fx.is_empty());
}

#[test]
fn the_queues_are_counted_again_once_the_stream_opens_and_after_a_drop() {
    let mut a = app(Locale::En);
    let tick = |a: &mut App, s| a.update(Msg::Tick(now() + chrono::Duration::seconds(s))).0;
    // The count at start may predate the stream's cursor.
    a.update(Msg::Connection(Ok(())));
    assert_eq!(tick(&mut a, 1), vec![Effect::LoadQueues]);
    a.update(Msg::Connection(Ok(())));
    assert_eq!(tick(&mut a, 2), vec![], "open all along: nothing missed");
    a.update(Msg::Connection(Err(Offline::Dropped("gone".into()))));
    assert_eq!(tick(&mut a, 3), vec![]);
    a.update(Msg::Connection(Ok(())));
    assert_eq!(tick(&mut a, 4), vec![Effect::LoadQueues]);
}

/// A pause (or any state) set while the server is away is sent again once
/// it is back: the board had shown the agent on a call long ended.
#[test]
fn a_state_that_did_not_reach_the_server_is_sent_again_when_it_is_back() {
    let mut a = app(Locale::PtBr);
    a.update(Msg::Connection(Ok(())));
    a.update(Msg::Connection(Err(Offline::Dropped("gone".into()))));
    key(&mut a, "p");
    typed(&mut a, "banheiro");
    let fx = key(&mut a, "enter");
    let paused = Effect::SetState {
        status: AgentStatus::Paused,
        reason: Some("banheiro".into()),
    };
    assert_eq!(fx, vec![paused.clone()]);
    a.update(Msg::State(Err("servidor inacessível".into())));
    a.say(Severity::Error, "servidor inacessível".into());
    let (fx, _) = a.update(Msg::Connection(Ok(())));
    assert_eq!(fx, vec![paused], "sent again");
    assert_eq!(
        a.notice,
        Some((Severity::Info, "conectado de novo ao servidor".into())),
        "what was said of the server being away is over"
    );
    let (fx, _) = a.update(Msg::Connection(Ok(())));
    assert!(fx.is_empty(), "once");
    a.update(Msg::Connection(Err(Offline::Dropped("gone".into()))));
    let (fx, _) = a.update(Msg::Connection(Ok(())));
    assert!(fx.is_empty(), "only what did not arrive");
}

/// A debtor let go while the server was away is let go again once it is
/// back, rather than held for nobody until the lease runs out.
#[test]
fn a_let_go_the_server_did_not_hear_is_sent_again_when_it_is_back() {
    let mut a = app(Locale::PtBr);
    a.update(Msg::Connection(Ok(())));
    a.update(Msg::Connection(Err(Offline::Dropped("gone".into()))));
    a.update(Msg::ReleaseFailed(77, "servidor inacessível".into()));
    let (fx, _) = a.update(Msg::Connection(Ok(())));
    assert!(fx.contains(&Effect::Release { lease: 77 }), "{fx:?}");
    a.update(Msg::Connection(Err(Offline::Dropped("gone".into()))));
    let (fx, _) = a.update(Msg::Connection(Ok(())));
    assert!(!fx.contains(&Effect::Release { lease: 77 }), "once: {fx:?}");
}

#[test]
fn n_offline_says_the_server_is_away() {
    let mut a = app(Locale::PtBr);
    a.update(Msg::Connection(Err(Offline::Dropped("gone".into()))));
    a.update(Msg::Queues(Err("servidor inacessível".into())));
    key(&mut a, "n");
    assert_eq!(
        a.notice.as_ref().unwrap().1,
        "sem conexão com o servidor: o próximo devedor vem quando ela voltar"
    );
}

#[test]
fn a_debtor_with_no_call_due_is_not_called_blocked() {
    let mut p = plan(false, Locale::PtBr);
    p.blocked.clear();
    let later = Utc.with_ymd_and_hms(2026, 3, 11, 13, 0, 0).unwrap();
    p.actions[0].at = Some(later);
    let zone = Some(chrono_tz::America::Sao_Paulo);
    assert_eq!(
        super::app::call_refusal(&p, zone, Locale::PtBr),
        "nenhuma ligação prevista agora — próxima qua 11/03 10:00 (hora local)"
    );
    p.actions.clear();
    p.state = "promise_pending".into();
    p.explanation[0] = "promessa para 12/03/2026: os passos firmes esperam".into();
    assert_eq!(
        super::app::call_refusal(&p, zone, Locale::PtBr),
        "nenhuma ligação prevista agora — promessa para 12/03/2026: os passos firmes esperam"
    );
}

#[test]
fn a_refused_token_says_signed_out_not_offline() {
    let mut a = app(Locale::PtBr);
    a.update(Msg::Connection(Ok(())));
    a.update(Msg::Connection(Err(Offline::Dropped("refused".into()))));
    let shown = screen(&a, 80, 24);
    assert!(
        shown.lines().next().unwrap().contains("⚠ sem conexão"),
        "{shown}"
    );
    a.update(Msg::Connection(Err(Offline::SignedOut)));
    let shown = screen(&a, 80, 24);
    let top = shown.lines().next().unwrap();
    assert!(
        top.contains("⚠ sessão encerrada") && !top.contains("sem conexão"),
        "{shown}"
    );
    assert!(
        shown.contains("sessão encerrada (saiu em outro lugar ou expirou): saia e entre novamente"),
        "{shown}"
    );
    // Said once, however often the stream is refused again.
    a.notice = None;
    a.update(Msg::Connection(Err(Offline::SignedOut)));
    assert_eq!(a.notice, None);
    a.update(Msg::Connection(Ok(())));
    assert!(!screen(&a, 80, 24).contains("sessão encerrada"));
}

#[test]
fn a_lease_the_server_ends_is_shown_lost() {
    let mut a = leased(Locale::En, true);
    let live = |kind: &str, ended| Msg::Live {
        kind: kind.into(),
        debtor: Some(42),
        ended,
    };
    // Another lease ending is not this one.
    a.update(live("lease_expired", Some(8)));
    assert_eq!(a.work.as_ref().unwrap().lease_lost, None);
    let (_, dirty) = a.update(live("lease_expired", Some(9)));
    assert!(dirty);
    let w = a.work.as_ref().unwrap();
    assert_eq!(w.lease_lost.as_deref(), Some("the lease ran out"));
    assert!(!w.unfinished(), "nothing left to owe on a lost lease");

    let mut a = leased(Locale::PtBr, true);
    a.update(live("lease_released", Some(9)));
    assert_eq!(
        a.work.as_ref().unwrap().lease_lost.as_deref(),
        Some("um supervisor liberou a reserva")
    );
}

#[test]
fn a_lost_lease_is_said_whole_at_80_columns_and_counts_no_time() {
    let mut a = leased(Locale::PtBr, true);
    assert!(screen(&a, 80, 24).contains("reserva 10 min"));
    a.update(Msg::LeaseLost(
        "servidor inacessível: não foi possível conectar (Connection refused (os error 111))"
            .into(),
    ));
    let s = screen(&a, 80, 24);
    let lines: Vec<&str> = s.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("RESERVA PERDIDA"))
        .unwrap_or_else(|| panic!("{s}"));
    assert_eq!(
        lines[at],
        "RESERVA PERDIDA: outro agente pode pegar este devedor (servidor inacessível:"
    );
    assert_eq!(
        lines[at + 1],
        "  não foi possível conectar (Connection refused (os error 111)))"
    );
    assert!(
        !s.contains("reserva 10 min") && !s.contains("reserva 0 min"),
        "{s}"
    );
}

#[test]
fn a_refused_write_is_said_at_once() {
    let mut a = leased(Locale::En, true);
    let (_, dirty) = a.update(Msg::Outbox(super::app::OutboxCount {
        waiting: 1,
        failed: 0,
        others: 0,
        last_error: None,
        refused_debtor: None,
    }));
    assert!(dirty);
    a.update(Msg::Outbox(super::app::OutboxCount {
        waiting: 0,
        failed: 1,
        others: 0,
        last_error: Some("the date is after 2026-03-25 (promise)".into()),
        refused_debtor: None,
    }));
    let (severity, text) = a.notice.clone().unwrap();
    assert_eq!(severity, super::app::Severity::Error);
    assert!(text.contains("refused: the date is after"), "{text}");
    assert!(screen(&a, 80, 24).contains("✗ 1 refused"));
}

/// The outbox as the runner reads it: a refused promise and a waiting
/// callback, the first about a debtor whose name was known, the second's
/// time in the zone it was typed in.
fn unsent() -> Vec<Unsent> {
    let promise = crate::api::OutcomeRequest {
        reason: Some(Reason::JobLoss),
        note: Some("Vai receber na sexta".into()),
        promise: Some(crate::api::PromiseRequest {
            amount_minor: 10_000,
            due_date: NaiveDate::from_ymd_opt(2026, 3, 15).unwrap(),
            settles: false,
        }),
        ..crate::api::OutcomeRequest::of(Disposition::PromiseToPay)
    };
    let callback = crate::api::OutcomeRequest {
        callback_at: Some(now() + chrono::Duration::hours(3)),
        ..crate::api::OutcomeRequest::of(Disposition::CallbackRequested)
    };
    vec![
        Unsent {
            id: 1,
            debtor_id: Some(42),
            gist: Gist {
                about: Some("Maria Aparecida Souza".into()),
                currency: Some(crate::domain::Currency::BRL),
                zone: None,
            },
            outcome: Some(promise),
            failed: true,
            attempts: 1,
            last_error: Some("este devedor está com outro agente".into()),
            created_at: now() - chrono::Duration::minutes(12),
            owner: None,
        },
        Unsent {
            id: 2,
            debtor_id: Some(77),
            gist: Gist {
                zone: Some(chrono_tz::America::Recife),
                ..Gist::default()
            },
            outcome: Some(callback),
            failed: false,
            attempts: 3,
            last_error: Some("servidor inacessível: não foi possível conectar".into()),
            created_at: now() - chrono::Duration::minutes(3),
            owner: None,
        },
        Unsent {
            id: 3,
            debtor_id: Some(81),
            gist: Gist {
                about: Some("João Batista".into()),
                ..Gist::default()
            },
            outcome: Some(crate::api::OutcomeRequest::of(Disposition::LeftMessage)),
            failed: false,
            attempts: 1,
            last_error: None,
            created_at: now() - chrono::Duration::hours(20),
            owner: Some("bruno@https://cobranca.example".into()),
        },
    ]
}

fn with_outbox(mut a: App) -> App {
    a.update(Msg::Outbox(super::app::OutboxCount {
        waiting: 1,
        failed: 1,
        others: 1,
        last_error: Some("este devedor está com outro agente".into()),
        refused_debtor: None,
    }));
    a
}

#[test]
fn a_refusal_says_where_to_see_it_and_the_bar_leads_there() {
    let a = with_outbox(app(Locale::PtBr));
    let (_, text) = a.notice.clone().unwrap();
    assert_eq!(
        text,
        "recusado: este devedor está com outro agente (e: ver os envios)"
    );
    let mut a = a;
    a.notice = None;
    let bar = screen(&a, 80, 24).lines().last().unwrap().to_string();
    assert!(bar.trim_start().starts_with("e envios  n próximo"), "{bar}");
    // Nothing refused: the bar is as it was.
    let plain = app(Locale::PtBr);
    let bar = screen(&plain, 80, 24).lines().last().unwrap().to_string();
    assert!(bar.trim_start().starts_with("n próximo"), "{bar}");
}

#[test]
fn the_outbox_screen_retries_and_discards_a_refusal_and_opens_its_debtor() {
    let mut a = with_outbox(app(Locale::PtBr));
    assert_eq!(key(&mut a, "e"), vec![Effect::LoadOutbox]);
    assert!(screen(&a, 80, 24).contains("carregando"));
    a.update(Msg::Unsent(Ok(unsent())));
    let s = screen(&a, 80, 24);
    assert!(
        s.contains("✗ recusado  há 12m  Maria Aparecida Souza · devedor 42"),
        "{s}"
    );
    // Cut where the box ends, saying so.
    assert!(
        s.contains("promessa de pagamento (perdeu o emprego) de R$ 100,00 para 15/03/2026: Vai…"),
        "{s}"
    );
    assert!(
        s.contains("este devedor está com outro agente · 1 tentativa"),
        "{s}"
    );
    assert!(s.contains("⇡ aguardando  há 3m  devedor 77"), "{s}");
    assert!(
        s.contains("tentando de novo sozinho (3 tentativas) — servidor inacessível: não foi pos…"),
        "{s}"
    );

    assert_eq!(key(&mut a, "r"), vec![Effect::RetryUnsent { id: 1 }]);
    assert_eq!(key(&mut a, "d"), vec![], "asked first");
    assert!(
        a.notice
            .as_ref()
            .unwrap()
            .1
            .contains("d de novo para confirmar")
    );
    assert_eq!(key(&mut a, "d"), vec![Effect::DiscardUnsent { id: 1 }]);
    // Each attempt the sender reports is read again, even one that changes
    // no count (sent again, refused again).
    let same = a.outbox.clone();
    assert_eq!(a.update(Msg::Outbox(same)).0, vec![Effect::LoadOutbox]);
    // The counts change while that read is on its way: one more read
    // follows it, not one per report.
    let (fx, _) = a.update(Msg::Outbox(super::app::OutboxCount {
        waiting: 1,
        failed: 0,
        others: 0,
        last_error: None,
        refused_debtor: None,
    }));
    assert_eq!(fx, vec![]);
    let (fx, _) = a.update(Msg::Unsent(Ok(unsent())));
    assert_eq!(fx, vec![Effect::LoadOutbox]);
    a.update(Msg::Unsent(Ok(unsent().split_off(1))));
    assert!(!screen(&a, 80, 24).contains("recusado  há"));
    // A waiting write goes by itself: no retry, no discard.
    assert_eq!(key(&mut a, "r"), vec![]);
    assert_eq!(key(&mut a, "d"), vec![]);
    assert_eq!(key(&mut a, "d"), vec![], "never discarded");
    // Enter opens the debtor it is about, to read.
    assert_eq!(
        key(&mut a, "enter"),
        vec![Effect::LoadDebtor {
            id: 77,
            reveal: false
        }]
    );
    assert!(a.overlay.is_none());
    assert_eq!(a.work.as_ref().unwrap().debtor_id, 77);
}

#[test]
fn the_outbox_help_lists_what_it_answers_not_what_it_swallows() {
    let mut a = with_outbox(app(Locale::En));
    key(&mut a, "e");
    a.update(Msg::Unsent(Ok(unsent())));
    key(&mut a, "?");
    let s = screen(&a, 80, 24);
    assert!(s.contains("· retry") && s.contains("· discard"), "{s}");
    assert!(
        !s.contains("· lease-next") && !s.contains("· search"),
        "{s}"
    );
}

#[test]
fn the_outbox_does_not_open_another_debtor_over_an_unfinished_one() {
    let mut a = with_outbox(leased(Locale::En, true));
    key(&mut a, "e");
    a.update(Msg::Unsent(Ok(unsent())));
    // The first write is about the debtor on screen: back to them.
    assert_eq!(key(&mut a, "enter"), vec![]);
    assert!(a.overlay.is_none());
    key(&mut a, "e");
    a.update(Msg::Unsent(Ok(unsent())));
    key(&mut a, "down");
    assert_eq!(key(&mut a, "enter"), vec![]);
    assert_eq!(a.work.as_ref().unwrap().debtor_id, 42, "kept");
    assert!(
        a.notice
            .as_ref()
            .unwrap()
            .1
            .contains("record an outcome (o)")
    );
}

/// Debtor 42 leased, with the agent's `crm` command and two chains bound.
fn with_commands(locale: Locale) -> App {
    let mut a = leased(locale, true);
    let crm = crate::config::UserCommand {
        name: "crm".into(),
        run: vec![
            "xdg-open".into(),
            "https://crm.example/{external_id}?tel={phone}&n={name}".into(),
        ],
        help: Some("abrir a ficha no CRM".into()),
        background: true,
        line: 1,
    };
    let bind = |mode: &str, key: &str, steps: &[&str]| super::keymap::Binding {
        mode: mode.into(),
        key: key.into(),
        steps: steps.iter().map(|s| s.to_string()).collect(),
        line: 2,
    };
    a.keymap = Keymap::with(
        &[
            bind("workspace", "ctrl-o", &["crm"]),
            bind("queues", "ctrl-o", &["crm"]),
            bind("workspace", "Q", &["quit", "lease-next"]),
            bind("queues", "ctrl-s", &["search", "down"]),
            bind("help", "ctrl-s", &["search", "down"]),
            bind("workspace", "N", &["release-lease", "lease-next"]),
            bind("workspace", "ctrl-p", &["crm", "record-outcome"]),
            bind("queues", "ctrl-n", &["lease-next", "crm", "call"]),
            bind("workspace", "ctrl-n", &["lease-next", "crm", "call"]),
        ],
        &[crm],
    )
    .unwrap();
    a
}

/// A message that names a key names the one the keymap has now, not the
/// default the agent rebound.
#[test]
fn messages_name_keys_as_they_are_bound() {
    let mut a = leased(Locale::PtBr, true);
    let bind = |key: &str, action: &str| super::keymap::Binding {
        mode: "workspace".into(),
        key: key.into(),
        steps: vec![action.to_string()],
        line: 1,
    };
    a.keymap = Keymap::with(
        &[
            bind("o", "none"),
            bind("ctrl-o", "record-outcome"),
            bind("x", "none"),
            bind("ctrl-x", "release-lease"),
        ],
        &[],
    )
    .unwrap();
    key(&mut a, "n");
    let (_, said) = a.notice.clone().unwrap();
    assert_eq!(
        said,
        "registre um resultado (ctrl-o) ou devolva o devedor à fila (ctrl-x) antes"
    );
}

/// The word after an outcome and the form's button name the keys bound.
#[test]
fn the_next_debtor_and_submit_are_said_with_their_keys_as_bound() {
    let mut a = leased(Locale::En, true);
    assert_eq!(a.recorded(), "Outcome recorded. n: next debtor");
    let bind = |mode: &str, key: &str, action: &str| super::keymap::Binding {
        mode: mode.into(),
        key: key.into(),
        steps: vec![action.to_string()],
        line: 1,
    };
    a.keymap = Keymap::with(
        &[
            bind("global", "n", "none"),
            bind("workspace", "space", "lease-next"),
            bind("outcome", "ctrl-s", "none"),
            bind("outcome", "ctrl-x", "submit"),
        ],
        &[],
    )
    .unwrap();
    assert_eq!(a.recorded(), "Outcome recorded. space: next debtor");
    key(&mut a, "o");
    let screen = screen(&a, 100, 30);
    assert!(screen.contains("[ Record ]  ctrl-x"), "{screen}");
    assert!(!screen.contains("ctrl-s"), "{screen}");
}

#[test]
fn a_command_runs_on_the_debtor_on_screen_with_their_facts() {
    let mut a = with_commands(Locale::PtBr);
    assert_eq!(
        key(&mut a, "ctrl-o"),
        vec![Effect::RunCommand {
            name: "crm".into(),
            args: vec![
                "xdg-open".into(),
                "https://crm.example/C-0042?tel=+5511987654321&n=Maria Aparecida Souza".into()
            ],
            background: true,
        }]
    );
    // A chain goes in turn: the command, then the form it opens.
    let fx = key(&mut a, "ctrl-p");
    assert!(
        matches!(fx.as_slice(), [Effect::RunCommand { .. }]),
        "{fx:?}"
    );
    assert!(matches!(a.overlay, Some(Overlay::Outcome(_))));
    // With no debtor on screen there is nothing to run it on.
    let mut q = with_commands(Locale::PtBr);
    q.work = None;
    assert_eq!(key(&mut q, "ctrl-o"), vec![]);
    assert_eq!(q.notice.unwrap().1, "crm: abra um devedor antes");
}

#[test]
fn a_chain_goes_in_turn_each_step_on_the_state_the_one_before_left() {
    let mut a = with_commands(Locale::En);
    let fx = key(&mut a, "N");
    assert_eq!(
        fx,
        vec![
            Effect::Release { lease: 9 },
            Effect::LoadQueues,
            Effect::Lease {
                queue: "early".into()
            }
        ]
    );
    // Where the one given back went: the server keeps them for the others.
    assert_eq!(
        a.notice.as_ref().unwrap().1,
        "Maria Aparecida Souza: back in the queue, yours after the others"
    );
    // After quit nothing more is done: no debtor leased on the way out.
    let mut a = with_commands(Locale::En);
    let fx = key(&mut a, "Q");
    assert!(a.quit);
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Lease { .. })),
        "{fx:?}"
    );
    // A step that opens a screen hands the next to it.
    let mut q = with_commands(Locale::En);
    q.work = None;
    key(&mut q, "ctrl-s");
    assert!(matches!(q.overlay, Some(Overlay::Search(_))));
    // On the help screen a chain's key only closes it, as any key does.
    let mut h = with_commands(Locale::En);
    h.work = None;
    key(&mut h, "?");
    assert_eq!(key(&mut h, "ctrl-s"), vec![]);
    assert!(h.overlay.is_none(), "closed, and no search opened");
    // A step that cannot be done ends the chain, and its word stays: the
    // command could not run, so no form opened after it.
    let mut w = with_commands(Locale::En);
    w.work.as_mut().unwrap().debtor = Remote::Loading;
    key(&mut w, "ctrl-p");
    assert_eq!(w.notice.as_ref().unwrap().1, "crm: loading…");
    assert!(w.overlay.is_none());
    // The help lists what the agent added, with what it does.
    let mut a = with_commands(Locale::En);
    key(&mut a, "?");
    let s = screen(&a, 120, 50);
    assert!(
        s.contains("ctrl-o          abrir a ficha no CRM · crm"),
        "{s}"
    );
    assert!(
        s.contains("N               in turn · release-lease → lease-next"),
        "{s}"
    );
}

#[test]
fn help_lists_the_live_keymap_in_the_agents_language() {
    let mut a = leased(Locale::En, true);
    key(&mut a, "?");
    let s = screen(&a, 120, 40);
    assert!(
        s.contains("o               record what came of the contact · record-outcome"),
        "{s}"
    );
    let mut a = leased(Locale::PtBr, true);
    key(&mut a, "?");
    let s = screen(&a, 120, 40);
    assert!(
        s.contains("o               registrar o resultado do contato · record-outcome"),
        "{s}"
    );
    assert!(!s.contains("record what came"), "{s}");
}

/// The rows of a screen between two borders (the inside of a box).
fn inside(s: &str) -> Vec<String> {
    s.lines()
        .filter_map(|l| l.strip_prefix('│'))
        .map(|l| l.trim_end_matches('│').trim_end().to_string())
        .collect()
}

#[test]
fn help_at_80x24_folds_under_its_column_and_scrolls_to_its_end_and_no_further() {
    let mut a = leased(Locale::PtBr, true);
    key(&mut a, "?");
    let s = screen(&a, 80, 24);
    // A description too long for the row goes on under itself.
    let rows = inside(&s);
    let x = rows.iter().position(|r| r.starts_with("x ")).unwrap();
    let end = x + rows[x..]
        .iter()
        .position(|r| r.ends_with("· release-lease"))
        .unwrap();
    assert!(end > x, "{s}");
    assert!(
        rows[x + 1..=end]
            .iter()
            .all(|r| r.starts_with(&" ".repeat(16))),
        "{s}"
    );
    assert!(s.contains(" ↓ ┘") && !s.contains(" ↑ ┐"), "{s}");
    // The key bar says it scrolls, as it does not when all of it fits.
    assert!(s.lines().last().unwrap().contains("j rolar"), "{s}");
    assert!(
        !screen(&a, 120, 60)
            .lines()
            .last()
            .unwrap()
            .contains("j rolar")
    );
    // The last key is below the fold: the agent scrolls to it, drawn
    // after each key as the console draws.
    assert!(!s.contains("· outbox"), "{s}");
    for _ in 0..40 {
        key(&mut a, "j");
        screen(&a, 80, 24);
    }
    let end = screen(&a, 80, 24);
    let rows = inside(&end);
    assert!(rows.last().unwrap().contains("· outbox"), "{end}");
    assert!(end.contains(" ↑ ┐") && !end.contains(" ↓ ┘"), "{end}");
    // One key back is one row back, not forty.
    key(&mut a, "k");
    let back = inside(&screen(&a, 80, 24));
    assert_eq!(back[1..], rows[..rows.len() - 1], "{end}");
    // Another key closes it.
    key(&mut a, "/");
    assert!(a.overlay.is_none());
}

#[test]
fn a_panel_scrolls_to_its_last_line_and_no_further() {
    // Short enough that the talking points do not fit.
    let mut a = leased(Locale::PtBr, true);
    let first = inside(&screen(&a, 80, 12));
    for _ in 0..200 {
        key(&mut a, "j");
        screen(&a, 80, 12);
    }
    let end = inside(&screen(&a, 80, 12));
    // The talking points' last line is at the bottom (with at most the
    // blank line the text ends with), not above rows of nothing.
    let whole = inside(&screen(&leased(Locale::PtBr, true), 80, 200));
    let last = whole.iter().rfind(|r| !r.is_empty()).unwrap();
    assert_ne!(end, first);
    let at = end.iter().rposition(|r| !r.is_empty()).unwrap();
    assert_eq!(&end[at], last, "{end:?}");
    assert!(end.len() - at <= 2, "{end:?}");
    key(&mut a, "k");
    let back = inside(&screen(&a, 80, 12));
    assert_eq!(back[1..], end[..end.len() - 1]);
}

#[test]
fn the_key_bar_keeps_the_key_to_the_help_when_it_is_narrow() {
    let a = leased(Locale::PtBr, true);
    let bar = |w| screen(&a, w, 24).lines().last().unwrap().to_string();
    assert!(bar(80).ends_with("? ajuda"), "{}", bar(80));
    assert!(bar(40).ends_with("? ajuda"), "{}", bar(40));
    assert!(bar(120).contains("/ buscar"), "{}", bar(120));
}

macro_rules! snapshots {
    ($($name:ident: $make:expr;)*) => {
        $(
            #[test]
            fn $name() {
                let a: App = $make;
                insta::assert_snapshot!(concat!(stringify!($name), "_80x24"), screen(&a, 80, 24));
                insta::assert_snapshot!(concat!(stringify!($name), "_120x40"), screen(&a, 120, 40));
            }
        )*
    };
}

snapshots! {
    queues_screen: app(Locale::PtBr);
    workspace_screen: leased(Locale::PtBr, true);
    workspace_blocked_en: leased(Locale::En, false);
    outcome_form_plan: {
        let mut a = leased(Locale::PtBr, true);
        key(&mut a, "o");
        typed(&mut a, "parcel");
        key(&mut a, "tab");
        key(&mut a, "tab");
        typed(&mut a, "4");
        key(&mut a, "tab");
        typed(&mut a, "15/03/2026");
        a
    };
    search_screen: {
        let mut a = app(Locale::En);
        key(&mut a, "/");
        typed(&mut a, "maria");
        a.update(Msg::Found { seq: 5, result: Ok(vec![DebtorSummary {
            id: 42, external_id: "C-0042".into(), name: "Maria Aparecida Souza".into(), document: "***.456.789-**".into(),
        }]) });
        a
    };
    help_screen: {
        let mut a = app(Locale::En);
        key(&mut a, "?");
        a
    };
    outbox_screen: {
        let mut a = with_outbox(app(Locale::PtBr));
        key(&mut a, "e");
        a.update(Msg::Unsent(Ok(unsent())));
        a
    };
    outbox_empty_en: {
        let mut a = app(Locale::En);
        key(&mut a, "e");
        a.update(Msg::Unsent(Ok(vec![])));
        a
    };
}

#[test]
fn a_call_the_server_refuses_is_said_in_the_agents_language_and_the_debtors_time() {
    let mut a = leased(Locale::PtBr, true);
    key(&mut a, "c");
    let refusal = crate::client::ClientError::Api {
        status: 409,
        code: "call_blocked".into(),
        message: "call window of São Paulo: weekdays, after 20:00; a call is allowed from …".into(),
        field: None,
        details: Some(serde_json::json!({
            "rule": "call_window",
            "clears_at": "2026-03-11T11:00:00Z",
        })),
    };
    a.update(Msg::CallRefused(refusal));
    let (severity, text) = a.notice.clone().unwrap();
    assert_eq!(severity, super::app::Severity::Error);
    assert_eq!(
        text,
        "ligação bloqueada até qua 11/03 08:00 (hora local) — fora do horário"
    );
    assert!(!a.work.as_ref().unwrap().calling);
}

#[test]
fn the_plan_panel_shows_the_summary_under_the_actions_or_a_servers_whole_explanation() {
    let plan_panel = |p: PlanView| {
        let mut a = leased(Locale::PtBr, true);
        a.update(Msg::Plan(42, Ok(p)));
        key(&mut a, "tab");
        key(&mut a, "tab");
        screen(&a, 80, 24)
    };
    let s = plan_panel(plan(true, Locale::PtBr));
    assert!(s.contains("prioridade 612"), "{s}");
    assert!(
        !s.contains("agora ligação (amigável)"),
        "the action is drawn once: {s}"
    );
    // A server that sends no summary: its explanation, whole.
    let mut older = plan(true, Locale::PtBr);
    older.summary.clear();
    let s = plan_panel(older);
    assert!(
        s.contains("agora ligação (amigável)") && s.contains("prioridade 612"),
        "{s}"
    );
}

#[test]
fn an_open_promise_is_shown_on_its_own_line_by_its_date() {
    let mut a = leased(Locale::PtBr, true);
    let mut events = timeline();
    events.push(Event {
        at: Utc.with_ymd_and_hms(2026, 3, 10, 13, 0, 0).unwrap(),
        kind: EventKind::Promise {
            amount: brl(30_000),
            date: NaiveDate::from_ymd_opt(2026, 3, 12).unwrap(),
            grace_days: 2,
            forgives: Some(Box::new(brl(4_500))),
        },
    });
    a.update(Msg::Timeline(42, Ok(events)));
    let s = screen(&a, 160, 40);
    let rows = inside(&s);
    assert!(
        rows.iter()
            .any(|r| r.starts_with("  em aberto: R$ 300,00 para 12/03/2026")),
        "{s}"
    );
    // A settlement says what keeping it forgives.
    assert!(
        rows.iter()
            .any(|r| r.starts_with("  quitação: perdoa R$ 45,00")),
        "{s}"
    );
    assert!(!s.contains("parcela"), "a single promise: {s}");
    // A plan's installment says how many follow it.
    let mut events = timeline();
    events.push(Event {
        at: Utc.with_ymd_and_hms(2026, 3, 10, 13, 0, 0).unwrap(),
        kind: EventKind::InstallmentPlan {
            installments: [12, 19, 26]
                .map(|d| Installment {
                    date: NaiveDate::from_ymd_opt(2026, 3, d).unwrap(),
                    amount: brl(10_000),
                })
                .into(),
            grace_days: 0,
        },
    });
    a.update(Msg::Timeline(42, Ok(events)));
    let s = screen(&a, 160, 40);
    let rows = inside(&s);
    let at = rows
        .iter()
        .position(|r| r.starts_with("  em aberto: R$ 100,00 para 12/03/2026"))
        .unwrap_or_else(|| panic!("{s}"));
    assert!(rows[at + 1].starts_with("  mais 2 parcelas depois"), "{s}");
}

/// Queues on screen, `ctrl-n` pressed: `lease-next → crm → call`.
fn chain_leasing(locale: Locale) -> App {
    let mut a = with_commands(locale);
    a.work = None;
    assert_eq!(
        key(&mut a, "ctrl-n"),
        vec![Effect::Lease {
            queue: "early".into()
        }]
    );
    a
}

/// Debtor 42 leased from "early" under `lease`.
fn leased_42(lease: i64) -> Msg {
    Msg::Leased {
        queue: "early".into(),
        result: Ok(Some(LeaseResponse {
            lease: LeaseView {
                id: lease,
                expires_at: now() + chrono::Duration::minutes(10),
            },
            debtor: debtor(),
        })),
    }
}

#[test]
fn a_chain_waits_for_the_debtor_it_leased_before_its_next_step() {
    let mut a = chain_leasing(Locale::En);
    // The lease came, the rest of the file not yet: nothing runs on half
    // a debtor.
    let (fx, _) = a.update(leased_42(10));
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::RunCommand { .. } | Effect::Call { .. })),
        "{fx:?}"
    );
    a.update(Msg::Timeline(42, Ok(timeline())));
    let (fx, _) = a.update(Msg::Plan(42, Ok(plan(true, Locale::En))));
    assert_eq!(fx, vec![]);
    let (fx, _) = a.update(Msg::Script(42, Ok(script())));
    assert!(
        matches!(
            fx.as_slice(),
            [
                Effect::RunCommand { .. },
                Effect::SetState { .. },
                Effect::Call { debtor_id: 42, .. }
            ]
        ),
        "{fx:?}"
    );
    // Done: later answers run nothing more.
    let (fx, _) = a.update(Msg::CallEnded(Ok(())));
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::RunCommand { .. } | Effect::Call { .. })),
        "{fx:?}"
    );
}

#[test]
fn a_chain_ends_when_the_server_says_no_or_the_agent_takes_over() {
    // Nobody to call: the rest is not done on whatever is on screen.
    let mut a = chain_leasing(Locale::En);
    let (fx, _) = a.update(Msg::Leased {
        queue: "early".into(),
        result: Ok(None),
    });
    assert_eq!(fx, vec![]);
    assert_eq!(
        a.notice.as_ref().unwrap().1,
        "nobody in this queue may be called now"
    );
    let (fx, _) = a.update(Msg::Tick(now()));
    assert_eq!(fx, vec![Effect::LoadQueues]);
    // A key of the agent's own while the chain waits: it stops there.
    let mut a = chain_leasing(Locale::PtBr);
    a.update(leased_42(10));
    key(&mut a, "j");
    assert_eq!(
        a.notice.as_ref().unwrap().1,
        "sequência interrompida: o resto não foi feito"
    );
    a.update(Msg::Timeline(42, Ok(timeline())));
    a.update(Msg::Plan(42, Ok(plan(true, Locale::PtBr))));
    let (fx, _) = a.update(Msg::Script(42, Ok(script())));
    assert_eq!(fx, vec![]);
    // A step that cannot be done ends it before it asks anything: the
    // debtor on screen is owed an outcome, so no lease, and no call on
    // them either.
    let mut w = with_commands(Locale::En);
    let fx = key(&mut w, "ctrl-n");
    assert_eq!(fx, vec![]);
    assert!(w.notice.as_ref().unwrap().1.contains("record an outcome"));
}

#[test]
fn a_chain_from_the_shell_goes_as_a_key_and_the_state_says_what_is_on_screen() {
    let mut a = with_commands(Locale::En);
    let state = a.state();
    assert_eq!(state["screen"], "workspace");
    assert_eq!(state["status"], "ready");
    assert_eq!(state["debtor"]["id"], 42);
    assert_eq!(state["debtor"]["name"], "Maria Aparecida Souza");
    assert_eq!(state["debtor"]["lease_id"], 9);
    assert!(a.settled());
    let crm = a.keymap.step("crm").unwrap();
    let form = a.keymap.step("record-outcome").unwrap();
    let (fx, _) = a.update(Msg::Control(vec![crm.into(), form.into()]));
    assert!(
        matches!(fx.as_slice(), [Effect::RunCommand { .. }]),
        "{fx:?}"
    );
    assert_eq!(a.state()["screen"], "outcome");
    // What stopped it is in the state, as on the key bar.
    let mut w = with_commands(Locale::En);
    let next = w.keymap.step("lease-next").unwrap();
    w.update(Msg::Control(vec![next.into()]));
    assert_eq!(w.state()["notice"]["severity"], "warn");
    assert!(w.settled());
}

#[test]
fn next_before_the_queues_have_come_says_so_and_ends_a_chain() {
    let mut a = App::new(
        Locale::PtBr,
        with_commands(Locale::PtBr).keymap,
        "ana".into(),
        "embedded".into(),
        now(),
    );
    assert_eq!(key(&mut a, "ctrl-n"), vec![]);
    assert_eq!(
        a.notice.as_ref().unwrap().1,
        "as filas ainda estão carregando"
    );
    a.update(Msg::Queues(Ok(Vec::new())));
    key(&mut a, "n");
    assert_eq!(a.notice.as_ref().unwrap().1, "nenhuma fila de onde pegar");
}

/// A line from the shell as the loop receives it.
fn line(a: &App, text: &str) -> Msg {
    Msg::Control(super::control::links(&a.keymap, text).unwrap().unwrap())
}

#[test]
fn text_from_the_shell_fills_the_form_a_field_at_a_time_and_a_refusal_ends_the_chain() {
    let mut a = leased(Locale::PtBr, true);
    let msg = line(
        &a,
        "record-outcome type promessa next-panel next-panel type 250,00 submit back",
    );
    let (fx, _) = a.update(msg);
    assert_eq!(fx, vec![]);
    // `submit` refused the missing date, so `back` did not close the form.
    let state = a.state();
    assert_eq!(state["screen"], "outcome", "{state}");
    assert_eq!(state["input"]["disposition"], "promise_to_pay", "{state}");
    assert_eq!(state["input"]["field"], "date", "{state}");
    assert_eq!(state["input"]["error"]["field"], "date", "{state}");
    assert_eq!(
        state["input"]["typed"],
        serde_json::json!({"amount": "250,00", "date": "", "note": ""}),
        "{state}"
    );
    // Refused again with the same complaint: still the end of the chain.
    a.update(line(&a, "submit back"));
    assert_eq!(a.state()["screen"], "outcome");
    let msg = line(&a, r#"type +5 next-panel type "vai pagar na sexta" submit"#);
    let (fx, _) = a.update(msg);
    let recorded = fx.iter().find_map(|e| match e {
        Effect::Record { request, .. } => Some(request),
        _ => None,
    });
    let request = recorded.unwrap_or_else(|| panic!("{fx:?}"));
    assert_eq!(request.note.as_deref(), Some("vai pagar na sexta"));
    let promise = request.promise.as_ref().unwrap();
    assert_eq!(promise.amount_minor, 25_000);
    assert_eq!(
        promise.due_date,
        NaiveDate::from_ymd_opt(2026, 3, 15).unwrap()
    );
    assert_eq!(a.state()["input"], serde_json::Value::Null);
    // Nothing open takes text: said, and the chain ends there.
    let (fx, _) = a.update(line(&a, "type x lease-next"));
    assert_eq!(fx, vec![]);
    assert_eq!(
        a.notice.as_ref().unwrap().1,
        "type: nenhum campo aberto para digitar"
    );
}

#[test]
fn a_search_typed_from_the_shell_asks_once_and_the_chain_waits_for_what_it_finds() {
    let mut a = app(Locale::En);
    let (fx, _) = a.update(line(&a, "search type 'maria souza' select"));
    assert_eq!(
        fx,
        vec![Effect::Search {
            query: "maria souza".into(),
            seq: 11
        }],
        "one question, for all of it"
    );
    assert!(!a.settled(), "the results are still on their way");
    assert_eq!(a.state()["input"]["results"], serde_json::Value::Null);
    let found = DebtorSummary {
        id: 42,
        external_id: "C-0042".into(),
        name: "Maria Aparecida Souza".into(),
        document: "***".into(),
    };
    let (fx, _) = a.update(Msg::Found {
        seq: 11,
        result: Ok(vec![found]),
    });
    // `select` waited for them, and opened the one found.
    assert_eq!(
        fx,
        vec![Effect::LoadDebtor {
            id: 42,
            reveal: false
        }]
    );
    assert_eq!(a.state()["screen"], "workspace");
    // A search with nothing typed waits on nothing.
    let mut b = app(Locale::En);
    b.update(line(&b, "search"));
    assert!(b.settled());
    assert_eq!(b.state()["input"]["query"], "");
}

/// `select` with nothing found ends the chain: a command after it had run
/// on the debtor behind the search.
#[test]
fn a_search_that_finds_nobody_ends_the_chain_before_its_command() {
    let mut a = with_commands(Locale::En);
    let (fx, _) = a.update(line(&a, "search type zzzzqqq select crm"));
    assert!(matches!(fx.as_slice(), [Effect::Search { .. }]), "{fx:?}");
    let seq = match &fx[0] {
        Effect::Search { seq, .. } => *seq,
        _ => unreachable!(),
    };
    let (fx, _) = a.update(Msg::Found {
        seq,
        result: Ok(vec![]),
    });
    assert_eq!(fx, vec![], "nothing run on the debtor behind the search");
    assert_eq!(a.notice, Some((Severity::Warn, "nothing found".into())));
    assert!(a.settled());
}

/// A command that has the terminal holds the rest of its chain until it
/// ends; one that fails (or cannot start, or is stopped) ends it.
#[test]
fn a_chain_waits_for_a_command_that_has_the_terminal_and_ends_if_it_fails() {
    let notes = crate::config::UserCommand {
        name: "notes".into(),
        run: vec!["less".into(), "{debtor_id}".into()],
        help: None,
        background: false,
        line: 1,
    };
    let chained = || {
        let mut a = leased(Locale::En, true);
        a.keymap = Keymap::with(
            &[super::keymap::Binding {
                mode: "workspace".into(),
                key: "ctrl-f".into(),
                steps: vec!["notes".into(), "record-outcome".into()],
                line: 2,
            }],
            std::slice::from_ref(&notes),
        )
        .unwrap();
        let fx = key(&mut a, "ctrl-f");
        assert!(
            matches!(
                fx.as_slice(),
                [Effect::RunCommand {
                    background: false,
                    ..
                }]
            ),
            "{fx:?}"
        );
        assert!(a.overlay.is_none(), "the form waits for the command");
        assert!(!a.settled());
        a
    };
    let mut a = chained();
    a.update(Msg::CommandEnded(Ok(())));
    assert!(matches!(a.overlay, Some(Overlay::Outcome(_))));
    assert!(a.settled());

    let mut a = chained();
    a.update(Msg::CommandEnded(Err("notes ended with code 3".into())));
    assert!(a.overlay.is_none(), "the chain ended with the command");
    assert_eq!(
        a.notice,
        Some((Severity::Warn, "notes ended with code 3".into()))
    );
    assert!(a.settled());
}

#[test]
fn a_line_from_the_shell_is_done_whole_with_the_help_open() {
    let mut a = app(Locale::En);
    key(&mut a, "?");
    assert_eq!(a.state()["screen"], "help");
    let (fx, _) = a.update(line(&a, "lease-next"));
    assert_eq!(
        fx,
        vec![Effect::Lease {
            queue: "early".into()
        }]
    );
}

/// A paste is text in the field, never keystrokes: its line break had
/// submitted the form and the letters after it run as commands.
#[test]
fn a_paste_types_into_the_field_and_runs_nothing() {
    let mut a = leased(Locale::PtBr, true);
    key(&mut a, "o");
    typed(&mut a, "recado");
    key(&mut a, "tab");
    key(&mut a, "tab");
    assert_eq!(a.state()["input"]["field"], "note");
    let (fx, _) = a.update(Msg::Paste(
        "linha1\r\nlinha2\u{1b}[31mVERMELHO\u{7}\tTAB\nlinha3 q".into(),
    ));
    assert_eq!(fx, vec![], "nothing submitted, leased or quit");
    assert!(!a.quit);
    let state = a.state();
    assert_eq!(
        state["input"]["typed"]["note"], "linha1\nlinha2[31mVERMELHO TAB\nlinha3 q",
        "{state}"
    );
    // Elsewhere a line break is a space; outside a field nothing happens.
    key(&mut a, "esc");
    key(&mut a, "esc");
    key(&mut a, "/");
    let (fx, _) = a.update(Msg::Paste("Maria\nSouza".into()));
    assert_eq!(a.state()["input"]["query"], "Maria Souza");
    assert_eq!(fx.len(), 1, "one search: {fx:?}");
    key(&mut a, "esc");
    let (fx, _) = a.update(Msg::Paste("nq".into()));
    assert_eq!(fx, vec![]);
    assert!(!a.quit);
    assert_eq!(
        a.notice.as_ref().unwrap().1,
        "texto colado fora de um campo: nada foi feito"
    );
}

/// A stray esc, or ctrl-c pressed to copy, does not throw away what was
/// typed during a call: the first only asks.
#[test]
fn leaving_a_filled_form_asks_first() {
    let mut a = leased(Locale::PtBr, true);
    key(&mut a, "o");
    // An empty form closes at once.
    key(&mut a, "esc");
    assert_eq!(a.state()["input"], serde_json::Value::Null);
    key(&mut a, "o");
    typed(&mut a, "promessa");
    key(&mut a, "esc");
    assert_eq!(a.state()["screen"], "outcome");
    assert_eq!(
        a.notice.as_ref().unwrap().1,
        "o resultado ainda não foi registrado: esc de novo para fechar sem registrar"
    );
    // Anything else in between asks again.
    key(&mut a, "tab");
    key(&mut a, "esc");
    assert_eq!(a.state()["screen"], "outcome");
    key(&mut a, "esc");
    assert_eq!(a.state()["input"], serde_json::Value::Null);
    // Quitting from a filled form.
    key(&mut a, "o");
    typed(&mut a, "recado");
    assert!(key(&mut a, "ctrl-c").is_empty());
    assert!(!a.quit);
    typed(&mut a, "x");
    assert!(
        key(&mut a, "ctrl-c").is_empty(),
        "typing in between asks again"
    );
    let fx = key(&mut a, "ctrl-c");
    assert!(a.quit);
    assert!(fx.contains(&Effect::Quit), "{fx:?}");
}

/// Back to the queues after an outcome lets the debtor go, as `n` does:
/// the lease had stayed until it ran out, the debtor out of every queue.
#[test]
fn back_to_the_queues_after_an_outcome_lets_the_debtor_go() {
    let mut a = leased(Locale::PtBr, true);
    key(&mut a, "o");
    typed(&mut a, "recado");
    let fx = key(&mut a, "ctrl-s");
    assert!(
        fx.iter().any(|e| matches!(e, Effect::Record { .. })),
        "{fx:?}"
    );
    assert_eq!(
        key(&mut a, "esc"),
        vec![Effect::Release { lease: 9 }, Effect::LoadQueues]
    );
}

/// An outcome the server refused for good is not recorded: the debtor on
/// screen is owed one again (it had said "recorded" on `o`).
#[test]
fn a_refused_outcome_is_no_longer_shown_as_recorded() {
    let mut a = leased(Locale::PtBr, true);
    key(&mut a, "o");
    typed(&mut a, "recado");
    key(&mut a, "ctrl-s");
    assert_eq!(a.state()["debtor"]["recorded"], "left_message");
    // Another debtor's refusal changes nothing here.
    let refused = |failed, debtor| {
        Msg::Outbox(super::app::OutboxCount {
            waiting: 0,
            failed,
            others: 0,
            last_error: Some("este devedor está com outro agente".into()),
            refused_debtor: Some(debtor),
        })
    };
    a.update(refused(1, 7));
    assert_eq!(a.state()["debtor"]["recorded"], "left_message");
    a.update(refused(2, 42));
    assert_eq!(a.state()["debtor"]["recorded"], serde_json::Value::Null);
    key(&mut a, "o");
    assert_eq!(a.state()["screen"], "outcome");
}

/// A call the runner did not ask for (its dialer cannot start) leaves the
/// agent ready, with why, and no form for a call never made.
#[test]
fn a_call_not_started_leaves_the_agent_ready() {
    let mut a = leased(Locale::PtBr, true);
    key(&mut a, "c");
    assert_eq!(a.agent.status, AgentStatus::OnCall);
    a.update(Msg::CallNotStarted("dial_command não encontrado: x".into()));
    assert_eq!(a.agent.status, AgentStatus::Ready);
    assert!(a.overlay.is_none());
    assert_eq!(
        a.notice.as_ref().unwrap().1,
        "dial_command não encontrado: x"
    );
    // And the call can be tried again.
    assert!(!key(&mut a, "c").is_empty());
}
