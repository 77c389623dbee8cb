//! Promises and installment plans, kept or broken, folded from a history.
//!
//! A promise is kept when payments made after it reach its amount by its
//! date plus grace (the end of that day in the debtor's zone), and broken
//! when that moment passes first. A new promise replaces an open one; in a
//! plan every installment is a promise, and one broken installment breaks
//! the plan.

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::{Event, EventKind, Installment, LocalZone, Money};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PromiseStatus {
    Pending,
    Kept,
    Broken,
}

/// The open promise (or installment) the debtor is working towards.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct OpenPromise {
    pub made_at: DateTime<Utc>,
    pub date: NaiveDate,
    pub grace_days: u16,
    /// What is still to be paid of this promise or installment.
    pub remaining: Money,
    /// Installments after this one (0 for a single promise).
    pub later_installments: u16,
    /// For a settlement, the most that keeping it forgives.
    pub forgives: Option<Money>,
}

impl OpenPromise {
    /// The last day a payment still keeps it.
    pub fn last_day(&self) -> NaiveDate {
        plus_days(self.date, self.grace_days)
    }
}

/// `date + Days::new(days)`. Within the year only the day of the year
/// moves, which chrono checks cheaply where `+ Days` takes its general path;
/// the ledger asks for a last day at nearly every payment and promise.
fn plus_days(date: NaiveDate, days: u16) -> NaiveDate {
    date.with_ordinal0(date.ordinal0() + days as u32)
        .unwrap_or_else(|| date + Days::new(days as u64))
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Ledger {
    pub kept: u16,
    pub broken: u16,
    pub open: Option<OpenPromise>,
    /// When the latest promise broke, if the latest one to end did break.
    pub last_broken_at: Option<DateTime<Utc>>,
}

/// The moment a promise with this last day breaks: the start of the next
/// day in the debtor's zone (UTC when the zone is unknown).
pub fn breaks_at(last_day: NaiveDate, tz: Option<Tz>) -> DateTime<Utc> {
    breaks_at_in(last_day, tz.map(LocalZone::new).as_ref())
}

fn breaks_at_in(last_day: NaiveDate, zone: Option<&LocalZone>) -> DateTime<Utc> {
    // `succ_opt` is cheap where `+ Days` takes chrono's general path.
    let next = last_day
        .succ_opt()
        .unwrap_or_else(|| last_day + Days::new(1));
    let next = next.and_time(NaiveTime::MIN);
    match zone {
        Some(zone) => zone.to_utc(next),
        None => Utc.from_utc_datetime(&next),
    }
}

struct Open<'a> {
    made_at: DateTime<Utc>,
    installments: &'a [Installment],
    single: Option<Installment>,
    next: usize,
    remaining: Money,
    grace_days: u16,
    forgives: Option<Money>,
}

impl Open<'_> {
    fn current(&self) -> Installment {
        self.single.unwrap_or_else(|| self.installments[self.next])
    }

    fn count(&self) -> usize {
        if self.single.is_some() {
            1
        } else {
            self.installments.len()
        }
    }

    fn last_day(&self) -> NaiveDate {
        plus_days(self.current().date, self.grace_days)
    }
}

/// Folds a history into a `Ledger` one event at a time, so a caller that
/// passes over the history anyway need not pass twice.
pub struct LedgerFold<'a> {
    zone: Option<LocalZone>,
    ledger: Ledger,
    open: Option<Open<'a>>,
    /// What is still unpaid of the promise that broke last, while paying
    /// it still makes it good: a single promise, not a settlement (whose
    /// discount went with its date) nor a plan (whose later installments
    /// are to be agreed again).
    unpaid_broken: Option<Money>,
    /// When a promise with this last day breaks: worked out once, and only
    /// once the moment is near (see `expire`).
    breaks_at: Option<(NaiveDate, DateTime<Utc>)>,
}

