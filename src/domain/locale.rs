//! How numbers and dates are written for the people reading them.

use chrono::{NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub enum Locale {
    #[default]
    #[serde(rename = "pt-BR")]
    PtBr,
    #[serde(rename = "en")]
    En,
}

impl Locale {
    /// The Portuguese or the English of a pair of words.
    pub fn pick<T>(self, pt: T, en: T) -> T {
        match self {
            Locale::PtBr => pt,
            Locale::En => en,
        }
    }

    /// As the policy file and the wire write it.
    pub fn code(self) -> &'static str {
        match self {
            Locale::PtBr => "pt-BR",
            Locale::En => "en",
        }
    }

    /// A day of the week, short: `ter`, `Tue`.
    pub fn weekday(self, day: Weekday) -> &'static str {
        let i = day.num_days_from_monday() as usize;
        match self {
            Locale::PtBr => ["seg", "ter", "qua", "qui", "sex", "sáb", "dom"][i],
            Locale::En => ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][i],
        }
    }

    pub fn date(self, date: NaiveDate) -> impl fmt::Display {
        match self {
            Locale::PtBr => date.format("%d/%m/%Y"),
            Locale::En => date.format("%Y-%m-%d"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_by_locale() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
        assert_eq!(Locale::PtBr.date(d).to_string(), "09/03/2026");
        assert_eq!(Locale::En.date(d).to_string(), "2026-03-09");
    }
}
