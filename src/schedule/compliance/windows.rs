//! Call windows: the hours a debtor may be called (or messaged on their
//! phone), in their own local time, by kind of day.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use std::fmt;
use std::sync::Arc;

use super::holidays::{self, ExtraHolidays};
use crate::domain::{Jurisdiction, LocalZone, Locale, Uf};
use crate::schedule::calendar::{self, DAY};

/// Opening hours within one day, in minutes after midnight: open at `open`,
/// closed from `close` on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Hours {
    pub open: u16,
    pub close: u16,
}

impl Hours {
    pub const fn new(open_h: u16, close_h: u16) -> Hours {
        Hours {
            open: open_h * 60,
            close: close_h * 60,
        }
    }

    pub fn open_time(self) -> NaiveTime {
        NaiveTime::from_hms_opt((self.open / 60) as u32, (self.open % 60) as u32, 0)
            .expect("valid hours")
    }
}

impl fmt::Display for Hours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.open / 60,
            self.open % 60,
            self.close / 60,
            self.close % 60
        )
    }
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CallWindow {
    /// Who sets these hours, as people say it: "São Paulo (Lei 15.426/2014)".
    pub authority: Arc<str>,
    pub weekdays: Option<Hours>,
    pub saturday: Option<Hours>,
    pub sunday: Option<Hours>,
    pub closed_on_holidays: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DayKind {
    Weekday,
    Saturday,
    Sunday,
    Holiday(&'static str),
}

impl DayKind {
    pub fn said(&self, locale: Locale) -> String {
        match (locale, self) {
            (Locale::En, DayKind::Weekday) => "weekdays".into(),
            (Locale::En, DayKind::Saturday) => "Saturday".into(),
            (Locale::En, DayKind::Sunday) => "Sunday".into(),
            (Locale::En, DayKind::Holiday(name)) => format!("holiday ({name})"),
            (Locale::PtBr, DayKind::Weekday) => "dias úteis".into(),
            (Locale::PtBr, DayKind::Saturday) => "sábado".into(),
            (Locale::PtBr, DayKind::Sunday) => "domingo".into(),
            (Locale::PtBr, DayKind::Holiday(name)) if *name == POLICY_HOLIDAY => {
                "feriado (da política)".into()
            }
            (Locale::PtBr, DayKind::Holiday(name)) => format!("feriado ({name})"),
        }
    }
}

impl fmt::Display for DayKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.said(Locale::En))
    }
}

/// The window at an instant, as `CallWindow::state_at` finds it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct WindowState {
    /// Open, or shut and when it next opens (`None`: not within three weeks).
    pub state: Result<(), (Shut, Option<DateTime<Utc>>)>,
    /// That next opening, when it is certain the window is open then too (it
    /// opens on a day whose hours end after they begin, at an instant the
    /// zone's offset is fixed): a caller can skip asking about it.
    pub open_at: Option<DateTime<Utc>>,
}

/// Why the window is shut at a moment.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Shut {
    BeforeOpen { day: DayKind, hours: Hours },
    AfterClose { day: DayKind, hours: Hours },
    ClosedAllDay { day: DayKind },
}

impl Shut {
    pub fn said(&self, locale: Locale) -> String {
        let h = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        match (locale, self) {
            (Locale::En, Shut::BeforeOpen { day, hours }) => {
                format!("{day} before {}", h(hours.open))
            }
            (Locale::En, Shut::AfterClose { day, hours }) => {
                format!("{day} after {}", h(hours.close))
            }
            (Locale::En, Shut::ClosedAllDay { day }) => format!("no calls on {day}"),
            (Locale::PtBr, Shut::BeforeOpen { day, hours }) => {
                format!("{}, antes das {}", day.said(locale), h(hours.open))
            }
            (Locale::PtBr, Shut::AfterClose { day, hours }) => {
                format!("{}, depois das {}", day.said(locale), h(hours.close))
            }
            (Locale::PtBr, Shut::ClosedAllDay { day }) => {
                format!("{}: sem ligações", day.said(locale))
            }
        }
    }
}

impl fmt::Display for Shut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.said(Locale::En))
    }
}

/// The custom name for "a policy-named holiday".
const POLICY_HOLIDAY: &str = "named in the policy";

/// What the window rules need of a local day, from a date or from a day
/// number (days since 1970-01-01) without going through a date.
#[derive(Clone, Copy)]
struct Day {
    year: i32,
    ordinal0: u32,
    /// Days from Monday: 5 is Saturday, 6 Sunday.
    weekday: u8,
}

