//! Where a debtor lives, for the law that applies to contacting them: a
//! Brazilian state (UF) or a US state.

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! ufs {
    ($($code:ident $name:literal $tz:ident,)*) => {
        /// The 26 Brazilian states and the Federal District.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
        pub enum Uf { $($code,)* }

        impl Uf {
            pub const ALL: [Uf; 27] = [$(Uf::$code,)*];

            pub fn code(self) -> &'static str {
                match self { $(Uf::$code => stringify!($code),)* }
            }

            pub fn name(self) -> &'static str {
                match self { $(Uf::$code => $name,)* }
            }

            /// The zone of the state's capital: a sensible default for a
            /// portfolio that gives no zone of its own.
            pub fn capital_time_zone(self) -> Tz {
                match self { $(Uf::$code => Tz::$tz,)* }
            }
        }
    };
}

ufs! {
    AC "Acre" America__Rio_Branco,
    AL "Alagoas" America__Maceio,
    AP "Amapá" America__Belem,
    AM "Amazonas" America__Manaus,
    BA "Bahia" America__Bahia,
    CE "Ceará" America__Fortaleza,
    DF "Distrito Federal" America__Sao_Paulo,
    ES "Espírito Santo" America__Sao_Paulo,
    GO "Goiás" America__Sao_Paulo,
    MA "Maranhão" America__Fortaleza,
    MT "Mato Grosso" America__Cuiaba,
    MS "Mato Grosso do Sul" America__Campo_Grande,
    MG "Minas Gerais" America__Sao_Paulo,
    PA "Pará" America__Belem,
    PB "Paraíba" America__Fortaleza,
    PR "Paraná" America__Sao_Paulo,
    PE "Pernambuco" America__Recife,
    PI "Piauí" America__Fortaleza,
    RJ "Rio de Janeiro" America__Sao_Paulo,
    RN "Rio Grande do Norte" America__Fortaleza,
    RS "Rio Grande do Sul" America__Sao_Paulo,
    RO "Rondônia" America__Porto_Velho,
    RR "Roraima" America__Boa_Vista,
    SC "Santa Catarina" America__Sao_Paulo,
    SP "São Paulo" America__Sao_Paulo,
    SE "Sergipe" America__Maceio,
    TO "Tocantins" America__Araguaina,
}

impl Uf {
    /// Whether `tz` keeps the local time of one of the state's own zones
    /// (its capital's; west Amazonas, west Pará, Fernando de Noronha): a
    /// zone that does not would move the hours the law allows calls.
    /// Zones of the same offsets count (a Bahia debtor given São Paulo's
    /// zone is called at the same hours).
    pub fn keeps_time_of(self, tz: Tz) -> bool {
        let own: &[Tz] = match self {
            Uf::AM => &[Tz::America__Manaus, Tz::America__Eirunepe],
            Uf::PA => &[Tz::America__Belem, Tz::America__Santarem],
            Uf::PE => &[Tz::America__Recife, Tz::America__Noronha],
            _ => &[self.capital_time_zone()],
        };
        own.contains(&tz) || own.iter().any(|z| same_offsets(*z, tz))
    }
}

/// Whether two zones tell the same time in a southern and a northern
/// summer: Brazil keeps no daylight saving since 2019, so its zones are
/// equal all year or not at all.
fn same_offsets(a: Tz, b: Tz) -> bool {
    use chrono::{Offset, TimeZone};
    [1_767_225_600, 1_782_864_000] // 2026-01-01 and 2026-07-01, UTC
        .iter()
        .filter_map(|s| chrono::DateTime::from_timestamp(*s, 0))
        .all(|t| {
            let t = t.naive_utc();
            a.offset_from_utc_datetime(&t).fix() == b.offset_from_utc_datetime(&t).fix()
        })
}

macro_rules! us_states {
    ($($code:ident,)*) => {
        /// The 50 US states and the District of Columbia.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
        pub enum UsState { $($code,)* }

        impl UsState {
            pub const ALL: &'static [UsState] = &[$(UsState::$code,)*];

            pub fn code(self) -> &'static str {
                match self { $(UsState::$code => stringify!($code),)* }
            }
        }
    };
}

