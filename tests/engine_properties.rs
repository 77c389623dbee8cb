//! Properties of `plan` over random debtors, histories and moments, checked
//! against small independent models written here: a call-window checker
//! (local time, hours per jurisdiction, Brazilian holidays from a hard-coded
//! Easter table) and a brute-force Reg F count. Only state holidays come
//! from the engine's table.

use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use proptest::prelude::*;

use regua::domain::{
    Channel, ContactResult, Currency, Debt, Debtor, Disposition, Event, EventKind, Firmness, Flag,
    Installment, Jurisdiction, Ledger, Money, Phone, PhoneKind, Uf, Zone, breaks_at, local_to_utc,
};
use regua::schedule::compliance::{Block, holidays};
use regua::schedule::{Plan, Policy, Source, State, default_policy, plan};

// ── An independent model of the call windows ───────────────────────────────

/// Easter Sunday, from published tables (not computed), for the years the
/// generated cases can reach.
fn easter(year: i32) -> NaiveDate {
    let (m, d) = match year {
        2024 => (3, 31),
        2025 => (4, 20),
        2026 => (4, 5),
        2027 => (3, 28),
        2028 => (4, 16),
        2029 => (4, 1),
        2030 => (4, 21),
        _ => panic!("no Easter date for {year} in the test's table"),
    };
    NaiveDate::from_ymd_opt(year, m, d).unwrap()
}

fn brazil_national_holiday(date: NaiveDate) -> bool {
    const FIXED: [(u32, u32); 9] = [
        (1, 1),   // Confraternização Universal
        (4, 21),  // Tiradentes
        (5, 1),   // Dia do Trabalho
        (9, 7),   // Independência
        (10, 12), // Nossa Senhora Aparecida
        (11, 2),  // Finados
        (11, 15), // Proclamação da República
        (11, 20), // Consciência Negra
        (12, 25), // Natal
    ];
    if FIXED.contains(&(date.month(), date.day())) {
        return true;
    }
    let easter = easter(date.year());
    let carnival_monday = easter - Days::new(48);
    let carnival_tuesday = easter - Days::new(47);
    let good_friday = easter - Days::new(2);
    let corpus_christi = easter + Days::new(60);
    [
        carnival_monday,
        carnival_tuesday,
        good_friday,
        corpus_christi,
    ]
    .contains(&date)
}

/// Whether a contact reaching the phone may happen at `t` under the default
/// policy's windows: São Paulo 8–20 weekdays and 8–14 Saturday, Rio 9–19
/// weekdays, other UFs as São Paulo, all Brazil closed on Sundays and
/// holidays; the US 8–21 local every day.
fn window_open(j: Jurisdiction, tz: Tz, t: DateTime<Utc>) -> bool {
    let local = t.with_timezone(&tz).naive_local();
    let minute = local.hour() * 60 + local.minute();
    let date = local.date();
    let hours = match j {
        Jurisdiction::Us(_) => Some((8, 21)),
        Jurisdiction::Br(uf) => {
            if brazil_national_holiday(date) || holidays::state(uf, date).is_some() {
                None
            } else {
                match (uf, date.weekday()) {
                    (_, Weekday::Sun) => None,
                    (Uf::RJ, Weekday::Sat) => None,
                    (Uf::RJ, _) => Some((9, 19)),
                    (_, Weekday::Sat) => Some((8, 14)),
                    _ => Some((8, 20)),
                }
            }
        }
    };
    hours.is_some_and(|(open, close)| minute >= open * 60 && minute < close * 60)
}

// ── An independent model of Reg F ──────────────────────────────────────────

/// Why a (not requested) call at `t` would break Reg F, if it would.
fn reg_f_violation(history: &[Event], t: DateTime<Utc>) -> Option<String> {
    let from = t - Duration::days(7);
    let mut attempts = 0;
    for e in history {
        if e.at <= from || e.at > t {
            continue;
        }
        if let EventKind::Contact {
            channel: Channel::Call,
            result,
            requested,
            ..
        } = e.kind
        {
            if !requested {
                attempts += 1;
            }
            if result == (ContactResult::Connected { right_party: true }) {
                return Some(format!("a conversation at {} is within 7 days", e.at));
            }
        }
    }
    (attempts >= 7).then(|| format!("{attempts} attempts already in the 7 days before"))
}

