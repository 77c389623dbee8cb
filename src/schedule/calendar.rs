//! Calendar arithmetic on day numbers (days since 1970-01-01) and Unix
//! seconds, for the planner's hot paths. Same answers as chrono's
//! conversions (the tests compare them day by day), at a fraction of the
//! cost: chrono finds a year from a day count with divisions in 400-year
//! cycles, where a table of the years around now answers with a lookup.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike, Utc};

/// Seconds in a day (no leap seconds in Unix time).
pub(crate) const DAY: i64 = 86_400;

const TABLE_FROM: i32 = 1900;
const TABLE_YEARS: usize = 300;

pub(crate) const fn is_leap(year: i32) -> bool {
    // Divisible by 4, and by 16 if by 25 (that is, by 400 if by 100).
    year & 3 == 0 && (year % 25 != 0 || year & 15 == 0)
}

/// Day numbers of 1 January of each year of 1900–2199 and of 2200,
/// worked out at compile time.
static YEAR_STARTS: [i32; TABLE_YEARS + 1] = {
    let mut starts = [0i32; TABLE_YEARS + 1];
    // 1900-01-01 is 25,567 days before 1970-01-01.
    starts[0] = -25_567;
    let mut i = 0;
    while i < TABLE_YEARS {
        let days = if is_leap(TABLE_FROM + i as i32) {
            366
        } else {
            365
        };
        starts[i + 1] = starts[i] + days;
        i += 1;
    }
    starts
};

/// The index of `year` in `YEAR_STARTS`, if the table has it.
fn table_index(year: i32) -> Option<usize> {
    usize::try_from(year - TABLE_FROM)
        .ok()
        .filter(|&i| i < TABLE_YEARS)
}

/// The year and 0-based day of the year of day number `days`: looked up
/// for 1900–2199, where an estimate from the mean year is never more than a
/// year out; computed elsewhere.
#[inline]
pub(crate) fn year_and_ordinal0(days: i64) -> (i32, u32) {
    let from = days - YEAR_STARTS[0] as i64;
    let span = (YEAR_STARTS[TABLE_YEARS] - YEAR_STARTS[0]) as i64;
    if !(0..span).contains(&from) {
        return civil_year_and_ordinal0(days);
    }
    // 146,097 days in 400 years.
    let mut i = ((from * 400) / 146_097) as usize;
    if days < YEAR_STARTS[i] as i64 {
        i -= 1;
    } else if days >= YEAR_STARTS[i + 1] as i64 {
        i += 1;
    }
    (TABLE_FROM + i as i32, (days - YEAR_STARTS[i] as i64) as u32)
}

/// `year_and_ordinal0` for any day, by Howard Hinnant's `civil_from_days`
/// in eras of 400 years (146,097 days) counted from 0000-03-01, so that
/// leap days end a year.
#[cold]
fn civil_year_and_ordinal0(days: i64) -> (i32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let year = year_of_era + era * 400;
    // Days since the 1st of March of `year`.
    let from_march = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // 306 days from March to December: January and February belong to the next year.
    if from_march >= 306 {
        ((year + 1) as i32, (from_march - 306) as u32)
    } else {
        let year = year as i32;
        (year, (from_march + 59 + is_leap(year) as i64) as u32)
    }
}

/// 1970-01-01 counted from 0001-01-01 as day 1, as chrono counts.
const EPOCH_FROM_CE: i64 = 719_163;

/// The day number of a date.
#[inline]
pub(crate) fn day_number(date: NaiveDate) -> i64 {
    match table_index(date.year()) {
        Some(i) => YEAR_STARTS[i] as i64 + date.ordinal0() as i64,
        None => date.num_days_from_ce() as i64 - EPOCH_FROM_CE,
    }
}

/// The date of a day number, held to the dates chrono has.
pub(crate) fn date_of_day(day: i64) -> NaiveDate {
    let (first, last) = (day_number(NaiveDate::MIN), day_number(NaiveDate::MAX));
    let (year, ordinal0) = year_and_ordinal0(day.clamp(first, last));
    NaiveDate::from_yo_opt(year, ordinal0 + 1).expect("within chrono's dates")
}

