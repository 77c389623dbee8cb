//! Time: a `Clock` the caller passes in, and local wall-clock times turned
//! into instants without guessing wrong across daylight-saving changes.

use chrono::{DateTime, Duration, FixedOffset, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use std::sync::atomic::{AtomicI32, AtomicI64, Ordering};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The system clock moved to start at another moment and run on from
/// there: a demo or an end-to-end test on a Tuesday morning in São Paulo
/// whatever the hour here (`REGUA_CLOCK`).
pub struct ShiftedClock {
    offset: chrono::Duration,
}

impl ShiftedClock {
    pub fn starting_at(start: DateTime<Utc>) -> ShiftedClock {
        ShiftedClock {
            offset: start - Utc::now(),
        }
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }
}

/// A wall-clock time in `tz` as an instant. A time skipped by a spring-forward
/// change moves forward by the gap's length (02:30 on a night that jumps from
/// 02:00 to 03:00 reads as 03:30), as RFC 5545 does; a repeated one maps to
/// its first occurrence.
pub fn local_to_utc(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // In a gap: read the time with the offset in force just before
            // it, which lands as far past the gap's start as `local` is.
            let before = tz
                .from_local_datetime(&(local - Duration::hours(3)))
                .earliest()
                .map(|t| t.offset().fix().local_minus_utc())
                .unwrap_or(0);
            Utc.from_utc_datetime(&(local - Duration::seconds(before as i64)))
        }
    }
}

/// A zone whose offset no longer changes (Brazil's since 2019, UTC, most
/// of Asia and Africa) converts by arithmetic; others by chrono-tz's exact
/// lookup. Same answers either way, a tenth of the cost on the hot path.
#[derive(Clone, Copy, Debug)]
pub struct LocalZone {
    tz: Tz,
    /// From this instant (Unix seconds) until `FIXED_UNTIL`, the offset is this.
    fixed: Option<(i64, FixedOffset)>,
}

/// 2100-01-01T00:00:00Z: the fast path is not trusted beyond it.
const FIXED_UNTIL: i64 = 4_102_444_800;
const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;
const UNKNOWN: i64 = i64::MIN;
const NEVER: i64 = i64::MAX;
const SLOTS: usize = 1024;
static FIXED_SINCE: [AtomicI64; SLOTS] = [const { AtomicI64::new(UNKNOWN) }; SLOTS];
static FIXED_OFFSET: [AtomicI32; SLOTS] = [const { AtomicI32::new(0) }; SLOTS];

fn offset_at(tz: Tz, unix: i64) -> i32 {
    let t = DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .naive_utc();
    tz.offset_from_utc_datetime(&t).fix().local_minus_utc()
}

/// The last change of offset before 2100, found by walking back a week at a
/// time (no zone changes its offset twice within a week) and then bisecting.
fn last_change(tz: Tz) -> (i64, i32) {
    let offset = offset_at(tz, FIXED_UNTIL);
    let mut hi = FIXED_UNTIL;
    loop {
        let lo = hi - WEEK;
        if lo < 0 {
            return (0, offset);
        }
        if offset_at(tz, lo) != offset {
            let (mut lo, mut hi) = (lo, hi);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if offset_at(tz, mid) == offset {
                    hi = mid
                } else {
                    lo = mid
                }
            }
            return (hi, offset);
        }
        hi = lo;
    }
}

