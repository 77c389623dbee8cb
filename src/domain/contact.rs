//! How a debtor is reached, and how firmly.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Call,
    Sms,
    Email,
    Whatsapp,
    Letter,
    Bureau,
    Legal,
}

impl Channel {
    pub const ALL: [Channel; 7] = [
        Channel::Call,
        Channel::Sms,
        Channel::Email,
        Channel::Whatsapp,
        Channel::Letter,
        Channel::Bureau,
        Channel::Legal,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Channel::Call => "call",
            Channel::Sms => "sms",
            Channel::Email => "email",
            Channel::Whatsapp => "whatsapp",
            Channel::Letter => "letter",
            Channel::Bureau => "bureau",
            Channel::Legal => "legal",
        }
    }

    /// Channels that ring or buzz the debtor's phone, and so keep to the
    /// call window of their jurisdiction.
    pub fn reaches_phone(self) -> bool {
        matches!(self, Channel::Call | Channel::Sms | Channel::Whatsapp)
    }

    /// Channels that need a phone number the debtor agreed to be reached on.
    pub fn needs_phone_consent(self) -> bool {
        self.reaches_phone()
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Ordered: a rule that pauses `firm` steps pauses `legal` ones too.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Firmness {
    Friendly,
    Firm,
    Legal,
}

impl Firmness {
    pub const ALL: [Firmness; 3] = [Firmness::Friendly, Firmness::Firm, Firmness::Legal];

    pub fn name(self) -> &'static str {
        match self {
            Firmness::Friendly => "friendly",
            Firmness::Firm => "firm",
            Firmness::Legal => "legal",
        }
    }
}

impl fmt::Display for Firmness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
