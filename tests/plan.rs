//! The régua engine through its public API: what `plan` does with a debtor
//! on the days and after the events that matter, the score, the offers, and
//! the plan in words.

use chrono::{DateTime, Days, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use regua::domain::{
    Channel, ContactResult, Currency, Debt, Debtor, Disposition, Event, EventKind, Firmness, Flag,
    Installment, Locale, Money, Phone, PhoneKind, Zone, breaks_at,
};
use regua::schedule::compliance::{Block, DayKind, Hours, Shut};
use regua::schedule::offers::{self, OfferError};
use regua::schedule::score::Factor;
use regua::schedule::{Plan, Policy, Source, State, default_policy, explain, plan};

const SP: Tz = Tz::America__Sao_Paulo;

fn brl(minor: i64) -> Money {
    Money::new(minor, Currency::BRL)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Due Monday 2 March 2026: D+3 is Thursday the 5th, D+10 Thursday the 12th.
const DUE: (i32, u32, u32) = (2026, 3, 2);

fn due() -> NaiveDate {
    date(DUE.0, DUE.1, DUE.2)
}

/// `n` days from the due date.
fn d(n: i64) -> NaiveDate {
    if n >= 0 {
        due() + Days::new(n as u64)
    } else {
        due() - Days::new(n.unsigned_abs())
    }
}

/// Local time in São Paulo on day D+n.
fn sp(n: i64, h: u32, min: u32) -> DateTime<Utc> {
    SP.from_local_datetime(&d(n).and_hms_opt(h, min, 0).unwrap())
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn debtor(jurisdiction: &str, balance: i64) -> Debtor {
    Debtor {
        id: 7,
        external_id: "c-7".into(),
        name: "João Souza".into(),
        document: "529.982.247-25".parse().unwrap(),
        phones: vec![Phone {
            number: "+5511987654321".into(),
            kind: PhoneKind::Mobile,
            consent: true,
        }],
        email: Some("joao@example.com".into()),
        jurisdiction: jurisdiction.parse().unwrap(),
        time_zone: Zone::parse("America/Sao_Paulo"),
        segment: "retail".into(),
        tags: vec![],
        debts: vec![Debt {
            id: 1,
            creditor: "Loja Azul".into(),
            original: brl(balance),
            balance: brl(balance),
            interest_and_fees: brl(balance / 5),
            due_date: due(),
        }],
    }
}

fn ev(at: DateTime<Utc>, kind: EventKind) -> Event {
    Event { at, kind }
}

fn contact(at: DateTime<Utc>, channel: Channel, result: ContactResult) -> Event {
    ev(
        at,
        EventKind::Contact {
            channel,
            firmness: Firmness::Friendly,
            result,
            requested: false,
        },
    )
}

fn outcome(at: DateTime<Utc>, disposition: Disposition) -> Event {
    ev(
        at,
        EventKind::Outcome {
            disposition,
            reason: None,
            note: None,
        },
    )
}

fn step_index(policy: &Policy, id: &str) -> u16 {
    policy.steps.iter().position(|s| s.id == id).unwrap() as u16
}

fn queue_id(policy: &Policy, plan: &Plan) -> Option<String> {
    plan.queue.map(|q| policy.queue(q).id.clone())
}

fn action_for(plan: &Plan, source: Source) -> Option<&regua::schedule::Action> {
    plan.actions.iter().find(|a| a.source == source)
}

fn blocked_for(plan: &Plan, source: Source) -> Option<&regua::schedule::Blocked> {
    plan.blocked.iter().find(|b| b.source == source)
}

// ── The calendar ───────────────────────────────────────────────────────────

#[test]
fn before_the_due_date_the_d_minus_3_sms_reminder() {
    let policy = default_policy();
    let debtor = debtor("SP", 50_000);
    let now = sp(-3, 10, 0);
    let p = plan(&debtor, &[], &policy, now);
    assert_eq!(p.state, State::Active);
    assert_eq!(p.days_past_due, -3);
    assert_eq!(p.balance, Some(brl(50_000)));
    let reminder = Source::Step(step_index(&policy, "reminder"));
    let a = action_for(&p, reminder).expect("the reminder is planned");
    assert_eq!(
        (a.at, a.channel, a.firmness),
        (now, Channel::Sms, Firmness::Friendly)
    );
    // Nothing else is due yet; the next steps are shown ahead, in order.
    assert!(p.actions.iter().all(|a| a.source == reminder || a.at > now));
    let due_today = action_for(&p, Source::Step(step_index(&policy, "due_today"))).unwrap();
    assert_eq!(due_today.at, sp(0, 8, 0), "WhatsApp when the window opens");
    assert!(p.actions.windows(2).all(|w| w[0].at <= w[1].at));
    // No call is due, so no queue.
    assert_eq!(p.queue, None);
    assert!(!p.callable_now);
    // Once the reminder went out it is not planned again.
    let sent = [contact(
        now + Duration::minutes(1),
        Channel::Sms,
        ContactResult::Delivered,
    )];
    let p = plan(&debtor, &sent, &policy, now + Duration::minutes(5));
    assert!(action_for(&p, reminder).is_none());
    assert!(blocked_for(&p, reminder).is_none());
}

#[test]
fn on_d_plus_3_the_friendly_call_is_due_in_queue_early() {
    let policy = default_policy();
    let debtor = debtor("SP", 50_000);
    let now = sp(3, 10, 0);
    let p = plan(&debtor, &[], &policy, now);
    assert_eq!(p.days_past_due, 3);
    let first_call = Source::Step(step_index(&policy, "first_call"));
    let a = action_for(&p, first_call).expect("the first call is due");
    assert_eq!(
        (a.at, a.channel, a.firmness),
        (now, Channel::Call, Firmness::Friendly)
    );
    assert_eq!(queue_id(&policy, &p).as_deref(), Some("early"));
    assert!(p.callable_now);
    // One call at a time.
    assert_eq!(
        p.actions
            .iter()
            .filter(|a| a.channel == Channel::Call && a.at <= now)
            .count(),
        1
    );
}

#[test]
fn at_three_in_the_morning_the_call_waits_for_the_window() {
    let policy = default_policy();
    let first_call = Source::Step(step_index(&policy, "first_call"));
    for (uf, opens, closes) in [("SP", 8u16, 20u16), ("RJ", 9, 19)] {
        let debtor = debtor(uf, 50_000);
        let now = sp(3, 3, 0);
        let p = plan(&debtor, &[], &policy, now);
        assert!(action_for(&p, first_call).is_none(), "{uf}");
        let b = blocked_for(&p, first_call).expect("the call is blocked");
        assert_eq!(b.channel, Channel::Call);
        match &b.refusal.block {
            Block::Window { shut, .. } => assert_eq!(
                *shut,
                Shut::BeforeOpen {
                    day: DayKind::Weekday,
                    hours: Hours::new(opens, closes)
                },
                "{uf}"
            ),
            other => panic!("{uf}: expected the call window, got {other:?}"),
        }
        assert_eq!(b.refusal.clears_at, Some(sp(3, opens.into(), 0)), "{uf}");
        // Still in its queue, but not callable now.
        assert_eq!(queue_id(&policy, &p).as_deref(), Some("early"), "{uf}");
        assert!(!p.callable_now, "{uf}");
        // The e-mail has no window: it goes now.
        let email = action_for(&p, Source::Step(step_index(&policy, "missed_due_date")))
            .expect("e-mail is not held by the call window");
        assert_eq!(email.at, now);
    }
}

#[test]
fn later_steps_supersede_earlier_ones_on_the_same_channel() {
    let policy = default_policy();
    let debtor = debtor("SP", 50_000);
    // D+10: the firm follow-up call replaces the friendly first call.
    let p = plan(&debtor, &[], &policy, sp(10, 10, 0));
    let follow_up = Source::Step(step_index(&policy, "follow_up_call"));
    let a = action_for(&p, follow_up).unwrap();
    assert_eq!(a.firmness, Firmness::Firm);
    let first_call = Source::Step(step_index(&policy, "first_call"));
    assert!(action_for(&p, first_call).is_none());
    assert!(blocked_for(&p, first_call).is_none());
    // A segment filter: the small-business e-mail only for that segment.
    let check_in = Source::Step(step_index(&policy, "business_check_in"));
    assert!(action_for(&p, check_in).is_none());
    let mut business = debtor.clone();
    business.segment = "small_business".into();
    let p = plan(&business, &[], &policy, sp(5, 10, 0));
    assert!(action_for(&p, check_in).is_some());
}

/// The listing with a credit bureau comes ten days after the written
/// notice went, however late the debtor came in: never with it.
#[test]
fn the_bureau_listing_waits_ten_days_after_the_letter() {
    let policy = default_policy();
    let debtor = debtor("SP", 50_000);
    let letter = Source::Step(step_index(&policy, "formal_notice"));
    let listing = Source::Step(step_index(&policy, "negativacao"));
    // D+59, nothing sent yet: the letter now, the listing held for it.
    let p = plan(&debtor, &[], &policy, sp(59, 10, 0));
    assert_eq!(action_for(&p, letter).unwrap().at, sp(59, 10, 0));
    assert!(action_for(&p, listing).is_none(), "{:?}", p.actions);
    let held = blocked_for(&p, listing).unwrap();
    assert_eq!(held.refusal.block, Block::AwaitsStep { day: 15, days: 10 });
    assert_eq!(held.refusal.clears_at, None);
    let said = explain::explain(&p, &policy, &debtor, sp(59, 10, 0), Locale::PtBr);
    assert!(
        said.iter()
            .any(|l| l.contains("vem 10 dias depois do passo D+15, que ainda não foi feito")),
        "{said:#?}"
    );
    // The letter went on D+59: the listing is planned for D+69.
    let sent = [contact(
        sp(59, 11, 0),
        Channel::Letter,
        ContactResult::Delivered,
    )];
    let p = plan(&debtor, &sent, &policy, sp(60, 10, 0));
    assert!(blocked_for(&p, listing).is_none());
    let at = action_for(&p, listing).unwrap().at;
    assert_eq!(at.with_timezone(&SP).date_naive(), d(69));
    // And is due then.
    let p = plan(&debtor, &sent, &policy, sp(69, 10, 0));
    assert_eq!(action_for(&p, listing).unwrap().at, sp(69, 10, 0));
    // On the usual calendar (letter on D+15) it comes on its own day, D+30.
    let on_time = [contact(
        sp(15, 10, 0),
        Channel::Letter,
        ContactResult::Delivered,
    )];
    let p = plan(&debtor, &on_time, &policy, sp(30, 10, 0));
    assert_eq!(action_for(&p, listing).unwrap().at, sp(30, 10, 0));
    // A letter from before the notice's day is not the notice.
    let early = [contact(
        sp(5, 10, 0),
        Channel::Letter,
        ContactResult::Delivered,
    )];
    let p = plan(&debtor, &early, &policy, sp(30, 10, 0));
    assert!(blocked_for(&p, listing).is_some());
}

// ── Promises ───────────────────────────────────────────────────────────────

/// A promise made on D+9 for D+16 (Wednesday 18 March), two days' grace.
fn promise_history(amount: i64) -> Vec<Event> {
    vec![
        contact(
            sp(9, 15, 0),
            Channel::Call,
            ContactResult::Connected { right_party: true },
        ),
        outcome(sp(9, 15, 5), Disposition::PromiseToPay),
        ev(
            sp(9, 15, 5),
            EventKind::Promise {
                amount: brl(amount),
                date: d(16),
                grace_days: 2,
                forgives: None,
            },
        ),
    ]
}

#[test]
fn a_plans_installment_is_said_as_one_with_those_still_to_come() {
    let policy = default_policy();
    let debtor = debtor("SP", 50_000);
    let mut history = promise_history(30_000);
    history[2].kind = EventKind::InstallmentPlan {
        installments: [16, 46, 76]
            .map(|n| Installment {
                date: d(n),
                amount: brl(10_000),
            })
            .into(),
        grace_days: 2,
    };
    let now = sp(10, 10, 0);
    let p = plan(&debtor, &history, &policy, now);
    assert_eq!(
        p.state,
        State::PromisePending {
            date: d(16),
            last_day: d(18),
            later: 2
        }
    );
    let said = |locale| explain::explain(&p, &policy, &debtor, now, locale)[0].clone();
    assert_eq!(
        said(Locale::PtBr),
        "parcela para 18/03/2026 (tolerância até 20/03/2026; mais 2 depois): os passos firmes esperam"
    );
    assert_eq!(
        said(Locale::En),
        "installment due 2026-03-18 (grace until 2026-03-20; 2 more after it): firm steps wait"
    );
}

#[test]
fn a_pending_promise_pauses_firm_steps_and_keeps_friendly_ones() {
    let policy = default_policy();
    let debtor = debtor("SP", 50_000);
    let history = promise_history(50_000);
    let now = sp(10, 10, 0);
    let p = plan(&debtor, &history, &policy, now);
    let last_day = d(18);
    assert_eq!(
        p.state,
        State::PromisePending {
            date: d(16),
            last_day,
            later: 0
        }
    );
    let said = explain::explain(&p, &policy, &debtor, now, Locale::PtBr);
    assert_eq!(
        said[0],
        "promessa para 18/03/2026 (tolerância até 20/03/2026): os passos firmes esperam"
    );
    let ends = breaks_at(last_day, Some(SP));
    assert_eq!(ends, sp(19, 0, 0));

    // The firm call due on D+10 waits; it clears when the window opens after
    // the promise's last day (Saturday 21 March, 08:00).
    let follow_up = Source::Step(step_index(&policy, "follow_up_call"));
    let b = blocked_for(&p, follow_up).expect("the firm call is paused");
    assert_eq!(b.refusal.block, Block::PromisePause { until: last_day });
    assert_eq!(b.refusal.clears_at, Some(sp(19, 8, 0)));
    // The formal notice on D+15 falls inside the pause too; letters have no
    // window, so it clears the moment the promise would break.
    let notice = Source::Step(step_index(&policy, "formal_notice"));
    let b = blocked_for(&p, notice).expect("the letter is paused");
    assert_eq!(b.refusal.block, Block::PromisePause { until: last_day });
    assert_eq!(b.refusal.clears_at, Some(ends));
    // Nothing firm is planned before the promise breaks.
    for a in &p.actions {
        assert!(
            a.firmness < Firmness::Firm || a.at >= ends,
            "firm action during the pause: {a:?}"
        );
    }
    // A firm step after the pause is planned as usual: D+20 is a Sunday, so
    // Monday at eight.
    let second_call = Source::Step(step_index(&policy, "second_call"));
    assert_eq!(action_for(&p, second_call).unwrap().at, sp(21, 8, 0));
    // Friendly steps go on (the default's "due today" message expires after
    // a day, so here it is kept open).
    let due_today = Source::Step(step_index(&policy, "due_today"));
    assert_eq!(
        action_for(&p, due_today),
        None,
        "expired in the default policy"
    );
    let mut lasting = policy.clone();
    lasting.steps[step_index(&policy, "due_today") as usize].expires_after_days = None;
    let q = plan(&debtor, &history, &lasting, now);
    assert_eq!(action_for(&q, due_today).unwrap().at, now);
    // The encouragement SMS the day before the date (Tuesday 17 March).
    let enc = action_for(&p, Source::Encouragement).expect("encouragement planned");
    assert_eq!(
        (enc.at, enc.channel, enc.firmness),
        (sp(15, 8, 0), Channel::Sms, Firmness::Friendly)
    );
    // No call is due, so the debtor waits in no queue.
    assert_eq!(p.queue, None);

    // Once the encouragement is sent, it is not planned again.
    let mut sent = history.clone();
    sent.push(contact(
        sp(15, 9, 0),
        Channel::Sms,
        ContactResult::Delivered,
    ));
    let p = plan(&debtor, &sent, &policy, sp(15, 10, 0));
    assert!(action_for(&p, Source::Encouragement).is_none());
}

#[test]
fn encouragement_follows_the_policy_days_before() {
    let mut policy = default_policy();
    policy.promise.encourage.as_mut().unwrap().days_before = 2;
    let debtor = debtor("SP", 50_000);
    let p = plan(&debtor, &promise_history(50_000), &policy, sp(10, 10, 0));
    // D+16 less two days is Monday D+14.
    assert_eq!(
        action_for(&p, Source::Encouragement).unwrap().at,
        sp(14, 8, 0)
    );
    policy.promise.encourage = None;
    let p = plan(&debtor, &promise_history(50_000), &policy, sp(10, 10, 0));
    assert!(action_for(&p, Source::Encouragement).is_none());
}

#[test]
fn encouragement_on_a_holiday_comes_earlier_not_on_the_date() {
    let policy = default_policy();
    // A promise for Friday 20 March; the day before is São José, a state
    // holiday in Ceará, when no message goes out.
    let mut history = promise_history(50_000);
    if let EventKind::Promise { date, .. } = &mut history[2].kind {
        *date = d(18);
    }
    let p = plan(&debtor("CE", 50_000), &history, &policy, sp(10, 10, 0));
    assert_eq!(
        action_for(&p, Source::Encouragement).unwrap().at,
        sp(16, 8, 0),
        "Wednesday the 18th, still before the date"
    );
    // Elsewhere the 19th is a working day: the day before, as usual.
    let p = plan(&debtor("SP", 50_000), &history, &policy, sp(10, 10, 0));
    assert_eq!(
        action_for(&p, Source::Encouragement).unwrap().at,
        sp(17, 8, 0)
    );
    // Never earlier than the day after the promise was made: one made on
    // the 18th has no working day before the date, and gets no note.
    let mut late = history.clone();
    for e in &mut late {
        e.at = sp(16, 15, 0);
    }
    let p = plan(&debtor("CE", 50_000), &late, &policy, sp(16, 16, 0));
    assert!(
        action_for(&p, Source::Encouragement).is_none(),
        "{:?}",
        p.actions
    );
}

#[test]
fn a_payment_in_full_stops_the_ladder() {
    let policy = default_policy();
    let mut debtor = debtor("SP", 50_000);
    let mut history = promise_history(50_000);
    history.push(ev(
        sp(12, 11, 0),
        EventKind::Payment {
            amount: brl(50_000),
        },
    ));
    debtor.debts[0].balance = brl(0);
    let p = plan(&debtor, &history, &policy, sp(12, 12, 0));
    assert_eq!(p.state, State::PaidInFull);
    assert!(p.actions.is_empty(), "{:?}", p.actions);
    assert!(p.blocked.is_empty(), "{:?}", p.blocked);
    assert_eq!(p.queue, None);
    assert!(!p.callable_now);
    // Weeks later, still nothing.
    let p = plan(&debtor, &history, &policy, sp(40, 10, 0));
    assert_eq!(
        (p.state, p.actions.len(), p.blocked.len()),
        (State::PaidInFull, 0, 0)
    );
}

#[test]
fn a_partial_payment_replans_on_the_new_balance() {
    let policy = default_policy();
    let notice = Source::Step(step_index(&policy, "formal_notice"));
    let mut debtor = debtor("SP", 50_000);
    // D+16: the formal notice (min balance 50.00) is due on 500.00...
    let now = sp(16, 10, 0);
    let p = plan(&debtor, &[], &policy, now);
    assert_eq!(action_for(&p, notice).unwrap().at, now);
    // ... and not once a payment leaves 40.00.
    let history = [ev(
        sp(16, 9, 0),
        EventKind::Payment {
            amount: brl(46_000),
        },
    )];
    debtor.debts[0].balance = brl(4_000);
    let p = plan(&debtor, &history, &policy, now);
    assert_eq!(p.state, State::Active);
    assert_eq!(p.balance, Some(brl(4_000)));
    assert!(action_for(&p, notice).is_none());
    assert!(blocked_for(&p, notice).is_none());
    // The bureau listing (D+30, min 50.00) is not among the steps ahead.
    let bureau = Source::Step(step_index(&policy, "negativacao"));
    let p = plan(&debtor, &history, &policy, sp(28, 10, 0));
    assert!(p.actions.iter().all(|a| a.source != bureau));
    let mut owing = debtor.clone();
    owing.debts[0].balance = brl(50_000);
    let p = plan(&owing, &history, &policy, sp(28, 10, 0));
    assert_eq!(action_for(&p, bureau).unwrap().at, sp(30, 0, 0));
    // Calls go on whatever the balance.
    let follow_up = Source::Step(step_index(&policy, "follow_up_call"));
    let p = plan(&debtor, &history, &policy, now);
    assert_eq!(action_for(&p, follow_up).unwrap().at, now);
}

#[test]
fn a_kept_promise_ends_the_pause() {
    let policy = default_policy();
    let mut debtor = debtor("SP", 50_000);
    let mut history = promise_history(20_000);
    history.push(ev(
        sp(14, 11, 0),
        EventKind::Payment {
            amount: brl(20_000),
        },
    ));
    debtor.debts[0].balance = brl(30_000);
    let now = sp(14, 12, 0);
    let p = plan(&debtor, &history, &policy, now);
    assert_eq!(p.state, State::Active);
    // The firm letter due on D+15 is planned, not paused.
    let notice = Source::Step(step_index(&policy, "formal_notice"));
    assert_eq!(action_for(&p, notice).unwrap().at, sp(15, 0, 0));
    assert!(
        p.blocked
            .iter()
            .all(|b| !matches!(b.refusal.block, Block::PromisePause { .. }))
    );
}

#[test]
fn a_broken_promise_routes_to_broken_promises() {
    let policy = default_policy();
    let debtor = debtor("SP", 50_000);
    let history = promise_history(50_000);
    // The promise breaks at midnight after D+18; Monday D+21 10:00.
    let now = sp(21, 10, 0);
    let p = plan(&debtor, &history, &policy, now);
    assert_eq!(p.state, State::Active);
    assert_eq!(queue_id(&policy, &p).as_deref(), Some("broken_promises"));
    assert!(p.callable_now);
    let a = action_for(&p, Source::BrokenPromise).expect("a follow-up call");
    assert_eq!((a.at, a.channel), (now, Channel::Call));
    // The broken-promise call stands for the step calls due now.
    assert_eq!(
        p.actions
            .iter()
            .filter(|a| a.channel == Channel::Call && a.at <= now)
            .count(),
        1
    );
    // Once that call is made, the debtor is back on the calendar.
    let mut called = history.clone();
    called.push(contact(
        sp(21, 10, 5),
        Channel::Call,
        ContactResult::NoAnswer,
    ));
    let p = plan(&debtor, &called, &policy, sp(21, 11, 0));
    assert!(action_for(&p, Source::BrokenPromise).is_none());
    assert_ne!(queue_id(&policy, &p).as_deref(), Some("broken_promises"));
}

// ── Callbacks ──────────────────────────────────────────────────────────────

/// On D+2 the debtor spoke with an agent and asked to be called on Friday
/// D+4 at 10:30.
fn callback_history() -> Vec<Event> {
    vec![
        contact(
            sp(2, 15, 0),
            Channel::Call,
            ContactResult::Connected { right_party: true },
        ),
        outcome(sp(2, 15, 5), Disposition::CallbackRequested),
        ev(sp(2, 15, 5), EventKind::Callback { due: sp(4, 10, 30) }),
    ]
}

#[test]
fn a_callback_is_a_call_at_the_chosen_time_exempt_from_the_quiet_period() {
    let policy = default_policy();
    let debtor = debtor("SP", 50_000);
    let history = callback_history();
    // Right after: the appointment is planned for its time.
    let p = plan(&debtor, &history, &policy, sp(2, 15, 10));
    let a = action_for(&p, Source::Callback).expect("the callback is planned");
    assert_eq!((a.at, a.channel), (sp(4, 10, 30), Channel::Call));
    // At the chosen time: due now, in the callbacks queue, callable despite
    // the conversation two days ago.
    let now = sp(4, 10, 30);
    let p = plan(&debtor, &history, &policy, now);
    let a = action_for(&p, Source::Callback).unwrap();
    assert_eq!(a.at, now);
    assert_eq!(queue_id(&policy, &p).as_deref(), Some("callbacks_due"));
    assert!(p.callable_now);
    // Without the appointment, the step call due then is held by the quiet
    // period until seven days after the conversation.
    let no_callback = &history[..2];
    let p = plan(&debtor, no_callback, &policy, now);
    let b = blocked_for(&p, Source::Step(step_index(&policy, "first_call"))).unwrap();
    assert!(
        matches!(
            b.refusal.block,
            Block::QuietAfterConversation { days: 7, .. }
        ),
        "{:?}",
        b.refusal
    );
    assert_eq!(b.refusal.clears_at, Some(sp(9, 15, 0)));
    assert_eq!(queue_id(&policy, &p).as_deref(), Some("early"));
    assert!(!p.callable_now);
    // Once the callback is made it is done.
    let mut done = history.clone();
    done.push(ev(
        sp(4, 10, 31),
        EventKind::Contact {
            channel: Channel::Call,
            firmness: Firmness::Friendly,
            result: ContactResult::Connected { right_party: true },
            requested: true,
        },
    ));
    let p = plan(&debtor, &done, &policy, sp(4, 11, 0));
    assert!(action_for(&p, Source::Callback).is_none());
}

#[test]
fn a_callback_chosen_outside_the_window_waits_for_it() {
    let policy = default_policy();
    let debtor = debtor("SP", 50_000);
    let mut history = callback_history();
    // Sunday D+6 at 10:00: São Paulo never calls on Sundays.
    history[2] = ev(sp(2, 15, 5), EventKind::Callback { due: sp(6, 10, 0) });
    let p = plan(&debtor, &history, &policy, sp(2, 15, 10));
    assert_eq!(action_for(&p, Source::Callback).unwrap().at, sp(7, 8, 0));
}

// ── Stops ──────────────────────────────────────────────────────────────────

#[test]
fn dispute_cease_contact_and_deceased_stop_everything() {
    let policy = default_policy();
    let debtor = debtor("SP", 50_000);
    for (disposition, flag, queue) in [
        (Disposition::Dispute, Flag::Dispute, "disputes"),
        (
            Disposition::CeaseContact,
            Flag::CeaseContact,
            "do_not_contact",
        ),
        (Disposition::Deceased, Flag::Deceased, "deceased"),
    ] {
        let history = [
            contact(
                sp(3, 10, 0),
                Channel::Call,
                ContactResult::Connected { right_party: true },
            ),
            outcome(sp(3, 10, 5), disposition),
        ];
        let p = plan(&debtor, &history, &policy, sp(12, 10, 0));
        assert_eq!(p.state, State::Stopped(flag));
        assert!(p.actions.is_empty(), "{flag:?}: {:?}", p.actions);
        assert!(!p.blocked.is_empty());
        assert!(
            p.blocked
                .iter()
                .all(|b| b.refusal.block == Block::Stopped(flag) && b.refusal.clears_at.is_none())
        );
        assert_eq!(queue_id(&policy, &p).as_deref(), Some(queue), "{flag:?}");
        assert!(!p.callable_now);
    }
    // A flag set by hand and cleared again: collection resumes.
    let history = [
        ev(
            sp(3, 10, 0),
            EventKind::Flag {
                flag: Flag::Dispute,
                set: true,
            },
        ),
        ev(
            sp(5, 10, 0),
            EventKind::Flag {
                flag: Flag::Dispute,
                set: false,
            },
        ),
    ];
    let p = plan(&debtor, &history[..1], &policy, sp(4, 10, 0));
    assert_eq!(p.state, State::Stopped(Flag::Dispute));
    let p = plan(&debtor, &history, &policy, sp(5, 11, 0));
    assert_eq!(p.state, State::Active);
    assert!(!p.actions.is_empty());
}

// ── Engagement ─────────────────────────────────────────────────────────────

#[test]
fn an_email_opened_without_payment_in_48_hours_brings_a_whatsapp() {
    let policy = default_policy();
    let debtor = debtor("SP", 50_000);
    let opened = sp(1, 12, 0);
    let history = vec![
        contact(sp(1, 9, 0), Channel::Email, ContactResult::Delivered),
        contact(sp(1, 9, 5), Channel::Whatsapp, ContactResult::Delivered),
        ev(
            opened,
            EventKind::MessageOpened {
                channel: Channel::Email,
            },
        ),
    ];
    let rule = Source::Engagement(0);
    let p = plan(&debtor, &history, &policy, sp(2, 10, 0));
    let a = action_for(&p, rule).expect("the engagement rule fires");
    assert_eq!(
        (a.at, a.channel, a.firmness),
        (
            opened + Duration::hours(48),
            Channel::Whatsapp,
            Firmness::Friendly
        )
    );
    // A payment after the opening cancels it.
    let mut paid = history.clone();
    paid.push(ev(sp(2, 9, 0), EventKind::Payment { amount: brl(1_000) }));
    assert!(action_for(&plan(&debtor, &paid, &policy, sp(2, 10, 0)), rule).is_none());
    // So does a WhatsApp after the opening.
    let mut messaged = history.clone();
    messaged.push(contact(
        sp(2, 9, 0),
        Channel::Whatsapp,
        ContactResult::Delivered,
    ));
    assert!(action_for(&plan(&debtor, &messaged, &policy, sp(2, 10, 0)), rule).is_none());
    // Opening an SMS is not what this rule watches.
    let mut sms = history.clone();
    sms[2] = ev(
        opened,
        EventKind::MessageOpened {
            channel: Channel::Sms,
        },
    );
    assert!(action_for(&plan(&debtor, &sms, &policy, sp(2, 10, 0)), rule).is_none());
    // 48 hours later it is due now, or waits for the window: D+3 at 12:00 is
    // Thursday noon, open.
    let p = plan(&debtor, &history, &policy, sp(3, 12, 0));
    assert_eq!(action_for(&p, rule).unwrap().at, sp(3, 12, 0));
}

// ── Score ──────────────────────────────────────────────────────────────────

fn assert_score_explains_itself(p: &Plan) {
    let sum: i32 = p.score.parts().map(|part| part.points).sum();
    assert_eq!(p.score.parts().count(), 5);
    assert_eq!(p.score.total, (20 + sum).clamp(0, 100), "{:?}", p.score);
}

#[test]
fn the_score_explains_itself() {
    let policy = default_policy();
    let debtor = debtor("SP", 50_000);
    let p = plan(&debtor, &[], &policy, sp(3, 10, 0));
    assert_score_explains_itself(&p);
    let points = |factor| p.score.parts().find(|x| x.factor == factor).unwrap().points;
    // 3 days past due (0), 500.00 (10), no promises (0), never contacted
    // (10), no payments (0): 20 + 20.
    assert_eq!(points(Factor::DaysPastDue), 0);
    assert_eq!(points(Factor::Balance), 10);
    assert_eq!(points(Factor::LastContact), 10);
    assert_eq!(p.score.total, 40);

    // High: old, large, promises kept, paid recently.
    let mut big = debtor.clone();
    big.debts[0].balance = brl(5_000_000);
    let mut history = Vec::new();
    for k in 0..3 {
        history.push(ev(
            sp(100 + 2 * k, 10, 0),
            EventKind::Promise {
                amount: brl(1_000),
                date: d(101 + 2 * k),
                grace_days: 0,
                forgives: None,
            },
        ));
        history.push(ev(
            sp(101 + 2 * k, 10, 0),
            EventKind::Payment { amount: brl(1_000) },
        ));
    }
    let p = plan(&big, &history, &policy, sp(130, 10, 0));
    assert_score_explains_itself(&p);
    // 30 + 20 + 12 + 10 + 8 = 80, and base 20: the maximum.
    assert_eq!(p.score.total, 100);
    let promises = p
        .score
        .parts()
        .find(|x| x.factor == Factor::Promises)
        .unwrap();
    assert_eq!((promises.points, promises.value), (12, 3000));
    assert_eq!(promises.to_string(), "promises kept 3, broken 0: +12");
}

#[test]
fn the_score_is_clamped_at_zero() {
    let policy = default_policy();
    let mut debtor = debtor("SP", 5_000);
    // Not yet due (0 points), 50.00 (2), three broken promises (-9), called an
    // hour ago (-15), no payments: 20 - 22 = -2, shown as 0.
    debtor.debts[0].due_date = d(30);
    let mut history = Vec::new();
    for k in 0..3 {
        history.push(ev(
            sp(1 + k, 10, 0),
            EventKind::Promise {
                amount: brl(1_000),
                date: d(1 + k),
                grace_days: 0,
                forgives: None,
            },
        ));
    }
    history.push(contact(sp(8, 9, 0), Channel::Call, ContactResult::NoAnswer));
    let p = plan(&debtor, &history, &policy, sp(8, 10, 0));
    let sum: i32 = p.score.parts().map(|x| x.points).sum();
    assert_eq!(sum, -22);
    assert_eq!(p.score.total, 0);
    assert_score_explains_itself(&p);
}

// ── Offers ─────────────────────────────────────────────────────────────────

#[test]
fn offers_discount_interest_and_fees_only() {
    let policy = default_policy();
    let mut debtor = debtor("SP", 50_000);
    debtor.debts[0].interest_and_fees = brl(10_000);
    debtor.debts.push(Debt {
        id: 2,
        creditor: "Loja Azul".into(),
        original: brl(30_000),
        balance: brl(20_000),
        interest_and_fees: brl(5_000),
        due_date: d(10),
    });
    // Interest on a debt already paid off is not forgiven twice.
    debtor.debts.push(Debt {
        id: 3,
        creditor: "Loja Azul".into(),
        original: brl(9_000),
        balance: brl(0),
        interest_and_fees: brl(9_000),
        due_date: d(-30),
    });
    let today = d(12);
    let t = offers::terms(&debtor, &policy, today).unwrap();
    assert_eq!(t.balance, brl(70_000));
    // 30 % of 150.00 of interest and fees: 45.00 off, never off the principal.
    assert_eq!(t.max_discount, brl(4_500));
    assert_eq!(t.pay_in_full, brl(65_500));
    assert_eq!(t.latest_promise_date, today + Days::new(15));
    assert_eq!((t.max_installments, t.min_installment), (12, brl(5_000)));
    // Interest recorded above the balance is capped at the balance.
    let mut odd = debtor.clone();
    odd.debts.truncate(1);
    odd.debts[0].interest_and_fees = brl(80_000);
    let t = offers::terms(&odd, &policy, today).unwrap();
    assert_eq!(t.max_discount, brl(15_000));
    // Nothing owed, nothing to offer.
    let mut paid = debtor.clone();
    for debt in &mut paid.debts {
        debt.balance = brl(0);
    }
    assert_eq!(
        offers::terms(&paid, &policy, today),
        Err(OfferError::NothingOwed)
    );
}

#[test]
fn promises_are_checked_against_the_policy() {
    let policy = default_policy();
    let debtor = debtor("SP", 50_000);
    let today = d(12);
    let t = offers::terms(&debtor, &policy, today).unwrap();
    let latest = today + Days::new(15);
    assert_eq!(t.check_promise(brl(50_000), latest, today), Ok(()));
    assert_eq!(t.check_promise(brl(1), today, today), Ok(()));
    assert_eq!(
        t.check_promise(brl(10_000), today - Days::new(1), today),
        Err(OfferError::PastDate)
    );
    assert_eq!(
        t.check_promise(brl(10_000), latest + Days::new(1), today),
        Err(OfferError::TooLate(latest))
    );
    assert_eq!(
        t.check_promise(brl(50_001), today, today),
        Err(OfferError::OverBalance(brl(50_000)))
    );
    assert_eq!(
        t.check_promise(brl(0), today, today),
        Err(OfferError::NotPositive)
    );
    assert!(
        t.check_promise(Money::new(100, Currency::USD), today, today)
            .is_err()
    );
}

/// A debt in dollars has the policy's minimum for dollars, not none (a
/// plan of twelve installments of one cent had been offered).
#[test]
fn a_debt_in_another_currency_has_that_currencys_minimum_installment() {
    let policy = default_policy();
    let mut debtor = debtor("SP", 12);
    for debt in &mut debtor.debts {
        for m in [
            &mut debt.original,
            &mut debt.balance,
            &mut debt.interest_and_fees,
        ] {
            *m = Money::new(m.minor, Currency::USD);
        }
    }
    let today = d(12);
    let t = offers::terms(&debtor, &policy, today).unwrap();
    assert_eq!(t.min_installment, Money::new(1_000, Currency::USD));
    assert!(matches!(
        t.installments(12, today, today),
        Err(OfferError::InstallmentTooSmall(..))
    ));
    // A currency the policy names no minimum for has none.
    for debt in &mut debtor.debts {
        debt.balance = Money::new(debt.balance.minor, Currency::new("EUR").unwrap());
        debt.interest_and_fees = Money::zero(debt.balance.currency);
    }
    let t = offers::terms(&debtor, &policy, today).unwrap();
    assert_eq!(t.min_installment.minor, 0);
}

#[test]
fn a_settlement_forgives_the_rest_within_the_discount() {
    let policy = default_policy();
    let mut debtor = debtor("SP", 50_000);
    debtor.debts[0].interest_and_fees = brl(10_000);
    let today = d(12);
    let t = offers::terms(&debtor, &policy, today).unwrap();
    // 30 % of 100.00 of interest and fees.
    assert_eq!((t.pay_in_full, t.max_discount), (brl(47_000), brl(3_000)));
    assert_eq!(t.settlement(brl(47_000)), Ok(Some(brl(3_000))));
    assert_eq!(t.settlement(brl(48_000)), Ok(Some(brl(2_000))));
    // The whole balance forgives nothing.
    assert_eq!(t.settlement(brl(50_000)), Ok(None));
    assert_eq!(
        t.settlement(brl(46_999)),
        Err(OfferError::DiscountTooLarge(brl(47_000), brl(3_000)))
    );
    assert!(t.settlement(Money::new(47_000, Currency::USD)).is_err());
}

#[test]
fn installments_sum_to_the_balance_within_the_limits() {
    let policy = default_policy();
    let debtor = debtor("SP", 70_000);
    let today = d(12);
    let t = offers::terms(&debtor, &policy, today).unwrap();
    let first = d(20);
    let plan3 = t.installments(3, first, today).unwrap();
    assert_eq!(
        plan3,
        vec![
            Installment {
                date: first,
                amount: brl(23_334)
            },
            Installment {
                date: date(2026, 4, 22),
                amount: brl(23_333)
            },
            Installment {
                date: date(2026, 5, 22),
                amount: brl(23_333)
            },
        ]
    );
    for count in 1..=12 {
        let parts = t.installments(count, first, today).unwrap();
        assert_eq!(parts.len(), count as usize);
        assert_eq!(parts.iter().map(|i| i.amount.minor).sum::<i64>(), 70_000);
        assert!(parts.windows(2).all(|w| w[0].date < w[1].date));
    }
    assert_eq!(
        t.installments(13, first, today),
        Err(OfferError::TooManyInstallments(12))
    );
    assert_eq!(
        t.installments(0, first, today),
        Err(OfferError::NoInstallments)
    );
    assert_eq!(
        t.installments(3, today - Days::new(1), today),
        Err(OfferError::PastDate)
    );
    assert_eq!(
        t.installments(3, today + Days::new(16), today),
        Err(OfferError::TooLate(today + Days::new(15)))
    );
    // 500.00 in twelve is 41.66 each, under the 50.00 minimum.
    let small = offers::terms(&self::debtor("SP", 50_000), &policy, today).unwrap();
    assert_eq!(
        small.installments(12, first, today),
        Err(OfferError::InstallmentTooSmall(brl(4_166), brl(5_000)))
    );
    assert!(small.installments(10, first, today).is_ok());
}

// ── In words ───────────────────────────────────────────────────────────────

#[test]
fn explain_names_the_rule_and_when_it_clears() {
    let policy = default_policy();
    let debtor = debtor("SP", 50_000);
    // Saturday 7 March 2026 at 14:05 in São Paulo (D+5).
    let now = sp(5, 14, 5);
    let p = plan(&debtor, &[], &policy, now);
    let lines = explain::explain(&p, &policy, &debtor, now, Locale::En);
    assert_eq!(lines[0], "active");
    assert!(
        lines.contains(&"queue Early (1–29 days): may not be called now".to_string()),
        "{lines:#?}"
    );
    let want = "call blocked — call window of São Paulo (Lei 15.426/2014): Saturday after \
                14:00; allowed Mon 2026-03-09 08:00 local — step D+3: First call";
    assert!(lines.iter().any(|l| l == want), "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l == "now email (friendly) — step D+1: Missed due date"),
        "{lines:#?}"
    );
    let last = lines.last().unwrap();
    assert!(
        last.starts_with(&format!("priority {} = base 20; ", p.score.total)),
        "{last}"
    );
    assert!(last.contains("5 days past due: +1"), "{last}");
    assert!(last.contains("never contacted: +10"), "{last}");

    // A stopped debtor says so and why.
    let history = [outcome(sp(4, 10, 0), Disposition::CeaseContact)];
    let p = plan(&debtor, &history, &policy, now);
    let lines = explain::explain(&p, &policy, &debtor, now, Locale::En);
    assert_eq!(lines[0], "contact stopped: cease_contact");
    assert!(lines.iter().any(|l| l.contains(
        "blocked — the debtor asked us to stop contacting them; until someone changes it"
    )));
}

#[test]
fn explain_speaks_the_agents_language() {
    let policy = default_policy();
    let debtor = debtor("SP", 50_000);
    let now = sp(5, 14, 5);
    let p = plan(&debtor, &[], &policy, now);
    let active = explain::explain(&p, &policy, &debtor, now, Locale::PtBr);
    assert_eq!(active[0], "em cobrança");
    assert!(
        active.contains(&"fila Atraso 1–29 dias: não pode receber ligação agora".to_string()),
        "{active:#?}"
    );
    let want = "bloqueio de ligação — horário de ligação: São Paulo (Lei 15.426/2014) — \
                sábado, depois das 14:00; até seg 09/03/2026 08:00 (hora local) — passo D+3: \
                Primeira ligação";
    assert!(active.iter().any(|l| l == want), "{active:#?}");
    assert!(
        active
            .iter()
            .any(|l| l == "agora e-mail (amigável) — passo D+1: Aviso de vencimento perdido"),
        "{active:#?}"
    );
    // A step without a name goes by its id, and names a template of
    // another name.
    let mut renamed = default_policy();
    for step in &mut renamed.steps {
        if step.id == "missed_due_date" {
            step.names = None;
            step.template = "friendly_email_v2".into();
        }
    }
    let p2 = plan(&debtor, &[], &renamed, now);
    let lines = explain::explain(&p2, &renamed, &debtor, now, Locale::PtBr);
    let want = "agora e-mail (amigável) — passo D+1 'missed_due_date' (modelo friendly_email_v2)";
    assert!(lines.iter().any(|l| l == want), "{lines:#?}");
    let last = active.last().unwrap();
    assert!(last.starts_with("prioridade "), "{last}");
    assert!(last.contains("5 dias de atraso: +1"), "{last}");
    assert!(last.contains("sem contato ainda: +10"), "{last}");
    assert!(last.contains("saldo 500,00"), "{last}");
    let rich = self::debtor("SP", 1_230_045);
    let p = plan(&rich, &[], &policy, now);
    let lines = explain::explain(&p, &policy, &rich, now, Locale::PtBr);
    assert!(
        lines.last().unwrap().contains("saldo 12.300,45: +20"),
        "{lines:#?}"
    );

    let history = [outcome(sp(4, 10, 0), Disposition::CeaseContact)];
    let p = plan(&debtor, &history, &policy, now);
    let stopped = explain::explain(&p, &policy, &debtor, now, Locale::PtBr);
    assert_eq!(
        stopped[0],
        "contato suspenso: pediu para não receber contato"
    );
    assert!(stopped.iter().any(|l| l.contains(
        "bloqueio de ligação — a pessoa pediu para não receber mais contato; até que alguém mude isso"
    )));

    // A state with no law of its own: the national default, named so.
    let bahia = self::debtor("BA", 50_000);
    let p = plan(&bahia, &[], &policy, now);
    let national = explain::explain(&p, &policy, &bahia, now, Locale::PtBr);
    assert!(
        national.iter().any(|l| l.starts_with(
            "bloqueio de ligação — horário de ligação: Bahia (padrão nacional: sem lei \
             estadual de horário) — sábado, depois das 14:00; até seg 09/03/2026"
        )),
        "{national:#?}"
    );
    // Every line in Portuguese: none of the English words of the rules.
    for lines in [&active, &stopped, &national] {
        for english in [
            "blocked", "allowed", "step ", "queue ", "priority", "now ", "call ",
        ] {
            assert!(
                lines.iter().all(|l| !l.contains(english)),
                "{english:?} in {lines:#?}"
            );
        }
    }
}

#[test]
fn same_inputs_same_plan() {
    let policy = default_policy();
    let debtor = debtor("SP", 50_000);
    let mut history = promise_history(20_000);
    history.extend(callback_history().into_iter().map(|mut e| {
        e.at += Duration::days(8);
        if let EventKind::Callback { due } = &mut e.kind {
            *due += Duration::days(8);
        }
        e
    }));
    history.sort_by_key(|e| e.at);
    for now in [sp(3, 3, 0), sp(10, 14, 0), sp(12, 10, 30), sp(25, 9, 0)] {
        let a = plan(&debtor, &history, &policy, now);
        let b = plan(&debtor.clone(), &history.clone(), &default_policy(), now);
        assert_eq!(a, b);
        assert_eq!(
            explain::explain(&a, &policy, &debtor, now, Locale::En),
            explain::explain(&b, &policy, &debtor, now, Locale::En)
        );
    }
}

#[test]
fn a_step_past_its_expiry_is_not_sent() {
    let policy = default_policy();
    let debtor = debtor("SP", 50_000);
    let reminder = Source::Step(step_index(&policy, "reminder"));
    // On D-2 (a Saturday morning) the reminder before the due date is due…
    let p = plan(&debtor, &[], &policy, sp(-2, 10, 0));
    assert!(action_for(&p, reminder).is_some());
    // …but a debtor first planned at D+40 does not get it, nor the "due
    // today" message; the calendar's later steps still come.
    let p = plan(&debtor, &[], &policy, sp(40, 10, 0));
    assert_eq!(action_for(&p, reminder), None);
    assert_eq!(blocked_for(&p, reminder), None);
    assert_eq!(
        action_for(&p, Source::Step(step_index(&policy, "due_today"))),
        None
    );
    assert!(action_for(&p, Source::Step(step_index(&policy, "second_call"))).is_some());
}

#[test]
fn one_contact_per_channel_at_a_time() {
    // A policy whose SMS step falls on the day the encouragement is due: only
    // one SMS goes out now, the encouragement (the more pressing).
    let mut policy = default_policy();
    let i = step_index(&policy, "reminder") as usize;
    policy.steps[i].day = 14;
    policy.steps[i].expires_after_days = None;
    policy.steps.sort_by_key(|s| s.day);
    let debtor = debtor("SP", 50_000);
    let history = vec![ev(
        sp(10, 11, 0),
        EventKind::Promise {
            amount: brl(50_000),
            date: d(16),
            grace_days: 2,
            forgives: None,
        },
    )];
    let p = plan(&debtor, &history, &policy, sp(15, 10, 0));
    let sms_now: Vec<_> = p
        .actions
        .iter()
        .filter(|a| a.channel == Channel::Sms && a.at == sp(15, 10, 0))
        .collect();
    assert_eq!(sms_now.len(), 1, "{:?}", p.actions);
    assert_eq!(sms_now[0].source, Source::Encouragement);
}

#[test]
fn score_parts_read_what_the_history_says() {
    let policy = default_policy();
    let debtor = debtor("SP", 50_000);
    let part = |p: &Plan, f: Factor| *p.score.parts().find(|x| x.factor == f).unwrap();
    // Never contacted, never paid.
    let p = plan(&debtor, &[], &policy, sp(20, 10, 0));
    assert_eq!(
        (
            part(&p, Factor::Payments).points,
            part(&p, Factor::Payments).value
        ),
        (0, -1)
    );
    assert_eq!(
        (
            part(&p, Factor::LastContact).points,
            part(&p, Factor::LastContact).value
        ),
        (10, -1)
    );
    assert_eq!(
        part(&p, Factor::Payments).to_string(),
        "no payments yet: +0"
    );
    // Called yesterday, paid ten days ago.
    let history = vec![
        ev(sp(10, 12, 0), EventKind::Payment { amount: brl(1_000) }),
        contact(sp(19, 10, 0), Channel::Call, ContactResult::NoAnswer),
    ];
    let p = plan(&debtor, &history, &policy, sp(20, 9, 0));
    assert_eq!(
        (
            part(&p, Factor::Payments).points,
            part(&p, Factor::Payments).value
        ),
        (8, 9)
    );
    assert_eq!(
        (
            part(&p, Factor::LastContact).points,
            part(&p, Factor::LastContact).value
        ),
        (-15, 23)
    );
}