impl<'a> LedgerFold<'a> {
    pub fn new(tz: Option<Tz>) -> LedgerFold<'a> {
        LedgerFold::in_zone(tz.map(LocalZone::new))
    }

    pub fn in_zone(zone: Option<LocalZone>) -> LedgerFold<'a> {
        LedgerFold {
            zone,
            ledger: Ledger::default(),
            open: None,
            unpaid_broken: None,
            breaks_at: None,
        }
    }

    /// When a promise with this last day breaks.
    fn deadline(&mut self, last_day: NaiveDate) -> DateTime<Utc> {
        match self.breaks_at {
            Some((day, at)) if day == last_day => at,
            _ => {
                let at = breaks_at_in(last_day, self.zone.as_ref());
                self.breaks_at = Some((last_day, at));
                at
            }
        }
    }

    /// Breaks the open promise if it broke before `t`.
    #[inline]
    fn expire(&mut self, t: DateTime<Utc>) {
        // Before the promised date (UTC) it cannot have broken: the usual
        // case, answered here without a call.
        if let Some(o) = &self.open
            && t.naive_utc().date() >= o.current().date
        {
            self.expire_near(t);
        }
    }

    #[inline(never)]
    fn expire_near(&mut self, t: DateTime<Utc>) {
        let Some(o) = &self.open else { return };
        // Nor before 10:00 UTC on its last day, earlier than that day's end
        // in any zone from UTC-12 to UTC+14: the exact moment is worked out
        // only after.
        let last_day = o.last_day();
        let ten = NaiveTime::from_hms_opt(10, 0, 0).expect("a real time");
        if t.naive_utc() < last_day.and_time(ten) {
            return;
        }
        let deadline = self.deadline(last_day);
        if t >= deadline {
            self.ledger.broken += 1;
            self.ledger.last_broken_at = Some(deadline);
            self.unpaid_broken = self
                .open
                .as_ref()
                .filter(|o| o.single.is_some() && o.forgives.is_none())
                .map(|o| o.remaining);
            self.open = None;
        }
    }

    /// The next event, in time order.
    #[inline]
    pub fn push(&mut self, event: &'a Event) {
        match &event.kind {
            EventKind::Promise {
                amount,
                date,
                grace_days,
                forgives,
            } => {
                self.expire(event.at);
                self.unpaid_broken = None;
                let single = Installment {
                    date: *date,
                    amount: *amount,
                };
                self.open = Some(Open {
                    made_at: event.at,
                    installments: &[],
                    single: Some(single),
                    next: 0,
                    remaining: *amount,
                    grace_days: *grace_days,
                    forgives: forgives.as_deref().copied(),
                });
            }
            EventKind::InstallmentPlan {
                installments,
                grace_days,
            } if !installments.is_empty() => {
                self.expire(event.at);
                self.unpaid_broken = None;
                self.open = Some(Open {
                    made_at: event.at,
                    installments,
                    single: None,
                    next: 0,
                    remaining: installments[0].amount,
                    grace_days: *grace_days,
                    forgives: None,
                });
            }
            EventKind::Payment { amount } => {
                self.expire(event.at);
                let Some(o) = self.open.as_mut() else {
                    self.make_good(*amount);
                    return;
                };
                // A payment in another currency keeps no promise.
                let mut left = if amount.currency == o.remaining.currency {
                    amount.minor
                } else {
                    0
                };
                while left > 0 {
                    let take = left.min(o.remaining.minor);
                    o.remaining.minor -= take;
                    left -= take;
                    if o.remaining.minor > 0 {
                        break;
                    }
                    self.ledger.kept += 1;
                    o.next += 1;
                    if o.next >= o.count() {
                        self.open = None;
                        self.ledger.last_broken_at = None;
                        break;
                    }
                    o.remaining = o.current().amount;
                }
            }
            _ => {}
        }
    }

    /// A payment with no promise open goes to the one that broke last:
    /// paid in full, if late, it is no longer the debtor's broken promise.
    #[inline(never)]
    fn make_good(&mut self, amount: Money) {
        let Some(unpaid) = self.unpaid_broken.as_mut() else {
            return;
        };
        if amount.currency != unpaid.currency {
            return;
        }
        unpaid.minor -= amount.minor;
        if unpaid.minor <= 0 {
            self.unpaid_broken = None;
            self.ledger.last_broken_at = None;
        }
    }

    pub fn finish(self, now: DateTime<Utc>) -> Ledger {
        self.finish_with_deadline(now).0
    }

    /// `finish`, and when the promise still open breaks (`breaks_at` of its
    /// last day), worked out at most once.
    #[inline]
    pub fn finish_with_deadline(mut self, now: DateTime<Utc>) -> (Ledger, Option<DateTime<Utc>>) {
        self.expire(now);
        let last_day = self.open.as_ref().map(Open::last_day);
        let deadline = last_day.map(|day| self.deadline(day));
        let mut ledger = self.ledger;
        if let Some(o) = &self.open {
            ledger.last_broken_at = None;
            ledger.open = Some(OpenPromise {
                made_at: o.made_at,
                date: o.current().date,
                grace_days: o.grace_days,
                remaining: o.remaining,
                later_installments: (o.count() - o.next - 1) as u16,
                forgives: o.forgives,
            });
        }
        (ledger, deadline)
    }
}