/// `t.timestamp()`.
#[inline]
pub(crate) fn unix(t: DateTime<Utc>) -> i64 {
    // `naive_utc` is the stored value; `date_naive` and `time` would each
    // apply the (zero) offset first.
    let t = t.naive_utc();
    match table_index(t.year()) {
        Some(i) => {
            let day = YEAR_STARTS[i] as i64 + t.ordinal0() as i64;
            // The time's own count: `NaiveDateTime`'s goes through hours
            // and minutes.
            day * DAY + t.time().num_seconds_from_midnight() as i64
        }
        None => t.and_utc().timestamp(),
    }
}

/// `DateTime::from_timestamp(unix, 0)`.
#[inline]
pub(crate) fn instant(unix: i64) -> Option<DateTime<Utc>> {
    let (day, second) = (unix.div_euclid(DAY), unix.rem_euclid(DAY));
    let (year, ordinal0) = year_and_ordinal0(day);
    if table_index(year).is_none() {
        return DateTime::from_timestamp(unix, 0);
    }
    let date = NaiveDate::from_yo_opt(year, ordinal0 + 1)?;
    let time = NaiveTime::from_num_seconds_from_midnight_opt(second as u32, 0)?;
    Some(date.and_time(time).and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, NaiveDateTime};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn day_numbers_agree_with_chrono_every_day_for_centuries() {
        let epoch = d(1970, 1, 1);
        // Every day from 1600 to 2400, leap centuries and the table's ends
        // included, and far out.
        let mut date = d(1600, 1, 1);
        while date < d(2400, 1, 1) {
            let days = (date - epoch).num_days();
            assert_eq!(
                year_and_ordinal0(days),
                (date.year(), date.ordinal0()),
                "{date}"
            );
            assert_eq!(day_number(date), days, "{date}");
            assert_eq!(date_of_day(days), date);
            date = date.succ_opt().unwrap();
        }
        for date in [NaiveDate::MIN, NaiveDate::MAX, d(-1, 12, 31), d(0, 2, 29)] {
            let days = (date - epoch).num_days();
            assert_eq!(
                year_and_ordinal0(days),
                (date.year(), date.ordinal0()),
                "{date}"
            );
            assert_eq!(day_number(date), days, "{date}");
            assert_eq!(date_of_day(days), date);
        }
        assert_eq!(date_of_day(i64::MIN / 2), NaiveDate::MIN);
        assert_eq!(date_of_day(i64::MAX / 2), NaiveDate::MAX);
        // The computed path agrees with the table where both apply.
        for days in -30_000..100_000 {
            assert_eq!(
                civil_year_and_ordinal0(days),
                year_and_ordinal0(days),
                "{days}"
            );
        }
        for year in -500..3000 {
            assert_eq!(
                is_leap(year),
                NaiveDate::from_ymd_opt(year, 2, 29).is_some()
            );
        }
    }

    #[test]
    fn instants_agree_with_chrono_across_centuries() {
        // Every 97 minutes and 13 seconds from 1890 to 2210 (past both ends
        // of the table), and around the edges of what chrono can hold.
        let mut t = d(1890, 1, 1).and_hms_opt(0, 0, 0).unwrap().and_utc();
        let end = d(2210, 1, 1).and_hms_opt(0, 0, 0).unwrap().and_utc();
        while t < end {
            let secs = t.timestamp();
            assert_eq!(unix(t), secs, "{t}");
            assert_eq!(instant(secs), DateTime::from_timestamp(secs, 0), "{secs}");
            t += Duration::seconds(97 * 60 + 13);
        }
        let with_nanos = t + Duration::nanoseconds(999_999_999);
        assert_eq!(unix(with_nanos), with_nanos.timestamp());
        let leap = NaiveDateTime::new(
            d(2016, 12, 31),
            NaiveTime::from_hms_nano_opt(23, 59, 59, 1_500_000_000).unwrap(),
        )
        .and_utc();
        assert_eq!(unix(leap), leap.timestamp());
        for secs in [
            NaiveDate::MIN
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc()
                .timestamp(),
            NaiveDate::MAX
                .and_hms_opt(23, 59, 59)
                .unwrap()
                .and_utc()
                .timestamp(),
            i64::MIN / 4,
            i64::MAX / 4,
        ] {
            for s in [secs - 1, secs, secs + 1] {
                assert_eq!(instant(s), DateTime::from_timestamp(s, 0), "{s}");
            }
        }
    }
}
