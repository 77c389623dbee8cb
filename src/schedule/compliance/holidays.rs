//! Days nobody is called where the window closes on holidays: Brazil's
//! national holidays (the fixed ones and those that move with Easter), each
//! state's own, and whatever dates a policy adds.

use chrono::{Datelike, Days, NaiveDate};

use crate::domain::{Jurisdiction, Uf};
use crate::schedule::calendar::is_leap;

/// Easter Sunday (Gregorian) as (month, day), by the anonymous algorithm
/// (Meeus/Jones/Butcher).
const fn easter_month_day(year: i32) -> (u32, u32) {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    (month as u32, day as u32)
}

const TABLE_FROM: i32 = 1900;
const TABLE_YEARS: usize = 300;

/// Easter for 1900–2199, worked out at compile time: the hot path looks up.
static EASTER_TABLE: [(u32, u32); TABLE_YEARS] = {
    let mut table = [(0, 0); TABLE_YEARS];
    let mut i = 0;
    while i < TABLE_YEARS {
        table[i] = easter_month_day(TABLE_FROM + i as i32);
        i += 1;
    }
    table
};

pub fn easter(year: i32) -> NaiveDate {
    let (month, day) = match usize::try_from(year - TABLE_FROM) {
        Ok(i) if i < TABLE_YEARS => EASTER_TABLE[i],
        _ => easter_month_day(year),
    };
    NaiveDate::from_ymd_opt(year, month, day).expect("Easter is a real date")
}

const FIXED_NATIONAL: &[(u32, u32, &str)] = &[
    (1, 1, "Confraternização Universal"),
    (4, 21, "Tiradentes"),
    (5, 1, "Dia do Trabalho"),
    (9, 7, "Independência do Brasil"),
    (10, 12, "Nossa Senhora Aparecida"),
    (11, 2, "Finados"),
    (11, 15, "Proclamação da República"),
    (11, 20, "Dia Nacional de Zumbi e da Consciência Negra"),
    (12, 25, "Natal"),
];

/// Days from Easter. Carnival and Corpus Christi are *pontos facultativos*
/// nationally, but banks and most offices close: we treat them as holidays,
/// since calling on a day people are off is the error to avoid.
const MOVABLE_NATIONAL: &[(i64, &str)] = &[
    (-48, "Carnaval (segunda-feira)"),
    (-47, "Carnaval (terça-feira)"),
    (-2, "Sexta-feira Santa"),
    (60, "Corpus Christi"),
];

/// State holidays set by state law (the dates most widely observed; a policy
/// can add more under `[compliance.holidays]`).
const STATE: &[(Uf, u32, u32, &str)] = &[
    (Uf::AC, 1, 23, "Dia do Evangélico"),
    (Uf::AC, 6, 15, "Aniversário do Acre"),
    (Uf::AC, 8, 6, "Início da Revolução Acreana"),
    (Uf::AC, 9, 5, "Dia da Amazônia"),
    (Uf::AC, 11, 17, "Tratado de Petrópolis"),
    (Uf::AL, 6, 24, "São João"),
    (Uf::AL, 6, 29, "São Pedro"),
    (Uf::AL, 9, 16, "Emancipação Política de Alagoas"),
    (Uf::AP, 3, 19, "Dia de São José"),
    (Uf::AP, 10, 5, "Criação do Estado do Amapá"),
    (
        Uf::AM,
        9,
        5,
        "Elevação do Amazonas à Categoria de Província",
    ),
    (Uf::BA, 7, 2, "Independência da Bahia"),
    (Uf::CE, 3, 19, "Dia de São José"),
    (Uf::CE, 3, 25, "Data Magna do Ceará"),
    (Uf::DF, 11, 30, "Dia do Evangélico"),
    (Uf::MA, 7, 28, "Adesão do Maranhão à Independência"),
    (Uf::MS, 10, 11, "Criação do Estado de Mato Grosso do Sul"),
    (Uf::PA, 8, 15, "Adesão do Grão-Pará à Independência"),
    (Uf::PB, 8, 5, "Fundação do Estado da Paraíba"),
    (Uf::PE, 3, 6, "Revolução Pernambucana"),
    (Uf::PI, 10, 19, "Dia do Piauí"),
    (Uf::PR, 12, 19, "Emancipação Política do Paraná"),
    (Uf::RJ, 4, 23, "Dia de São Jorge"),
    (Uf::RN, 10, 3, "Mártires de Cunhaú e Uruaçu"),
    (Uf::RO, 1, 4, "Criação do Estado de Rondônia"),
    (Uf::RO, 6, 18, "Dia do Evangélico"),
    (Uf::RR, 10, 5, "Criação do Estado de Roraima"),
    (Uf::RS, 9, 20, "Revolução Farroupilha"),
    (Uf::SE, 7, 8, "Emancipação Política de Sergipe"),
    (Uf::SP, 7, 9, "Revolução Constitucionalista de 1932"),
    (Uf::TO, 3, 18, "Autonomia do Tocantins"),
    (Uf::TO, 9, 8, "Nossa Senhora da Natividade"),
    (Uf::TO, 10, 5, "Criação do Estado do Tocantins"),
];

