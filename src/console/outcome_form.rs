//! The record-outcome form: a disposition picked from a list filtered as you
//! type, a reason, a note, and what the disposition needs — a promise, an
//! installment plan or a callback — checked before it leaves the desk.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

use super::scroll::Follow;
use super::words::{self, words};
use crate::api::{OutcomeRequest, PlanRequest, PromiseRequest, ScriptView};
use crate::domain::{Currency, Disposition, Installment, Locale, Money, Reason};
use crate::schedule::offers::{OfferError, Terms};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Field {
    Disposition,
    Reason,
    Amount,
    Date,
    Installments,
    FirstDate,
    CallbackDate,
    CallbackTime,
    Note,
    Submit,
}

impl Field {
    /// As a script reads it from the control socket's state.
    pub fn name(self) -> &'static str {
        match self {
            Field::Disposition => "disposition",
            Field::Reason => "reason",
            Field::Amount => "amount",
            Field::Date => "date",
            Field::Installments => "installments",
            Field::FirstDate => "first_date",
            Field::CallbackDate => "callback_date",
            Field::CallbackTime => "callback_time",
            Field::Note => "note",
            Field::Submit => "submit",
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct OutcomeForm {
    pub field_index: usize,
    /// What the agent typed to narrow the dispositions.
    pub filter: String,
    pub disposition_sel: usize,
    /// Which of the matching dispositions the form has room to show.
    pub dispositions_shown: Follow,
    pub disposition: Option<Disposition>,
    /// 0 is "none", then `Reason::ALL` in order.
    pub reason_sel: usize,
    pub amount: String,
    /// The promise settles the debt, the rest forgiven: toggled by its own
    /// key, not a field Tab visits, so that chains and hands that go
    /// amount, date, note go on as they did.
    pub settles: bool,
    pub date: String,
    pub installments: String,
    pub first_date: String,
    pub callback_date: String,
    pub callback_time: String,
    pub note: String,
    pub error: Option<(Field, String)>,
}

impl OutcomeForm {
    /// Nothing chosen or typed yet: closing it loses nothing.
    pub fn is_blank(&self) -> bool {
        self.disposition.is_none()
            && self.reason_sel == 0
            && !self.settles
            && [
                &self.filter,
                &self.amount,
                &self.date,
                &self.installments,
                &self.first_date,
                &self.callback_date,
                &self.callback_time,
                &self.note,
            ]
            .iter()
            .all(|t| t.trim().is_empty())
    }

    /// The fields this disposition asks for, in the order Tab visits them.
    pub fn fields(&self) -> Vec<Field> {
        let mut f = vec![Field::Disposition, Field::Reason];
        match self.disposition {
            Some(Disposition::PromiseToPay) => f.extend([Field::Amount, Field::Date]),
            Some(Disposition::PaymentPlan) => f.extend([Field::Installments, Field::FirstDate]),
            Some(Disposition::CallbackRequested) => {
                f.extend([Field::CallbackDate, Field::CallbackTime])
            }
            _ => {}
        }
        f.extend([Field::Note, Field::Submit]);
        f
    }

    pub fn field(&self) -> Field {
        let fields = self.fields();
        fields[self.field_index.min(fields.len() - 1)]
    }

    pub fn next_field(&mut self, locale: Locale) {
        self.pick_disposition(locale);
        self.field_index = (self.field_index + 1).min(self.fields().len() - 1);
    }

    pub fn prev_field(&mut self) {
        self.field_index = self.field_index.saturating_sub(1);
    }

    /// The dispositions that match the filter, best first.
    pub fn matches(&self, locale: Locale) -> Vec<Disposition> {
        if self.filter.is_empty() {
            return Disposition::ALL.to_vec();
        }
        let mut matcher = Matcher::new(Config::DEFAULT);
        let pattern = Pattern::parse(&self.filter, CaseMatching::Ignore, Normalization::Smart);
        let mut buf = Vec::new();
        let mut scored: Vec<(u32, usize, Disposition)> = Disposition::ALL
            .iter()
            .enumerate()
            .filter_map(|(i, d)| {
                // Both languages' names and the wire name all find it.
                let text = format!(
                    "{} {} {}",
                    words::disposition(locale, *d),
                    words::disposition(Locale::En, *d),
                    d.name()
                );
                let score = pattern.score(Utf32Str::new(&text, &mut buf), &mut matcher)?;
                Some((score, i, *d))
            })
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.into_iter().map(|(_, _, d)| d).collect()
    }

    fn pick_disposition(&mut self, locale: Locale) {
        if self.field() == Field::Disposition {
            let m = self.matches(locale);
            if let Some(d) = m.get(self.disposition_sel.min(m.len().saturating_sub(1))) {
                self.disposition = Some(*d);
            }
        }
    }

    pub fn move_selection(&mut self, down: bool, locale: Locale) {
        match self.field() {
            Field::Disposition => {
                let n = self.matches(locale).len();
                self.disposition_sel = step(self.disposition_sel, n, down);
                self.disposition = self.matches(locale).get(self.disposition_sel).copied();
            }
            Field::Reason => self.reason_sel = step(self.reason_sel, Reason::ALL.len() + 1, down),
            _ => {}
        }
    }

    pub fn reason(&self) -> Option<Reason> {
        self.reason_sel.checked_sub(1).map(|i| Reason::ALL[i])
    }

    /// A typed character goes into the field under the cursor.
    pub fn type_char(&mut self, c: char, locale: Locale) {
        self.error = None;
        match self.field() {
            Field::Disposition => {
                self.filter.push(c);
                self.disposition_sel = 0;
                self.disposition = self.matches(locale).first().copied();
            }
            Field::Reason | Field::Submit => {}
            field => self.text_mut(field).push(c),
        }
    }

    pub fn backspace(&mut self, locale: Locale) {
        match self.field() {
            Field::Disposition => {
                self.filter.pop();
                self.disposition_sel = 0;
                self.disposition = self.matches(locale).first().copied();
            }
            Field::Reason | Field::Submit => {}
            field => {
                self.text_mut(field).pop();
            }
        }
    }

    /// What was typed into a field that takes text.
    pub fn text(&self, field: Field) -> Option<&str> {
        Some(match field {
            Field::Amount => &self.amount,
            Field::Date => &self.date,
            Field::Installments => &self.installments,
            Field::FirstDate => &self.first_date,
            Field::CallbackDate => &self.callback_date,
            Field::CallbackTime => &self.callback_time,
            Field::Note => &self.note,
            Field::Disposition | Field::Reason | Field::Submit => return None,
        })
    }

    fn text_mut(&mut self, field: Field) -> &mut String {
        match field {
            Field::Amount => &mut self.amount,
            Field::Date => &mut self.date,
            Field::Installments => &mut self.installments,
            Field::FirstDate => &mut self.first_date,
            Field::CallbackDate => &mut self.callback_date,
            Field::CallbackTime => &mut self.callback_time,
            _ => &mut self.note,
        }
    }

    /// The installments the plan fields describe, for the form to show as
    /// they are typed.
    pub fn plan_preview(
        &self,
        terms: &Terms,
        today: NaiveDate,
        locale: Locale,
    ) -> Result<Vec<Installment>, String> {
        let count: u32 = self
            .installments
            .trim()
            .parse()
            .map_err(|_| bad_number(locale))?;
        let first = parse_date(&self.first_date, today, locale)?;
        terms
            .installments(count, first, today)
            .map_err(|e| e.said(locale))
    }

    /// The request to send, or the field that is wrong and why. `terms` are
    /// the policy's offers for this debtor; `window` checks a callback time
    /// in the debtor's zone.
    pub fn request(&self, ctx: &FormContext<'_>) -> Result<OutcomeRequest, (Field, String)> {
        let locale = ctx.locale;
        let disposition = self.disposition.ok_or((
            Field::Disposition,
            words(locale).disposition.to_string() + "?",
        ))?;
        let note = self.note.trim();
        let mut req = OutcomeRequest {
            reason: self.reason(),
            note: (!note.is_empty()).then(|| note.to_string()),
            ..OutcomeRequest::of(disposition)
        };
        // Without the offers (the server is away), the basic checks still
        // hold and the server checks the rest when the outbox delivers it.
        let currency = ctx
            .terms
            .map(|t| t.balance.currency)
            .or(ctx.currency)
            .ok_or_else(|| {
                (
                    Field::Amount,
                    locale
                        .pick(
                            "a moeda da dívida ainda não é conhecida",
                            "the debtor's currency is not known yet",
                        )
                        .to_string(),
                )
            })?;
        let check_date = |date: NaiveDate, field: Field| {
            if date < ctx.today {
                Err((field, OfferError::PastDate.said(locale)))
            } else {
                Ok(date)
            }
        };
        match disposition {
            Disposition::PromiseToPay => {
                let amount =
                    parse_money(&self.amount, currency, locale).map_err(|e| (Field::Amount, e))?;
                let date = parse_date(&self.date, ctx.today, locale)
                    .map_err(|e| (Field::Date, e))
                    .and_then(|d| check_date(d, Field::Date))?;
                if amount.minor <= 0 {
                    return Err((Field::Amount, OfferError::NotPositive.said(locale)));
                }
                if let Some(terms) = ctx.terms {
                    terms
                        .check_promise(amount, date, ctx.today)
                        .map_err(|e| (at_fault(&e, Field::Date, Field::Amount), e.said(locale)))?;
                }
                if let Some(terms) = ctx.terms.filter(|_| self.settles) {
                    terms
                        .settlement(amount)
                        .map_err(|e| (Field::Amount, e.said(locale)))?;
                }
                req.promise = Some(PromiseRequest {
                    amount_minor: amount.minor,
                    due_date: date,
                    settles: self.settles,
                });
            }
            Disposition::PaymentPlan => {
                let count: u32 = self
                    .installments
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| (Field::Installments, bad_number(locale)))?;
                let first = parse_date(&self.first_date, ctx.today, locale)
                    .map_err(|e| (Field::FirstDate, e))
                    .and_then(|d| check_date(d, Field::FirstDate))?;
                if let Some(terms) = ctx.terms {
                    terms.installments(count, first, ctx.today).map_err(|e| {
                        let field = at_fault(&e, Field::FirstDate, Field::Installments);
                        (field, e.said(locale))
                    })?;
                }
                req.plan = Some(PlanRequest {
                    installments: count,
                    first_date: first,
                });
            }
            Disposition::CallbackRequested => {
                let date = parse_date(&self.callback_date, ctx.today, locale)
                    .map_err(|e| (Field::CallbackDate, e))?;
                let typed = self.callback_time.trim();
                let time = NaiveTime::parse_from_str(typed, "%H:%M").map_err(|_| {
                    let said = match locale {
                        Locale::PtBr => format!("{typed:?} não é um horário (HH:MM, ex.: 14:30)"),
                        Locale::En => format!("{typed:?} is not a time (HH:MM, e.g. 14:30)"),
                    };
                    (Field::CallbackTime, said)
                })?;
                let zone = ctx.zone.ok_or_else(|| {
                    (
                        Field::CallbackDate,
                        locale.pick("o fuso horário da pessoa é desconhecido: não dá para marcar a hora", "the debtor's time zone is unknown: a callback time cannot be placed").to_string(),
                    )
                })?;
                let at = zone
                    .from_local_datetime(&date.and_time(time))
                    .earliest()
                    .ok_or_else(|| {
                        (
                            Field::CallbackTime,
                            locale
                                .pick(
                                    "essa hora não existe lá (mudança de horário)",
                                    "that time does not exist there (a clock change)",
                                )
                                .to_string(),
                        )
                    })?
                    .with_timezone(&Utc);
                if at <= ctx.now {
                    return Err((
                        Field::CallbackDate,
                        locale
                            .pick(
                                "o retorno precisa ser depois de agora",
                                "a callback is for later than now",
                            )
                            .to_string(),
                    ));
                }
                if let Some(latest) = ctx.latest_callback
                    && at > latest
                {
                    let until = ctx.zone.map_or(latest.date_naive(), |z| {
                        latest.with_timezone(&z).date_naive()
                    });
                    let until = locale.date(until);
                    return Err((
                        Field::CallbackDate,
                        match locale {
                            Locale::PtBr => format!("o retorno vai no máximo até {until}"),
                            Locale::En => format!("a callback can be set until {until} at most"),
                        },
                    ));
                }
                if let Some(check) = ctx.window
                    && let Err(why) = check(at)
                {
                    return Err((Field::CallbackTime, why));
                }
                req.callback_at = Some(at);
            }
            _ => {}
        }
        Ok(req)
    }
}

/// What a form needs to know of the world to check itself.
pub struct FormContext<'a> {
    pub locale: Locale,
    pub today: NaiveDate,
    pub now: DateTime<Utc>,
    pub zone: Option<Tz>,
    pub terms: Option<&'a Terms>,
    /// The debtor's currency, for when the offers have not arrived.
    pub currency: Option<Currency>,
    /// Whether the debtor may be called at a time, and why not.
    pub window: Option<&'a dyn Fn(DateTime<Utc>) -> Result<(), String>>,
    /// The latest a callback may be set for, as the server's policy says.
    pub latest_callback: Option<DateTime<Utc>>,
}

