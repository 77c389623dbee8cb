//! Situations read from a debtor's history, points rendered with their
//! facts in both locales, and points refused when they name what they may
//! not.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use super::*;
use crate::domain::{
    Channel, ContactResult, Currency, Debt, Debtor, Disposition, Event, EventKind, Firmness, Flag,
    Installment, Locale, Money, PromiseStatus, Zone,
};
use crate::schedule::{Policy, default_policy, plan};

const SP: Tz = Tz::America__Sao_Paulo;

fn brl(minor: i64) -> Money {
    Money::new(minor, Currency::BRL)
}

/// Due Monday 2 March 2026.
fn d(n: i64) -> NaiveDate {
    let due = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    due.checked_add_signed(chrono::Duration::days(n)).unwrap()
}

/// 10:00 in São Paulo on day D+n.
fn at(n: i64) -> DateTime<Utc> {
    SP.from_local_datetime(&d(n).and_hms_opt(10, 0, 0).unwrap())
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn debtor(balance: i64, interest: i64) -> Debtor {
    Debtor {
        id: 7,
        external_id: "c-7".into(),
        name: "João Souza".into(),
        document: "529.982.247-25".parse().unwrap(),
        phones: vec![],
        email: None,
        jurisdiction: "SP".parse().unwrap(),
        time_zone: Zone::parse("America/Sao_Paulo"),
        segment: "retail".into(),
        tags: vec![],
        debts: vec![Debt {
            id: 1,
            creditor: "Loja Azul".into(),
            original: brl(balance),
            balance: brl(balance),
            interest_and_fees: brl(interest),
            due_date: d(0),
        }],
    }
}

fn ev(n: i64, kind: EventKind) -> Event {
    Event { at: at(n), kind }
}

fn call(n: i64, right_party: bool) -> Event {
    ev(
        n,
        EventKind::Contact {
            channel: Channel::Call,
            firmness: Firmness::Friendly,
            result: ContactResult::Connected { right_party },
            requested: false,
        },
    )
}

fn outcome(n: i64, disposition: Disposition) -> Event {
    ev(
        n,
        EventKind::Outcome {
            disposition,
            reason: None,
            note: None,
        },
    )
}

fn promise(n: i64, amount: i64, date: NaiveDate) -> Event {
    ev(
        n,
        EventKind::Promise {
            amount: brl(amount),
            date,
            grace_days: 2,
            forgives: None,
        },
    )
}

fn case_at(debtor: &Debtor, history: &[Event], policy: &Policy, now: i64) -> Case {
    let p = plan(debtor, history, policy, at(now));
    case(debtor, history, &p, policy, "Ana", at(now)).unwrap()
}

fn situation(history: &[Event], now: i64) -> Situation {
    case_at(&debtor(50_000, 10_000), history, &default_policy(), now).situation
}

// ── Situations ─────────────────────────────────────────────────────────────

#[test]
fn the_calendar_and_conversations_choose_when_nothing_else_does() {
    assert_eq!(situation(&[], -3), Situation::BeforeDue);
    assert_eq!(situation(&[], 0), Situation::BeforeDue);
    assert_eq!(situation(&[], 4), Situation::FirstContact);
    // Nobody answered: still a first contact.
    assert_eq!(situation(&[call(3, false)], 4), Situation::FirstContact);
    assert_eq!(
        situation(&[call(3, true), outcome(3, Disposition::Refused)], 4),
        Situation::FollowUp
    );
}

#[test]
fn an_open_promise_or_plan_is_encouraged_with_its_facts() {
    let p = default_policy();
    let c = case_at(&debtor(50_000, 10_000), &[promise(3, 20_000, d(8))], &p, 5);
    assert_eq!(c.situation, Situation::PromisePending);
    assert_eq!(
        c.facts.promise,
        Some(PromiseFacts {
            amount: brl(20_000),
            paid: brl(0),
            date: d(8),
            status: PromiseStatus::Pending,
            installments_left: 1,
        })
    );
    let installments: Vec<Installment> = (0..3)
        .map(|i| Installment {
            date: d(8).checked_add_days(Days::new(30 * i)).unwrap(),
            amount: brl(10_000),
        })
        .collect();
    let plan_made = ev(
        3,
        EventKind::InstallmentPlan {
            installments: installments.into(),
            grace_days: 2,
        },
    );
    let paid = ev(
        7,
        EventKind::Payment {
            amount: brl(10_000),
        },
    );
    let c = case_at(&debtor(50_000, 10_000), &[plan_made, paid], &p, 10);
    assert_eq!(c.situation, Situation::PlanActive);
    let promise = c.facts.promise.unwrap();
    assert_eq!(
        (promise.date, promise.installments_left),
        (d(38), 2),
        "the second installment is next"
    );
}

#[test]
fn a_broken_promise_is_talked_about_until_someone_talks_to_them() {
    let p = default_policy();
    let history = vec![promise(3, 20_000, d(6))];
    // D+6 plus 2 days of grace: broken from D+9.
    assert_eq!(situation(&history, 8), Situation::PromisePending);
    let c = case_at(&debtor(50_000, 10_000), &history, &p, 10);
    assert_eq!(c.situation, Situation::BrokenPromise);
    assert_eq!(
        c.facts.promise,
        Some(PromiseFacts {
            amount: brl(20_000),
            paid: brl(0),
            date: d(6),
            status: PromiseStatus::Broken,
            installments_left: 1,
        })
    );
    let mut h = history.clone();
    h.push(call(10, false));
    assert_eq!(
        situation(&h, 11),
        Situation::BrokenPromise,
        "nobody answered"
    );
    h.push(call(11, true));
    assert_eq!(situation(&h, 12), Situation::FollowUp);
    // A new promise after the broken one is the one that counts.
    h.push(promise(12, 10_000, d(20)));
    assert_eq!(situation(&h, 13), Situation::PromisePending);
}

#[test]
fn the_latest_of_promise_broken_promise_and_hardship_decides() {
    let hardship = outcome(4, Disposition::Hardship);
    assert_eq!(
        situation(std::slice::from_ref(&hardship), 5),
        Situation::Hardship
    );
    assert_eq!(
        situation(&[hardship.clone(), promise(6, 10_000, d(12))], 7),
        Situation::PromisePending
    );
    let broken_then_hardship = [promise(3, 10_000, d(5)), outcome(12, Disposition::Hardship)];
    assert_eq!(situation(&broken_then_hardship, 13), Situation::Hardship);
}

#[test]
fn a_callback_due_comes_first_until_the_call_is_made() {
    let asked = ev(3, EventKind::Callback { due: at(5) });
    let history = vec![promise(3, 10_000, d(10)), asked];
    assert_eq!(situation(&history, 4), Situation::PromisePending);
    assert_eq!(situation(&history, 5), Situation::Callback);
    let mut h = history.clone();
    h.push(call(5, true));
    assert_eq!(situation(&h, 6), Situation::PromisePending);
}

#[test]
fn stops_and_a_paid_balance_talk_no_money() {
    let p = default_policy();
    let c = case_at(
        &debtor(50_000, 10_000),
        &[outcome(4, Disposition::Dispute)],
        &p,
        5,
    );
    assert_eq!((c.situation, c.facts.offers), (Situation::Dispute, None));
    let ceased = [ev(
        4,
        EventKind::Flag {
            flag: Flag::CeaseContact,
            set: true,
        },
    )];
    assert_eq!(situation(&ceased, 5), Situation::NoContact);
    let c = case_at(&debtor(0, 0), &[], &p, 5);
    assert_eq!((c.situation, c.facts.owing), (Situation::PaidInFull, None));

    let mut mixed = debtor(50_000, 0);
    let mut usd = mixed.debts[0].clone();
    usd.balance = Money::new(100, Currency::USD);
    mixed.debts.push(usd);
    let plan = plan(&mixed, &[], &p, at(5));
    assert_eq!(
        case(&mixed, &[], &plan, &p, "Ana", at(5)),
        Err(CaseError::MixedCurrencies)
    );
}

#[test]
fn installments_offered_never_fall_under_the_minimum() {
    let p = default_policy();
    let small = case_at(&debtor(15_000, 0), &[], &p, 4);
    let terms = small.facts.offers.unwrap();
    // R$ 150 at no less than R$ 50 each: three, not twelve.
    assert_eq!((terms.max_installments, max_installments(&terms)), (12, 3));
    let large = case_at(&debtor(10_000_000, 0), &[], &p, 4)
        .facts
        .offers
        .unwrap();
    assert_eq!(max_installments(&large), 12);
}

// ── Rendering ──────────────────────────────────────────────────────────────

fn broken_promise_points(locale: Locale) -> Vec<Point> {
    let p = default_policy();
    let c = case_at(&debtor(50_000, 10_000), &[promise(3, 20_000, d(6))], &p, 10);
    assert_eq!(c.situation, Situation::BrokenPromise);
    p.talking_points.render(&c, locale).unwrap()
}

#[test]
fn broken_promise_points_ask_why_before_any_amount_in_portuguese() {
    let points = broken_promise_points(Locale::PtBr);
    let stages: Vec<Stage> = points.iter().map(|p| p.stage).collect();
    assert_eq!(
        stages,
        [Stage::Opening, Stage::Why, Stage::Options, Stage::Closing]
    );
    assert!(points[0].text.contains("Aqui é Ana"), "{}", points[0].text);
    assert!(points[0].text.contains("falar com João"));
    assert!(
        points[1].text.contains("para 08/03/2026"),
        "{}",
        points[1].text
    );
    for early in &points[..2] {
        assert!(!early.text.contains("R$"), "{}", early.text);
        assert!(!early.text.contains("Loja Azul"), "{}", early.text);
    }
    let options = &points[2].text;
    // R$ 500 of which 100 interest: 30 % of it off for paying in full.
    for fact in [
        "O combinado era R$ 200,00",
        "total em aberto é R$ 500,00",
        "à vista por R$ 470,00",
        "desconto de R$ 30,00",
        "em até 10 vezes, de no mínimo R$ 50,00",
        "até 27/03/2026",
    ] {
        assert!(options.contains(fact), "{fact:?} in {options}");
    }
    assert!(!options.contains("{{") && !options.contains("{%"));
    assert!(
        !options.contains("\n\n"),
        "no blank lines left by blocks: {options}"
    );
}

#[test]
fn broken_promise_points_in_english() {
    let points = broken_promise_points(Locale::En);
    assert!(
        points[1].text.contains("payment for 2026-03-08"),
        "{}",
        points[1].text
    );
    assert!(
        points[2].text.contains("We had agreed BRL 200.00"),
        "{}",
        points[2].text
    );
    assert!(points[2].text.contains("settle in full for BRL 470.00"));
}

fn paid(n: i64, amount: i64) -> Event {
    ev(
        n,
        EventKind::Payment {
            amount: brl(amount),
        },
    )
}

/// What came of a promise is said: part of it paid leaves the rest to
/// ask for, not the whole again; a promise paid in full, if late, is no
/// broken promise to ask about.
#[test]
fn a_promise_part_paid_says_what_came_in_and_what_is_left() {
    let p = default_policy();
    let render = |history: &[Event], now: i64| {
        let c = case_at(&debtor(50_000, 10_000), history, &p, now);
        let text = p.talking_points.render(&c, Locale::PtBr).unwrap();
        (c, text)
    };
    let (c, points) = render(&[promise(3, 20_000, d(8)), paid(4, 5_000)], 5);
    assert_eq!(c.situation, Situation::PromisePending);
    let options = &points[2].text;
    assert!(
        options.contains(
            "O combinado é R$ 200,00 até 10/03/2026: já recebemos R$ 50,00, faltam R$ 150,00."
        ),
        "{options}"
    );
    // Broken with part of it paid, in time or after.
    for late in [4, 12] {
        let (c, points) = render(&[promise(3, 20_000, d(6)), paid(late, 5_000)], 13);
        assert_eq!(c.situation, Situation::BrokenPromise);
        assert_eq!(c.facts.promise.unwrap().paid, brl(5_000));
        assert!(
            points[1]
                .text
                .contains("para 08/03/2026 e só uma parte dele chegou até nós"),
            "{}",
            points[1].text
        );
        assert!(
            points[2]
                .text
                .contains("O combinado era R$ 200,00, e recebemos R$ 50,00;"),
            "{}",
            points[2].text
        );
    }
    // Paid in full two days late.
    let (c, _) = render(&[promise(3, 20_000, d(6)), paid(12, 20_000)], 13);
    assert_ne!(c.situation, Situation::BrokenPromise);
    // A plan: the second installment, part paid.
    let plan_made = ev(
        3,
        EventKind::InstallmentPlan {
            installments: [8, 38]
                .map(|day| Installment {
                    date: d(day),
                    amount: brl(10_000),
                })
                .into(),
            grace_days: 2,
        },
    );
    let (c, points) = render(&[plan_made.clone(), paid(7, 13_000)], 10);
    assert_eq!(c.situation, Situation::PlanActive);
    assert!(
        points[2].text.contains("A próxima parcela é de R$ 100,00, em 09/04/2026: já recebemos R$ 30,00 dela, faltam R$ 70,00."),
        "{}",
        points[2].text
    );
    // Its first installment paid in full two days late: the plan broke,
    // and the script says the money came, late.
    let (c, points) = render(&[plan_made, paid(12, 10_000)], 13);
    assert_eq!(c.situation, Situation::BrokenPromise);
    assert!(
        points[1]
            .text
            .contains("para 10/03/2026 e ele chegou depois da data"),
        "{}",
        points[1].text
    );
}

#[test]
fn no_discount_no_discount_line() {
    let p = default_policy();
    let c = case_at(&debtor(50_000, 0), &[], &p, 4);
    assert_eq!(c.situation, Situation::FirstContact);
    let points = p.talking_points.render(&c, Locale::PtBr).unwrap();
    let options = points.iter().find(|p| p.stage == Stage::Options).unwrap();
    assert!(!options.text.contains("à vista"), "{}", options.text);
    assert!(options.text.contains("parcelado"), "{}", options.text);
}

#[test]
fn every_situation_has_points_in_both_locales_opening_first() {
    let p = default_policy();
    for situation in Situation::ALL {
        let c = Case {
            situation,
            facts: Facts::sample(situation),
        };
        for locale in LOCALES {
            let points = p.talking_points.render(&c, locale).unwrap();
            assert!(!points.is_empty(), "{situation} {locale:?}");
            assert_eq!(points[0].stage, Stage::Opening, "{situation}");
            for point in &points {
                assert!(!point.title.is_empty() && !point.text.is_empty());
            }
        }
    }
}

// ── Points refused ─────────────────────────────────────────────────────────

fn source<'a>(situations: &[&'a str], stage: &'a str, text: &'a str) -> Source<'a> {
    Source {
        situations: situations.to_vec(),
        stage,
        title: ["Título", "Title"],
        text: [text, "fine"],
    }
}