/// What became of one promise or installment plan.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Fate {
    /// Still to be paid, within its date and grace.
    Open,
    Kept,
    Broken,
    /// A newer promise or plan took its place before it ended.
    Replaced,
}

/// What became of each promise and plan in a history, and the ledger they
/// add up to, from one pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fates {
    /// By the promise's index in the history, in its order.
    pub each: Vec<(usize, Fate)>,
    pub ledger: Ledger,
}

impl Fates {
    /// The fate of the promise or plan at this index of the history.
    pub fn of(&self, index: usize) -> Option<Fate> {
        let at = self.each.binary_search_by_key(&index, |(i, _)| *i).ok()?;
        Some(self.each[at].1)
    }
}

/// The fate of each promise and plan in a history, as the ledger counts
/// them (the history shows each promise with what came of it). It steps
/// `LedgerFold` as `push` does, expiring before a new promise replaces the
/// open one, to tell a promise broken from one replaced.
pub fn fates(history: &[Event], tz: Option<Tz>, now: DateTime<Utc>) -> Fates {
    let mut fold = LedgerFold::new(tz);
    let mut out: Vec<(usize, Fate)> = Vec::new();
    // Where in `out` the promise the fold holds open is.
    let mut open: Option<usize> = None;
    // After a step of the fold: the open promise broke, or was paid off.
    fn settle(
        fold: &LedgerFold<'_>,
        broken_before: u16,
        open: &mut Option<usize>,
        out: &mut [(usize, Fate)],
    ) {
        if fold.ledger.broken > broken_before {
            if let Some(i) = open.take() {
                out[i].1 = Fate::Broken;
            }
        } else if fold.open.is_none()
            && let Some(i) = open.take()
        {
            out[i].1 = Fate::Kept;
        }
    }
    for (index, event) in history.iter().enumerate() {
        let broken_before = fold.ledger.broken;
        let starts = match &event.kind {
            EventKind::Promise { .. } => true,
            EventKind::InstallmentPlan { installments, .. } => !installments.is_empty(),
            _ => false,
        };
        if starts {
            // It first breaks what it finds overdue, then takes the place
            // of what is still open.
            fold.expire(event.at);
            settle(&fold, broken_before, &mut open, &mut out);
            if let Some(i) = open.take() {
                out[i].1 = Fate::Replaced;
            }
            fold.push(event);
            open = Some(out.len());
            out.push((index, Fate::Open));
        } else {
            fold.push(event);
            settle(&fold, broken_before, &mut open, &mut out);
        }
    }
    let broken_before = fold.ledger.broken;
    fold.expire(now);
    settle(&fold, broken_before, &mut open, &mut out);
    Fates {
        each: out,
        ledger: fold.finish(now),
    }
}

/// What the settlements that `after` keeps, and `before` did not, agreed
/// to forgive: `before` and `after` are one history without and with a
/// new event that is no promise (a payment). Each promise's fate is its fold's, at the time
/// each payment was made, so a payment made in time and reported late
/// keeps its settlement as it keeps a promise.
pub fn forgiven_by(
    before: &[Event],
    after: &[Event],
    tz: Option<Tz>,
    now: DateTime<Utc>,
) -> Vec<Money> {
    // The new event is no promise: both list the same promises, in order.
    let was = fates(before, tz, now).each;
    fates(after, tz, now)
        .each
        .iter()
        .zip(&was)
        .filter(|((_, now), (_, then))| *now == Fate::Kept && *then != Fate::Kept)
        .filter_map(|((i, _), _)| match &after[*i].kind {
            EventKind::Promise {
                forgives: Some(f), ..
            } => Some(**f),
            _ => None,
        })
        .collect()
}