/// The policy's offers as the engine's terms, to check a promise or a
/// plan before it is sent.
pub fn terms_of(script: &ScriptView) -> Option<Terms> {
    let o = script.offers.as_ref()?;
    let c = Currency::read(&o.currency).ok()?;
    Some(Terms {
        balance: Money::new(o.balance_minor, c),
        max_discount: Money::new(o.max_discount_minor, c),
        pay_in_full: Money::new(o.pay_in_full_minor, c),
        max_installments: o.max_installments,
        min_installment: Money::new(o.min_installment_minor, c),
        latest_promise_date: o.latest_promise_date,
    })
}

/// The field an offer's refusal is about: its date, or else its amount
/// (or count).
fn at_fault(e: &OfferError, date: Field, other: Field) -> Field {
    match e {
        OfferError::PastDate | OfferError::TooLate(_) => date,
        _ => other,
    }
}

fn step(sel: usize, n: usize, down: bool) -> usize {
    match (n, down) {
        (0, _) => 0,
        (_, true) => (sel + 1).min(n - 1),
        (_, false) => sel.saturating_sub(1),
    }
}

fn bad_number(locale: Locale) -> String {
    match locale {
        Locale::PtBr => "um número inteiro".into(),
        Locale::En => "a whole number".into(),
    }
}