fn flags_in_force(history: &[Event]) -> Vec<Flag> {
    let mut on = Vec::new();
    let mut set = |flag: Flag, value: bool| {
        on.retain(|f| *f != flag);
        if value {
            on.push(flag);
        }
    };
    for e in history {
        match &e.kind {
            EventKind::Outcome { disposition, .. } => match disposition {
                Disposition::Dispute => set(Flag::Dispute, true),
                Disposition::CeaseContact => set(Flag::CeaseContact, true),
                Disposition::Deceased => set(Flag::Deceased, true),
                _ => {}
            },
            EventKind::Flag { flag, set: value } => set(*flag, *value),
            _ => {}
        }
    }
    on
}

// ── Random debtors and histories ───────────────────────────────────────────

const ZONES: &[&str] = &[
    "America/Sao_Paulo",
    "America/Manaus",
    "America/Rio_Branco",
    "America/Noronha",
    "America/New_York",
    "America/Phoenix",
    "America/Los_Angeles",
    "Pacific/Honolulu",
    "America/Havana",      // daylight saving starting at midnight
    "America/Santiago",    // southern-hemisphere daylight saving
    "Australia/Lord_Howe", // a half-hour change
    "Asia/Kathmandu",
    "Europe/Lisbon",
    "UTC",
    "America/Sao_Paul", // not a zone
    "Mars/Olympus_Mons",
];

const TAGS: &[&str] = &["vip", "student", "payroll", "represented_by_attorney"];

fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
}

#[derive(Clone, Debug)]
enum Raw {
    Contact {
        channel: Channel,
        firmness: Firmness,
        result: ContactResult,
        requested: bool,
    },
    Outcome(Disposition),
    Promise {
        amount: i64,
        days_ahead: u64,
        grace: u16,
    },
    Plan {
        amounts: Vec<i64>,
        days_ahead: u64,
        grace: u16,
    },
    Payment(i64),
    Callback {
        minutes_ahead: i64,
    },
    Opened(Channel),
    Flag(Flag, bool),
}

fn channel() -> impl Strategy<Value = Channel> {
    prop::sample::select(Channel::ALL.to_vec())
}

fn contact_result() -> impl Strategy<Value = ContactResult> {
    prop_oneof![
        3 => any::<bool>().prop_map(|right_party| ContactResult::Connected { right_party }),
        3 => Just(ContactResult::NoAnswer),
        1 => Just(ContactResult::Busy),
        1 => Just(ContactResult::Voicemail),
        2 => Just(ContactResult::Delivered),
        1 => Just(ContactResult::Failed),
    ]
}

fn raw_event() -> impl Strategy<Value = Raw> {
    let calls = (
        prop::sample::select(Firmness::ALL.to_vec()),
        contact_result(),
        prop::bool::weighted(0.15),
    )
        .prop_map(|(firmness, result, requested)| Raw::Contact {
            channel: Channel::Call,
            firmness,
            result,
            requested,
        });
    let contacts = (
        channel(),
        prop::sample::select(Firmness::ALL.to_vec()),
        contact_result(),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(channel, firmness, result, requested)| Raw::Contact {
            channel,
            firmness,
            result,
            requested,
        });
    // Stopping outcomes are rarer than the rest, so most cases plan.
    let outcome = prop_oneof![
        8 => prop::sample::select(vec![
            Disposition::RightPartyContact,
            Disposition::PromiseToPay,
            Disposition::PaymentPlan,
            Disposition::CallbackRequested,
            Disposition::NoAnswer,
            Disposition::LeftMessage,
            Disposition::WrongNumber,
            Disposition::Refused,
            Disposition::Hardship,
        ]),
        1 => prop::sample::select(vec![
            Disposition::Dispute,
            Disposition::CeaseContact,
            Disposition::Deceased,
        ]),
    ]
    .prop_map(Raw::Outcome);
    prop_oneof![
        8 => calls,
        6 => contacts,
        2 => outcome,
        3 => (1i64..100_000, 0u64..20, 0u16..4)
            .prop_map(|(amount, days_ahead, grace)| Raw::Promise { amount, days_ahead, grace }),
        1 => (prop::collection::vec(1i64..50_000, 1..5), 0u64..20, 0u16..4)
            .prop_map(|(amounts, days_ahead, grace)| Raw::Plan { amounts, days_ahead, grace }),
        3 => prop_oneof![1i64..100_000, Just(0i64)].prop_map(Raw::Payment),
        2 => (0i64..(6 * 24 * 60)).prop_map(|minutes_ahead| Raw::Callback { minutes_ahead }),
        2 => channel().prop_map(Raw::Opened),
        1 => (
            prop::sample::select(vec![Flag::Dispute, Flag::CeaseContact, Flag::Deceased]),
            prop::bool::weighted(0.3),
        )
            .prop_map(|(f, on)| Raw::Flag(f, on)),
    ]
}