/// Points for every situation, then `extra`.
fn compile_with(extra: Vec<Source>) -> Vec<Problem> {
    let all: Vec<&str> = Situation::ALL.map(Situation::name).to_vec();
    let mut sources = vec![source(&all, "opening", "Olá, {{ first_name }}")];
    sources.extend(extra);
    match TalkingPoints::compile(&sources) {
        Ok(_) => panic!("the points should have been refused"),
        Err(problems) => problems,
    }
}

fn the_problem(extra: Source) -> (usize, Part, Option<(usize, usize)>, String) {
    let problems = compile_with(vec![extra]);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    match problems.into_iter().next().unwrap() {
        Problem::Point {
            point,
            part,
            at,
            message,
        } => (point, part, at, message),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_opening_names_nothing_about_the_debt() {
    let (point, part, at, message) = the_problem(source(
        &["first_contact"],
        "opening",
        "Olá!\nÉ sobre {{ creditors }}.",
    ));
    assert_eq!(
        (point, part, at),
        (1, Part::Text(Locale::PtBr), Some((2, 12)))
    );
    assert!(message.contains("LGPD"), "{message}");
}

#[test]
fn a_why_point_names_no_amount() {
    let (_, _, at, message) = the_problem(source(
        &["broken_promise"],
        "why",
        "O que houve com os {{ promise.amount }}?",
    ));
    assert_eq!(at, Some((1, 23)));
    assert!(message.contains("no amounts"), "{message}");
    // The date is fine there.
    let ok = source(&["broken_promise"], "why", "E o dia {{ promise.date }}?");
    let all: Vec<&str> = Situation::ALL.map(Situation::name).to_vec();
    let opening = source(&all, "opening", "Olá");
    assert!(TalkingPoints::compile(&[opening, ok]).is_ok());
}

#[test]
fn unknown_facts_and_facts_a_situation_lacks_are_refused() {
    let (_, _, _, message) = the_problem(source(&["first_contact"], "options", "{{ totl }}"));
    assert!(message.starts_with("no fact 'totl'"), "{message}");
    let (_, _, _, message) = the_problem(source(
        &["first_contact"],
        "options",
        "{% if true %}{{ promise.date }}{% endif %}",
    ));
    assert!(
        message.contains("not known in situation first_contact"),
        "{message}"
    );
    let (_, _, _, message) = the_problem(source(&["dispute"], "options", "{{ total }}"));
    assert!(
        message.contains("not known in situation dispute"),
        "{message}"
    );
}

#[test]
fn bad_syntax_names_the_templates_line() {
    let (_, part, at, message) = the_problem(source(&["first_contact"], "why", "Olá\n{% if %}\n"));
    assert_eq!(part, Part::Text(Locale::PtBr));
    assert_eq!(at.map(|a| a.0), Some(2));
    assert!(message.starts_with("syntax error"), "{message}");
}

#[test]
fn stages_go_in_order_and_situations_must_be_known_and_covered() {
    let problems = compile_with(vec![
        source(&["first_contact"], "closing", "Obrigado"),
        source(&["first_contact"], "why", "E então?"),
    ]);
    assert!(
        matches!(&problems[..], [Problem::Point { point: 2, part: Part::Stage, message, .. }]
            if message.contains("a why point after a closing point")),
        "{problems:#?}"
    );
    let problems = match TalkingPoints::compile(&[source(&["first_contac"], "opening", "Olá")]) {
        Err(p) => p,
        Ok(_) => panic!("refused"),
    };
    assert!(
        matches!(&problems[0], Problem::Point { part: Part::Situation, message, .. }
        if message.contains("unknown situation 'first_contac'"))
    );
    assert!(matches!(&problems[1], Problem::Missing(m) if m.len() == Situation::ALL.len()));
}