/// `150`, `150,00` or `1.234,56` in pt-BR; `150.00` or `1,234.56` in en.
pub fn parse_money(text: &str, currency: Currency, locale: Locale) -> Result<Money, String> {
    let t = text.trim().trim_start_matches("R$").trim();
    // The locale's thousands separator groups three digits, or it is a
    // decimal point typed the other way: "10.50" had been R$ 1.050,00.
    let (thousands, decimal) = match locale {
        Locale::PtBr => ('.', ','),
        Locale::En => (',', '.'),
    };
    let not_an_amount = || match locale {
        Locale::PtBr => format!("{text:?} não é um valor (ex.: 150,00)"),
        Locale::En => format!("{text:?} is not an amount (e.g. 150.00)"),
    };
    let (whole, cents) = t.split_once(decimal).unwrap_or((t, ""));
    // Nothing but digits after the decimal mark: "10,5.0" had been R$ 10,50.
    if cents.contains([thousands, decimal]) {
        return Err(not_an_amount());
    }
    let mut groups = whole.split(thousands);
    let first = groups.next().unwrap_or_default();
    let rest: Vec<&str> = groups.collect();
    if !rest.is_empty() && rest.iter().all(|g| g.len() == 3) && (1..=3).contains(&first.len()) {
        // Grouped as it should be.
    } else if !rest.is_empty() {
        // One group of two after the mark reads as cents typed the other
        // way ("10.50" had been R$ 1.050,00); other shapes are mistyped
        // thousands.
        let cents_other_way =
            rest.len() == 1 && (1..=2).contains(&rest[0].len()) && cents.is_empty();
        return Err(match (locale, cents_other_way) {
            (Locale::PtBr, true) => {
                format!("{text:?}: centavos vão depois da vírgula (ex.: 10,50)")
            }
            (Locale::En, true) => format!("{text:?}: cents go after the point (e.g. 10.50)"),
            (Locale::PtBr, false) => {
                format!("{text:?}: os milhares vão de três em três dígitos (ex.: 1.234,56)")
            }
            (Locale::En, false) => format!("{text:?}: thousands go in threes (e.g. 1,234.56)"),
        });
    }
    let normal = match locale {
        Locale::PtBr => t.replace('.', "").replace(',', "."),
        Locale::En => t.replace(',', ""),
    };
    Money::parse(&normal, currency).map_err(|_| not_an_amount())
}

