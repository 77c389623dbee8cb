//! Who owes, where they live, how they may be reached, and what they owe.

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::{Document, Jurisdiction, Money, MoneyError};

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhoneKind {
    Mobile,
    Landline,
    Work,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Phone {
    pub number: String,
    pub kind: PhoneKind,
    /// The debtor agreed to be reached on this number; without it the
    /// number is never called nor messaged.
    pub consent: bool,
}

/// The debtor's IANA time zone, kept as given when it names no real zone:
/// call windows are in the debtor's own time, so an unknown zone blocks
/// calls rather than guess.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Zone {
    Known(Tz),
    Unknown(Box<str>),
}

impl Zone {
    pub fn parse(name: &str) -> Zone {
        name.parse::<Tz>()
            .map(Zone::Known)
            .unwrap_or_else(|_| Zone::Unknown(name.into()))
    }

    pub fn tz(&self) -> Option<Tz> {
        match self {
            Zone::Known(tz) => Some(*tz),
            Zone::Unknown(_) => None,
        }
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Zone::Known(tz) => f.write_str(tz.name()),
            Zone::Unknown(name) => f.write_str(name),
        }
    }
}

impl Serialize for Zone {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Zone {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Zone::parse(&String::deserialize(d)?))
    }
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Debt {
    pub id: i64,
    pub creditor: String,
    pub original: Money,
    /// What is owed now, payments taken off.
    pub balance: Money,
    /// The part of `balance` that is interest and fees: what a discount for
    /// payment in full may forgive.
    pub interest_and_fees: Money,
    pub due_date: NaiveDate,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Debtor {
    pub id: i64,
    pub external_id: String,
    pub name: String,
    pub document: Document,
    pub phones: Vec<Phone>,
    pub email: Option<String>,
    pub jurisdiction: Jurisdiction,
    pub time_zone: Zone,
    pub segment: String,
    pub tags: Vec<String>,
    pub debts: Vec<Debt>,
}

impl Debtor {
    /// Total owed across debts; an error if they are in different currencies.
    pub fn balance(&self) -> Result<Option<Money>, MoneyError> {
        let mut total: Option<Money> = None;
        for debt in &self.debts {
            total = Some(match total {
                None => debt.balance,
                Some(t) => t.checked_add(debt.balance)?,
            });
        }
        Ok(total)
    }

    /// The oldest due date among debts still owing: days past due count from it.
    pub fn oldest_due(&self) -> Option<NaiveDate> {
        self.debts
            .iter()
            .filter(|d| d.balance.is_positive())
            .map(|d| d.due_date)
            .min()
    }

    /// `amount` (paid, or forgiven) taken off the debts, the oldest due
    /// first, and off each its interest and fees first (Código Civil art.
    /// 354): what is left of them is what a discount may still forgive.
    pub fn take_off(&mut self, amount: i64) {
        let mut debts: Vec<&mut Debt> = self
            .debts
            .iter_mut()
            .filter(|d| d.balance.is_positive())
            .collect();
        debts.sort_by_key(|d| (d.due_date, d.id));
        let mut left = amount;
        for d in debts {
            let take = left.min(d.balance.minor);
            d.balance.minor -= take;
            let interest = d.interest_and_fees.minor.max(0);
            d.interest_and_fees.minor = interest - take.min(interest);
            left -= take;
        }
    }

    pub fn has_consented_phone(&self) -> bool {
        self.phones.iter().any(|p| p.consent)
    }

    /// The number to dial: a consented mobile first, then any consented one.
    pub fn phone_to_call(&self) -> Option<&Phone> {
        self.phones
            .iter()
            .filter(|p| p.consent)
            .min_by_key(|p| p.kind != PhoneKind::Mobile)
    }
}

/// A name as search compares it: lower case, accents dropped, so an agent
/// who types "joao" or "CONCEICAO" finds João and Conceição (people spell
/// names over the phone without their accents, and many keyboards make
/// them slow to type).
pub fn name_key(name: &str) -> String {
    name.nfd()
        .filter(|&c| !is_combining_mark(c))
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Currency;

    #[test]
    fn a_name_key_drops_case_and_accents_and_nothing_else() {
        assert_eq!(name_key("João da Conceição"), "joao da conceicao");
        assert_eq!(name_key("ÁGATA Müller-Ñúñez"), "agata muller-nunez");
        assert_eq!(name_key("Ágata"), name_key("agata"));
        // Letters that are not a base with an accent stay themselves.
        assert_eq!(name_key("Øster Straße"), "øster straße");
        assert_eq!(name_key("o'brien 3º"), "o'brien 3º");
    }

    #[test]
    fn unknown_zones_are_kept_not_guessed() {
        assert_eq!(
            Zone::parse("America/Sao_Paulo").tz(),
            Some(Tz::America__Sao_Paulo)
        );
        let z = Zone::parse("America/Sao_Paul");
        assert_eq!(z.tz(), None);
        assert_eq!(z.to_string(), "America/Sao_Paul");
    }

    fn maria(debts: Vec<Debt>) -> Debtor {
        Debtor {
            id: 1,
            external_id: "x".into(),
            name: "Maria".into(),
            document: "529.982.247-25".parse().unwrap(),
            phones: vec![],
            email: None,
            jurisdiction: "SP".parse().unwrap(),
            time_zone: Zone::parse("America/Sao_Paulo"),
            segment: "retail".into(),
            tags: vec![],
            debts,
        }
    }

    #[test]
    fn balance_refuses_mixed_currencies() {
        let debt = |id, minor, currency| Debt {
            id,
            creditor: "Loja".into(),
            original: Money::new(minor, currency),
            balance: Money::new(minor, currency),
            interest_and_fees: Money::zero(currency),
            due_date: NaiveDate::from_ymd_opt(2026, 1, 10).unwrap(),
        };
        let mut d = maria(vec![
            debt(1, 100, Currency::BRL),
            debt(2, 50, Currency::BRL),
        ]);
        assert_eq!(d.balance(), Ok(Some(Money::new(150, Currency::BRL))));
        d.debts.push(debt(3, 1, Currency::USD));
        assert!(d.balance().is_err());
    }

    #[test]
    fn a_payment_goes_to_the_oldest_debt_and_to_its_interest_first() {
        let debt = |id, minor, interest, day| Debt {
            id,
            creditor: "Loja".into(),
            original: Money::new(minor, Currency::BRL),
            balance: Money::new(minor, Currency::BRL),
            interest_and_fees: Money::new(interest, Currency::BRL),
            due_date: NaiveDate::from_ymd_opt(2026, 1, day).unwrap(),
        };
        // Listed younger first: the order of the list is no order.
        let mut d = maria(vec![debt(1, 800, 300, 20), debt(2, 500, 100, 10)]);
        let left = |d: &Debtor| {
            d.debts
                .iter()
                .map(|x| (x.balance.minor, x.interest_and_fees.minor))
                .collect::<Vec<_>>()
        };
        d.take_off(60);
        assert_eq!(left(&d), [(800, 300), (440, 40)]);
        d.take_off(540);
        assert_eq!(left(&d), [(700, 200), (0, 0)]);
    }
}