fn build(at: DateTime<Utc>, raw: Raw, currency: Currency) -> Event {
    let money = |minor| Money::new(minor, currency);
    let kind = match raw {
        Raw::Contact {
            channel,
            firmness,
            result,
            requested,
        } => EventKind::Contact {
            channel,
            firmness,
            result,
            requested,
        },
        Raw::Outcome(disposition) => EventKind::Outcome {
            disposition,
            reason: None,
            note: None,
        },
        Raw::Promise {
            amount,
            days_ahead,
            grace,
        } => EventKind::Promise {
            amount: money(amount),
            date: at.date_naive() + Days::new(days_ahead),
            grace_days: grace,
            forgives: None,
        },
        Raw::Plan {
            amounts,
            days_ahead,
            grace,
        } => EventKind::InstallmentPlan {
            installments: amounts
                .iter()
                .enumerate()
                .map(|(i, &a)| Installment {
                    date: at.date_naive() + Days::new(days_ahead + 30 * i as u64),
                    amount: money(a),
                })
                .collect(),
            grace_days: grace,
        },
        Raw::Payment(amount) => EventKind::Payment {
            amount: money(amount),
        },
        Raw::Callback { minutes_ahead } => EventKind::Callback {
            due: at + Duration::minutes(minutes_ahead),
        },
        Raw::Opened(channel) => EventKind::MessageOpened { channel },
        Raw::Flag(flag, set) => EventKind::Flag { flag, set },
    };
    Event { at, kind }
}

#[derive(Clone, Debug)]
struct Case {
    debtor: Debtor,
    history: Vec<Event>,
    now: DateTime<Utc>,
}

/// Gaps between events: bursts within an hour, within a day, or days apart,
/// so call caps and quiet periods are often at stake.
fn gap() -> impl Strategy<Value = i64> {
    prop_oneof![
        3 => 0i64..3_600,
        3 => 0i64..86_400,
        2 => 0i64..(5 * 86_400),
    ]
}

fn debtor_strategy() -> impl Strategy<Value = Debtor> {
    let phones = prop::collection::vec(
        (
            prop::sample::select(vec![
                PhoneKind::Mobile,
                PhoneKind::Landline,
                PhoneKind::Work,
            ]),
            prop::bool::weighted(0.8),
        ),
        0..3,
    );
    let email = prop_oneof![
        6 => Just(Some("debtor@example.com".to_string())),
        1 => Just(Some(String::new())),
        2 => Just(None),
    ];
    let tags = prop::collection::vec(prop::sample::select(TAGS.to_vec()), 0..2);
    let debts = prop::collection::vec(
        (
            prop_oneof![2 => Just(0i64), 8 => 1i64..500_000],
            0i64..100_000,
            -120i64..60,
        ),
        1..4,
    );
    // Mostly reais; sometimes all dollars; rarely a mix.
    let currencies = prop_oneof![
        8 => Just((Currency::BRL, Currency::BRL)),
        1 => Just((Currency::USD, Currency::USD)),
        1 => Just((Currency::BRL, Currency::USD)),
    ];
    (
        0..Jurisdiction::COUNT,
        prop::sample::select(ZONES.to_vec()),
        phones,
        email,
        tags,
        prop::sample::select(vec!["retail", "small_business"]),
        debts,
        currencies,
        prop::bool::weighted(0.15),
    )
        .prop_map(
            |(j, zone, phones, email, tags, segment, debts, (c1, c2), all_paid)| Debtor {
                id: 1,
                external_id: "p-1".into(),
                name: "Random Debtor".into(),
                document: "529.982.247-25".parse().unwrap(),
                phones: phones
                    .into_iter()
                    .enumerate()
                    .map(|(i, (kind, consent))| Phone {
                        number: format!("+55119000000{i}"),
                        kind,
                        consent,
                    })
                    .collect(),
                email,
                jurisdiction: Jurisdiction::all().nth(j).unwrap(),
                time_zone: Zone::parse(zone),
                segment: segment.into(),
                tags: tags.into_iter().map(String::from).collect(),
                debts: debts
                    .into_iter()
                    .enumerate()
                    .map(|(i, (balance, interest, due))| {
                        let currency = if i == 0 { c1 } else { c2 };
                        let balance = if all_paid { 0 } else { balance };
                        Debt {
                            id: i as i64 + 1,
                            creditor: "Loja".into(),
                            original: Money::new(balance + interest, currency),
                            balance: Money::new(balance, currency),
                            interest_and_fees: Money::new(interest.min(balance), currency),
                            // Days from the history's start (see `case_strategy`).
                            due_date: epoch().date_naive() + Duration::days(due),
                        }
                    })
                    .collect(),
            },
        )
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (
        debtor_strategy(),
        0i64..(900 * 86_400),
        prop::collection::vec((gap(), raw_event()), 0..30),
        prop_oneof![0i64..7_200, 0i64..(10 * 86_400)],
    )
        .prop_map(|(mut debtor, start, events, after)| {
            let currency = debtor.debts[0].balance.currency;
            let mut at = epoch() + Duration::seconds(start);
            // Due dates around the start of the history, so steps fall due
            // among the contacts.
            for debt in &mut debtor.debts {
                debt.due_date += Duration::days(start / 86_400);
            }
            let history: Vec<Event> = events
                .into_iter()
                .map(|(gap, raw)| {
                    at += Duration::seconds(gap);
                    build(at, raw, currency)
                })
                .collect();
            Case {
                debtor,
                history,
                now: at + Duration::seconds(after),
            }
        })
}