impl LocalZone {
    pub fn new(tz: Tz) -> LocalZone {
        let slot = tz as usize;
        if slot >= SLOTS {
            return LocalZone { tz, fixed: None };
        }
        let mut since = FIXED_SINCE[slot].load(Ordering::Acquire);
        if since == UNKNOWN {
            let (s, offset) = last_change(tz);
            // Zones that change right up to 2100 never take the fast path.
            since = if s > FIXED_UNTIL - 366 * 86_400 {
                NEVER
            } else {
                s
            };
            FIXED_OFFSET[slot].store(offset, Ordering::Relaxed);
            FIXED_SINCE[slot].store(since, Ordering::Release);
        }
        let offset = FixedOffset::east_opt(FIXED_OFFSET[slot].load(Ordering::Relaxed));
        let fixed = offset
            .filter(|_| since != NEVER)
            .map(|offset| (since, offset));
        LocalZone { tz, fixed }
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The instant `days` whole local days before `start` (a local midnight,
    /// as Unix seconds): plain arithmetic while the offset is fixed.
    #[inline]
    pub fn days_before(&self, start: i64, days: i64) -> i64 {
        let guess = start - days * 86_400;
        match self.fixed {
            Some((since, _)) if guess >= since + 86_400 && start < FIXED_UNTIL => guess,
            _ => self.days_before_exactly(start, days),
        }
    }

    /// `days_before` through local dates, kept out of line: the hot path
    /// is the arithmetic above.
    #[cold]
    #[inline(never)]
    fn days_before_exactly(&self, start: i64, days: i64) -> i64 {
        let local = self.to_local(DateTime::from_timestamp(start, 0).unwrap_or_default());
        self.to_utc(local - Duration::days(days)).timestamp()
    }

    /// The zone's offset in seconds when it is fixed at the instant `unix`.
    fn fixed_offset_at(&self, unix: i64) -> Option<i64> {
        match self.fixed {
            Some((since, offset)) if unix >= since && unix < FIXED_UNTIL => {
                Some(offset.local_minus_utc() as i64)
            }
            _ => None,
        }
    }

    /// The local wall-clock time at `unix` as seconds since 1970-01-01 00:00
    /// local, when the zone's offset is fixed then: the integer twin of
    /// `to_local`, for hot paths that work in day numbers. `None` means "ask
    /// `to_local`", which is exact across daylight-saving changes.
    pub fn fixed_local_seconds(&self, unix: i64) -> Option<i64> {
        self.fixed_offset_at(unix).map(|offset| unix + offset)
    }

    /// The instant (Unix seconds) of a local wall-clock time given as seconds
    /// since 1970-01-01 00:00 local: the integer twin of `to_utc`, with the
    /// same answers, taking the arithmetic path where `to_utc` does.
    pub fn unix_of_local(&self, local: i64) -> i64 {
        if let Some(unix) = self.fixed_unix_of_local(local) {
            return unix;
        }
        match DateTime::from_timestamp(local, 0) {
            Some(t) => self.to_utc(t.naive_utc()).timestamp(),
            None => local,
        }
    }

    /// `unix_of_local` where `to_utc` takes the arithmetic path, else `None`.
    pub fn fixed_unix_of_local(&self, local: i64) -> Option<i64> {
        let (since, offset) = self.fixed?;
        let unix = local - offset.local_minus_utc() as i64;
        // The same margin as `to_utc`'s.
        (unix >= since + DAY && unix < FIXED_UNTIL).then_some(unix)
    }

    pub fn to_local(&self, t: DateTime<Utc>) -> NaiveDateTime {
        if let Some((since, offset)) = self.fixed {
            let unix = t.timestamp();
            if unix >= since
                && unix < FIXED_UNTIL
                && let Some(local) = t.naive_utc().checked_add_offset(offset)
            {
                return local;
            }
        }
        t.with_timezone(&self.tz).naive_local()
    }

    pub fn to_utc(&self, local: NaiveDateTime) -> DateTime<Utc> {
        if let Some((since, offset)) = self.fixed
            && let Some(utc) = local.checked_sub_offset(offset)
        {
            let unix = utc.and_utc().timestamp();
            // A day's margin keeps clear of the last change's gap or fold.
            if unix >= since + 86_400 && unix < FIXED_UNTIL {
                return utc.and_utc();
            }
        }
        local_to_utc(self.tz, local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate};

    #[test]
    fn the_fast_path_agrees_with_chrono_tz_everywhere() {
        let zones = [
            Tz::America__Sao_Paulo,
            Tz::America__New_York,
            Tz::UTC,
            Tz::America__Manaus,
            Tz::Europe__Lisbon,
        ];
        for tz in zones {
            let z = LocalZone::new(tz);
            // Every 7 hours over 2015–2031, crossing Brazil's last DST (2019).
            let mut t = Utc.with_ymd_and_hms(2015, 1, 1, 0, 0, 0).unwrap();
            while t.year() < 2032 {
                assert_eq!(
                    z.to_local(t),
                    t.with_timezone(&tz).naive_local(),
                    "{tz} {t}"
                );
                let local = t.with_timezone(&tz).naive_local();
                assert_eq!(z.to_utc(local), local_to_utc(tz, local), "{tz} {local}");
                t += Duration::hours(7);
            }
        }
        assert!(LocalZone::new(Tz::America__Sao_Paulo).fixed.is_some());
        // Whole days back from a local midnight, across DST changes too.
        for tz in zones {
            let z = LocalZone::new(tz);
            let midnight = NaiveDate::from_ymd_opt(2026, 11, 20)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap();
            let start = z.to_utc(midnight).timestamp();
            for days in [0, 1, 30, 250, 3000] {
                let expected = local_to_utc(tz, midnight - Duration::days(days)).timestamp();
                assert_eq!(z.days_before(start, days), expected, "{tz} {days}");
            }
        }
        assert!(LocalZone::new(Tz::America__New_York).fixed.is_none());
    }

    #[test]
    fn the_integer_twins_agree_with_to_local_and_to_utc() {
        // Whole-second wall-clock times, as the integer twins see them.
        let seconds = |local: NaiveDateTime| local.and_utc().timestamp();
        let zones = [
            Tz::America__Sao_Paulo,
            Tz::America__New_York,
            Tz::UTC,
            Tz::Asia__Kolkata,
            Tz::Asia__Kathmandu,
            Tz::Pacific__Kiritimati,
            Tz::Pacific__Pago_Pago,
            Tz::Europe__Lisbon,
        ];
        for tz in zones {
            let z = LocalZone::new(tz);
            // Every 7 hours and 13 minutes over 2015–2031 (crossing Brazil's
            // last DST in 2019), and a few years past the fast path's end.
            let mut t = Utc.with_ymd_and_hms(2015, 1, 1, 0, 0, 0).unwrap();
            while t.year() < 2032 || (t.year() > 2098 && t.year() < 2102) {
                let unix = t.timestamp();
                let local = z.to_local(t);
                if let Some(fixed) = z.fixed_local_seconds(unix) {
                    assert_eq!(fixed, seconds(local), "{tz} {t}");
                }
                // Every local time, including the ones a DST gap skips.
                let wall = seconds(t.naive_utc());
                let expected = z.to_utc(t.naive_utc()).timestamp();
                assert_eq!(z.unix_of_local(wall), expected, "{tz} {t}");
                if let Some(fixed) = z.fixed_unix_of_local(wall) {
                    assert_eq!(fixed, expected, "{tz} {t}");
                }
                t += Duration::minutes(7 * 60 + 13);
                if t.year() == 2032 {
                    t = Utc.with_ymd_and_hms(2099, 1, 1, 0, 0, 0).unwrap();
                }
            }
        }
        // Where the offset changes, only chrono-tz answers.
        let ny = LocalZone::new(Tz::America__New_York);
        assert_eq!(ny.fixed_local_seconds(1_780_000_000), None);
        assert_eq!(ny.fixed_unix_of_local(1_780_000_000), None);
    }

    #[test]
    fn gaps_map_forward_and_folds_to_the_first() {
        let ny = Tz::America__New_York;
        // 2026-03-08 02:30 does not exist in New York: 03:30 EDT = 07:30 UTC.
        let gap = NaiveDate::from_ymd_opt(2026, 3, 8)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        assert_eq!(
            local_to_utc(ny, gap),
            Utc.with_ymd_and_hms(2026, 3, 8, 7, 30, 0).unwrap()
        );
        // 2026-11-01 01:30 happens twice: first in EDT (05:30 UTC).
        let fold = NaiveDate::from_ymd_opt(2026, 11, 1)
            .unwrap()
            .and_hms_opt(1, 30, 0)
            .unwrap();
        assert_eq!(
            local_to_utc(ny, fold),
            Utc.with_ymd_and_hms(2026, 11, 1, 5, 30, 0).unwrap()
        );
    }
}
