//! Brazilian taxpayer documents: CPF (people) and CNPJ (companies), each
//! validated by its check digits.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// `Debug` shows the masked form: a debtor printed to a log must not leak
/// the whole number.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum Document {
    Cpf([u8; 11]),
    Cnpj([u8; 14]),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("a CPF has 11 digits and a CNPJ 14; this has {0}")]
    Length(usize),
    #[error("'{0}' is not allowed in a CPF or CNPJ (digits, '.', '-', '/' and spaces only)")]
    Character(char),
    #[error("all digits are the same, which no real CPF or CNPJ has")]
    Repeated,
    #[error("the check digits do not match (mistyped?)")]
    CheckDigit,
}

/// Check digit of the modulo-11 scheme both documents use: weights run down
/// from `top` (CPF) or cycle 2..=9 from the right (CNPJ).
fn mod11_digit(digits: &[u8], weights: impl Iterator<Item = u32>) -> u8 {
    let sum: u32 = digits.iter().zip(weights).map(|(&d, w)| d as u32 * w).sum();
    let r = sum % 11;
    if r < 2 { 0 } else { (11 - r) as u8 }
}

fn cnpj_weights(len: usize) -> impl Iterator<Item = u32> {
    // From the left: 5,4,3,2,9,8,...,2 for 12 digits; 6,5,4,3,2,9,...,2 for 13.
    (0..len).map(move |i| {
        let from_right = (len - 1 - i) as u32;
        2 + from_right % 8
    })
}

impl Document {
    pub fn is_cpf(&self) -> bool {
        matches!(self, Document::Cpf(_))
    }

    fn digits(&self) -> &[u8] {
        match self {
            Document::Cpf(d) => d,
            Document::Cnpj(d) => d,
        }
    }

    /// Shown while the agent has not asked to reveal it: enough to confirm
    /// identity with the debtor, not enough to reuse.
    pub fn masked(&self) -> String {
        let d: String = self.digits().iter().map(|d| char::from(b'0' + d)).collect();
        match self {
            Document::Cpf(_) => format!("***.{}.{}-**", &d[3..6], &d[6..9]),
            Document::Cnpj(_) => format!("**.{}.{}/****-**", &d[2..5], &d[5..8]),
        }
    }
}

impl FromStr for Document {
    type Err = DocumentError;

    fn from_str(text: &str) -> Result<Document, DocumentError> {
        let mut digits = Vec::with_capacity(14);
        for c in text.trim().chars() {
            match c {
                '0'..='9' => digits.push(c as u8 - b'0'),
                '.' | '-' | '/' | ' ' => {}
                other => return Err(DocumentError::Character(other)),
            }
        }
        if digits.len() != 11 && digits.len() != 14 {
            return Err(DocumentError::Length(digits.len()));
        }
        if digits.iter().all(|&d| d == digits[0]) {
            return Err(DocumentError::Repeated);
        }
        let n = digits.len();
        let (first, second) = if n == 11 {
            let first = mod11_digit(&digits[..9], (2..=10).rev());
            let second = mod11_digit(&digits[..10], (2..=11).rev());
            (first, second)
        } else {
            let first = mod11_digit(&digits[..12], cnpj_weights(12));
            let second = mod11_digit(&digits[..13], cnpj_weights(13));
            (first, second)
        };
        if digits[n - 2] != first || digits[n - 1] != second {
            return Err(DocumentError::CheckDigit);
        }
        Ok(if n == 11 {
            Document::Cpf(digits.try_into().expect("11 digits"))
        } else {
            Document::Cnpj(digits.try_into().expect("14 digits"))
        })
    }
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Display for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d: String = self.digits().iter().map(|d| char::from(b'0' + d)).collect();
        match self {
            Document::Cpf(_) => write!(f, "{}.{}.{}-{}", &d[..3], &d[3..6], &d[6..9], &d[9..]),
            Document::Cnpj(_) => {
                write!(
                    f,
                    "{}.{}.{}/{}-{}",
                    &d[..2],
                    &d[2..5],
                    &d[5..8],
                    &d[8..12],
                    &d[12..]
                )
            }
        }
    }
}

impl Serialize for Document {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Builds a valid CPF from its first nine digits (for synthetic portfolios).
pub fn cpf_from_base(base: [u8; 9]) -> Document {
    let mut d = [0u8; 11];
    d[..9].copy_from_slice(&base);
    d[9] = mod11_digit(&d[..9], (2..=10).rev());
    d[10] = mod11_digit(&d[..10], (2..=11).rev());
    Document::Cpf(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_valid_documents_formatted_or_not() {
        let cpf: Document = "529.982.247-25".parse().unwrap();
        assert!(cpf.is_cpf());
        assert_eq!(cpf.to_string(), "529.982.247-25");
        assert_eq!("52998224725".parse::<Document>(), Ok(cpf));
        assert_eq!(cpf.masked(), "***.982.247-**");
        assert_eq!(
            format!("{cpf:?}"),
            "***.982.247-**",
            "logs never get the whole number"
        );
        let cnpj: Document = "11.222.333/0001-81".parse().unwrap();
        assert!(!cnpj.is_cpf());
        assert_eq!(cnpj.to_string(), "11.222.333/0001-81");
        assert_eq!(cnpj.masked(), "**.222.333/****-**");
    }

    #[test]
    fn rejects_bad_documents_with_the_reason() {
        assert_eq!(
            "529.982.247-26".parse::<Document>(),
            Err(DocumentError::CheckDigit)
        );
        assert_eq!(
            "11.222.333/0001-82".parse::<Document>(),
            Err(DocumentError::CheckDigit)
        );
        assert_eq!(
            "111.111.111-11".parse::<Document>(),
            Err(DocumentError::Repeated)
        );
        assert_eq!("1234".parse::<Document>(), Err(DocumentError::Length(4)));
        assert_eq!(
            "529x982".parse::<Document>(),
            Err(DocumentError::Character('x'))
        );
    }

    proptest! {
        #[test]
        fn every_generated_cpf_validates_and_a_changed_check_digit_does_not(
            base in proptest::array::uniform9(0u8..10), pos in 9usize..11, bump in 1u8..10
        ) {
            let doc = cpf_from_base(base);
            prop_assume!(base.iter().any(|&d| d != base[0]));
            prop_assert_eq!(doc.to_string().parse::<Document>(), Ok(doc));
            let Document::Cpf(mut d) = doc else { unreachable!() };
            d[pos] = (d[pos] + bump) % 10;
            let changed: String = d.iter().map(|d| char::from(b'0' + d)).collect();
            prop_assert!(changed.parse::<Document>().is_err());
        }
    }
}