impl Day {
    fn of_date(date: NaiveDate) -> Day {
        Day {
            year: date.year(),
            ordinal0: date.ordinal0(),
            weekday: date.weekday().num_days_from_monday() as u8,
        }
    }

    #[inline]
    fn of_number(days: i64) -> Day {
        let (year, ordinal0) = calendar::year_and_ordinal0(days);
        Day {
            year,
            ordinal0,
            // 1970-01-01 was a Thursday, 3 days from Monday.
            weekday: (days + 3).rem_euclid(7) as u8,
        }
    }

    /// Only for the rare moments a date is needed: naming a holiday, or a
    /// policy's own holidays.
    fn date(self) -> NaiveDate {
        NaiveDate::from_yo_opt(self.year, self.ordinal0 + 1).expect("a real day")
    }
}

impl CallWindow {
    pub fn day_kind(&self, j: Jurisdiction, date: NaiveDate, extra: &ExtraHolidays) -> DayKind {
        self.kind_of(j, Day::of_date(date), extra)
    }

    #[inline]
    fn kind_of(&self, j: Jurisdiction, day: Day, extra: &ExtraHolidays) -> DayKind {
        if self.closed_on_holidays {
            if holidays::is_built_in_on(j, day.year, day.ordinal0)
                && let Some(name) = holidays::built_in(j, day.date())
            {
                return DayKind::Holiday(name);
            }
            if !extra.is_empty() && extra.contains(j, day.date()) {
                return DayKind::Holiday(POLICY_HOLIDAY);
            }
        }
        match day.weekday {
            5 => DayKind::Saturday,
            6 => DayKind::Sunday,
            _ => DayKind::Weekday,
        }
    }

    pub fn hours(&self, day: DayKind) -> Option<Hours> {
        match day {
            DayKind::Weekday => self.weekdays,
            DayKind::Saturday => self.saturday,
            DayKind::Sunday => self.sunday,
            DayKind::Holiday(_) => None,
        }
    }

    /// Whether the window is open at `local`; if not, why.
    pub fn check_local(
        &self,
        j: Jurisdiction,
        local: NaiveDateTime,
        extra: &ExtraHolidays,
    ) -> Result<(), Shut> {
        let minute = (local.hour() * 60 + local.minute()) as u16;
        self.check_kind(self.kind_of(j, Day::of_date(local.date()), extra), minute)
    }

    /// Whether the window is open at `minute` (after midnight) of a day of
    /// this kind.
    fn check_kind(&self, day: DayKind, minute: u16) -> Result<(), Shut> {
        let Some(hours) = self.hours(day) else {
            return Err(Shut::ClosedAllDay { day });
        };
        if minute < hours.open {
            Err(Shut::BeforeOpen { day, hours })
        } else if minute >= hours.close {
            Err(Shut::AfterClose { day, hours })
        } else {
            Ok(())
        }
    }

    /// The first instant at or after `at` when the window is open, looking
    /// up to three weeks ahead (a window shut longer than that is shut).
    pub fn next_open(
        &self,
        j: Jurisdiction,
        zone: &LocalZone,
        at: DateTime<Utc>,
        extra: &ExtraHolidays,
    ) -> Option<DateTime<Utc>> {
        let local = zone.to_local(at);
        if self.check_local(j, local, extra).is_ok() {
            return Some(at);
        }
        let mut date = local.date();
        for _ in 0..21 {
            if let Some(hours) = self.hours(self.day_kind(j, date, extra)) {
                let open = zone.to_utc(date.and_time(hours.open_time()));
                // An opening already past means we are after today's close.
                if open >= at {
                    return Some(open);
                }
            }
            date = holidays::next_day(date);
        }
        None
    }

    /// When the window open at `at` shuts: that day's close in the
    /// debtor's zone. `None` when it is shut at `at`.
    pub fn closes_after(
        &self,
        j: Jurisdiction,
        zone: &LocalZone,
        at: DateTime<Utc>,
        extra: &ExtraHolidays,
    ) -> Option<DateTime<Utc>> {
        let local = zone.to_local(at);
        self.check_local(j, local, extra).ok()?;
        let hours = self.hours(self.day_kind(j, local.date(), extra))?;
        let close = local.date().and_time(NaiveTime::MIN)
            + chrono::Duration::minutes(i64::from(hours.close));
        Some(zone.to_utc(close))
    }