impl Ledger {
    pub fn fold(history: &[Event], tz: Option<Tz>, now: DateTime<Utc>) -> Ledger {
        let mut fold = LedgerFold::new(tz);
        for event in history {
            fold.push(event);
        }
        fold.finish(now)
    }

    pub fn status(&self) -> Option<PromiseStatus> {
        if self.open.is_some() {
            Some(PromiseStatus::Pending)
        } else if self.last_broken_at.is_some() {
            Some(PromiseStatus::Broken)
        } else if self.kept > 0 {
            Some(PromiseStatus::Kept)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Currency;

    #[test]
    fn plus_days_agrees_with_chronos_days() {
        // Every day of 2023–2025 (a leap year between), by graces that stay
        // in the year and ones that leave it; and up to chrono's last day.
        let mut date = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap();
        while date.year() < 2026 {
            for n in [0, 1, 2, 3, 7, 30, 364, 365, 366, 400, 800] {
                assert_eq!(plus_days(date, n), date + Days::new(n as u64), "{date} {n}");
            }
            date = date.succ_opt().unwrap();
        }
        for n in 0..4u16 {
            let date = NaiveDate::MAX - Days::new(n as u64);
            assert_eq!(plus_days(date, n), NaiveDate::MAX);
        }
    }

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap()
    }
    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }
    fn brl(minor: i64) -> Money {
        Money::new(minor, Currency::BRL)
    }
    fn promise(t: DateTime<Utc>, amount: i64, date: NaiveDate) -> Event {
        Event {
            at: t,
            kind: EventKind::Promise {
                amount: brl(amount),
                date,
                grace_days: 2,
                forgives: None,
            },
        }
    }
    fn pay(t: DateTime<Utc>, amount: i64) -> Event {
        Event {
            at: t,
            kind: EventKind::Payment {
                amount: brl(amount),
            },
        }
    }
    const SP: Option<Tz> = Some(Tz::America__Sao_Paulo);

    #[test]
    fn a_promise_is_pending_then_kept_by_payments_that_reach_it() {
        let mut h = vec![promise(at(1, 15), 1000, day(10))];
        let l = Ledger::fold(&h, SP, at(5, 12));
        assert_eq!(l.status(), Some(PromiseStatus::Pending));
        assert_eq!(l.open.unwrap().last_day(), day(12));
        h.push(pay(at(6, 12), 400));
        assert_eq!(
            Ledger::fold(&h, SP, at(7, 12)).open.unwrap().remaining,
            brl(600)
        );
        h.push(pay(at(11, 12), 600));
        let l = Ledger::fold(&h, SP, at(20, 12));
        assert_eq!(
            (l.kept, l.broken, l.status()),
            (1, 0, Some(PromiseStatus::Kept))
        );
    }

    #[test]
    fn a_settlement_open_says_what_keeping_it_forgives() {
        let mut settlement = promise(at(1, 15), 800, day(10));
        if let EventKind::Promise { forgives, .. } = &mut settlement.kind {
            *forgives = Some(Box::new(brl(200)));
        }
        let h = vec![settlement, pay(at(3, 12), 300)];
        let o = Ledger::fold(&h, SP, at(5, 12)).open.unwrap();
        assert_eq!((o.remaining, o.forgives), (brl(500), Some(brl(200))));
        // A promise that settles nothing forgives nothing.
        let h = vec![promise(at(1, 15), 800, day(10))];
        assert_eq!(Ledger::fold(&h, SP, at(5, 12)).open.unwrap().forgives, None);
    }