us_states! {
    AL, AK, AZ, AR, CA, CO, CT, DE, DC, FL, GA, HI, ID, IL, IN, IA, KS, KY, LA, ME, MD, MA, MI,
    MN, MS, MO, MT, NE, NV, NH, NJ, NM, NY, NC, ND, OH, OK, OR, PA, RI, SC, SD, TN, TX, UT, VT,
    VA, WA, WV, WI, WY,
}

/// Written `SP` (or `BR-SP`) for a Brazilian state and `US-CA` for a US one:
/// a bare two-letter code is always a UF, since `PA`, `MA`, `AL`, `MT`, `MS`
/// and `SC` are both.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Jurisdiction {
    Br(Uf),
    Us(UsState),
}

impl Jurisdiction {
    /// A dense index, so per-jurisdiction tables are plain arrays.
    pub fn index(self) -> usize {
        match self {
            Jurisdiction::Br(uf) => uf as usize,
            Jurisdiction::Us(st) => Uf::ALL.len() + st as usize,
        }
    }

    pub const COUNT: usize = 27 + 51;

    pub fn all() -> impl Iterator<Item = Jurisdiction> {
        Uf::ALL
            .iter()
            .map(|&u| Jurisdiction::Br(u))
            .chain(UsState::ALL.iter().map(|&s| Jurisdiction::Us(s)))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a Brazilian UF (like SP) nor a US state (like US-CA)")]
pub struct UnknownJurisdiction(pub String);

impl FromStr for Jurisdiction {
    type Err = UnknownJurisdiction;

    fn from_str(text: &str) -> Result<Jurisdiction, UnknownJurisdiction> {
        let t = text.trim().to_ascii_uppercase();
        let unknown = || UnknownJurisdiction(text.to_string());
        if let Some(us) = t.strip_prefix("US-") {
            return UsState::ALL
                .iter()
                .find(|s| s.code() == us)
                .map(|&s| Jurisdiction::Us(s))
                .ok_or_else(unknown);
        }
        let br = t.strip_prefix("BR-").unwrap_or(&t);
        Uf::ALL
            .iter()
            .find(|u| u.code() == br)
            .map(|&u| Jurisdiction::Br(u))
            .ok_or_else(unknown)
    }
}

impl fmt::Display for Jurisdiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Jurisdiction::Br(uf) => f.write_str(uf.code()),
            Jurisdiction::Us(st) => write!(f, "US-{}", st.code()),
        }
    }
}

impl Serialize for Jurisdiction {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Jurisdiction {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_keeps_the_time_of_its_own_zones() {
        assert!(Uf::SP.keeps_time_of(Tz::America__Sao_Paulo));
        assert!(Uf::AM.keeps_time_of(Tz::America__Eirunepe));
        assert!(Uf::PE.keeps_time_of(Tz::America__Noronha));
        assert!(Uf::BA.keeps_time_of(Tz::America__Sao_Paulo), "same hours");
        assert!(!Uf::SP.keeps_time_of(Tz::Asia__Tokyo));
        assert!(!Uf::SP.keeps_time_of(Tz::America__Manaus), "an hour behind");
        assert!(!Uf::AC.keeps_time_of(Tz::America__Sao_Paulo));
        // New York matches São Paulo's offset in no season.
        assert!(!Uf::SP.keeps_time_of(Tz::America__New_York));
    }

    #[test]
    fn parses_and_prints_both_countries() {
        assert_eq!("SP".parse(), Ok(Jurisdiction::Br(Uf::SP)));
        assert_eq!("br-rj".parse(), Ok(Jurisdiction::Br(Uf::RJ)));
        assert_eq!("US-CA".parse(), Ok(Jurisdiction::Us(UsState::CA)));
        assert_eq!(
            "PA".parse(),
            Ok(Jurisdiction::Br(Uf::PA)),
            "bare codes are UFs"
        );
        assert!("XX".parse::<Jurisdiction>().is_err());
        assert!("US-XX".parse::<Jurisdiction>().is_err());
        for j in Jurisdiction::all() {
            assert_eq!(j.to_string().parse(), Ok(j));
        }
    }

    #[test]
    fn indexes_are_dense_and_distinct() {
        let mut seen = [false; Jurisdiction::COUNT];
        for j in Jurisdiction::all() {
            assert!(!seen[j.index()]);
            seen[j.index()] = true;
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(UsState::ALL.len(), 51);
    }
}
