//! The events of a debtor's history, in the order they happened. Events are
//! appended, never changed: what a debtor's state is now is folded from them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{Channel, Disposition, Firmness, Locale, Money, Reason};

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Event {
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactResult {
    /// Someone answered; `right_party` when it was the debtor, identity
    /// verified: a conversation.
    Connected {
        right_party: bool,
    },
    /// A call placed whose result is not known yet: it counts against the
    /// caps from the moment it is dialed; the outcome gives it its result.
    Dialed,
    NoAnswer,
    Busy,
    Voicemail,
    /// A message reached the debtor's device or mailbox.
    Delivered,
    Failed,
}

impl ContactResult {
    pub fn is_conversation(self) -> bool {
        matches!(self, ContactResult::Connected { right_party: true })
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    Dispute,
    CeaseContact,
    Deceased,
}

impl Flag {
    pub fn name(self) -> &'static str {
        match self {
            Flag::Dispute => "dispute",
            Flag::CeaseContact => "cease_contact",
            Flag::Deceased => "deceased",
        }
    }

    pub fn said(self, locale: Locale) -> &'static str {
        match (locale, self) {
            (Locale::En, _) => self.name(),
            (Locale::PtBr, Flag::Dispute) => "contestação",
            (Locale::PtBr, Flag::CeaseContact) => "pediu para não receber contato",
            (Locale::PtBr, Flag::Deceased) => "óbito informado",
        }
    }

    pub fn from_disposition(d: Disposition) -> Option<Flag> {
        match d {
            Disposition::Dispute => Some(Flag::Dispute),
            Disposition::CeaseContact => Some(Flag::CeaseContact),
            Disposition::Deceased => Some(Flag::Deceased),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Installment {
    pub date: NaiveDate,
    pub amount: Money,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// A call placed or a message sent, and what came of it.
    Contact {
        channel: Channel,
        firmness: Firmness,
        result: ContactResult,
        /// The debtor asked for this contact (a callback they chose): US
        /// Reg F does not count such calls against the frequency caps.
        #[serde(default)]
        requested: bool,
    },
    Outcome {
        disposition: Disposition,
        reason: Option<Reason>,
        note: Option<Box<str>>,
    },
    Promise {
        amount: Money,
        date: NaiveDate,
        grace_days: u16,
        /// A settlement: paying `amount` in time settles the debt, and
        /// what is left of the balance then, up to this, is forgiven (the
        /// policy's discount for paying in full). Boxed: settlements are
        /// few, and every event of every history is as large as its
        /// largest kind (an `Option<Money>` here had made them 64 bytes
        /// from 40, and a pass over histories 20 % slower).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        forgives: Option<Box<Money>>,
    },
    InstallmentPlan {
        installments: Box<[Installment]>,
        grace_days: u16,
    },
    Callback {
        due: DateTime<Utc>,
    },
    Payment {
        amount: Money,
    },
    /// What a kept settlement forgave: taken off the balance, not paid.
    Forgiven {
        amount: Money,
    },
    MessageOpened {
        channel: Channel,
    },
    /// A flag set or cleared by hand (a dispute resolved, say); outcomes
    /// with a flag's disposition set it too.
    Flag {
        flag: Flag,
        set: bool,
    },
    /// A kind this version does not know, written by a newer one (a server
    /// rolled back, a console older than its server): read and passed
    /// over, where refusing it had refused the debtor's whole history.
    #[serde(other)]
    Unknown,
}

/// The flags in force after a history.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Flags {
    pub dispute: bool,
    pub cease_contact: bool,
    pub deceased: bool,
}

impl Flags {
    pub fn fold(history: &[Event]) -> Flags {
        let mut flags = Flags::default();
        for event in history {
            match &event.kind {
                EventKind::Outcome { disposition, .. } => {
                    if let Some(flag) = Flag::from_disposition(*disposition) {
                        flags.set(flag, true);
                    }
                }
                EventKind::Flag { flag, set } => flags.set(*flag, *set),
                _ => {}
            }
        }
        flags
    }

    pub fn set(&mut self, flag: Flag, on: bool) {
        match flag {
            Flag::Dispute => self.dispute = on,
            Flag::CeaseContact => self.cease_contact = on,
            Flag::Deceased => self.deceased = on,
        }
    }

    /// The flag that stops contact, the gravest first.
    pub fn stopping(self) -> Option<Flag> {
        if self.deceased {
            Some(Flag::Deceased)
        } else if self.cease_contact {
            Some(Flag::CeaseContact)
        } else if self.dispute {
            Some(Flag::Dispute)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_of_a_newer_version_is_read_as_unknown_and_the_rest_as_before() {
        let newer = r#"{"at":"2026-03-10T13:00:00Z","kind":"refund","amount":{"minor":500,"currency":"BRL"}}"#;
        let e: Event = serde_json::from_str(newer).unwrap();
        assert_eq!(e.kind, EventKind::Unknown);
        let known = r#"{"at":"2026-03-10T13:00:00Z","kind":"payment","amount":{"minor":500,"currency":"BRL"}}"#;
        let e: Event = serde_json::from_str(known).unwrap();
        assert!(matches!(e.kind, EventKind::Payment { .. }));
        // A known kind with a bad field is still refused, not passed over.
        let bad = r#"{"at":"2026-03-10T13:00:00Z","kind":"payment","amount":"lots"}"#;
        assert!(serde_json::from_str::<Event>(bad).is_err());
    }

    /// The ledger and the plan walk every event of every history: a kind
    /// grown large makes them all larger (a settlement's `Option<Money>`
    /// had taken events from 40 bytes to 64, and a pass over histories
    /// 20 % slower).
    #[test]
    fn events_stay_small() {
        assert!(std::mem::size_of::<Event>() <= 48);
    }
}
