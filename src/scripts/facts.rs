//! The facts a talking point may name, where each is known, and how each is
//! written in a locale.

use chrono::NaiveDate;
use minijinja::Value;

use super::points::Stage;
use super::situation::Situation;
use crate::domain::{Currency, Locale, Money, PromiseStatus};
use crate::schedule::offers::Terms;

/// What the debtor owes (absent when nothing is).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Owing {
    pub total: Money,
    /// The oldest due date among the debts still owing.
    pub due_date: NaiveDate,
    /// Negative before the due date.
    pub days_past_due: i32,
}

/// The promise a situation is about: the open one, or the one broken.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PromiseFacts {
    /// Of the promise, or of the installment due (or missed).
    pub amount: Money,
    /// What has come of `amount` since it was agreed, in time or not.
    pub paid: Money,
    pub date: NaiveDate,
    pub status: PromiseStatus,
    /// Installments from this one to the end of the plan (1 for a promise).
    pub installments_left: u16,
}

/// Everything a talking point may say about a debtor and a call.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Facts {
    pub first_name: String,
    pub agent_name: String,
    pub creditors: Vec<String>,
    pub owing: Option<Owing>,
    pub promise: Option<PromiseFacts>,
    pub offers: Option<Terms>,
}

/// The most installments an agent may offer on these terms: no more than
/// the policy's maximum, none under its minimum installment.
pub fn max_installments(terms: &Terms) -> u32 {
    let most = match terms.min_installment.minor {
        min if min > 0 => (terms.balance.minor / min).clamp(1, u32::MAX as i64) as u32,
        _ => terms.max_installments,
    };
    most.min(terms.max_installments).max(1)
}

/// Where a fact is known.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Known {
    Always,
    /// While something is owed.
    Owing,
    /// In situations about a promise.
    Promise,
    /// Where money is talked about.
    Offers,
}

struct Fact {
    name: &'static str,
    known: Known,
    /// An amount, or what may be offered: not before the why questions.
    money: bool,
}

const fn fact(name: &'static str, known: Known, money: bool) -> Fact {
    Fact { name, known, money }
}

/// Every fact, as templates name them. README lists them too.
const FACTS: [Fact; 22] = [
    fact("first_name", Known::Always, false),
    fact("agent_name", Known::Always, false),
    fact("creditors", Known::Always, false),
    fact("total", Known::Offers, true),
    fact("due_date", Known::Owing, false),
    fact("days_past_due", Known::Owing, false),
    fact("promise", Known::Promise, true),
    fact("promise.amount", Known::Promise, true),
    fact("promise.paid", Known::Promise, true),
    fact("promise.remaining", Known::Promise, true),
    // Whether, not how much: a why point may say them.
    fact("promise.part_paid", Known::Promise, false),
    fact("promise.paid_in_full", Known::Promise, false),
    fact("promise.date", Known::Promise, false),
    fact("promise.status", Known::Promise, false),
    fact("promise.installments_left", Known::Promise, false),
    fact("offers", Known::Offers, true),
    fact("offers.pay_in_full", Known::Offers, true),
    fact("offers.discount", Known::Offers, true),
    fact("offers.has_discount", Known::Offers, true),
    fact("offers.max_installments", Known::Offers, true),
    fact("offers.min_installment", Known::Offers, true),
    fact("offers.latest_promise_date", Known::Offers, true),
];

/// The facts an opening may name: the person on the line may not be the
/// debtor yet.
const OPENING_FACTS: [&str; 2] = ["first_name", "agent_name"];

/// Whether a point of `stage` in `situation` may name `path` (`total`,
/// `promise.date`); the reason why not otherwise.
pub fn check(situation: Situation, stage: Stage, path: &str) -> Result<(), String> {
    let Some(fact) = FACTS.iter().find(|f| f.name == path) else {
        let names: Vec<&str> = FACTS
            .iter()
            .filter(|f| !matches!(f.name, "promise" | "offers"))
            .map(|f| f.name)
            .collect();
        return Err(format!("no fact '{path}' (facts: {})", names.join(", ")));
    };
    let known = match fact.known {
        Known::Always => true,
        Known::Owing => situation.owes(),
        Known::Promise => situation.has_promise(),
        Known::Offers => situation.collects(),
    };
    if !known {
        let only: Vec<&str> = Situation::ALL
            .into_iter()
            .filter(|s| match fact.known {
                Known::Promise => s.has_promise(),
                Known::Offers => s.collects(),
                _ => s.owes(),
            })
            .map(Situation::name)
            .collect();
        return Err(format!(
            "'{path}' is not known in situation {situation} (only in {})",
            only.join(", ")
        ));
    }
    match stage {
        Stage::Opening if !OPENING_FACTS.contains(&path) => Err(format!(
            "an opening names only first_name and agent_name: until the debtor's identity is \
             verified, the person on the line may be someone else (LGPD); '{path}' can go in a \
             later point"
        )),
        Stage::Why if fact.money => Err(format!(
            "a why point names no amounts nor offers: ask what happened before talking money; \
             '{path}' can go in an options point"
        )),
        _ => Ok(()),
    }
}