/// A history that ends in a burst of calls, planned on a later day when a
/// call step falls due: where call caps and the quiet period decide.
fn pressure_case() -> impl Strategy<Value = Case> {
    let burst = prop::collection::vec(
        (
            600i64..60_000,
            prop::bool::weighted(0.12),
            prop::bool::weighted(0.1),
        ),
        3..11,
    );
    (
        case_strategy(),
        burst,
        1u64..3,
        // Mostly during business hours, when only the caps can say no.
        prop_oneof![4 => 540u32..1140, 1 => 0u32..(24 * 60)],
        prop::sample::select(vec![3u64, 10, 20, 45]),
    )
        .prop_map(|(mut case, burst, days_after, minute, step_day)| {
            let mut at = case.history.last().map_or(case.now, |e| e.at);
            for (gap, conversation, requested) in burst {
                at += Duration::seconds(gap);
                let result = if conversation {
                    ContactResult::Connected { right_party: true }
                } else {
                    ContactResult::NoAnswer
                };
                case.history.push(Event {
                    at,
                    kind: EventKind::Contact {
                        channel: Channel::Call,
                        firmness: Firmness::Friendly,
                        result,
                        requested,
                    },
                });
            }
            let tz = case.debtor.time_zone.tz().unwrap_or(Tz::UTC);
            let today = at.with_timezone(&tz).date_naive() + Days::new(days_after);
            let time = chrono::NaiveTime::from_hms_opt(minute / 60, minute % 60, 0).unwrap();
            case.now = local_to_utc(tz, today.and_time(time)).max(at);
            for debt in &mut case.debtor.debts {
                debt.due_date = today - Days::new(step_day);
            }
            case
        })
}

fn any_case() -> impl Strategy<Value = Case> {
    prop_oneof![2 => case_strategy(), 1 => pressure_case()]
}

// ── The properties ─────────────────────────────────────────────────────────

fn is_requested(source: Source) -> bool {
    source == Source::Callback
}