    /// The window at `at`: open, or shut and when it next opens (as
    /// `check_local` and `next_open` say). Where the zone's offset is fixed
    /// this counts in days and seconds, not through dates and chrono-tz.
    pub fn state_at(
        &self,
        j: Jurisdiction,
        zone: &LocalZone,
        at: DateTime<Utc>,
        extra: &ExtraHolidays,
    ) -> WindowState {
        let at_unix = calendar::unix(at);
        let Some(local) = zone.fixed_local_seconds(at_unix) else {
            let state = self
                .check_local(j, zone.to_local(at), extra)
                .map_err(|shut| (shut, self.next_open(j, zone, at, extra)));
            return WindowState {
                state,
                open_at: None,
            };
        };
        let day = local.div_euclid(DAY);
        let minute = (local.rem_euclid(DAY) / 60) as u16;
        let kind = self.kind_of(j, Day::of_number(day), extra);
        match self.check_kind(kind, minute) {
            Ok(()) => WindowState {
                state: Ok(()),
                open_at: None,
            },
            Err(shut) => {
                let (opens, open_then) =
                    self.next_open_from(j, zone, (at, at_unix), (day, kind), extra);
                WindowState {
                    state: Err((shut, opens)),
                    open_at: opens.filter(|_| open_then),
                }
            }
        }
    }

    /// `next_open` when the window is shut at `at`, which falls on local day
    /// number `today` of kind `kind`: each day's opening is a local time
    /// turned into an instant by `unix_of_local`, exact wherever the offset
    /// is not fixed. Also whether `state_at` that opening would say open
    /// (known without asking where the offset is fixed there).
    fn next_open_from(
        &self,
        j: Jurisdiction,
        zone: &LocalZone,
        (at, at_unix): (DateTime<Utc>, i64),
        (today, kind): (i64, DayKind),
        extra: &ExtraHolidays,
    ) -> (Option<DateTime<Utc>>, bool) {
        let at_whole = at.timestamp_subsec_nanos() == 0;
        for day in today..today + 21 {
            let kind = if day == today {
                kind
            } else {
                self.kind_of(j, Day::of_number(day), extra)
            };
            let Some(hours) = self.hours(kind) else {
                continue;
            };
            let local = day * DAY + hours.open as i64 * 60;
            let fixed = zone.fixed_unix_of_local(local);
            let open = fixed.unwrap_or_else(|| zone.unix_of_local(local));
            // An opening already past means we are after today's close
            // (`at` may have a fraction of a second; openings have none).
            if open > at_unix || (open == at_unix && at_whole) {
                let open_then = fixed.is_some() && hours.open < hours.close;
                return (calendar::instant(open), open_then);
            }
        }
        (None, false)
    }
}

/// How the built-in windows name the national default, in English and in
/// Portuguese (an authority is otherwise a policy's label, said as written).
pub const NATIONAL_DEFAULT: &str = "national default: no state law on call hours";
pub const NATIONAL_DEFAULT_PT: &str = "padrão nacional: sem lei estadual de horário";

/// The national default where a state has no law of its own on call hours.
/// No federal statute sets collection-call hours; CDC art. 42 forbids
/// exposing or harassing a debtor. These hours follow what consumer
/// agencies (Procons) hold to be reasonable, the same as São Paulo's law.
fn brazil_default(uf: Uf) -> CallWindow {
    CallWindow {
        authority: format!("{} ({NATIONAL_DEFAULT})", uf.name()).into(),
        weekdays: Some(Hours::new(8, 20)),
        saturday: Some(Hours::new(8, 14)),
        sunday: None,
        closed_on_holidays: true,
    }
}

/// The built-in window of a jurisdiction.
pub fn preset(j: Jurisdiction) -> CallWindow {
    match j {
        Jurisdiction::Br(Uf::SP) => CallWindow {
            authority: "São Paulo (Lei 15.426/2014)".into(),
            weekdays: Some(Hours::new(8, 20)),
            saturday: Some(Hours::new(8, 14)),
            sunday: None,
            closed_on_holidays: true,
        },
        Jurisdiction::Br(Uf::RJ) => CallWindow {
            authority: "Rio de Janeiro (Lei 7.868/2018)".into(),
            weekdays: Some(Hours::new(9, 19)),
            saturday: None,
            sunday: None,
            closed_on_holidays: true,
        },
        Jurisdiction::Br(uf) => brazil_default(uf),
        Jurisdiction::Us(_) => us_fdcpa(),
    }
}

/// The window a law sets for a jurisdiction, which a policy may narrow but
/// not widen; `None` where the hours are a custom, not a statute (the
/// national default).
pub fn statute(j: Jurisdiction) -> Option<CallWindow> {
    match j {
        Jurisdiction::Br(Uf::SP | Uf::RJ) | Jurisdiction::Us(_) => Some(preset(j)),
        Jurisdiction::Br(_) => None,
    }
}