fn join(names: &[String], locale: Locale) -> String {
    let and = match locale {
        Locale::PtBr => " e ",
        Locale::En => " and ",
    };
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{}{and}{last}", rest.join(", ")),
    }
}

fn money(m: Money, locale: Locale) -> Value {
    Value::from(m.display(locale).to_string())
}

fn date(d: NaiveDate, locale: Locale) -> Value {
    Value::from(locale.date(d).to_string())
}

impl Facts {
    /// The facts as a template sees them, written for `locale`. Facts a
    /// situation does not have are left out, so naming one is an error.
    pub fn value(&self, locale: Locale) -> Value {
        let mut pairs: Vec<(&str, Value)> = vec![
            ("first_name", Value::from(self.first_name.as_str())),
            ("agent_name", Value::from(self.agent_name.as_str())),
            ("creditors", Value::from(join(&self.creditors, locale))),
        ];
        if let Some(o) = &self.owing {
            pairs.extend([
                ("due_date", date(o.due_date, locale)),
                ("days_past_due", Value::from(o.days_past_due)),
            ]);
            // No amounts where nothing is collected.
            if self.offers.is_some() {
                pairs.push(("total", money(o.total, locale)));
            }
        }
        if let Some(p) = &self.promise {
            let status = match p.status {
                PromiseStatus::Pending => "pending",
                PromiseStatus::Kept => "kept",
                PromiseStatus::Broken => "broken",
            };
            pairs.push((
                "promise",
                Value::from_pairs([
                    ("amount", money(p.amount, locale)),
                    ("paid", money(p.paid, locale)),
                    (
                        "remaining",
                        money(
                            Money::new(p.amount.minor - p.paid.minor, p.amount.currency),
                            locale,
                        ),
                    ),
                    (
                        "part_paid",
                        Value::from(p.paid.is_positive() && p.paid.minor < p.amount.minor),
                    ),
                    ("paid_in_full", Value::from(p.paid.minor >= p.amount.minor)),
                    ("date", date(p.date, locale)),
                    ("status", Value::from(status)),
                    ("installments_left", Value::from(p.installments_left)),
                ]),
            ));
        }
        if let Some(t) = &self.offers {
            pairs.push((
                "offers",
                Value::from_pairs([
                    ("pay_in_full", money(t.pay_in_full, locale)),
                    ("discount", money(t.max_discount, locale)),
                    ("has_discount", Value::from(t.max_discount.is_positive())),
                    ("max_installments", Value::from(max_installments(t))),
                    ("min_installment", money(t.min_installment, locale)),
                    ("latest_promise_date", date(t.latest_promise_date, locale)),
                ]),
            ));
        }
        Value::from_pairs(pairs)
    }

    /// Facts as `situation` has them, made up, to try templates on when a
    /// policy is loaded.
    pub fn sample(situation: Situation) -> Facts {
        let brl = |minor| Money::new(minor, Currency::BRL);
        let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).unwrap_or_default();
        let total = brl(123_450);
        Facts {
            first_name: "Maria".into(),
            agent_name: "Ana".into(),
            creditors: vec!["Loja Azul".into(), "Banco Verde".into()],
            owing: situation.owes().then_some(Owing {
                total,
                due_date: day(1),
                days_past_due: 9,
            }),
            promise: situation.has_promise().then_some(PromiseFacts {
                amount: brl(40_000),
                paid: brl(15_000),
                date: day(12),
                status: PromiseStatus::Pending,
                installments_left: 3,
            }),
            offers: situation.collects().then_some(Terms {
                balance: total,
                max_discount: brl(6_000),
                pay_in_full: brl(117_450),
                max_installments: 12,
                min_installment: brl(5_000),
                latest_promise_date: day(25),
            }),
        }
    }
}
