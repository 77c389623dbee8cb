//! How a debtor is reached, and how firmly.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::Locale;

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

    /// As a sentence names it: the machine name in English, a word in
    /// Portuguese.
    pub fn said(self, locale: Locale) -> &'static str {
        match locale {
            Locale::En => self.name(),
            Locale::PtBr => match self {
                Channel::Call => "ligação",
                Channel::Sms => "SMS",
                Channel::Email => "e-mail",
                Channel::Whatsapp => "WhatsApp",
                Channel::Letter => "carta",
                Channel::Bureau => "negativação",
                Channel::Legal => "jurídico",
            },
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

    pub fn said(self, locale: Locale) -> &'static str {
        match (locale, self) {
            (Locale::En, _) => self.name(),
            (Locale::PtBr, Firmness::Friendly) => "amigável",
            (Locale::PtBr, Firmness::Firm) => "firme",
            (Locale::PtBr, Firmness::Legal) => "jurídico",
        }
    }
}

impl fmt::Display for Firmness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