impl CallWindow {
    /// Where this window allows calls that `law` does not: the field
    /// (`weekdays`, `saturday`, `sunday`, `closed_on_holidays`) and why.
    pub fn wider_than(&self, law: &CallWindow) -> Vec<(&'static str, String)> {
        let mut wider = Vec::new();
        for (field, mine, allowed) in [
            ("weekdays", self.weekdays, law.weekdays),
            ("saturday", self.saturday, law.saturday),
            ("sunday", self.sunday, law.sunday),
        ] {
            let within = match (mine, allowed) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(m), Some(a)) => m.open >= a.open && m.close <= a.close,
            };
            if !within {
                let mine = mine.map_or("closed".to_string(), |h| h.to_string());
                let allowed = allowed.map_or("closed".to_string(), |h| h.to_string());
                wider.push((
                    field,
                    format!(
                        "{mine} is wider than {} allows on {field} ({allowed}): \
                         a policy may narrow a legal window, not widen it",
                        law.authority
                    ),
                ));
            }
        }
        if law.closed_on_holidays && !self.closed_on_holidays {
            wider.push((
                "closed_on_holidays",
                format!(
                    "{} allows no calls on holidays: closed_on_holidays must stay true",
                    law.authority
                ),
            ));
        }
        wider
    }
}

