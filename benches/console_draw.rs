//! Draw + diff of the debtor workspace on ratatui's `TestBackend` through
//! `Terminal::draw` (render every widget, then diff against the last frame):
//! a redraw after the timeline scrolls one line, and a redraw with nothing
//! changed; at 200x50 and 80x24, with a 60-event timeline and with 10,000
//! events. Criterion gives the median with its interval; a plain loop of
//! single timed redraws afterwards gives the median, p99 and max.
//!
//! cargo bench --bench console_draw
//! REGUA_DRAW_SAMPLES (3000): redraws in the plain loop, per case.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use criterion::{Criterion, criterion_group};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::hint::black_box;
use std::time::Instant;

use regua::api::{
    DebtView, DebtorView, LeaseResponse, LeaseView, OffersView, PhoneView, PlanLine, PlanView,
    QueueView, ScriptView, TalkingPointView,
};
use regua::console::app::{App, Msg};
use regua::console::keymap::{Key, Keymap};
use regua::console::theme::Theme;
use regua::console::views;
use regua::domain::{Locale, PhoneKind};

mod common;

/// Tuesday 2026-03-10, 10:00 in São Paulo.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 13, 0, 0).unwrap()
}

fn debtor() -> DebtorView {
    let debt = |id, creditor: &str, balance, due| DebtView {
        id,
        creditor: creditor.into(),
        currency: "BRL".into(),
        original_minor: balance + 25_000,
        balance_minor: balance,
        interest_and_fees_minor: 25_000,
        due_date: due,
    };
    DebtorView {
        id: 42,
        external_id: "C-0042".into(),
        name: "Maria Aparecida Souza".into(),
        document: "***.456.789-**".into(),
        document_revealed: false,
        phones: vec![
            PhoneView {
                number: "+5511987654321".into(),
                kind: PhoneKind::Mobile,
                consent: true,
            },
            PhoneView {
                number: "+551133334444".into(),
                kind: PhoneKind::Landline,
                consent: true,
            },
        ],
        email: Some("maria@example.com".into()),
        jurisdiction: "SP".into(),
        time_zone: "America/Sao_Paulo".into(),
        segment: "retail".into(),
        tags: vec!["vip".into()],
        debts: vec![
            debt(
                7,
                "Loja Azul",
                123_456,
                NaiveDate::from_ymd_opt(2026, 2, 1).unwrap(),
            ),
            debt(
                8,
                "Banco Verde cartão",
                310_090,
                NaiveDate::from_ymd_opt(2026, 1, 15).unwrap(),
            ),
        ],
    }
}

fn plan() -> PlanView {
    let line = |days, channel: &str, why: &str| PlanLine {
        at: Some(now() + Duration::days(days)),
        channel: channel.into(),
        firmness: "friendly".into(),
        why: why.into(),
    };
    PlanView {
        state: "collecting".into(),
        queue: Some("early".into()),
        callable_now: true,
        days_past_due: 37,
        priority: 612,
        actions: vec![
            line(0, "call", "step D+30 call"),
            line(2, "sms", "step D+32 reminder"),
            line(5, "email", "step D+35 firm letter"),
        ],
        blocked: vec![
            line(
                6,
                "call",
                "São Paulo (Lei 15.426/2014): no calls on Sundays",
            ),
            line(20, "bureau", "a promise is pending: firm steps wait"),
        ],
        // Shaped as the server writes it: state, queue, each action, each
        // blocked one, priority; the summary without the middle.
        explanation: [
            "active",
            "queue Early (1–30 days): may be called now",
            "now call (friendly) — step D+30 call",
            "Thu 2026-03-12 10:00 local sms (friendly) — step D+32 reminder",
            "Sun 2026-03-15 10:00 local email (friendly) — step D+35 firm letter",
            "call blocked — São Paulo (Lei 15.426/2014): no calls on Sundays",
            "bureau blocked — a promise is pending: firm steps wait",
            "priority 612 = base 20; 37 days past due: +9; never contacted: +10",
        ]
        .map(String::from)
        .to_vec(),
        summary: [
            "active",
            "queue Early (1–30 days): may be called now",
            "priority 612 = base 20; 37 days past due: +9; never contacted: +10",
        ]
        .map(String::from)
        .to_vec(),
        call_hours: Vec::new(),
        latest_callback: None,
    }
}

