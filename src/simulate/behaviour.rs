//! How simulated debtors behave. Simple on purpose, and every number is
//! here, so a reader can argue with it:
//!
//! - A call is answered with a chance that depends on the debtor's local
//!   hour (more at lunch and after work); an answered call reaches the
//!   debtor themself 75 % of the time; 1 % of other answers report the
//!   debtor deceased.
//! - Reached, the debtor says why they owe (their hidden reason) and the call
//!   ends by that reason: who forgot promises to pay, who lost a job asks for
//!   installments or a callback, who disputes the debt opens a dispute, ...
//!   (`disposition_weights`); 0.5 % of conversations end in a request to
//!   stop contact.
//! - A promise is kept with a chance by reason (`keeps`), paid on a day
//!   before its date; each installment of a plan is kept with that chance
//!   plus 10 points, and the first one missed ends the payments.
//! - Messages are delivered 95 % of the time; e-mails and WhatsApp messages
//!   are opened 30 % of the time, within a day; 1 % of delivered messages
//!   (4 % for who forgot) bring a payment in full within five days; a
//!   credit-bureau listing does so 3 % of the time, a legal referral 5 %.

use rand::{Rng, RngExt};

use crate::domain::{Disposition, Reason};

/// The chance a call at this local hour is answered.
pub fn answer_rate(local_hour: u32) -> f64 {
    match local_hour {
        8 => 0.20,
        9..=11 => 0.28,
        12..=13 => 0.35,
        14..=17 => 0.25,
        18..=19 => 0.38,
        20 => 0.30,
        _ => 0.15,
    }
}

pub const RIGHT_PARTY: f64 = 0.75;
pub const DECEASED_REPORT: f64 = 0.01;
pub const CEASE_REQUEST: f64 = 0.005;
pub const DELIVERED: f64 = 0.95;
pub const OPENED: f64 = 0.30;

pub fn pays_after_message(reason: Reason) -> f64 {
    if reason == Reason::Forgot { 0.04 } else { 0.01 }
}

pub const PAYS_AFTER_BUREAU: f64 = 0.03;
pub const PAYS_AFTER_LEGAL: f64 = 0.05;

/// The chance a promise is kept, by the debtor's reason.
pub fn keeps(reason: Reason) -> f64 {
    match reason {
        Reason::Forgot => 0.85,
        Reason::CashFlow => 0.60,
        Reason::Other => 0.55,
        Reason::BillingError => 0.50,
        Reason::Illness => 0.45,
        Reason::JobLoss => 0.40,
        Reason::DisputesDebt => 0.20,
    }
}

/// How a conversation ends, by reason: (disposition, weight in percent).
fn disposition_weights(reason: Reason) -> &'static [(Disposition, u32)] {
    use Disposition::*;
    match reason {
        Reason::Forgot => &[(PromiseToPay, 85), (RightPartyContact, 15)],
        Reason::CashFlow => &[
            (PromiseToPay, 50),
            (PaymentPlan, 25),
            (CallbackRequested, 10),
            (Refused, 15),
        ],
        Reason::JobLoss => &[
            (PaymentPlan, 40),
            (PromiseToPay, 20),
            (CallbackRequested, 20),
            (Hardship, 20),
        ],
        Reason::Illness => &[
            (PaymentPlan, 35),
            (PromiseToPay, 25),
            (CallbackRequested, 25),
            (Hardship, 15),
        ],
        Reason::BillingError => &[(Dispute, 50), (PromiseToPay, 30), (RightPartyContact, 20)],
        Reason::DisputesDebt => &[(Dispute, 60), (Refused, 25), (RightPartyContact, 15)],
        Reason::Other => &[
            (PromiseToPay, 40),
            (PaymentPlan, 10),
            (CallbackRequested, 20),
            (RightPartyContact, 30),
        ],
    }
}

pub fn conversation_outcome(rng: &mut impl Rng, reason: Reason) -> Disposition {
    if rng.random_bool(CEASE_REQUEST) {
        return Disposition::CeaseContact;
    }
    let weights = disposition_weights(reason);
    let total: u32 = weights.iter().map(|(_, w)| w).sum();
    let mut n = rng.random_range(0..total);
    for &(d, w) in weights {
        if n < w {
            return d;
        }
        n -= w;
    }
    weights[0].0
}
