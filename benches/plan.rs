//! Throughput of `plan()` over debtors with 20-event histories, beside a bare
//! pass over the same histories (touching every event), so the ratio shows
//! the engine's own cost. One thread.
//!
//! cargo bench --bench plan

use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;

use regua::domain::{
    Channel, ContactResult, Debtor, Disposition, Event, EventKind, Firmness, Money, Reason,
};
use regua::schedule::{default_policy, plan};
use regua::simulate::{portfolio, start_date};

const DEBTORS: usize = 10_000;
const EVENTS: usize = 20;

/// A believable 20-event history: messages and calls with their results,
/// an outcome, a promise, payments, an opened message.
fn history(rng: &mut ChaCha8Rng, start: DateTime<Utc>) -> Vec<Event> {
    let mut t = start;
    let mut events = Vec::with_capacity(EVENTS);
    while events.len() < EVENTS {
        t += Duration::hours(rng.random_range(6..60));
        let kind = match rng.random_range(0..10) {
            0..=3 => EventKind::Contact {
                channel: [
                    Channel::Sms,
                    Channel::Email,
                    Channel::Whatsapp,
                    Channel::Letter,
                ][rng.random_range(0..4)],
                firmness: Firmness::Friendly,
                result: ContactResult::Delivered,
                requested: false,
            },
            4..=6 => EventKind::Contact {
                channel: Channel::Call,
                firmness: Firmness::Firm,
                result: if rng.random_bool(0.2) {
                    ContactResult::Connected { right_party: true }
                } else {
                    ContactResult::NoAnswer
                },
                requested: false,
            },
            7 => EventKind::Outcome {
                disposition: Disposition::NoAnswer,
                reason: Some(Reason::CashFlow),
                note: None,
            },
            8 => EventKind::Payment {
                amount: Money::new(
                    rng.random_range(1_000..20_000),
                    regua::domain::Currency::BRL,
                ),
            },
            _ => EventKind::Promise {
                amount: Money::new(
                    rng.random_range(10_000..50_000),
                    regua::domain::Currency::BRL,
                ),
                date: (t + Duration::days(7)).date_naive(),
                grace_days: 2,
                forgives: None,
            },
        };
        events.push(Event { at: t, kind });
    }
    events
}

fn portfolio_with_histories() -> (Vec<(Debtor, Vec<Event>)>, DateTime<Utc>) {
    let start = start_date();
    let origin = Utc.from_utc_datetime(&start.and_hms_opt(0, 0, 0).unwrap()) - Duration::days(40);
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let debtors = (0..DEBTORS)
        .map(|i| {
            let d = portfolio::debtor(42, i, start).debtor;
            (d, history(&mut rng, origin))
        })
        .collect();
    // Planned at a weekday mid-morning in Brazil, after every history ends.
    let now = Utc.with_ymd_and_hms(2026, 3, 3, 13, 30, 0).unwrap() + Duration::days(20);
    (debtors, now)
}

fn bench(c: &mut Criterion) {
    let policy = default_policy();
    let (debtors, now) = portfolio_with_histories();
    let mut group = c.benchmark_group("plan");
    group.throughput(Throughput::Elements(DEBTORS as u64));
    group.bench_function("bare pass over 20-event histories", |b| {
        b.iter(|| {
            let mut acc = 0i64;
            for (d, h) in &debtors {
                acc += d.debts[0].balance.minor;
                for e in h {
                    acc += match &e.kind {
                        EventKind::Payment { amount } => amount.minor,
                        EventKind::Contact { channel, .. } => *channel as i64,
                        _ => 1,
                    } + e.at.timestamp();
                }
            }
            black_box(acc)
        })
    });
    group.bench_function("plan() with 20-event histories", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for (d, h) in &debtors {
                n += plan(black_box(d), black_box(h), &policy, now).actions.len();
            }
            black_box(n)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