    #[test]
    fn a_payment_forgives_what_the_settlement_it_keeps_agreed_once() {
        let mut settlement = promise(at(1, 15), 800, day(10));
        if let EventKind::Promise { forgives, .. } = &mut settlement.kind {
            *forgives = Some(Box::new(brl(200)));
        }
        let now = at(20, 12);
        let forgiven = |before: &[Event], paid: Event| {
            let mut after = before.to_vec();
            after.push(paid);
            after.sort_by_key(|e| e.at);
            forgiven_by(before, &after, SP, now)
        };
        let h = vec![settlement.clone(), pay(at(3, 12), 300)];
        // Made on its last day of grace, told of after it broke.
        assert_eq!(forgiven(&h, pay(at(12, 20), 500)), vec![brl(200)]);
        assert_eq!(forgiven(&h, pay(at(15, 12), 500)), vec![]);
        // Kept already: a later payment forgives nothing more.
        let kept = vec![settlement.clone(), pay(at(3, 12), 800)];
        assert_eq!(forgiven(&kept, pay(at(4, 12), 100)), vec![]);
        // Replaced by a promise that settles nothing, before it was paid.
        let replaced = vec![settlement, promise(at(2, 15), 900, day(10))];
        assert_eq!(forgiven(&replaced, pay(at(3, 12), 900)), vec![]);
    }

    #[test]
    fn a_promise_breaks_at_the_end_of_its_grace_in_the_debtors_zone() {
        let h = vec![promise(at(1, 15), 1000, day(10))];
        // Last day 12 March; São Paulo is UTC-3, so it breaks 13 March 03:00 UTC.
        assert_eq!(
            Ledger::fold(&h, SP, at(13, 2)).status(),
            Some(PromiseStatus::Pending)
        );
        let l = Ledger::fold(&h, SP, at(13, 3));
        assert_eq!((l.broken, l.status()), (1, Some(PromiseStatus::Broken)));
        assert_eq!(l.last_broken_at, Some(at(13, 3)));
        // A late payment of part of it does not mend it.
        let mut h = vec![promise(at(1, 15), 1000, day(10)), pay(at(14, 12), 600)];
        assert_eq!(
            Ledger::fold(&h, SP, at(20, 0)).status(),
            Some(PromiseStatus::Broken)
        );
        // Of all of it does: still counted broken, but no longer the
        // debtor's broken promise to be worked from that queue.
        h.push(pay(at(15, 12), 400));
        let l = Ledger::fold(&h, SP, at(20, 0));
        assert_eq!((l.broken, l.kept, l.last_broken_at), (1, 0, None));
        // Not a settlement, whose discount went with its date, nor a plan.
        let mut settlement = promise(at(1, 15), 1000, day(10));
        if let EventKind::Promise { forgives, .. } = &mut settlement.kind {
            *forgives = Some(Box::new(brl(100)));
        }
        let h = vec![settlement, pay(at(14, 12), 1000)];
        assert_eq!(
            Ledger::fold(&h, SP, at(20, 0)).status(),
            Some(PromiseStatus::Broken)
        );
    }

    #[test]
    fn a_new_promise_replaces_an_open_one_and_clears_a_broken_one() {
        let h = vec![
            promise(at(1, 15), 1000, day(3)),
            promise(at(2, 15), 500, day(20)),
        ];
        let l = Ledger::fold(&h, SP, at(10, 0));
        assert_eq!((l.kept, l.broken), (0, 0));
        assert_eq!(l.open.unwrap().remaining, brl(500));
        let h = vec![
            promise(at(1, 15), 1000, day(3)),
            promise(at(8, 15), 500, day(20)),
        ];
        let l = Ledger::fold(&h, SP, at(10, 0));
        assert_eq!((l.broken, l.status()), (1, Some(PromiseStatus::Pending)));
    }

