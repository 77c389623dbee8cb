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
        let pick = |pt: &'static str, en: &'static str| locale.pick(pt, en);
        let decimal = |x: f64, places: usize| {
            let s = format!("{x:.places$}");
            match locale {
                Locale::PtBr => s.replace('.', ","),
                Locale::En => s,
            }
        };
        let s = &self.settings;
        let t = &self.totals;
        let mut out = String::new();
        let _ = match locale {
            Locale::PtBr => writeln!(
                out,
                "regua simulate — política '{}', {} devedores, {} dias a partir de {}, semente {}",
                s.policy,
                s.debtors,
                s.days,
                locale.date(s.start),
                s.seed
            ),
            Locale::En => writeln!(
                out,
                "regua simulate — policy '{}', {} debtors, {} days from {}, seed {}",
                s.policy,
                s.debtors,
                s.days,
                locale.date(s.start),
                s.seed
            ),
        };
        let _ = writeln!(
            out,
            "{}: {}\n",
            pick("saldo da carteira no início", "portfolio balance at start"),
            money(self.start_balance_minor)
        );
        // Each heading fits its column: the English words, or Portuguese
        // ones cut to the same width.
        let head: [&str; 16] = match locale {
            Locale::PtBr => [
                "dia",
                "lig.",
                "sms",
                "e-mail",
                "whats",
                "carta",
                "negat.",
                "jurid.",
                "amigáv.",
                "firme",
                "jurid.",
                "CPC",
                "feit.",
                "cump.",
                "queb.",
                "recuperado",
            ],
            Locale::En => [
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
                "recovered",
            ],
        };
        let _ = writeln!(
            out,
            "{:<10} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} │ {:>7} {:>6} {:>6} │ {:>6} {:>5} {:>5} {:>5} │ {:>16}",
            head[0],
            head[1],
            head[2],
            head[3],
            head[4],
            head[5],
            head[6],
            head[7],
            head[8],
            head[9],
            head[10],
            head[11],
            head[12],
            head[13],
            head[14],
            head[15],
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
        let _ = writeln!(out, "\n{}", pick("totais", "totals"));
        let _ = writeln!(
            out,
            "  {}:",
            pick(
                "contatos por canal e firmeza",
                "contacts by channel and firmness"
            )
        );
        let (friendly, firm, legal) = match locale {
            Locale::PtBr => ("amigável", "firme", "jurídico"),
            Locale::En => ("friendly", "firm", "legal"),
        };
        for ch in Channel::ALL {
            let row = &t.contacts[ch as usize];
            if row.iter().any(|&n| n > 0) {
                let _ = writeln!(
                    out,
                    "    {:<11} {:>8} ({friendly} {}, {firm} {}, {legal} {})",
                    ch.said(locale),
                    t.by_channel(ch),
                    row[0],
                    row[1],
                    row[2]
                );
            }
        }
        let calls = t.by_channel(Channel::Call).max(1);
        let rpc_share = decimal(100.0 * t.right_party_contacts as f64 / calls as f64, 1);
        let recovered_share = decimal(
            100.0 * t.recovered_minor as f64 / self.start_balance_minor.max(1) as f64,
            1,
        );
        let seconds = decimal(self.seconds, 2);
        let violations = self.violations.len();
        let (rpc, made, kept, broken) = (
            t.right_party_contacts,
            t.promises_made,
            t.promises_kept,
            t.promises_broken,
        );
        let (recovered, payments) = (money(t.recovered_minor), t.payments);
        let (plans, audited) = (t.plans, self.contacts_audited);
        let _ = match locale {
            Locale::PtBr => write!(
                out,
                "  contatos com a pessoa certa: {rpc} ({rpc_share} % das ligações)\n  \
                 promessas: {made} feitas, {kept} cumpridas, {broken} quebradas (as demais seguem em aberto)\n  \
                 recuperado: {recovered} em {payments} pagamentos ({recovered_share} % do saldo inicial)\n  \
                 motor: {plans} planos em {seconds} s\n\n\
                 auditoria de conformidade (verificador independente): {audited} contatos verificados, \
                 {violations} violações\n",
            ),
            Locale::En => write!(
                out,
                "  right-party contacts: {rpc} ({rpc_share} % of calls)\n  \
                 promises: {made} made, {kept} kept, {broken} broken (the rest still open)\n  \
                 recovered: {recovered} in {payments} payments ({recovered_share} % of the starting balance)\n  \
                 engine: {plans} plans in {seconds} s\n\n\
                 compliance audit (independent checker): {audited} contacts checked, {violations} \
                 violations\n",
            ),
        };
        for v in self.violations.iter().take(LISTED_VIOLATIONS) {
            let _ = writeln!(
                out,
                "  {} {} {} {} ({}): {}",
                pick("devedor", "debtor"),
                v.debtor_id,
                pick("em", "at"),
                v.at.format("%Y-%m-%d %H:%M UTC"),
                v.channel.said(locale),
                v.rule
            );
        }
        if violations > LISTED_VIOLATIONS {
            let more = violations - LISTED_VIOLATIONS;
            let _ = match locale {
                Locale::PtBr => writeln!(out, "  … e mais {more}"),
                Locale::En => writeln!(out, "  … and {more} more"),
            };
        }
        out
    }
}
