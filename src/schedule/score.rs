//! The priority score that orders a queue, made of a few factors a person
//! can read and argue with: each factor's points and what they came from.

use chrono::{DateTime, Utc};
use std::fmt;

use super::calendar::unix;
use super::plan::Facts;
use crate::domain::{Ledger, Locale, Money, grouped};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Factor {
    /// Value: days past due.
    DaysPastDue,
    /// Value: balance in minor units.
    Balance,
    /// Value: kept × 1000 + broken.
    Promises,
    /// Value: hours since the last contact attempt (-1: never).
    LastContact,
    /// Value: days since the last payment (-1: none).
    Payments,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Part {
    pub factor: Factor,
    pub points: i32,
    pub value: i64,
}

/// Higher is called sooner; 0 to 100.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Score {
    pub total: i32,
    pub parts: [Option<Part>; 5],
}

impl Score {
    pub fn parts(&self) -> impl Iterator<Item = &Part> {
        self.parts.iter().flatten()
    }
}

pub(crate) fn score(
    days_past_due: i32,
    balance: Option<Money>,
    ledger: &Ledger,
    facts: &Facts,
    now: DateTime<Utc>,
) -> Score {
    // Older debts first, up to four months (30 points).
    let dpd = Part {
        factor: Factor::DaysPastDue,
        points: days_past_due.clamp(0, 120) / 4,
        value: days_past_due as i64,
    };
    // Larger balances first, in steps (up to 20 points).
    let minor = balance.map_or(0, |b| b.minor.max(0));
    let major = minor / 100;
    let balance_points = match major {
        0..100 => 2,
        100..500 => 5,
        500..2_000 => 10,
        2_000..10_000 => 15,
        _ => 20,
    };
    let bal = Part {
        factor: Factor::Balance,
        points: balance_points,
        value: minor,
    };
    // Someone who keeps promises pays when reached; broken ones lower the odds.
    let promises = Part {
        factor: Factor::Promises,
        points: (ledger.kept.min(3) as i32) * 4 - (ledger.broken.min(3) as i32) * 3,
        value: ledger.kept as i64 * 1000 + ledger.broken as i64,
    };
    // Leave people alone who were just contacted; reach those never reached.
    let now_unix = unix(now);
    let last = facts.last_any_contact.map(unix);
    const HOUR: i64 = 3_600;
    let contact_points = match last.map(|t| now_unix - t) {
        None => 10,
        Some(age) if age < 24 * HOUR => -15,
        Some(age) if age < 72 * HOUR => -5,
        Some(_) => 5,
    };
    let contact = Part {
        factor: Factor::LastContact,
        points: contact_points,
        value: last.map_or(-1, |t| ((now_unix - t) / HOUR).max(0)),
    };
    // A recent payment shows someone engaged and able to pay.
    let paid = facts.last_payment.map(|t| now_unix - unix(t));
    let pay_points = match paid {
        Some(age) if age < 30 * 24 * HOUR => 8,
        Some(_) => 3,
        None => 0,
    };
    let payments = Part {
        factor: Factor::Payments,
        points: pay_points,
        value: paid.map_or(-1, |age| (age / (24 * HOUR)).max(0)),
    };
    let parts = [dpd, bal, promises, contact, payments];
    let total = 20 + parts.iter().map(|p| p.points).sum::<i32>();
    Score {
        total: total.clamp(0, 100),
        parts: parts.map(Some),
    }
}

impl Part {
    /// The factor, what it came from and its points, in words.
    pub fn said(&self, locale: Locale) -> String {
        let v = self.value;
        let what = match (locale, self.factor) {
            (Locale::En, _) => return self.to_string(),
            (Locale::PtBr, Factor::DaysPastDue) if v <= 0 => "ainda não venceu".to_string(),
            (Locale::PtBr, Factor::DaysPastDue) if v == 1 => "1 dia de atraso".to_string(),
            (Locale::PtBr, Factor::DaysPastDue) => format!("{v} dias de atraso"),
            (Locale::PtBr, Factor::Balance) => {
                format!(
                    "saldo {},{:02}",
                    grouped(v.unsigned_abs() / 100, '.'),
                    v % 100
                )
            }
            (Locale::PtBr, Factor::Promises) => {
                format!("promessas cumpridas {}, quebradas {}", v / 1000, v % 1000)
            }
            (Locale::PtBr, Factor::LastContact) if v < 0 => "sem contato ainda".to_string(),
            (Locale::PtBr, Factor::LastContact) if v == 0 => {
                "último contato há menos de 1 h".to_string()
            }
            (Locale::PtBr, Factor::LastContact) if v < 48 => format!("último contato há {v} h"),
            (Locale::PtBr, Factor::LastContact) => format!("último contato há {} dias", v / 24),
            (Locale::PtBr, Factor::Payments) if v < 0 => "nenhum pagamento ainda".to_string(),
            (Locale::PtBr, Factor::Payments) if v == 1 => "último pagamento há 1 dia".to_string(),
            (Locale::PtBr, Factor::Payments) => format!("último pagamento há {v} dias"),
        };
        format!("{what}: {:+}", self.points)
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.value;
        match self.factor {
            Factor::DaysPastDue if v <= 0 => write!(f, "not yet past due")?,
            Factor::DaysPastDue => write!(f, "{v} days past due")?,
            Factor::Balance => write!(
                f,
                "balance {}.{:02}",
                grouped(v.unsigned_abs() / 100, ','),
                v % 100
            )?,
            Factor::Promises => write!(f, "promises kept {}, broken {}", v / 1000, v % 1000)?,
            Factor::LastContact if v < 0 => write!(f, "never contacted")?,
            Factor::LastContact if v == 0 => write!(f, "last contact under an hour ago")?,
            // Hours while they count; days after two.
            Factor::LastContact if v < 48 => write!(f, "last contact {v} h ago")?,
            Factor::LastContact => write!(f, "last contact {} days ago", v / 24)?,
            Factor::Payments if v < 0 => write!(f, "no payments yet")?,
            Factor::Payments => write!(f, "last payment {v} days ago")?,
        }
        write!(f, ": {:+}", self.points)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_contact_is_counted_in_hours_then_in_days() {
        let part = |hours| Part {
            factor: Factor::LastContact,
            points: 5,
            value: hours,
        };
        assert_eq!(part(11).said(Locale::PtBr), "último contato há 11 h: +5");
        // The call just made is not "0 h ago".
        assert_eq!(
            part(0).said(Locale::PtBr),
            "último contato há menos de 1 h: +5"
        );
        assert_eq!(part(0).to_string(), "last contact under an hour ago: +5");
        assert_eq!(
            part(418).said(Locale::PtBr),
            "último contato há 17 dias: +5"
        );
        assert_eq!(part(47).to_string(), "last contact 47 h ago: +5");
        assert_eq!(part(48).to_string(), "last contact 2 days ago: +5");
        assert_eq!(part(-1).said(Locale::PtBr), "sem contato ainda: +5");
    }

    #[test]
    fn a_balance_is_grouped_as_each_language_writes_it() {
        let part = Part {
            factor: Factor::Balance,
            points: 15,
            value: 865_866,
        };
        assert_eq!(part.to_string(), "balance 8,658.66: +15");
        assert_eq!(part.said(Locale::PtBr), "saldo 8.658,66: +15");
    }
}
