//! Compliance on real debtors: each preset's window in the debtor's own time,
//! holidays, Reg F call caps and the quiet period, message caps, consent,
//! do-not-contact tags and e-mail addresses; and when each refusal clears.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use super::*;
use crate::domain::{Currency, Debt, Debtor, Firmness, Money, Phone, PhoneKind, Uf, UsState, Zone};
use crate::schedule::default_policy;

const SP_TZ: Tz = Tz::America__Sao_Paulo;

fn debtor(jurisdiction: &str, zone: &str) -> Debtor {
    Debtor {
        id: 1,
        external_id: "c-1".into(),
        name: "Maria Silva".into(),
        document: "529.982.247-25".parse().unwrap(),
        phones: vec![Phone {
            number: "+5511987654321".into(),
            kind: PhoneKind::Mobile,
            consent: true,
        }],
        email: Some("maria@example.com".into()),
        jurisdiction: jurisdiction.parse().unwrap(),
        time_zone: Zone::parse(zone),
        segment: "retail".into(),
        tags: vec![],
        debts: vec![Debt {
            id: 1,
            creditor: "Loja".into(),
            original: Money::new(50_000, Currency::BRL),
            balance: Money::new(50_000, Currency::BRL),
            interest_and_fees: Money::new(5_000, Currency::BRL),
            due_date: NaiveDate::from_ymd_opt(2026, 2, 20).unwrap(),
        }],
    }
}

fn sp() -> Debtor {
    debtor("SP", "America/Sao_Paulo")
}

/// A wall-clock time in `tz` (never a skipped or repeated one here).
fn local(tz: Tz, y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    tz.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("an unambiguous local time")
        .with_timezone(&Utc)
}