/// A date as the locale writes it, either form, or `+N` days from today.
pub fn parse_date(text: &str, today: NaiveDate, locale: Locale) -> Result<NaiveDate, String> {
    let t = text.trim();
    if let Some(n) = t.strip_prefix('+').and_then(|n| n.parse::<u64>().ok()) {
        return today
            .checked_add_days(Days::new(n))
            .ok_or_else(|| locale.pick("longe demais", "too far").to_string());
    }
    // 12/03/26, as Brazilians write it short, is 2026 (not the year 26,
    // which had been said to be past).
    let full;
    let t = match t.rsplit_once('/') {
        Some((day_month, yy)) if yy.len() == 2 && yy.bytes().all(|b| b.is_ascii_digit()) => {
            full = format!("{day_month}/20{yy}");
            full.as_str()
        }
        _ => t,
    };
    NaiveDate::parse_from_str(t, "%d/%m/%Y")
        .or_else(|_| NaiveDate::parse_from_str(t, "%Y-%m-%d"))
        .map_err(|_| match locale {
            Locale::PtBr => format!("{t:?} não é uma data (dd/mm/aaaa ou +N dias)"),
            Locale::En => format!("{t:?} is not a date (yyyy-mm-dd or +N days)"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brl(minor: i64) -> Money {
        Money::new(minor, Currency::new("BRL").unwrap())
    }

    fn terms() -> Terms {
        Terms {
            balance: brl(120_000),
            max_discount: brl(20_000),
            pay_in_full: brl(100_000),
            max_installments: 6,
            min_installment: brl(5_000),
            latest_promise_date: NaiveDate::from_ymd_opt(2026, 3, 25).unwrap(),
        }
    }

    fn ctx<'a>(t: &'a Terms) -> FormContext<'a> {
        FormContext {
            locale: Locale::PtBr,
            today: NaiveDate::from_ymd_opt(2026, 3, 10).unwrap(),
            now: Utc.with_ymd_and_hms(2026, 3, 10, 13, 0, 0).unwrap(),
            zone: Some(chrono_tz::America::Sao_Paulo),
            terms: Some(t),
            currency: None,
            window: None,
            latest_callback: Some(Utc.with_ymd_and_hms(2026, 4, 9, 13, 0, 0).unwrap()),
        }
    }

    fn typed(form: &mut OutcomeForm, text: &str) {
        for c in text.chars() {
            form.type_char(c, Locale::PtBr);
        }
    }

    #[test]
    fn typing_filters_dispositions_in_either_language() {
        let mut f = OutcomeForm::default();
        typed(&mut f, "promessa");
        assert_eq!(f.disposition, Some(Disposition::PromiseToPay));
        let mut f = OutcomeForm::default();
        typed(&mut f, "no answ");
        assert_eq!(f.matches(Locale::PtBr)[0], Disposition::NoAnswer);
        let mut f = OutcomeForm::default();
        typed(&mut f, "zzzz");
        assert!(f.matches(Locale::PtBr).is_empty());
        assert_eq!(f.disposition, None);
    }

    #[test]
    fn a_promise_shows_its_fields_and_is_checked_against_the_offers() {
        let t = terms();
        let mut f = OutcomeForm::default();
        typed(&mut f, "promessa");
        assert_eq!(
            f.fields(),
            vec![
                Field::Disposition,
                Field::Reason,
                Field::Amount,
                Field::Date,
                Field::Note,
                Field::Submit
            ]
        );
        f.amount = "1.500,00".into();
        f.date = "20/03/2026".into();
        let e = f.request(&ctx(&t)).unwrap_err();
        assert_eq!(e.0, Field::Amount, "{e:?}");
        f.amount = "300,50".into();
        f.date = "+30".into();
        let e = f.request(&ctx(&t)).unwrap_err();
        assert_eq!(e.0, Field::Date, "{e:?}");
        f.date = "20/03/2026".into();
        let req = f.request(&ctx(&t)).unwrap();
        let p = req.promise.unwrap();
        assert_eq!(
            (p.amount_minor, p.due_date.to_string()),
            (30_050, "2026-03-20".into())
        );
    }

    #[test]
    fn without_the_offers_the_basic_checks_still_hold() {
        let t = terms();
        let mut c = ctx(&t);
        c.terms = None;
        c.currency = Some(Currency::new("BRL").unwrap());
        let mut f = OutcomeForm::default();
        typed(&mut f, "promessa");
        f.amount = "9.999,00".into();
        f.date = "+60".into();
        let req = f.request(&c).unwrap();
        assert_eq!(req.promise.unwrap().amount_minor, 999_900);
        f.date = "01/03/2026".into();
        assert_eq!(f.request(&c).unwrap_err().0, Field::Date);
        f.date = "+1".into();
        f.amount = "0".into();
        assert_eq!(f.request(&c).unwrap_err().0, Field::Amount);
    }

    #[test]
    fn a_plan_computes_its_installments() {
        let t = terms();
        let mut f = OutcomeForm::default();
        typed(&mut f, "parcel");
        assert_eq!(f.disposition, Some(Disposition::PaymentPlan));
        f.installments = "3".into();
        f.first_date = "15/03/2026".into();
        let today = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
        let plan = f.plan_preview(&t, today, Locale::PtBr).unwrap();
        assert_eq!(plan.len(), 3);
        assert_eq!(plan[2].date.to_string(), "2026-05-15");
        f.installments = "30".into();
        assert_eq!(f.request(&ctx(&t)).unwrap_err().0, Field::Installments);
        // A first date past what the policy allows is the date's fault.
        f.installments = "3".into();
        f.first_date = "+30".into();
        let e = f.request(&ctx(&t)).unwrap_err();
        assert_eq!(e.0, Field::FirstDate, "{e:?}");
    }

    #[test]
    fn a_callback_is_placed_in_the_debtors_zone_and_checked_against_the_window() {
        let t = terms();
        let mut f = OutcomeForm::default();
        typed(&mut f, "retorno");
        assert_eq!(f.disposition, Some(Disposition::CallbackRequested));
        f.callback_date = "11/03/2026".into();
        f.callback_time = "21:30".into();
        let closed = |at: DateTime<Utc>| {
            use chrono::Timelike;
            if at.with_timezone(&chrono_tz::America::Sao_Paulo).hour() >= 20 {
                Err("São Paulo: calls 08:00–20:00".to_string())
            } else {
                Ok(())
            }
        };
        let mut c = ctx(&t);
        c.window = Some(&closed);
        let e = f.request(&c).unwrap_err();
        assert_eq!(e.0, Field::CallbackTime);
        assert!(e.1.contains("08:00–20:00"));
        f.callback_time = "10:15".into();
        let at = f.request(&c).unwrap().callback_at.unwrap();
        assert_eq!(at, Utc.with_ymd_and_hms(2026, 3, 11, 13, 15, 0).unwrap());
        f.callback_time = "25:00".into();
        assert_eq!(f.request(&c).unwrap_err().0, Field::CallbackTime);
        // A year typed wrong is caught before it leaves the desk.
        f.callback_time = "10:15".into();
        f.callback_date = "11/03/2027".into();
        let e = f.request(&c).unwrap_err();
        assert_eq!(
            e,
            (
                Field::CallbackDate,
                "o retorno vai no máximo até 09/04/2026".into()
            )
        );
        // Said in the agent's language.
        f.callback_date = "09/03/2026".into();
        f.callback_time = "10:00".into();
        assert_eq!(
            f.request(&c).unwrap_err(),
            (
                Field::CallbackDate,
                "o retorno precisa ser depois de agora".to_string()
            )
        );
        c.zone = None;
        assert!(f.request(&c).unwrap_err().1.starts_with("o fuso horário"));
    }

    #[test]
    fn money_and_dates_by_locale() {
        let cur = Currency::new("BRL").unwrap();
        assert_eq!(
            parse_money("R$ 1.234,56", cur, Locale::PtBr).unwrap().minor,
            123_456
        );
        assert_eq!(
            parse_money("1,234.56", cur, Locale::En).unwrap().minor,
            123_456
        );
        assert!(parse_money("abc", cur, Locale::En).is_err());
        // A decimal point typed the other way is refused, not read as
        // thousands.
        for (typed, locale) in [
            ("10.50", Locale::PtBr),
            ("1050.5", Locale::PtBr),
            ("1.05", Locale::PtBr),
            ("10,50", Locale::En),
            ("1,05", Locale::En),
        ] {
            let e = parse_money(typed, cur, locale).unwrap_err();
            assert!(e.contains("10,50") || e.contains("10.50"), "{typed}: {e}");
        }
        // Thousands grouped wrong are said as such; stray marks after the
        // cents are no amount ("10,5.0" had been R$ 10,50).
        for (typed, locale, says) in [
            ("12.3456,00", Locale::PtBr, "três em três"),
            ("1.2345,00", Locale::PtBr, "três em três"),
            ("10,5.0", Locale::PtBr, "não é um valor"),
            ("10,.5", Locale::PtBr, "não é um valor"),
            ("1.000,5.5", Locale::PtBr, "não é um valor"),
            ("10.5,0", Locale::En, "is not an amount"),
        ] {
            let e = parse_money(typed, cur, locale).unwrap_err();
            assert!(e.contains(says), "{typed}: {e}");
        }
        for (typed, locale, minor) in [
            ("1.050", Locale::PtBr, 105_000),
            ("12.345.678,9", Locale::PtBr, 1_234_567_890),
            ("10,50", Locale::PtBr, 1_050),
            ("1050", Locale::PtBr, 105_000),
            ("1,050", Locale::En, 105_000),
            ("10.50", Locale::En, 1_050),
        ] {
            assert_eq!(
                parse_money(typed, cur, locale).unwrap().minor,
                minor,
                "{typed}"
            );
        }
        let today = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
        assert_eq!(
            parse_date("12/03/26", today, Locale::PtBr)
                .unwrap()
                .to_string(),
            "2026-03-12"
        );
        assert_eq!(
            parse_date("+5", today, Locale::En).unwrap().to_string(),
            "2026-03-15"
        );
        assert_eq!(
            parse_date("2026-04-01", today, Locale::PtBr)
                .unwrap()
                .to_string(),
            "2026-04-01"
        );
        assert!(parse_date("31/02/2026", today, Locale::PtBr).is_err());
    }
}