/// FDCPA § 805(a)(1): before 8 a.m. or after 9 p.m. local time is presumed
/// inconvenient, on any day.
pub fn us_fdcpa() -> CallWindow {
    CallWindow {
        authority: "US FDCPA § 805(a)(1)".into(),
        weekdays: Some(Hours::new(8, 21)),
        saturday: Some(Hours::new(8, 21)),
        sunday: Some(Hours::new(8, 21)),
        closed_on_holidays: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, TimeZone};
    use chrono_tz::Tz;

    fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    const SP: Jurisdiction = Jurisdiction::Br(Uf::SP);
    const RJ: Jurisdiction = Jurisdiction::Br(Uf::RJ);

    #[test]
    fn sao_paulo_saturday_closes_at_14() {
        let w = preset(SP);
        let none = ExtraHolidays::default();
        // 2026-03-07 is a Saturday.
        assert_eq!(w.check_local(SP, local(2026, 3, 7, 13, 55), &none), Ok(()));
        assert_eq!(
            w.check_local(SP, local(2026, 3, 7, 14, 5), &none),
            Err(Shut::AfterClose {
                day: DayKind::Saturday,
                hours: Hours::new(8, 14)
            })
        );
        assert!(
            w.check_local(SP, local(2026, 3, 8, 10, 0), &none).is_err(),
            "never Sundays"
        );
        assert_eq!(
            w.check_local(SP, local(2026, 3, 9, 7, 59), &none)
                .unwrap_err()
                .to_string(),
            "weekdays before 08:00"
        );
        assert!(w.check_local(SP, local(2026, 3, 9, 19, 59), &none).is_ok());
        assert!(w.check_local(SP, local(2026, 3, 9, 20, 0), &none).is_err());
        assert_eq!(
            w.check_local(SP, local(2026, 7, 9, 10, 0), &none),
            Err(Shut::ClosedAllDay {
                day: DayKind::Holiday("Revolução Constitucionalista de 1932")
            })
        );
    }

    #[test]
    fn blocked_saturday_afternoon_clears_monday_at_eight_local() {
        let w = preset(SP);
        let tz = Tz::America__Sao_Paulo;
        let sat_1405 = tz
            .with_ymd_and_hms(2026, 3, 7, 14, 5, 0)
            .unwrap()
            .with_timezone(&Utc);
        let monday_8 = tz
            .with_ymd_and_hms(2026, 3, 9, 8, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            w.next_open(SP, &LocalZone::new(tz), sat_1405, &ExtraHolidays::default()),
            Some(monday_8)
        );
        // Before Tiradentes (Tuesday 2026-04-21), Monday evening clears Wednesday.
        let mon_21h = tz
            .with_ymd_and_hms(2026, 4, 20, 21, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        let wed_8 = tz
            .with_ymd_and_hms(2026, 4, 22, 8, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            w.next_open(SP, &LocalZone::new(tz), mon_21h, &ExtraHolidays::default()),
            Some(wed_8)
        );
    }

    #[test]
    fn state_at_agrees_with_check_local_and_next_open_everywhere() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let extra = ExtraHolidays::new(
            vec![d(2019, 1, 25), d(2026, 3, 24), d(2026, 12, 24)],
            vec![(SP, vec![d(2026, 1, 26), d(2026, 6, 10)])],
        );
        let ny: Jurisdiction = "US-NY".parse().unwrap();
        // Hours that do not fall on the hour, a window open at midnight, and
        // one whose hours end before they begin (never open).
        let odd = CallWindow {
            authority: "odd".into(),
            weekdays: Some(Hours {
                open: 8 * 60 + 30,
                close: 17 * 60 + 45,
            }),
            saturday: None,
            sunday: Some(Hours { open: 0, close: 90 }),
            closed_on_holidays: true,
        };
        let backwards = CallWindow {
            authority: "backwards".into(),
            weekdays: Some(Hours::new(18, 9)),
            ..odd.clone()
        };
        let cases = [
            (preset(SP), SP, Tz::America__Sao_Paulo),
            (preset(RJ), RJ, Tz::America__Sao_Paulo),
            (preset(ny), ny, Tz::America__New_York),
            (preset(SP), SP, Tz::Asia__Kathmandu),
            (preset(SP), SP, Tz::Pacific__Kiritimati),
            (odd.clone(), SP, Tz::America__Manaus),
            (odd, ny, Tz::America__New_York),
            (backwards, RJ, Tz::UTC),
        ];
        for (window, j, tz) in cases {
            let zone = LocalZone::new(tz);
            // Every 3 hours 7 minutes over 2018–2020 (São Paulo's last DST)
            // and 2026, some instants a fraction of a second past the minute.
            let mut t = Utc.with_ymd_and_hms(2018, 1, 1, 0, 0, 0).unwrap();
            let mut n = 0u32;
            while t.year() < 2027 {
                n += 1;
                let at =
                    t + chrono::Duration::milliseconds(if n.is_multiple_of(5) { 500 } else { 0 });
                let found = window.state_at(j, &zone, at, &extra);
                let expected = window
                    .check_local(j, zone.to_local(at), &extra)
                    .map_err(|shut| (shut, window.next_open(j, &zone, at, &extra)));
                assert_eq!(found.state, expected, "{} {tz} {at}", window.authority);
                if let Some(opening) = found.open_at {
                    assert_eq!(Err(Some(opening)), expected.map_err(|(_, o)| o));
                    let then = window.state_at(j, &zone, opening, &extra);
                    assert_eq!(then.state, Ok(()), "{} {tz} {opening}", window.authority);
                }
                t += chrono::Duration::minutes(3 * 60 + 7);
                if t.year() == 2021 {
                    t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
                }
            }
        }
    }

    #[test]
    fn rio_weekdays_nine_to_seven_only() {
        let w = preset(RJ);
        let none = ExtraHolidays::default();
        assert!(w.check_local(RJ, local(2026, 3, 9, 8, 30), &none).is_err());
        assert!(w.check_local(RJ, local(2026, 3, 9, 9, 0), &none).is_ok());
        assert!(w.check_local(RJ, local(2026, 3, 9, 19, 0), &none).is_err());
        assert!(
            w.check_local(RJ, local(2026, 3, 7, 10, 0), &none).is_err(),
            "no Saturdays"
        );
    }

    #[test]
    fn every_uf_has_a_preset_that_names_its_authority() {
        for uf in Uf::ALL {
            let w = preset(Jurisdiction::Br(uf));
            assert!(w.authority.starts_with(uf.name()), "{}", w.authority);
            if !matches!(uf, Uf::SP | Uf::RJ) {
                assert!(w.authority.contains("national default"));
            }
        }
    }

    #[test]
    fn fdcpa_follows_daylight_saving_in_local_time() {
        let j: Jurisdiction = "US-NY".parse().unwrap();
        let w = preset(j);
        let tz = Tz::America__New_York;
        let none = ExtraHolidays::default();
        // 12:30 UTC is 07:30 EST in January (shut) but 08:30 EDT in July (open).
        let jan = Utc.with_ymd_and_hms(2026, 1, 15, 12, 30, 0).unwrap();
        let jul = Utc.with_ymd_and_hms(2026, 7, 15, 12, 30, 0).unwrap();
        assert!(
            w.check_local(j, jan.with_timezone(&tz).naive_local(), &none)
                .is_err()
        );
        assert!(
            w.check_local(j, jul.with_timezone(&tz).naive_local(), &none)
                .is_ok()
        );
        assert_eq!(
            w.next_open(j, &LocalZone::new(tz), jan, &none),
            Some(Utc.with_ymd_and_hms(2026, 1, 15, 13, 0, 0).unwrap())
        );
        // Sundays are fine under the FDCPA.
        assert!(w.check_local(j, local(2026, 3, 8, 10, 0), &none).is_ok());
    }
}
