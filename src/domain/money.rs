//! Money as integer minor units with an ISO 4217 code: never floating point.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::locale::Locale;

/// A currency of ISO 4217, with its digits after the decimal point. Funds
/// and codes of no currency (gold, `XXX`) are not debts' currencies.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    digits: u8,
}

impl Currency {
    pub const BRL: Currency = Currency {
        code: *b"BRL",
        digits: 2,
    };
    pub const USD: Currency = Currency {
        code: *b"USD",
        digits: 2,
    };

    pub fn new(code: &str) -> Result<Currency, MoneyError> {
        // The usual ones without a walk through ISO's list: every amount
        // read from the store comes through here.
        match code {
            "BRL" => return Ok(Currency::BRL),
            "USD" => return Ok(Currency::USD),
            _ => {}
        }
        let bad = || MoneyError::BadCurrency(code.to_string());
        let iso = iso_currency::Currency::from_code(code)
            .filter(|c| !c.is_fund())
            .ok_or_else(bad)?;
        let digits = iso.exponent().ok_or_else(bad)?;
        let b = code.as_bytes();
        Ok(Currency {
            code: [b[0], b[1], b[2]],
            digits: digits as u8,
        })
    }

    /// A code as kept (in a store, in an outbox, from a server): a currency
    /// of ISO 4217 with its digits, or, for one taken before regua checked
    /// codes against ISO, any three capitals with two digits, as then.
    /// What is kept is read, not refused; what comes in new goes through
    /// [`Currency::new`].
    pub fn read(code: &str) -> Result<Currency, MoneyError> {
        Currency::new(code).or_else(|e| {
            let b = code.as_bytes();
            if b.len() == 3 && b.iter().all(u8::is_ascii_uppercase) {
                Ok(Currency {
                    code: [b[0], b[1], b[2]],
                    digits: 2,
                })
            } else {
                Err(e)
            }
        })
    }

    pub fn code(&self) -> &str {
        // Only ISO codes, three capital letters, ever get in (see `new`).
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// Digits after the decimal point, per ISO 4217.
    pub fn minor_digits(&self) -> u32 {
        u32::from(self.digits)
    }

    fn symbol_pt_br(&self) -> Option<&'static str> {
        match &self.code {
            b"BRL" => Some("R$"),
            b"USD" => Some("US$"),
            b"EUR" => Some("€"),
            _ => None,
        }
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::read(&s).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("cannot mix currencies: {left} and {right}")]
    CurrencyMismatch { left: Currency, right: Currency },
    #[error("amount out of range")]
    Overflow,
    #[error("'{0}' is not an ISO 4217 currency code (like BRL or USD)")]
    BadCurrency(String),
    #[error("'{0}' is not an amount (write it like 1234.56)")]
    BadAmount(String),
}