/// 0-based day of the year.
const fn ordinal0(year: i32, month: u32, day: u32) -> usize {
    const BEFORE: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let leap_day = if month > 2 && is_leap(year) { 1 } else { 0 };
    (BEFORE[(month - 1) as usize] + leap_day + day - 1) as usize
}

/// A set of days of one year, a bit each.
type DaySet = [u64; 6];

const fn with_day(mut set: DaySet, ordinal0: usize) -> DaySet {
    set[ordinal0 / 64] |= 1 << (ordinal0 % 64);
    set
}

fn contains(set: &DaySet, ordinal0: usize) -> bool {
    set[ordinal0 / 64] & (1 << (ordinal0 % 64)) != 0
}

/// Brazil's national holidays of 1900–2199 as day sets, worked out at
/// compile time: the hot path tests a bit, and only names a holiday it found.
static NATIONAL_DAYS: [DaySet; TABLE_YEARS] = {
    let mut table = [[0u64; 6]; TABLE_YEARS];
    let mut y = 0;
    while y < TABLE_YEARS {
        let year = TABLE_FROM + y as i32;
        let mut set = [0u64; 6];
        let mut i = 0;
        while i < FIXED_NATIONAL.len() {
            set = with_day(
                set,
                ordinal0(year, FIXED_NATIONAL[i].0, FIXED_NATIONAL[i].1),
            );
            i += 1;
        }
        let (em, ed) = EASTER_TABLE[y];
        let easter = ordinal0(year, em, ed) as i64;
        let mut i = 0;
        while i < MOVABLE_NATIONAL.len() {
            set = with_day(set, (easter + MOVABLE_NATIONAL[i].0) as usize);
            i += 1;
        }
        table[y] = set;
        y += 1;
    }
    table
};

/// Each UF's own holidays as day sets, for common and for leap years.
static STATE_DAYS: [[DaySet; 2]; 27] = {
    let mut table = [[[0u64; 6]; 2]; 27];
    let mut i = 0;
    while i < STATE.len() {
        let (uf, m, d, _) = STATE[i];
        let u = uf as usize;
        table[u][0] = with_day(table[u][0], ordinal0(2001, m, d));
        table[u][1] = with_day(table[u][1], ordinal0(2000, m, d));
        i += 1;
    }
    table
};

/// Whether the date is a built-in holiday of the jurisdiction (fast).
pub fn is_built_in(jurisdiction: Jurisdiction, date: NaiveDate) -> bool {
    is_built_in_on(jurisdiction, date.year(), date.ordinal0())
}

/// `is_built_in` for the day `ordinal0` (0-based) of `year`, so callers
/// counting days by number need not build a date.
#[inline]
pub fn is_built_in_on(jurisdiction: Jurisdiction, year: i32, ordinal0: u32) -> bool {
    let Jurisdiction::Br(uf) = jurisdiction else {
        return false;
    };
    let day = ordinal0 as usize;
    let national = match usize::try_from(year - TABLE_FROM) {
        Ok(i) if i < TABLE_YEARS => contains(&NATIONAL_DAYS[i], day),
        _ => is_national_outside_table(year, ordinal0),
    };
    national || contains(&STATE_DAYS[uf as usize][is_leap(year) as usize], day)
}

/// `is_built_in_on`'s national holidays for years the table lacks: kept out
/// of line so the table lookup inlines into the window checks.
#[cold]
#[inline(never)]
fn is_national_outside_table(year: i32, ordinal0: u32) -> bool {
    NaiveDate::from_yo_opt(year, ordinal0 + 1)
        .and_then(brazil_national)
        .is_some()
}

/// Brazil's national holiday on this date, if any.
pub fn brazil_national(date: NaiveDate) -> Option<&'static str> {
    let (m, d) = (date.month(), date.day());
    if let Some((_, _, name)) = FIXED_NATIONAL
        .iter()
        .find(|(fm, fd, _)| (*fm, *fd) == (m, d))
    {
        return Some(name);
    }
    // Movable feasts fall between February and June.
    if !(2..=6).contains(&m) {
        return None;
    }
    let easter = easter(date.year());
    let offset = (date - easter).num_days();
    MOVABLE_NATIONAL
        .iter()
        .find(|(o, _)| *o == offset)
        .map(|(_, name)| *name)
}

pub fn state(uf: Uf, date: NaiveDate) -> Option<&'static str> {
    let (m, d) = (date.month(), date.day());
    STATE
        .iter()
        .find(|(u, sm, sd, _)| *u == uf && (*sm, *sd) == (m, d))
        .map(|(.., name)| *name)
}