fn script() -> ScriptView {
    let point = |stage: &str, title: &str, text: &str| TalkingPointView {
        stage: stage.into(),
        title: title.into(),
        text: text.into(),
    };
    ScriptView {
        situation: "broken_promise".into(),
        points: vec![
            point(
                "opening",
                "Identify",
                "Good morning, may I speak with Maria Aparecida Souza?\nThis is Ana from Loja Azul.",
            ),
            point(
                "why",
                "Ask why",
                "Last time we agreed on R$ 500,00 by 20/02. What got in the way?\nListen; note the reason before any amount.",
            ),
            point(
                "options",
                "Options",
                "In full today: R$ 1.000,00 (a discount of R$ 234,56).\nOr up to 6 installments of at least R$ 50,00.",
            ),
            point(
                "closing",
                "Close",
                "Repeat the amount and the date; say a reminder will come the day before.",
            ),
        ],
        offers: Some(OffersView {
            balance_minor: 433_546,
            currency: "BRL".into(),
            pay_in_full_minor: 400_000,
            max_discount_minor: 33_546,
            max_installments: 6,
            min_installment_minor: 5_000,
            latest_promise_date: NaiveDate::from_ymd_opt(2026, 3, 25).unwrap(),
        }),
    }
}

fn key(app: &mut App, k: &str) {
    app.update(Msg::Key(k.parse::<Key>().unwrap()));
}

/// An agent with debtor 42 leased, everything loaded, the timeline focused.
fn leased(events: usize) -> App {
    let mut app = App::new(
        Locale::PtBr,
        Keymap::default(),
        "ana".into(),
        "embedded".into(),
        now(),
    );
    app.update(Msg::Queues(Ok(vec![QueueView {
        id: "early".into(),
        name: "Early (1–30 days)".into(),
        depth: 132,
        callable: 97,
        leased: 3,
        oldest_since: Some(now() - Duration::minutes(42)),
        blocked: Default::default(),
    }])));
    key(&mut app, "n");
    app.update(Msg::Leased {
        queue: "early".into(),
        result: Ok(Some(LeaseResponse {
            lease: LeaseView {
                id: 9,
                expires_at: now() + Duration::minutes(10),
            },
            debtor: debtor(),
        })),
    });
    app.update(Msg::Timeline(42, Ok(common::history(events, now()))));
    app.update(Msg::Plan(42, Ok(plan())));
    app.update(Msg::Script(42, Ok(script())));
    key(&mut app, "tab");
    assert!(app.work.as_ref().unwrap().plan.ready().is_some());
    app
}

/// One case: a terminal with the first frame already drawn.
struct Case {
    name: String,
    app: App,
    term: Terminal<TestBackend>,
    theme: Theme,
    down: bool,
}

impl Case {
    fn new(w: u16, h: u16, events: usize) -> Case {
        let app = leased(events);
        let theme = Theme::load("dark", None).unwrap();
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        term.draw(|f| views::draw(f, &app, &theme)).unwrap();
        Case {
            name: format!("workspace {w}x{h}, {events} events"),
            app,
            term,
            theme,
            down: true,
        }
    }

    fn redraw(&mut self) {
        let Case {
            app, term, theme, ..
        } = self;
        black_box(term.draw(|f| views::draw(f, app, theme)).unwrap());
    }

    /// The timeline one line down, then back up: every frame differs.
    fn scroll_and_redraw(&mut self) {
        key(&mut self.app, if self.down { "j" } else { "k" });
        self.down = !self.down;
        self.redraw();
    }
}

fn cases() -> Vec<Case> {
    vec![
        Case::new(200, 50, 60),
        Case::new(80, 24, 60),
        Case::new(200, 50, 10_000),
    ]
}

fn draw(c: &mut Criterion) {
    for mut case in cases() {
        let mut g = c.benchmark_group(case.name.clone());
        g.bench_function("scroll one line", |b| b.iter(|| case.scroll_and_redraw()));
        g.bench_function("no change", |b| b.iter(|| case.redraw()));
        g.finish();
    }
}

criterion_group!(benches, draw);

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Single redraws timed one by one: the tail criterion does not report.
fn tails() {
    let samples: usize = std::env::var("REGUA_DRAW_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    println!("\nsingle redraws, {samples} each (µs): median  p99  max");
    for mut case in cases() {
        for (what, scroll) in [("scroll one line", true), ("no change", false)] {
            let mut t: Vec<f64> = (0..samples)
                .map(|_| {
                    let start = Instant::now();
                    if scroll {
                        case.scroll_and_redraw();
                    } else {
                        case.redraw();
                    }
                    start.elapsed().as_secs_f64() * 1e6
                })
                .collect();
            t.sort_by(f64::total_cmp);
            println!(
                "{} / {what}: {:.0}  {:.0}  {:.0}",
                case.name,
                percentile(&t, 0.5),
                percentile(&t, 0.99),
                t[t.len() - 1]
            );
        }
    }
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    tails();
}