fn sp_at(m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    local(SP_TZ, 2026, m, d, h, min)
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn rules() -> Compliance {
    default_policy().compliance
}

fn contact(at: DateTime<Utc>, channel: Channel, result: ContactResult, requested: bool) -> Event {
    Event {
        at,
        kind: EventKind::Contact {
            channel,
            firmness: Firmness::Friendly,
            result,
            requested,
        },
    }
}

fn attempt(at: DateTime<Utc>) -> Event {
    contact(at, Channel::Call, ContactResult::NoAnswer, false)
}

fn conversation(at: DateTime<Utc>) -> Event {
    contact(
        at,
        Channel::Call,
        ContactResult::Connected { right_party: true },
        false,
    )
}

fn window_block(r: Result<(), Refusal>) -> (Arc<str>, Shut, Option<DateTime<Utc>>) {
    match r {
        Err(Refusal {
            block: Block::Window { authority, shut },
            clears_at,
        }) => (authority, shut, clears_at),
        other => panic!("expected a window refusal, got {other:?}"),
    }
}

// ── São Paulo ──────────────────────────────────────────────────────────────

#[test]
fn sao_paulo_saturday_after_two_is_refused_until_monday_eight() {
    let c = rules();
    let d = sp();
    // 2026-03-07 is a Saturday.
    assert_eq!(
        c.check(&d, &[], Channel::Call, false, sp_at(3, 7, 13, 55)),
        Ok(())
    );
    let refused = c.check(&d, &[], Channel::Call, false, sp_at(3, 7, 14, 5));
    let (authority, shut, clears_at) = window_block(refused.clone());
    assert_eq!(&*authority, "São Paulo (Lei 15.426/2014)");
    assert_eq!(
        shut,
        Shut::AfterClose {
            day: DayKind::Saturday,
            hours: Hours::new(8, 14)
        }
    );
    assert_eq!(clears_at, Some(sp_at(3, 9, 8, 0)), "Monday 08:00 local");
    assert_eq!(
        refused.unwrap_err().block.to_string(),
        "call window of São Paulo (Lei 15.426/2014): Saturday after 14:00"
    );
    // The window binds every channel that reaches the phone, and only those.
    for ch in [Channel::Sms, Channel::Whatsapp] {
        let (_, _, clears_at) = window_block(c.check(&d, &[], ch, false, sp_at(3, 7, 14, 5)));
        assert_eq!(clears_at, Some(sp_at(3, 9, 8, 0)), "{ch}");
    }
    for ch in [
        Channel::Email,
        Channel::Letter,
        Channel::Bureau,
        Channel::Legal,
    ] {
        assert_eq!(
            c.check(&d, &[], ch, false, sp_at(3, 7, 14, 5)),
            Ok(()),
            "{ch}"
        );
        assert_eq!(
            c.check(&d, &[], ch, false, sp_at(3, 8, 3, 0)),
            Ok(()),
            "{ch}"
        );
    }
}

#[test]
fn sao_paulo_weekdays_eight_to_eight_and_never_sunday() {
    let c = rules();
    let d = sp();
    let check = |t| c.check(&d, &[], Channel::Call, false, t);
    // Monday 2026-03-09.
    let (_, shut, clears) = window_block(check(sp_at(3, 9, 7, 59)));
    assert_eq!(
        shut,
        Shut::BeforeOpen {
            day: DayKind::Weekday,
            hours: Hours::new(8, 20)
        }
    );
    assert_eq!(clears, Some(sp_at(3, 9, 8, 0)));
    assert_eq!(check(sp_at(3, 9, 8, 0)), Ok(()));
    assert_eq!(check(sp_at(3, 9, 19, 59)), Ok(()));
    let (_, _, clears) = window_block(check(sp_at(3, 9, 20, 0)));
    assert_eq!(clears, Some(sp_at(3, 10, 8, 0)));
    // Sunday 2026-03-08: closed all day, Monday opens.
    let (_, shut, clears) = window_block(check(sp_at(3, 8, 11, 0)));
    assert_eq!(
        shut,
        Shut::ClosedAllDay {
            day: DayKind::Sunday
        }
    );
    assert_eq!(clears, Some(sp_at(3, 9, 8, 0)));
    // Friday evening clears Saturday morning.
    let (_, _, clears) = window_block(check(sp_at(3, 6, 20, 30)));
    assert_eq!(clears, Some(sp_at(3, 7, 8, 0)));
}

// ── Rio de Janeiro ─────────────────────────────────────────────────────────

#[test]
fn rio_de_janeiro_weekdays_nine_to_seven_only() {
    let c = rules();
    let d = debtor("RJ", "America/Sao_Paulo");
    let check = |t| c.check(&d, &[], Channel::Call, false, t);
    let (authority, shut, clears) = window_block(check(sp_at(3, 9, 8, 59)));
    assert_eq!(&*authority, "Rio de Janeiro (Lei 7.868/2018)");
    assert_eq!(
        shut,
        Shut::BeforeOpen {
            day: DayKind::Weekday,
            hours: Hours::new(9, 19)
        }
    );
    assert_eq!(clears, Some(sp_at(3, 9, 9, 0)));
    assert_eq!(check(sp_at(3, 9, 9, 0)), Ok(()));
    assert_eq!(check(sp_at(3, 9, 18, 59)), Ok(()));
    let (_, _, clears) = window_block(check(sp_at(3, 9, 19, 0)));
    assert_eq!(clears, Some(sp_at(3, 10, 9, 0)));
    // No Saturdays: the same 10:00 São Paulo allows is refused in Rio.
    assert_eq!(
        c.check(&sp(), &[], Channel::Call, false, sp_at(3, 7, 10, 0)),
        Ok(())
    );
    let (_, shut, clears) = window_block(check(sp_at(3, 7, 10, 0)));
    assert_eq!(
        shut,
        Shut::ClosedAllDay {
            day: DayKind::Saturday
        }
    );
    assert_eq!(clears, Some(sp_at(3, 9, 9, 0)));
    // Friday after seven waits for Monday at nine.
    let (_, _, clears) = window_block(check(sp_at(3, 6, 19, 30)));
    assert_eq!(clears, Some(sp_at(3, 9, 9, 0)));
}

// ── National default ───────────────────────────────────────────────────────

#[test]
fn a_uf_without_its_own_law_gets_the_national_default_in_its_own_zone() {
    let c = rules();
    // Amazonas, in Manaus time (UTC-4 all year).
    let d = debtor("AM", "America/Manaus");
    let check = |t| c.check(&d, &[], Channel::Call, false, t);
    // Monday 2026-03-09: 07:59 in Manaus is 11:59 UTC, 08:00 is 12:00 UTC.
    let (authority, _, clears) = window_block(check(utc(2026, 3, 9, 11, 59)));
    assert_eq!(
        &*authority,
        "Amazonas (national default: no state law on call hours)"
    );
    assert_eq!(clears, Some(utc(2026, 3, 9, 12, 0)));
    assert_eq!(check(utc(2026, 3, 9, 12, 0)), Ok(()));
    // The same instant is 09:00 in São Paulo: open there, so it is the
    // debtor's zone that decides.
    assert_eq!(
        c.check(&sp(), &[], Channel::Call, false, utc(2026, 3, 9, 11, 59)),
        Ok(())
    );
    // Saturday until 14:00 local, never Sunday.
    assert_eq!(check(utc(2026, 3, 7, 17, 59)), Ok(()));
    let (_, shut, clears) = window_block(check(utc(2026, 3, 7, 18, 0)));
    assert_eq!(
        shut,
        Shut::AfterClose {
            day: DayKind::Saturday,
            hours: Hours::new(8, 14)
        }
    );
    assert_eq!(clears, Some(utc(2026, 3, 9, 12, 0)));
    assert!(check(utc(2026, 3, 8, 15, 0)).is_err());
    // Weekday evening: 19:59 open, 20:00 shut.
    assert_eq!(check(utc(2026, 3, 9, 23, 59)), Ok(()));
    assert!(check(utc(2026, 3, 10, 0, 0)).is_err());
}

// ── US FDCPA ───────────────────────────────────────────────────────────────

#[test]
fn fdcpa_in_new_york_follows_daylight_saving() {
    let c = rules();
    let d = debtor("US-NY", "America/New_York");
    assert_eq!(d.jurisdiction, Jurisdiction::Us(UsState::NY));
    let check = |t| c.check(&d, &[], Channel::Call, false, t);
    // 12:30 UTC is 07:30 EST in January, 08:30 EDT in July.
    let (authority, shut, clears) = window_block(check(utc(2026, 1, 15, 12, 30)));
    assert_eq!(&*authority, "US FDCPA § 805(a)(1)");
    assert_eq!(
        shut,
        Shut::BeforeOpen {
            day: DayKind::Weekday,
            hours: Hours::new(8, 21)
        }
    );
    assert_eq!(clears, Some(utc(2026, 1, 15, 13, 0)), "08:00 EST");
    assert_eq!(check(utc(2026, 7, 15, 12, 30)), Ok(()));
    // 21:00 local closes: 01:30 UTC next day is 20:30 EST (open) in January,
    // 21:30 EDT (shut) in July.
    assert_eq!(check(utc(2026, 1, 16, 1, 30)), Ok(()));
    let (_, _, clears) = window_block(check(utc(2026, 7, 16, 1, 30)));
    assert_eq!(clears, Some(utc(2026, 7, 16, 12, 0)), "08:00 EDT");
    // The night clocks spring forward (Sunday 2026-03-08): a Saturday-night
    // refusal clears at 08:00 EDT, which is 12:00 UTC, not 13:00.
    let (_, _, clears) = window_block(check(local(Tz::America__New_York, 2026, 3, 7, 21, 30)));
    assert_eq!(clears, Some(utc(2026, 3, 8, 12, 0)));
    // Sundays and holidays are fine under the FDCPA.
    assert_eq!(
        check(local(Tz::America__New_York, 2026, 3, 8, 10, 0)),
        Ok(())
    );
    assert_eq!(
        check(local(Tz::America__New_York, 2026, 12, 25, 10, 0)),
        Ok(())
    );
}

#[test]
fn fdcpa_in_phoenix_has_no_daylight_saving() {
    let c = rules();
    let d = debtor("US-AZ", "America/Phoenix");
    let check = |t| c.check(&d, &[], Channel::Call, false, t);
    // Phoenix is UTC-7 all year: 08:00 local is 15:00 UTC in winter and summer.
    for month in [1, 7] {
        let (_, _, clears) = window_block(check(utc(2026, month, 15, 14, 59)));
        assert_eq!(clears, Some(utc(2026, month, 15, 15, 0)), "month {month}");
        assert_eq!(check(utc(2026, month, 15, 15, 0)), Ok(()), "month {month}");
    }
    // The same instant in New York is open in July (10:59 EDT) only.
    let ny = debtor("US-NY", "America/New_York");
    assert_eq!(
        c.check(&ny, &[], Channel::Call, false, utc(2026, 7, 15, 14, 59)),
        Ok(())
    );
}

#[test]
fn brazil_keeps_one_offset_all_year() {
    let c = rules();
    let d = sp();
    // No daylight saving in Brazil since 2019: 08:00 is 11:00 UTC in January
    // (southern summer) and July alike.
    for month in [1, 7] {
        // 2026-01-15 and 2026-07-15 are Thursday and Wednesday.
        let (_, _, clears) =
            window_block(c.check(&d, &[], Channel::Call, false, utc(2026, month, 15, 10, 59)));
        assert_eq!(clears, Some(utc(2026, month, 15, 11, 0)), "month {month}");
        assert_eq!(
            c.check(&d, &[], Channel::Call, false, utc(2026, month, 15, 11, 0)),
            Ok(())
        );
    }
}

// ── Holidays ───────────────────────────────────────────────────────────────

fn holiday_refusal(r: Result<(), Refusal>) -> (&'static str, Option<DateTime<Utc>>) {
    match window_block(r) {
        (
            _,
            Shut::ClosedAllDay {
                day: DayKind::Holiday(name),
            },
            clears,
        ) => (name, clears),
        other => panic!("expected a holiday, got {other:?}"),
    }
}

#[test]
fn good_friday_and_tiradentes_close_every_brazilian_window() {
    let c = rules();
    // Good Friday 2026 is 3 April (Easter 5 April).
    let (name, clears) =
        holiday_refusal(c.check(&sp(), &[], Channel::Call, false, sp_at(4, 3, 10, 0)));
    assert_eq!(name, "Sexta-feira Santa");
    assert_eq!(clears, Some(sp_at(4, 4, 8, 0)), "São Paulo opens Saturday");
    let rj = debtor("RJ", "America/Sao_Paulo");
    let (_, clears) = holiday_refusal(c.check(&rj, &[], Channel::Sms, false, sp_at(4, 3, 10, 0)));
    assert_eq!(clears, Some(sp_at(4, 6, 9, 0)), "Rio waits for Monday");
    // Tiradentes, Tuesday 2026-04-21, in Minas Gerais.
    let mg = debtor("MG", "America/Sao_Paulo");
    let (name, clears) =
        holiday_refusal(c.check(&mg, &[], Channel::Call, false, sp_at(4, 21, 11, 0)));
    assert_eq!(name, "Tiradentes");
    assert_eq!(clears, Some(sp_at(4, 22, 8, 0)));
    // The day before and after are ordinary.
    assert_eq!(
        c.check(&mg, &[], Channel::Call, false, sp_at(4, 20, 11, 0)),
        Ok(())
    );
    assert_eq!(
        c.check(&mg, &[], Channel::Call, false, sp_at(4, 22, 11, 0)),
        Ok(())
    );
    // Carnival Tuesday 2026-02-17: Monday evening waits for Ash Wednesday.
    let (name, clears) =
        holiday_refusal(c.check(&mg, &[], Channel::Call, false, sp_at(2, 17, 10, 0)));
    assert_eq!(name, "Carnaval (terça-feira)");
    assert_eq!(clears, Some(sp_at(2, 18, 8, 0)));
    // US windows do not close on holidays.
    let ny = debtor("US-NY", "America/New_York");
    assert_eq!(
        c.check(
            &ny,
            &[],
            Channel::Call,
            false,
            local(Tz::America__New_York, 2026, 4, 3, 10, 0)
        ),
        Ok(())
    );
    // E-mail is not a call: holidays do not stop it.
    assert_eq!(
        c.check(&sp(), &[], Channel::Email, false, sp_at(4, 3, 10, 0)),
        Ok(())
    );
}

#[test]
fn state_holidays_close_only_their_own_state() {
    let c = rules();
    let rj = debtor("RJ", "America/Sao_Paulo");
    // 9 July 2026 (Thursday): São Paulo's Revolução Constitucionalista.
    let (name, clears) =
        holiday_refusal(c.check(&sp(), &[], Channel::Call, false, sp_at(7, 9, 10, 0)));
    assert_eq!(name, "Revolução Constitucionalista de 1932");
    assert_eq!(clears, Some(sp_at(7, 10, 8, 0)));
    assert_eq!(
        c.check(&rj, &[], Channel::Call, false, sp_at(7, 9, 10, 0)),
        Ok(())
    );
    // 23 April 2026 (Thursday): Rio's Dia de São Jorge.
    let (name, clears) =
        holiday_refusal(c.check(&rj, &[], Channel::Call, false, sp_at(4, 23, 10, 0)));
    assert_eq!(name, "Dia de São Jorge");
    assert_eq!(clears, Some(sp_at(4, 24, 9, 0)));
    assert_eq!(
        c.check(&sp(), &[], Channel::Call, false, sp_at(4, 23, 10, 0)),
        Ok(())
    );
}

#[test]
fn holidays_a_policy_adds_close_the_window_where_they_apply() {
    let mut c = rules();
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    // Christmas Eve 2026 (a Thursday) everywhere; Monday 26 January 2026 in
    // São Paulo only.
    c.extra_holidays = ExtraHolidays::new(
        vec![d(2026, 12, 24)],
        vec![(Jurisdiction::Br(Uf::SP), vec![d(2026, 1, 26)])],
    );
    let rj = debtor("RJ", "America/Sao_Paulo");
    let (name, clears) =
        holiday_refusal(c.check(&rj, &[], Channel::Call, false, sp_at(12, 24, 10, 0)));
    assert_eq!(name, "named in the policy");
    // Friday 25 is Natal, then the weekend: Rio opens Monday 28 at nine.
    assert_eq!(clears, Some(sp_at(12, 28, 9, 0)));
    let monday = sp_at(1, 26, 10, 0);
    let (name, clears) = holiday_refusal(c.check(&sp(), &[], Channel::Call, false, monday));
    assert_eq!(name, "named in the policy");
    assert_eq!(clears, Some(sp_at(1, 27, 8, 0)));
    assert_eq!(c.check(&rj, &[], Channel::Call, false, monday), Ok(()));
    // Without the policy's dates both days are ordinary.
    let plain = rules();
    assert_eq!(
        plain.check(&rj, &[], Channel::Call, false, sp_at(12, 24, 10, 0)),
        Ok(())
    );
    assert_eq!(
        plain.check(&sp(), &[], Channel::Call, false, monday),
        Ok(())
    );
}

// ── Unknown time zone ──────────────────────────────────────────────────────

#[test]
fn an_unknown_time_zone_blocks_the_phone_with_no_clearing_time() {
    let c = rules();
    let d = debtor("SP", "America/Sao_Paul");
    for ch in [Channel::Call, Channel::Sms, Channel::Whatsapp] {
        assert_eq!(
            c.check(&d, &[], ch, false, sp_at(3, 9, 10, 0)),
            Err(Refusal {
                block: Block::UnknownZone("America/Sao_Paul".into()),
                clears_at: None,
            }),
            "{ch}"
        );
        // A callback the debtor asked for cannot guess their time either.
        assert!(c.check(&d, &[], ch, true, sp_at(3, 9, 10, 0)).is_err());
    }
    assert_eq!(
        c.earliest(&d, &[], Channel::Call, false, sp_at(3, 9, 10, 0))
            .unwrap_err()
            .block
            .code(),
        "unknown_time_zone"
    );
    // Mail and e-mail need no local time.
    assert_eq!(
        c.check(&d, &[], Channel::Email, false, sp_at(3, 8, 3, 0)),
        Ok(())
    );
    assert_eq!(
        c.check(&d, &[], Channel::Letter, false, sp_at(3, 8, 3, 0)),
        Ok(())
    );
}

// ── Reg F: call caps and the quiet period ──────────────────────────────────

/// Seven attempts between Monday 2 and Friday 6 March 2026, none answered.
fn seven_attempts() -> Vec<Event> {
    vec![
        attempt(sp_at(3, 2, 10, 0)),
        attempt(sp_at(3, 2, 16, 0)),
        attempt(sp_at(3, 3, 10, 0)),
        attempt(sp_at(3, 4, 10, 0)),
        attempt(sp_at(3, 5, 10, 0)),
        attempt(sp_at(3, 6, 10, 0)),
        attempt(sp_at(3, 6, 11, 0)),
    ]
}

#[test]
fn reg_f_allows_seven_attempts_in_seven_days_and_refuses_the_eighth() {
    let c = rules();
    assert_eq!(c.calls, Some(CallCaps::REG_F));
    let d = sp();
    let history = seven_attempts();
    let now = sp_at(3, 6, 15, 0);
    // Six made: the seventh may go.
    assert_eq!(
        c.check(&d, &history[..6], Channel::Call, false, now),
        Ok(())
    );
    // Seven made: the eighth waits until the oldest leaves the window.
    assert_eq!(
        c.check(&d, &history, Channel::Call, false, now),
        Err(Refusal {
            block: Block::CallCap {
                attempts: 7,
                caps: CallCaps::REG_F
            },
            clears_at: Some(sp_at(3, 9, 10, 0)),
        })
    );
    // The window is rolling: one minute before, still seven in it.
    let before = c.check(&d, &history, Channel::Call, false, sp_at(3, 9, 9, 59));
    assert_eq!(before.unwrap_err().clears_at, Some(sp_at(3, 9, 10, 0)));
    assert_eq!(
        c.check(&d, &history, Channel::Call, false, sp_at(3, 9, 10, 0)),
        Ok(())
    );
    // The cap is on calls only: SMS and e-mail are not counted by it.
    assert_eq!(c.check(&d, &history, Channel::Email, false, now), Ok(()));
    assert_eq!(c.check(&d, &history, Channel::Sms, false, now), Ok(()));
}

#[test]
fn a_cap_clearing_on_a_sunday_waits_for_the_window() {
    let c = rules();
    let d = sp();
    // The oldest attempt was on Sunday 1 March (made by another system); it
    // leaves the window on Sunday 8 March, when São Paulo is closed.
    let mut history = vec![attempt(sp_at(3, 1, 10, 0))];
    history.extend((2..=7).map(|day| attempt(sp_at(3, day, 9, 0))));
    let refused = c
        .check(&d, &history, Channel::Call, false, sp_at(3, 7, 12, 0))
        .unwrap_err();
    assert!(matches!(refused.block, Block::CallCap { attempts: 7, .. }));
    assert_eq!(refused.clears_at, Some(sp_at(3, 9, 8, 0)));
}

#[test]
fn no_call_within_seven_days_after_a_conversation() {
    let c = rules();
    let d = sp();
    let spoke = sp_at(3, 2, 10, 0);
    let history = vec![conversation(spoke)];
    assert_eq!(
        c.check(&d, &history, Channel::Call, false, sp_at(3, 4, 10, 0)),
        Err(Refusal {
            block: Block::QuietAfterConversation {
                since: spoke,
                days: 7
            },
            clears_at: Some(spoke + Duration::days(7)),
        })
    );
    assert_eq!(
        c.check(
            &d,
            &history,
            Channel::Call,
            false,
            spoke + Duration::days(7)
        ),
        Ok(())
    );
    // Messages are not calls.
    assert_eq!(
        c.check(&d, &history, Channel::Sms, false, sp_at(3, 4, 10, 0)),
        Ok(())
    );
    // Speaking with someone else is not a conversation with the debtor.
    let wrong_party = vec![contact(
        spoke,
        Channel::Call,
        ContactResult::Connected { right_party: false },
        false,
    )];
    assert_eq!(
        c.check(&d, &wrong_party, Channel::Call, false, sp_at(3, 4, 10, 0)),
        Ok(())
    );
    // A quiet period ending on Sunday clears on Monday's opening.
    let saturday = sp_at(3, 7, 13, 0);
    let r = c
        .check(
            &d,
            &[conversation(saturday - Duration::days(6))],
            Channel::Call,
            false,
            saturday,
        )
        .unwrap_err();
    assert!(matches!(r.block, Block::QuietAfterConversation { .. }));
    // Sunday 13:00 the quiet period ends; Monday 08:00 the window opens.
    assert_eq!(r.clears_at, Some(sp_at(3, 9, 8, 0)));
}

/// A conversation late in the day: the window shuts for the night first,
/// but the quiet week is what keeps the call away, and what is named.
#[test]
fn the_rule_named_is_the_one_that_holds_longest() {
    let c = rules();
    let d = sp();
    let spoke = sp_at(3, 3, 19, 50);
    let r = c
        .check(
            &d,
            &[conversation(spoke)],
            Channel::Call,
            false,
            sp_at(3, 3, 20, 30),
        )
        .unwrap_err();
    assert!(
        matches!(r.block, Block::QuietAfterConversation { .. }),
        "{:?}",
        r.block
    );
    // Tuesday 10 March 19:50 the quiet week ends, inside the window.
    assert_eq!(r.clears_at, Some(spoke + Duration::days(7)));
    // Friday 19:00, capped until Saturday 14:30: the weekend then holds
    // the call longer, but the window is open now and the cap is named.
    let mut history = vec![attempt(sp_at(2, 28, 14, 30))];
    history.extend((2..=7).map(|day| attempt(sp_at(3, day.min(6), 9, day))));
    let r = c
        .check(&d, &history, Channel::Call, false, sp_at(3, 6, 19, 0))
        .unwrap_err();
    assert!(matches!(r.block, Block::CallCap { .. }), "{:?}", r.block);
    assert_eq!(r.clears_at, Some(sp_at(3, 9, 8, 0)));
    // Alone, the night is what holds it.
    let (_, _, clears) = window_block(c.check(&d, &[], Channel::Call, false, sp_at(3, 3, 20, 30)));
    assert_eq!(clears, Some(sp_at(3, 4, 8, 0)));
}

#[test]
fn a_requested_call_is_exempt_from_caps_but_not_from_the_window() {
    let c = rules();
    let d = sp();
    let mut history = seven_attempts();
    history.push(conversation(sp_at(3, 6, 12, 0)));
    let now = sp_at(3, 6, 15, 0);
    assert!(c.check(&d, &history, Channel::Call, false, now).is_err());
    assert_eq!(c.check(&d, &history, Channel::Call, true, now), Ok(()));
    // Saturday after 14:00: even the debtor's own appointment waits.
    let (_, _, clears) =
        window_block(c.check(&d, &history, Channel::Call, true, sp_at(3, 7, 15, 0)));
    assert_eq!(clears, Some(sp_at(3, 9, 8, 0)));
    // Requested calls in the history do not count against the cap.
    let requested: Vec<Event> = seven_attempts()
        .into_iter()
        .map(|e| contact(e.at, Channel::Call, ContactResult::NoAnswer, true))
        .collect();
    assert_eq!(c.check(&d, &requested, Channel::Call, false, now), Ok(()));
}

#[test]
fn caps_are_configurable_and_can_be_turned_off() {
    let mut c = rules();
    let d = sp();
    let history = seven_attempts();
    let now = sp_at(3, 6, 15, 0);
    c.calls = None;
    assert_eq!(c.check(&d, &history, Channel::Call, false, now), Ok(()));
    c.calls = Some(CallCaps {
        max_attempts: 3,
        per_days: 2,
        quiet_days_after_conversation: 0,
    });
    // In (Wed 15:00, Fri 15:00]: Thu 10:00, Fri 10:00, Fri 11:00 — three.
    let r = c
        .check(&d, &history, Channel::Call, false, now)
        .unwrap_err();
    assert!(matches!(r.block, Block::CallCap { attempts: 3, .. }));
    assert_eq!(r.clears_at, Some(sp_at(3, 7, 10, 0)));
    // No quiet period when it is 0.
    assert_eq!(
        c.check(
            &d,
            &[conversation(sp_at(3, 6, 9, 0))],
            Channel::Call,
            false,
            now
        ),
        Ok(())
    );
}

// ── Message caps ───────────────────────────────────────────────────────────

#[test]
fn message_caps_count_each_channel_on_its_own() {
    let c = rules();
    let d = sp();
    let sms = |at| contact(at, Channel::Sms, ContactResult::Delivered, false);
    let history = vec![sms(sp_at(3, 2, 10, 0)), sms(sp_at(3, 3, 10, 0))];
    let now = sp_at(3, 4, 10, 0);
    assert_eq!(c.check(&d, &history[..1], Channel::Sms, false, now), Ok(()));
    assert_eq!(
        c.check(&d, &history, Channel::Sms, false, now),
        Err(Refusal {
            block: Block::MessageCap {
                channel: Channel::Sms,
                sent: 2,
                cap: MessageCap {
                    max: 2,
                    per_days: 7
                }
            },
            clears_at: Some(sp_at(3, 9, 10, 0)),
        })
    );
    // Other channels have their own count.
    assert_eq!(c.check(&d, &history, Channel::Whatsapp, false, now), Ok(()));
    assert_eq!(c.check(&d, &history, Channel::Call, false, now), Ok(()));
    // E-mail: three a week, and no window, so it clears to the second.
    let email = |at| contact(at, Channel::Email, ContactResult::Delivered, false);
    let sunday_3am = sp_at(3, 1, 3, 0);
    let emails = vec![
        email(sunday_3am),
        email(sp_at(3, 3, 10, 0)),
        email(sp_at(3, 4, 10, 0)),
    ];
    let r = c
        .check(&d, &emails, Channel::Email, false, sp_at(3, 5, 10, 0))
        .unwrap_err();
    assert!(matches!(
        r.block,
        Block::MessageCap {
            channel: Channel::Email,
            sent: 3,
            ..
        }
    ));
    assert_eq!(r.clears_at, Some(sunday_3am + Duration::days(7)));
    // Letters are not capped.
    let letters: Vec<Event> = (1..=9)
        .map(|d| {
            contact(
                sp_at(3, d, 10, 0),
                Channel::Letter,
                ContactResult::Delivered,
                false,
            )
        })
        .collect();
    assert_eq!(
        c.check(&d, &letters, Channel::Letter, false, sp_at(3, 9, 11, 0)),
        Ok(())
    );
}

// ── Consent, do-not-contact, e-mail ────────────────────────────────────────

#[test]
fn no_consented_phone_means_no_calls_nor_phone_messages() {
    let c = rules();
    let mut d = sp();
    d.phones[0].consent = false;
    d.phones.push(Phone {
        number: "+551133334444".into(),
        kind: PhoneKind::Landline,
        consent: false,
    });
    for ch in [Channel::Call, Channel::Sms, Channel::Whatsapp] {
        assert_eq!(
            c.check(&d, &[], ch, true, sp_at(3, 9, 10, 0)),
            Err(Refusal {
                block: Block::NoConsentedPhone,
                clears_at: None
            }),
            "{ch}"
        );
    }
    assert_eq!(
        c.check(&d, &[], Channel::Email, false, sp_at(3, 9, 10, 0)),
        Ok(())
    );
    d.phones.clear();
    assert!(
        c.check(&d, &[], Channel::Call, false, sp_at(3, 9, 10, 0))
            .is_err()
    );
    // One consented number is enough.
    d.phones.push(Phone {
        number: "+551133334444".into(),
        kind: PhoneKind::Work,
        consent: true,
    });
    assert_eq!(
        c.check(&d, &[], Channel::Call, false, sp_at(3, 9, 10, 0)),
        Ok(())
    );
}

#[test]
fn a_do_not_contact_tag_stops_every_channel() {
    let c = rules();
    assert_eq!(c.do_not_contact_tags, vec!["represented_by_attorney"]);
    let mut d = sp();
    d.tags = vec!["vip".into()];
    assert_eq!(
        c.check(&d, &[], Channel::Call, false, sp_at(3, 9, 10, 0)),
        Ok(())
    );
    d.tags.push("represented_by_attorney".into());
    for ch in Channel::ALL {
        assert_eq!(
            c.check(&d, &[], ch, true, sp_at(3, 9, 10, 0)),
            Err(Refusal {
                block: Block::DoNotContactTag("represented_by_attorney".into()),
                clears_at: None
            }),
            "{ch}"
        );
    }
}

#[test]
fn e_mail_needs_an_address() {
    let c = rules();
    let mut d = sp();
    for email in [None, Some(String::new())] {
        d.email = email;
        assert_eq!(
            c.check(&d, &[], Channel::Email, false, sp_at(3, 9, 10, 0)),
            Err(Refusal {
                block: Block::NoEmail,
                clears_at: None
            })
        );
        assert_eq!(
            c.check(&d, &[], Channel::Call, false, sp_at(3, 9, 10, 0)),
            Ok(())
        );
    }
}

#[test]
fn earliest_reports_the_first_rule_and_the_moment_all_clear() {
    let c = rules();
    let d = sp();
    // Allowed now: the same instant and no rule.
    let now = sp_at(3, 9, 10, 0);
    assert_eq!(
        c.earliest(&d, &[], Channel::Call, false, now),
        Ok((now, None))
    );
    // Saturday 15:00 after seven attempts: the window shuts first, then on
    // Monday 08:00 the cap still holds until 10:00 (the oldest is Monday
    // 2 March 10:00).
    let history = seven_attempts();
    let (at, first) = c
        .earliest(&d, &history, Channel::Call, false, sp_at(3, 7, 15, 0))
        .unwrap();
    assert!(matches!(first, Some(Block::Window { .. })), "{first:?}");
    assert_eq!(at, sp_at(3, 9, 10, 0));
}

#[test]
fn add_days_agrees_with_chronos_duration_arithmetic() {
    // Across year ends and leap days, with fractions of a second, and a
    // leap second (which takes chrono's own path).
    let mut t = utc(2023, 12, 20, 23, 59) + Duration::nanoseconds(999_999_999);
    while t < utc(2025, 3, 10, 0, 0) {
        for n in [-400, -31, -8, -7, -1, 0, 1, 7, 8, 31, 400] {
            assert_eq!(add_days(t, n), t + Duration::days(n), "{t} {n}");
        }
        t += Duration::minutes(7 * 60 + 13);
    }
    let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
        .unwrap()
        .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
        .unwrap()
        .and_utc();
    for n in [-7, 7] {
        assert_eq!(add_days(leap, n), leap + Duration::days(n));
    }
}

#[test]
fn an_open_window_says_when_it_shuts_in_the_debtors_zone() {
    let rules = rules();
    // São Paulo, Tuesday 10:00: open until 20:00 local (23:00 UTC).
    assert_eq!(
        rules.call_window_closes(&sp(), sp_at(3, 10, 10, 0)),
        Some(sp_at(3, 10, 20, 0))
    );
    // Saturday 10:00: open until 14:00.
    assert_eq!(
        rules.call_window_closes(&sp(), sp_at(3, 14, 10, 0)),
        Some(sp_at(3, 14, 14, 0))
    );
    // Shut (Tuesday 21:00, and all Sunday): nothing to wait for.
    assert_eq!(rules.call_window_closes(&sp(), sp_at(3, 10, 21, 0)), None);
    assert_eq!(rules.call_window_closes(&sp(), sp_at(3, 15, 10, 0)), None);
}

#[test]
fn call_hours_list_each_opening_in_the_debtors_own_time() {
    let c = default_policy().compliance;
    let hours = c.call_hours(&sp(), sp_at(3, 10, 10, 0), sp_at(3, 16, 23, 0));
    let want = [
        (sp_at(3, 10, 10, 0), sp_at(3, 10, 20, 0)),
        (sp_at(3, 11, 8, 0), sp_at(3, 11, 20, 0)),
        (sp_at(3, 12, 8, 0), sp_at(3, 12, 20, 0)),
        (sp_at(3, 13, 8, 0), sp_at(3, 13, 20, 0)),
        // Saturday until 14 h, and no Sunday.
        (sp_at(3, 14, 8, 0), sp_at(3, 14, 14, 0)),
        (sp_at(3, 16, 8, 0), sp_at(3, 16, 20, 0)),
    ];
    assert_eq!(hours, want);
    // Shut at the start: from the next opening. Nothing without a zone.
    let hours = c.call_hours(&sp(), sp_at(3, 10, 21, 0), sp_at(3, 11, 23, 0));
    assert_eq!(hours, [(sp_at(3, 11, 8, 0), sp_at(3, 11, 20, 0))]);
    let nowhere = debtor("SP", "Mars/Olympus");
    assert!(
        c.call_hours(&nowhere, sp_at(3, 10, 10, 0), sp_at(3, 16, 0, 0))
            .is_empty()
    );
}

#[test]
fn each_rule_has_one_code_and_words_and_a_stop_is_counted_by_its_flag() {
    let mut codes: Vec<_> = Rule::ALL.iter().map(|r| r.code()).collect();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), Rule::ALL.len());
    for flag in [Flag::Dispute, Flag::CeaseContact, Flag::Deceased] {
        assert_eq!(Block::Stopped(flag).code(), flag.name());
    }
    for rule in Rule::ALL {
        assert_eq!(
            rule_said(rule.code(), Locale::PtBr),
            Some(rule.said(Locale::PtBr))
        );
        assert!(!rule.said(Locale::En).contains('_'), "{rule:?}");
    }
    assert_eq!(
        rule_said("no_consented_phone", Locale::PtBr),
        Some("sem telefone autorizado")
    );
    assert_eq!(rule_said("a_rule_from_a_newer_server", Locale::En), None);
}