/// The built-in holiday of a jurisdiction on a date. US call windows do not
/// close on holidays (FDCPA sets hours, not days), so US ones have none.
pub fn built_in(jurisdiction: Jurisdiction, date: NaiveDate) -> Option<&'static str> {
    if !is_built_in(jurisdiction, date) {
        return None;
    }
    match jurisdiction {
        Jurisdiction::Br(uf) => brazil_national(date).or_else(|| state(uf, date)),
        Jurisdiction::Us(_) => None,
    }
}

/// Extra dates a policy names, for every jurisdiction or one.
#[derive(Clone, Debug, Default)]
pub struct ExtraHolidays {
    all: Vec<NaiveDate>,
    by_jurisdiction: Vec<Vec<NaiveDate>>,
    has_any: bool,
}

impl ExtraHolidays {
    pub fn new(mut all: Vec<NaiveDate>, by: Vec<(Jurisdiction, Vec<NaiveDate>)>) -> ExtraHolidays {
        all.sort();
        let mut by_jurisdiction = vec![Vec::new(); Jurisdiction::COUNT];
        for (j, dates) in by {
            by_jurisdiction[j.index()].extend(dates);
            by_jurisdiction[j.index()].sort();
        }
        let has_any = !all.is_empty() || by_jurisdiction.iter().any(|d| !d.is_empty());
        ExtraHolidays {
            all,
            by_jurisdiction,
            has_any,
        }
    }

    /// No dates at all (the usual case): no date need be built to ask.
    pub fn is_empty(&self) -> bool {
        !self.has_any
    }

    pub fn contains(&self, jurisdiction: Jurisdiction, date: NaiveDate) -> bool {
        if !self.has_any {
            return false;
        }
        self.all.binary_search(&date).is_ok()
            || self
                .by_jurisdiction
                .get(jurisdiction.index())
                .is_some_and(|d| d.binary_search(&date).is_ok())
    }
}

/// The next day after `date` (for loops over days without overflow panics).
pub fn next_day(date: NaiveDate) -> NaiveDate {
    date.checked_add_days(Days::new(1)).unwrap_or(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn easter_matches_known_dates() {
        for (y, m, day) in [
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2038, 4, 25),
            (2000, 4, 23),
        ] {
            assert_eq!(easter(y), d(y, m, day), "{y}");
        }
    }

    #[test]
    fn state_table_keeps_each_uf_together_so_the_index_finds_every_entry() {
        for (uf, m, day, name) in STATE {
            assert_eq!(state(*uf, d(2026, *m, *day)), Some(*name));
        }
    }

    #[test]
    fn the_day_sets_agree_with_the_lists_every_day_for_decades() {
        // Decades around now, and across both ends of the table (where the
        // dates are worked out instead).
        for (from, to) in [(1995, 2045), (1897, 1903), (2197, 2203)] {
            let mut date = d(from, 1, 1);
            while date < d(to, 1, 1) {
                for uf in Uf::ALL {
                    let j = Jurisdiction::Br(uf);
                    let listed = brazil_national(date).is_some() || state(uf, date).is_some();
                    assert_eq!(is_built_in(j, date), listed, "{uf:?} {date}");
                }
                date = next_day(date);
            }
        }
    }

    #[test]
    fn national_holidays_fixed_and_movable() {
        assert_eq!(brazil_national(d(2026, 4, 21)), Some("Tiradentes"));
        assert_eq!(
            brazil_national(d(2026, 11, 20)),
            Some("Dia Nacional de Zumbi e da Consciência Negra")
        );
        assert_eq!(brazil_national(d(2026, 4, 3)), Some("Sexta-feira Santa"));
        assert_eq!(
            brazil_national(d(2026, 2, 17)),
            Some("Carnaval (terça-feira)")
        );
        assert_eq!(brazil_national(d(2026, 6, 4)), Some("Corpus Christi"));
        assert_eq!(brazil_national(d(2026, 4, 6)), None);
    }

    #[test]
    fn state_holidays_only_in_their_state() {
        let sp = Jurisdiction::Br(Uf::SP);
        let rj = Jurisdiction::Br(Uf::RJ);
        assert_eq!(
            built_in(sp, d(2026, 7, 9)),
            Some("Revolução Constitucionalista de 1932")
        );
        assert_eq!(built_in(rj, d(2026, 7, 9)), None);
        assert_eq!(built_in(rj, d(2026, 4, 23)), Some("Dia de São Jorge"));
        assert_eq!(built_in("US-NY".parse().unwrap(), d(2026, 12, 25)), None);
    }

    #[test]
    fn extra_holidays_for_all_or_one() {
        let sp = Jurisdiction::Br(Uf::SP);
        let extra = ExtraHolidays::new(vec![d(2026, 12, 24)], vec![(sp, vec![d(2026, 1, 25)])]);
        assert!(extra.contains(sp, d(2026, 12, 24)));
        assert!(extra.contains(Jurisdiction::Br(Uf::RJ), d(2026, 12, 24)));
        assert!(extra.contains(sp, d(2026, 1, 25)));
        assert!(!extra.contains(Jurisdiction::Br(Uf::RJ), d(2026, 1, 25)));
    }
}
