//! The simulator's figures, per day and in total, as text or JSON.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Value, json};
use std::fmt::Write;

use super::audit::Violation;
use crate::domain::{Channel, Currency, Firmness, Locale, Money};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    /// Contacts by channel and firmness.
    pub contacts: [[u64; Firmness::ALL.len()]; Channel::ALL.len()],
    pub right_party_contacts: u64,
    pub promises_made: u64,
    pub promises_kept: u64,
    pub promises_broken: u64,
    pub payments: u64,
    pub recovered_minor: i64,
    /// Times the engine planned a debtor (a measure of the work done).
    pub plans: u64,
}

impl Figures {
    pub fn count_contact(&mut self, channel: Channel, firmness: Firmness) {
        self.contacts[channel as usize][firmness as usize] += 1;
    }

    pub fn add(&mut self, o: &Figures) {
        for (row, orow) in self.contacts.iter_mut().zip(&o.contacts) {
            for (c, oc) in row.iter_mut().zip(orow) {
                *c += oc;
            }
        }
        self.right_party_contacts += o.right_party_contacts;
        self.promises_made += o.promises_made;
        self.promises_kept += o.promises_kept;
        self.promises_broken += o.promises_broken;
        self.payments += o.payments;
        self.recovered_minor += o.recovered_minor;
        self.plans += o.plans;
    }

    pub fn by_channel(&self, channel: Channel) -> u64 {
        self.contacts[channel as usize].iter().sum()
    }

    pub fn by_firmness(&self, firmness: Firmness) -> u64 {
        self.contacts.iter().map(|row| row[firmness as usize]).sum()
    }