impl MoneyError {
    pub fn said(&self, locale: Locale) -> String {
        match (locale, self) {
            (Locale::En, _) => self.to_string(),
            (Locale::PtBr, MoneyError::CurrencyMismatch { left, right }) => {
                format!("moedas diferentes: {left} e {right}")
            }
            (Locale::PtBr, MoneyError::Overflow) => "valor fora do limite".into(),
            (Locale::PtBr, MoneyError::BadCurrency(c)) => {
                format!("'{c}' não é um código de moeda ISO 4217 (como BRL ou USD)")
            }
            (Locale::PtBr, MoneyError::BadAmount(a)) => {
                format!("'{a}' não é um valor (escreva como 1234,56)")
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    /// The most a debtor may owe, in minor units (10 billion in a currency
    /// of cents): a day's sums over millions of debtors still fit in an
    /// `i64`, where an amount near its end would make every board's
    /// totals overflow.
    pub const MAX_OWED_MINOR: i64 = 1_000_000_000_000;

    pub const fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    pub const fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }

    /// Parses a plain decimal like `1234.56` or `-10` (a dot for decimals, no
    /// grouping), refusing more decimals than the currency has.
    pub fn parse(text: &str, currency: Currency) -> Result<Money, MoneyError> {
        let bad = || MoneyError::BadAmount(text.to_string());
        let t = text.trim();
        let (negative, digits) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let places = currency.minor_digits() as usize;
        if whole.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || frac.len() > places
            || (digits.contains('.') && frac.is_empty())
        {
            return Err(bad());
        }
        let scale = 10i64.pow(places as u32);
        let whole: i64 = whole.parse().map_err(|_| MoneyError::Overflow)?;
        let frac_value: i64 = if frac.is_empty() {
            0
        } else {
            frac.parse::<i64>().map_err(|_| bad())? * 10i64.pow((places - frac.len()) as u32)
        };
        let minor = whole
            .checked_mul(scale)
            .and_then(|w| w.checked_add(frac_value))
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(if negative { -minor } else { minor }, currency))
    }

    fn same_currency(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_sub(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }

    /// This amount less `percent` % of `part`, rounding the discount down so the
    /// debtor is never promised more off than the policy allows.
    pub fn less_percent_of(self, part: Money, percent: u32) -> Result<Money, MoneyError> {
        self.same_currency(part)?;
        let off = (part.minor.max(0) as i128 * percent as i128 / 100) as i64;
        self.checked_sub(Money::new(off, self.currency))
    }

    pub fn is_positive(self) -> bool {
        self.minor > 0
    }

    pub fn display(self, locale: Locale) -> impl fmt::Display {
        Shown {
            money: self,
            locale,
        }
    }
}

/// `12300` as `12.300` (or `12,300`): thousands apart.
pub fn grouped(whole: u64, separator: char) -> String {
    let digits = whole.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

struct Shown {
    money: Money,
    locale: Locale,
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Money { minor, currency } = self.money;
        let places = currency.minor_digits();
        let scale = 10u64.pow(places);
        let abs = minor.unsigned_abs();
        let (whole, frac) = (abs / scale, abs % scale);
        let (group, decimal) = match self.locale {
            Locale::PtBr => ('.', ','),
            Locale::En => (',', '.'),
        };
        if minor < 0 {
            f.write_str("-")?;
        }
        match (self.locale, currency.symbol_pt_br()) {
            (Locale::PtBr, Some(symbol)) => write!(f, "{symbol} ")?,
            _ => write!(f, "{} ", currency.code())?,
        }
        f.write_str(&grouped(whole, group))?;
        if places > 0 {
            write!(f, "{decimal}{frac:0width$}", width = places as usize)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brl(minor: i64) -> Money {
        Money::new(minor, Currency::BRL)
    }

    #[test]
    fn shows_by_locale() {
        assert_eq!(brl(123456).display(Locale::PtBr).to_string(), "R$ 1.234,56");
        assert_eq!(brl(123456).display(Locale::En).to_string(), "BRL 1,234.56");
        assert_eq!(brl(-5).display(Locale::PtBr).to_string(), "-R$ 0,05");
        assert_eq!(
            brl(100_000_000).display(Locale::En).to_string(),
            "BRL 1,000,000.00"
        );
        let yen = Money::new(1500, Currency::new("JPY").unwrap());
        assert_eq!(yen.display(Locale::En).to_string(), "JPY 1,500");
    }

    #[test]
    fn refuses_to_mix_currencies() {
        let usd = Money::new(100, Currency::USD);
        assert_eq!(
            brl(100).checked_add(usd),
            Err(MoneyError::CurrencyMismatch {
                left: Currency::BRL,
                right: Currency::USD
            })
        );
        assert!(brl(100).checked_sub(usd).is_err());
        assert_eq!(brl(100).checked_add(brl(50)), Ok(brl(150)));
        assert_eq!(brl(i64::MAX).checked_add(brl(1)), Err(MoneyError::Overflow));
    }

    #[test]
    fn parses_plain_decimals() {
        assert_eq!(Money::parse("1234.56", Currency::BRL), Ok(brl(123456)));
        assert_eq!(Money::parse("50", Currency::BRL), Ok(brl(5000)));
        assert_eq!(Money::parse("0.5", Currency::BRL), Ok(brl(50)));
        assert_eq!(Money::parse("-3.10", Currency::BRL), Ok(brl(-310)));
        for bad in [
            "",
            "1.234,56",
            "1.",
            "abc",
            "1.234",
            "--1",
            "1e3",
            "99999999999999999999",
        ] {
            assert!(Money::parse(bad, Currency::BRL).is_err(), "{bad}");
        }
    }

    #[test]
    fn discount_rounds_in_the_debtors_disfavour_never_over_the_limit() {
        // 30 % of 10.01 is 3.003: the discount is 3.00, never 3.01.
        assert_eq!(brl(20000).less_percent_of(brl(1001), 30), Ok(brl(19700)));
    }

    #[test]
    fn currency_codes_are_iso_4217_currencies_with_their_digits() {
        assert_eq!(Currency::new("BRL"), Ok(Currency::BRL));
        assert_eq!(Currency::new("USD"), Ok(Currency::USD));
        // Three capitals that name no currency, a fund, gold, "no currency".
        for bad in ["brl", "BR", "BRLL", "B1L", "", "ZZZ", "CLF", "XAU", "XXX"] {
            assert!(Currency::new(bad).is_err(), "{bad}");
        }
        // Kept before codes were checked: read as they were then.
        for code in ["ZZZ", "CLF", "XAU"] {
            let kept = Currency::read(code).unwrap();
            assert_eq!((kept.code(), kept.minor_digits()), (code, 2));
        }
        assert!(Currency::read("brl").is_err());
        let stored: Money = serde_json::from_str(r#"{"minor": 5, "currency": "ZZZ"}"#).unwrap();
        assert_eq!(stored.currency.code(), "ZZZ");
        for (code, digits) in [("JPY", 0), ("RWF", 0), ("BHD", 3), ("EUR", 2)] {
            assert_eq!(
                Currency::new(code).unwrap().minor_digits(),
                digits,
                "{code}"
            );
        }
    }
}
