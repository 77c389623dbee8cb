//! What came of a contact, and why the debtor says the debt happened.

use serde::{Deserialize, Serialize};

/// The coded outcome of a contact attempt, as the wire names it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    RightPartyContact,
    PromiseToPay,
    PaymentPlan,
    CallbackRequested,
    NoAnswer,
    LeftMessage,
    WrongNumber,
    Refused,
    Dispute,
    Hardship,
    Deceased,
    CeaseContact,
}

impl Disposition {
    pub const ALL: [Disposition; 12] = [
        Disposition::RightPartyContact,
        Disposition::PromiseToPay,
        Disposition::PaymentPlan,
        Disposition::CallbackRequested,
        Disposition::NoAnswer,
        Disposition::LeftMessage,
        Disposition::WrongNumber,
        Disposition::Refused,
        Disposition::Dispute,
        Disposition::Hardship,
        Disposition::Deceased,
        Disposition::CeaseContact,
    ];

    /// As the wire names it.
    pub fn name(self) -> &'static str {
        match self {
            Disposition::RightPartyContact => "right_party_contact",
            Disposition::PromiseToPay => "promise_to_pay",
            Disposition::PaymentPlan => "payment_plan",
            Disposition::CallbackRequested => "callback_requested",
            Disposition::NoAnswer => "no_answer",
            Disposition::LeftMessage => "left_message",
            Disposition::WrongNumber => "wrong_number",
            Disposition::Refused => "refused",
            Disposition::Dispute => "dispute",
            Disposition::Hardship => "hardship",
            Disposition::Deceased => "deceased",
            Disposition::CeaseContact => "cease_contact",
        }
    }

    /// Whether the agent spoke with the debtor (identity verified): a
    /// conversation, for the quiet period that follows one.
    pub fn is_right_party(self) -> bool {
        !matches!(
            self,
            Disposition::NoAnswer
                | Disposition::LeftMessage
                | Disposition::WrongNumber
                | Disposition::Deceased
        )
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    BillingError,
    JobLoss,
    Illness,
    Forgot,
    DisputesDebt,
    CashFlow,
    Other,
}

impl Reason {
    pub const ALL: [Reason; 7] = [
        Reason::BillingError,
        Reason::JobLoss,
        Reason::Illness,
        Reason::Forgot,
        Reason::DisputesDebt,
        Reason::CashFlow,
        Reason::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Reason::BillingError => "billing_error",
            Reason::JobLoss => "job_loss",
            Reason::Illness => "illness",
            Reason::Forgot => "forgot",
            Reason::DisputesDebt => "disputes_debt",
            Reason::CashFlow => "cash_flow",
            Reason::Other => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_wire_names() {
        for d in Disposition::ALL {
            assert_eq!(serde_json::to_value(d).unwrap(), d.name());
        }
        for r in Reason::ALL {
            assert_eq!(serde_json::to_value(r).unwrap(), r.name());
        }
    }
}