    fn to_json(&self, currency: Currency) -> Value {
        let by_channel: serde_json::Map<String, Value> = Channel::ALL
            .iter()
            .map(|&ch| {
                let row: serde_json::Map<String, Value> = Firmness::ALL
                    .iter()
                    .map(|&f| {
                        (
                            f.name().to_string(),
                            json!(self.contacts[ch as usize][f as usize]),
                        )
                    })
                    .collect();
                (ch.name().to_string(), Value::Object(row))
            })
            .collect();
        let by_firmness: serde_json::Map<String, Value> = Firmness::ALL
            .iter()
            .map(|&f| (f.name().to_string(), json!(self.by_firmness(f))))
            .collect();
        json!({
            "contacts": by_channel,
            "contacts_by_firmness": by_firmness,
            "right_party_contacts": self.right_party_contacts,
            "promises_made": self.promises_made,
            "promises_kept": self.promises_kept,
            "promises_broken": self.promises_broken,
            "payments": self.payments,
            "recovered_minor": self.recovered_minor,
            "currency": currency.code(),
            "plans": self.plans,
        })
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Settings {
    pub policy: String,
    pub debtors: usize,
    pub days: u32,
    pub seed: u64,
    pub start: NaiveDate,
}

#[derive(Clone, Debug)]
pub struct Report {
    pub settings: Settings,
    pub currency: Currency,
    pub days: Vec<(NaiveDate, Figures)>,
    pub totals: Figures,
    pub start_balance_minor: i64,
    pub contacts_audited: u64,
    /// Every violation found, in debtor and time order.
    pub violations: Vec<Violation>,
    pub seconds: f64,
}

/// How many violations the text report lists before "and N more".
pub const LISTED_VIOLATIONS: usize = 10;

impl Report {
    pub fn to_json(&self) -> Value {
        let days: Vec<Value> = self
            .days
            .iter()
            .map(|(date, f)| {
                let mut v = f.to_json(self.currency);
                v["date"] = json!(date);
                v
            })
            .collect();
        json!({
            "settings": self.settings,
            "start_balance_minor": self.start_balance_minor,
            "days": days,
            "totals": self.totals.to_json(self.currency),
            "audit": { "contacts_checked": self.contacts_audited, "violations": self.violations.len() },
            "violations": self.violations,
            "seconds": self.seconds,
        })
    }

    pub fn to_text(&self, locale: Locale) -> String {
        let money = |minor| Money::new(minor, self.currency).display(locale).to_string();
        let s = &self.settings;
        let t = &self.totals;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "regua simulate — policy '{}', {} debtors, {} days from {}, seed {}",
            s.policy,
            s.debtors,
            s.days,
            locale.date(s.start),
            s.seed
        );
        let _ = writeln!(
            out,
            "portfolio balance at start: {}\n",
            money(self.start_balance_minor)
        );
        let _ = writeln!(
            out,
            "{:<10} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} │ {:>7} {:>6} {:>6} │ {:>6} {:>5} {:>5} {:>5} │ {:>16}",
            "day",
            "call",
            "sms",
            "email",
            "whats",
            "letter",
            "bureau",
            "legal",
            "friendly",
            "firm",
            "legal",
            "RPC",
            "made",
            "kept",
            "broke",
            "recovered"
        );
        for (date, f) in &self.days {
            let _ = writeln!(
                out,
                "{:<10} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} │ {:>7} {:>6} {:>6} │ {:>6} {:>5} {:>5} {:>5} │ {:>16}",
                locale.date(*date).to_string(),
                f.by_channel(Channel::Call),
                f.by_channel(Channel::Sms),
                f.by_channel(Channel::Email),
                f.by_channel(Channel::Whatsapp),
                f.by_channel(Channel::Letter),
                f.by_channel(Channel::Bureau),
                f.by_channel(Channel::Legal),
                f.by_firmness(Firmness::Friendly),
                f.by_firmness(Firmness::Firm),
                f.by_firmness(Firmness::Legal),
                f.right_party_contacts,
                f.promises_made,
                f.promises_kept,
                f.promises_broken,
                money(f.recovered_minor),
            );
        }
        let _ = writeln!(out, "\ntotals");
        let _ = writeln!(out, "  contacts by channel and firmness:");
        for ch in Channel::ALL {
            let row = &t.contacts[ch as usize];
            if row.iter().any(|&n| n > 0) {
                let _ = writeln!(
                    out,
                    "    {:<9} {:>8} (friendly {}, firm {}, legal {})",
                    ch.name(),
                    t.by_channel(ch),
                    row[0],
                    row[1],
                    row[2]
                );
            }
        }
        let calls = t.by_channel(Channel::Call).max(1);
        let _ = writeln!(
            out,
            "  right-party contacts: {} ({:.1} % of calls)",
            t.right_party_contacts,
            100.0 * t.right_party_contacts as f64 / calls as f64
        );
        let _ = writeln!(
            out,
            "  promises: {} made, {} kept, {} broken (the rest still open)",
            t.promises_made, t.promises_kept, t.promises_broken
        );
        let recovered_share =
            100.0 * t.recovered_minor as f64 / self.start_balance_minor.max(1) as f64;
        let _ = writeln!(
            out,
            "  recovered: {} in {} payments ({:.1} % of the starting balance)",
            money(t.recovered_minor),
            t.payments,
            recovered_share
        );
        let _ = writeln!(out, "  engine: {} plans in {:.2} s", t.plans, self.seconds);
        let _ = writeln!(
            out,
            "\ncompliance audit (independent checker): {} contacts checked, {} violations",
            self.contacts_audited,
            self.violations.len()
        );
        for v in self.violations.iter().take(LISTED_VIOLATIONS) {
            let _ = writeln!(
                out,
                "  debtor {} at {} ({}): {}",
                v.debtor_id,
                v.at.format("%Y-%m-%d %H:%M UTC"),
                v.channel,
                v.rule
            );
        }
        if self.violations.len() > LISTED_VIOLATIONS {
            let _ = writeln!(
                out,
                "  … and {} more",
                self.violations.len() - LISTED_VIOLATIONS
            );
        }
        out
    }
}