    #[test]
    fn installments_are_kept_one_by_one_and_one_broken_breaks_the_plan() {
        let plan = Event {
            at: at(1, 15),
            kind: EventKind::InstallmentPlan {
                installments: vec![
                    Installment {
                        date: day(5),
                        amount: brl(300),
                    },
                    Installment {
                        date: day(15),
                        amount: brl(300),
                    },
                    Installment {
                        date: day(25),
                        amount: brl(300),
                    },
                ]
                .into(),
                grace_days: 0,
            },
        };
        let h = vec![plan.clone(), pay(at(4, 12), 300)];
        let o = Ledger::fold(&h, SP, at(6, 12)).open.unwrap();
        assert_eq!((o.date, o.later_installments), (day(15), 1));
        let l = Ledger::fold(&h, SP, at(17, 12));
        assert_eq!((l.kept, l.broken, l.open), (1, 1, None));
        // One payment can cover several installments.
        let h = vec![plan, pay(at(4, 12), 900)];
        let l = Ledger::fold(&h, SP, at(30, 12));
        assert_eq!(
            (l.kept, l.broken, l.status()),
            (3, 0, Some(PromiseStatus::Kept))
        );
    }

    #[test]
    fn each_promise_is_told_what_became_of_it() {
        let h = vec![
            // Broken: its grace ran out before the next promise.
            promise(at(1, 15), 1000, day(3)),
            pay(at(2, 12), 100),
            // Replaced while still open.
            promise(at(8, 15), 500, day(20)),
            promise(at(9, 15), 400, day(20)),
            // Kept by the payment after it.
            pay(at(10, 12), 400),
            // Open: its date is to come.
            promise(at(11, 15), 300, day(25)),
        ];
        let f = fates(&h, SP, at(12, 0)).each;
        assert_eq!(
            f,
            [
                (0, Fate::Broken),
                (2, Fate::Replaced),
                (3, Fate::Kept),
                (5, Fate::Open)
            ]
        );
        // The same history later: the last one broke at its grace's end,
        // at the first moment of the day after it.
        let later = fates(&h, SP, at(28, 3));
        assert_eq!(later.each.last(), Some(&(5, Fate::Broken)));
        assert_eq!(fates(&h, SP, at(28, 2)).of(5), Some(Fate::Open));
        agree(&h, at(28, 3));
        agree(&h, at(12, 0));
    }

    /// The fates add up to the ledger's counts, and the ledger given with
    /// them is the one `Ledger::fold` gives.
    fn agree(h: &[Event], now: DateTime<Utc>) {
        let f = fates(h, SP, now);
        let count = |fate| f.each.iter().filter(|(_, x)| *x == fate).count() as u16;
        assert_eq!(f.ledger, Ledger::fold(h, SP, now));
        assert_eq!(count(Fate::Broken), f.ledger.broken);
        assert_eq!(f.ledger.open.is_some(), count(Fate::Open) == 1);
        assert!(count(Fate::Open) <= 1);
    }

    #[test]
    fn a_plan_is_kept_only_when_every_installment_is_and_broken_by_one() {
        let plan = |at_: DateTime<Utc>| Event {
            at: at_,
            kind: EventKind::InstallmentPlan {
                installments: [5, 15]
                    .map(|d| Installment {
                        date: day(d),
                        amount: brl(300),
                    })
                    .into(),
                grace_days: 0,
            },
        };
        // One installment paid, the second never: the plan broke.
        let h = vec![plan(at(1, 15)), pay(at(4, 12), 300)];
        assert_eq!(fates(&h, SP, at(10, 12)).of(0), Some(Fate::Open));
        assert_eq!(fates(&h, SP, at(17, 12)).of(0), Some(Fate::Broken));
        agree(&h, at(17, 12));
        // Both paid: kept, once.
        let h = vec![plan(at(1, 15)), pay(at(4, 12), 300), pay(at(14, 12), 300)];
        let f = fates(&h, SP, at(20, 12));
        assert_eq!(f.each, [(0, Fate::Kept)]);
        assert_eq!(f.ledger.kept, 2, "the ledger counts installments");
        agree(&h, at(20, 12));
        // A payment after the break only finds it broken; an empty plan is
        // no promise at all.
        let empty = Event {
            at: at(18, 12),
            kind: EventKind::InstallmentPlan {
                installments: Vec::new().into(),
                grace_days: 0,
            },
        };
        let h = vec![plan(at(1, 15)), pay(at(17, 12), 600), empty];
        let f = fates(&h, SP, at(20, 12));
        assert_eq!(f.each, [(0, Fate::Broken)]);
        agree(&h, at(20, 12));
    }
}