fn check_case(policy: &Policy, case: &Case) -> Result<Plan, TestCaseError> {
    let Case {
        debtor,
        history,
        now,
    } = case;
    let now = *now;
    let p = plan(debtor, history, policy, now);
    let tz = debtor.time_zone.tz();

    for a in &p.actions {
        prop_assert!(a.at >= now, "an action in the past: {a:?}");
        // (a) Channels that reach the phone keep to the window.
        if a.channel.reaches_phone() {
            let tz = tz.ok_or_else(|| {
                TestCaseError::fail(format!("phone action with an unknown zone: {a:?}"))
            })?;
            prop_assert!(
                window_open(debtor.jurisdiction, tz, a.at),
                "{a:?} at {} local in {} is outside the window",
                a.at.with_timezone(&tz),
                debtor.jurisdiction
            );
            prop_assert!(debtor.phones.iter().any(|ph| ph.consent));
        }
        // (b) Reg F for every call the debtor did not ask for.
        if a.channel == Channel::Call
            && !is_requested(a.source)
            && let Some(why) = reg_f_violation(history, a.at)
        {
            prop_assert!(false, "{a:?} breaks Reg F: {why}");
        }
        if a.channel == Channel::Email {
            prop_assert!(debtor.email.as_deref().is_some_and(|e| !e.is_empty()));
        }
        prop_assert!(
            !debtor.tags.iter().any(|t| t == "represented_by_attorney"),
            "contact planned for a debtor with a do-not-contact tag: {a:?}"
        );
    }
    prop_assert!(p.actions.windows(2).all(|w| w[0].at <= w[1].at));

    // Refusals that clear, clear into an open window.
    for b in &p.blocked {
        if let (true, Some(t), Some(tz)) = (b.channel.reaches_phone(), b.refusal.clears_at, tz) {
            prop_assert!(
                window_open(debtor.jurisdiction, tz, t),
                "{b:?} clears at {} local, outside the window",
                t.with_timezone(&tz)
            );
        }
        if let Some(t) = b.refusal.clears_at {
            prop_assert!(t >= now, "{b:?} clears in the past");
        }
    }

    // (c) A stopping flag in force: nothing at all.
    let flags = flags_in_force(history);
    if !flags.is_empty() {
        prop_assert!(p.actions.is_empty(), "flags {flags:?}, yet {:?}", p.actions);
        if let State::Stopped(flag) = p.state {
            prop_assert!(flags.contains(&flag));
        }
    }

    // (d) An open promise: no firm step before it breaks.
    if let Some(open) = Ledger::fold(history, tz, now).open {
        let ends = breaks_at(open.last_day(), tz);
        for a in &p.actions {
            if let Source::Step(i) = a.source {
                let step = &policy.steps[i as usize];
                prop_assert!(
                    step.firmness < policy.promise.pauses_from || a.at >= ends,
                    "step '{}' ({}) at {} before the promise breaks at {ends}",
                    step.id,
                    step.firmness,
                    a.at
                );
            }
        }
        for b in &p.blocked {
            if let Block::PromisePause { until } = b.refusal.block {
                prop_assert_eq!(until, open.last_day());
                if let Some(t) = b.refusal.clears_at {
                    prop_assert!(t >= ends);
                }
            }
        }
    }

    // (e) Nothing owed: nothing planned, nothing blocked.
    if debtor.debts.iter().all(|d| d.balance.minor == 0) {
        prop_assert!(p.actions.is_empty() && p.blocked.is_empty(), "{p:?}");
        prop_assert!(matches!(
            p.state,
            State::PaidInFull | State::MixedCurrencies
        ));
        prop_assert_eq!(p.queue, None);
    }
    Ok(p)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn plans_keep_every_rule(case in any_case()) {
        let policy = default_policy();
        let p = check_case(&policy, &case)?;
        // Determinism: the same inputs give the same plan.
        prop_assert_eq!(p, plan(&case.debtor, &case.history, &policy, case.now));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Replanning at many moments of one history: the plan at each keeps the
    /// rules too (this walks a debtor through the windows' edges).
    #[test]
    fn plans_keep_every_rule_as_time_goes_by(
        case in any_case(),
        steps in prop::collection::vec(0i64..(36 * 3_600), 1..8),
    ) {
        let policy = default_policy();
        let mut case = case;
        for s in steps {
            case.now += Duration::seconds(s);
            check_case(&policy, &case)?;
        }
    }

    #[test]
    fn nothing_owed_nothing_planned(case in any_case()) {
        let policy = default_policy();
        let mut case = case;
        for debt in &mut case.debtor.debts {
            debt.balance.minor = 0;
        }
        let p = plan(&case.debtor, &case.history, &policy, case.now);
        prop_assert!(p.actions.is_empty(), "{:?}", p.actions);
        prop_assert!(p.blocked.is_empty(), "{:?}", p.blocked);
        prop_assert_eq!(p.queue, None);
    }

    #[test]
    fn a_stop_flag_stops_everything(case in any_case(), which in 0usize..3) {
        let policy = default_policy();
        let mut case = case;
        let flag = [Flag::Dispute, Flag::CeaseContact, Flag::Deceased][which];
        let at = case.history.last().map_or(case.now, |e| e.at);
        case.history.push(Event { at, kind: EventKind::Flag { flag, set: true } });
        let p = plan(&case.debtor, &case.history, &policy, case.now);
        prop_assert!(p.actions.is_empty(), "{:?}", p.actions);
        prop_assert!(p.blocked.iter().all(|b| matches!(b.refusal.block, Block::Stopped(_))));
        if p.balance.is_some_and(|b| b.is_positive()) {
            prop_assert!(matches!(p.state, State::Stopped(_)));
            prop_assert!(p.queue.is_some());
        }
    }

    /// `plan` never panics, even on inputs outside its contract: history out
    /// of order, `now` before events, dates far from today.
    #[test]
    fn plan_never_panics(
        case in any_case(),
        shuffle in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
        shift_days in -40_000i64..40_000,
        now_days in -40_000i64..40_000,
    ) {
        let policy = default_policy();
        let mut case = case;
        let n = case.history.len();
        if n > 1 {
            for (k, i) in shuffle.iter().enumerate() {
                case.history.swap(k % n, i.index(n));
            }
        }
        if let Some(debt) = case.debtor.debts.first_mut() {
            debt.due_date = debt
                .due_date
                .checked_add_signed(Duration::days(shift_days))
                .unwrap_or(debt.due_date);
        }
        let now = case.now + Duration::days(now_days);
        let _ = plan(&case.debtor, &case.history, &policy, now);
    }
}

// ── The models themselves ──────────────────────────────────────────────────

#[test]
fn the_window_model_agrees_with_the_law_on_known_moments() {
    let sp = Tz::America__Sao_Paulo;
    let at = |tz: Tz, y, m, d, h, min| {
        tz.with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    };
    let sp_j = Jurisdiction::Br(Uf::SP);
    let rj_j = Jurisdiction::Br(Uf::RJ);
    assert!(window_open(sp_j, sp, at(sp, 2026, 3, 7, 13, 55)));
    assert!(!window_open(sp_j, sp, at(sp, 2026, 3, 7, 14, 5)));
    assert!(!window_open(rj_j, sp, at(sp, 2026, 3, 7, 10, 0)));
    assert!(
        !window_open(sp_j, sp, at(sp, 2026, 4, 3, 10, 0)),
        "Good Friday"
    );
    assert!(
        !window_open(sp_j, sp, at(sp, 2026, 2, 16, 10, 0)),
        "Carnival"
    );
    assert!(
        !window_open(sp_j, sp, at(sp, 2026, 6, 4, 10, 0)),
        "Corpus Christi"
    );
    assert!(
        !window_open(sp_j, sp, at(sp, 2026, 7, 9, 10, 0)),
        "SP's 9 July"
    );
    assert!(window_open(rj_j, sp, at(sp, 2026, 7, 9, 10, 0)));
    let ny = Tz::America__New_York;
    let ny_j: Jurisdiction = "US-NY".parse().unwrap();
    assert!(window_open(ny_j, ny, at(ny, 2026, 12, 25, 8, 0)));
    assert!(!window_open(ny_j, ny, at(ny, 2026, 12, 25, 21, 0)));
    assert!(reg_f_violation(&[], at(sp, 2026, 3, 9, 10, 0)).is_none());
    let calls: Vec<Event> = (0..7)
        .map(|i| Event {
            at: at(sp, 2026, 3, 2, 9, 0) + Duration::hours(i),
            kind: EventKind::Contact {
                channel: Channel::Call,
                firmness: Firmness::Friendly,
                result: ContactResult::NoAnswer,
                requested: false,
            },
        })
        .collect();
    assert!(reg_f_violation(&calls, at(sp, 2026, 3, 9, 8, 0)).is_some());
    assert!(reg_f_violation(&calls, at(sp, 2026, 3, 9, 9, 0)).is_none());
    assert!(reg_f_violation(&calls[..6], at(sp, 2026, 3, 2, 16, 0)).is_none());
}

#[test]
fn the_generators_reach_the_cases_that_matter() {
    // A sample of cases must include plans with phone actions, blocked calls,
    // open promises and stopped debtors, or the properties prove little.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let policy = default_policy();
    let mut runner = TestRunner::deterministic();
    let strategy = any_case();
    let (mut phone, mut calls, mut capped, mut promises, mut stopped, mut paid) =
        (0, 0, 0, 0, 0, 0);
    for _ in 0..400 {
        let case = strategy.new_tree(&mut runner).unwrap().current();
        let p = plan(&case.debtor, &case.history, &policy, case.now);
        phone += p.actions.iter().any(|a| a.channel.reaches_phone()) as u32;
        calls += p.actions.iter().any(|a| a.channel == Channel::Call) as u32;
        capped += p.blocked.iter().any(|b| {
            matches!(
                b.refusal.block,
                Block::CallCap { .. } | Block::QuietAfterConversation { .. }
            )
        }) as u32;
        promises += matches!(p.state, State::PromisePending { .. }) as u32;
        stopped += matches!(p.state, State::Stopped(_)) as u32;
        paid += matches!(p.state, State::PaidInFull) as u32;
    }
    for (what, n) in [
        ("phone actions", phone),
        ("call actions", calls),
        ("capped calls", capped),
        ("pending promises", promises),
        ("stopped debtors", stopped),
        ("paid debtors", paid),
    ] {
        assert!(n >= 10, "only {n} of 400 cases with {what}");
    }
}

/// Every day of 2025–2027, every UF (and US states in zones with and
/// without daylight saving), at the minutes either side of each preset's
/// edges: the engine's answer is the model's, and a refusal clears at the
/// first open minute the model knows.
#[test]
fn the_engine_windows_match_the_model_on_every_day_of_three_years() {
    use regua::domain::UsState;
    let policy = default_policy();
    let mut places: Vec<(Jurisdiction, Tz)> = Uf::ALL
        .iter()
        .map(|&uf| (Jurisdiction::Br(uf), uf.capital_time_zone()))
        .collect();
    places.extend([
        (Jurisdiction::Us(UsState::NY), Tz::America__New_York),
        (Jurisdiction::Us(UsState::AZ), Tz::America__Phoenix),
        (Jurisdiction::Us(UsState::CA), Tz::America__Los_Angeles),
        (Jurisdiction::Us(UsState::HI), Tz::Pacific__Honolulu),
        (Jurisdiction::Us(UsState::AK), Tz::America__Anchorage),
    ]);
    let times = [
        (3, 0),
        (7, 59),
        (8, 0),
        (8, 59),
        (9, 0),
        (13, 59),
        (14, 0),
        (18, 59),
        (19, 0),
        (19, 59),
        (20, 0),
        (20, 59),
        (21, 0),
    ];
    let first = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let mut refused = 0;
    for (j, tz) in places {
        let mut debtor = sample_debtor();
        debtor.jurisdiction = j;
        debtor.time_zone = Zone::Known(tz);
        for day in 0..(3 * 365) {
            let date = first + Days::new(day);
            for (h, m) in times {
                let t = local_to_utc(tz, date.and_hms_opt(h, m, 0).unwrap());
                let open = window_open(j, tz, t);
                match policy
                    .compliance
                    .check(&debtor, &[], Channel::Call, false, t)
                {
                    Ok(()) => assert!(open, "{j} {date} {h:02}:{m:02}: engine open, model shut"),
                    Err(r) => {
                        refused += 1;
                        assert!(!open, "{j} {date} {h:02}:{m:02}: engine shut, model open");
                        assert!(matches!(r.block, Block::Window { .. }), "{r:?}");
                        let clears = r.clears_at.expect("a preset window always reopens");
                        assert!(window_open(j, tz, clears), "{j} {date}: clears shut");
                        let before = clears - Duration::minutes(1);
                        assert!(before < t || !window_open(j, tz, before), "{j} {date}");
                        // Windows open on the hour: from the small hours,
                        // every hour before the opening is shut.
                        let mut probe = before;
                        while (h, m) == (3, 0) && probe >= t {
                            assert!(
                                !window_open(j, tz, probe),
                                "{j} {date} {h:02}:{m:02}: open at {probe} before {clears}"
                            );
                            probe -= Duration::hours(1);
                        }
                    }
                }
            }
        }
    }
    assert!(refused > 75_000, "{refused}");
}

fn sample_debtor() -> Debtor {
    Debtor {
        id: 1,
        external_id: "w-1".into(),
        name: "Window Test".into(),
        document: "529.982.247-25".parse().unwrap(),
        phones: vec![Phone {
            number: "+5511900000000".into(),
            kind: PhoneKind::Mobile,
            consent: true,
        }],
        email: None,
        jurisdiction: Jurisdiction::Br(Uf::SP),
        time_zone: Zone::Known(Tz::America__Sao_Paulo),
        segment: "retail".into(),
        tags: vec![],
        debts: vec![],
    }
}
