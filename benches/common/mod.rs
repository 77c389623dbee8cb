//! A long, believable history for one debtor, shared by the console
//! benches: calls and messages with their results, outcomes with notes,
//! promises and payments, newest last, ending before `end`.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use regua::domain::{
    Channel, ContactResult, Currency, Disposition, Event, EventKind, Firmness, Money, Reason,
};

pub fn history(n: usize, end: DateTime<Utc>) -> Vec<Event> {
    let brl = |minor| Money::new(minor, Currency::new("BRL").expect("BRL"));
    let channels = [
        Channel::Sms,
        Channel::Email,
        Channel::Whatsapp,
        Channel::Letter,
    ];
    (0..n)
        .map(|i| {
            // Oldest first, four hours apart, the newest an hour before `end`.
            let at = end - Duration::hours(1 + 4 * (n - 1 - i) as i64);
            let kind = match i % 8 {
                0..=2 => EventKind::Contact {
                    channel: Channel::Call,
                    firmness: Firmness::Friendly,
                    result: if i % 3 == 0 {
                        ContactResult::NoAnswer
                    } else {
                        ContactResult::Voicemail
                    },
                    requested: false,
                },
                3 | 4 => EventKind::Contact {
                    channel: channels[i % 4],
                    firmness: Firmness::Friendly,
                    result: ContactResult::Delivered,
                    requested: false,
                },
                5 => EventKind::Outcome {
                    disposition: Disposition::Hardship,
                    reason: Some(Reason::JobLoss),
                    note: Some(
                        format!(
                            "call {i}: lost her job in January, asks for a smaller installment"
                        )
                        .into(),
                    ),
                },
                6 => EventKind::Promise {
                    amount: brl(10_000 + (i as i64 % 50) * 100),
                    date: NaiveDate::from_ymd_opt(2026, 4, 1).expect("date"),
                    grace_days: 2,
                    forgives: None,
                },
                _ => EventKind::Payment { amount: brl(1_000) },
            };
            Event { at, kind }
        })
        .collect()
}
