//! What an agent may offer on the call, from the policy: a discount for
//! payment in full, installments within limits, a promise date not too far.

use chrono::{Days, Months, NaiveDate};

use super::policy::Policy;
use crate::domain::{Debtor, Installment, Locale, Money, MoneyError};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Terms {
    pub balance: Money,
    /// The most that may be forgiven for paying everything now.
    pub max_discount: Money,
    pub pay_in_full: Money,
    pub max_installments: u32,
    pub min_installment: Money,
    pub latest_promise_date: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OfferError {
    #[error("nothing is owed")]
    NothingOwed,
    #[error(transparent)]
    Money(#[from] MoneyError),
    #[error("the amount must be more than zero")]
    NotPositive,
    #[error("the amount is more than the balance ({})", .0.display(Locale::En))]
    OverBalance(Money),
    #[error("the date is in the past")]
    PastDate,
    #[error("the date is after {0}, the latest the policy allows")]
    TooLate(NaiveDate),
    #[error("a plan needs at least one installment")]
    NoInstallments,
    #[error("at most {0} installments")]
    TooManyInstallments(u32),
    #[error("each installment would be {}, under the minimum of {}", .0.display(Locale::En), .1.display(Locale::En))]
    InstallmentTooSmall(Money, Money),
    #[error("a settlement is at least {} (the most the policy forgives is {})", .0.display(Locale::En), .1.display(Locale::En))]
    DiscountTooLarge(Money, Money),
}

impl OfferError {
    /// The mistake in the agent's language (`Display` is English).
    pub fn said(&self, locale: Locale) -> String {
        if locale == Locale::En {
            return self.to_string();
        }
        match self {
            OfferError::NothingOwed => "não há saldo em aberto".into(),
            OfferError::Money(e) => e.said(locale),
            OfferError::NotPositive => "o valor precisa ser maior que zero".into(),
            OfferError::OverBalance(b) => {
                format!("o valor é maior que o saldo ({})", b.display(locale))
            }
            OfferError::PastDate => "a data já passou".into(),
            OfferError::TooLate(d) => {
                format!("a data passa de {}, o limite da política", locale.date(*d))
            }
            OfferError::NoInstallments => "um acordo precisa de ao menos uma parcela".into(),
            OfferError::TooManyInstallments(n) => format!("no máximo {n} parcelas"),
            OfferError::DiscountTooLarge(least, most) => format!(
                "a quitação é de no mínimo {} (o desconto vai até {})",
                least.display(locale),
                most.display(locale)
            ),
            OfferError::InstallmentTooSmall(each, min) => format!(
                "cada parcela seria {}, abaixo do mínimo de {}",
                each.display(locale),
                min.display(locale)
            ),
        }
    }
}

/// The terms for this debtor today. Interest and fees in another currency
/// than the balance earn no discount.
pub fn terms(debtor: &Debtor, policy: &Policy, today: NaiveDate) -> Result<Terms, OfferError> {
    let balance = debtor
        .balance()?
        .filter(|b| b.is_positive())
        .ok_or(OfferError::NothingOwed)?;
    let mut forgivable = Money::zero(balance.currency);
    for debt in debtor.debts.iter().filter(|d| d.balance.is_positive()) {
        if debt.interest_and_fees.currency == balance.currency {
            forgivable.minor += debt.interest_and_fees.minor.clamp(0, debt.balance.minor);
        }
    }
    let pay_in_full = balance.less_percent_of(forgivable, policy.offers.max_discount_percent)?;
    let min_installment = std::iter::once(&policy.offers.min_installment)
        .chain(&policy.offers.min_installment_in)
        .find(|m| m.currency == balance.currency)
        .copied()
        .unwrap_or(Money::zero(balance.currency));
    Ok(Terms {
        balance,
        max_discount: balance.checked_sub(pay_in_full)?,
        pay_in_full,
        max_installments: policy.offers.max_installments,
        min_installment,
        latest_promise_date: today + Days::new(policy.offers.max_promise_days as u64),
    })
}

impl Terms {
    /// A promise of `amount` by `date`, checked against the policy.
    pub fn check_promise(
        &self,
        amount: Money,
        date: NaiveDate,
        today: NaiveDate,
    ) -> Result<(), OfferError> {
        if amount.minor <= 0 {
            return Err(OfferError::NotPositive);
        }
        if amount.checked_sub(self.balance)?.is_positive() {
            return Err(OfferError::OverBalance(self.balance));
        }
        if date < today {
            return Err(OfferError::PastDate);
        }
        if date > self.latest_promise_date {
            return Err(OfferError::TooLate(self.latest_promise_date));
        }
        Ok(())
    }

    /// What a settlement of `amount` (a promise that settles the debt if
    /// kept) forgives: the rest of the balance, within the policy's
    /// discount. None when it is the whole balance.
    pub fn settlement(&self, amount: Money) -> Result<Option<Money>, OfferError> {
        if amount.checked_sub(self.pay_in_full)?.minor < 0 {
            return Err(OfferError::DiscountTooLarge(
                self.pay_in_full,
                self.max_discount,
            ));
        }
        let forgives = self.balance.checked_sub(amount)?;
        Ok(forgives.is_positive().then_some(forgives))
    }

    /// `count` monthly installments of the balance from `first`, in equal
    /// parts with the cents left over on the first.
    pub fn installments(
        &self,
        count: u32,
        first: NaiveDate,
        today: NaiveDate,
    ) -> Result<Vec<Installment>, OfferError> {
        if count == 0 {
            return Err(OfferError::NoInstallments);
        }
        if count > self.max_installments {
            return Err(OfferError::TooManyInstallments(self.max_installments));
        }
        if first < today {
            return Err(OfferError::PastDate);
        }
        if first > self.latest_promise_date {
            return Err(OfferError::TooLate(self.latest_promise_date));
        }
        let total = self.balance.minor;
        let each = total / count as i64;
        let rest = total - each * count as i64;
        if each < self.min_installment.minor {
            return Err(OfferError::InstallmentTooSmall(
                Money::new(each, self.balance.currency),
                self.min_installment,
            ));
        }
        Ok((0..count)
            .map(|i| Installment {
                date: first.checked_add_months(Months::new(i)).unwrap_or(first),
                amount: Money::new(
                    if i == 0 { each + rest } else { each },
                    self.balance.currency,
                ),
            })
            .collect())
    }
}
