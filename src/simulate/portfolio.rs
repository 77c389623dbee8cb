//! A synthetic Brazilian portfolio, the same for the same seed: debtors
//! spread over the states like the population, a few in the US, a few with
//! data problems a real file has (no consented phone, a misspelt zone).

use chrono::{Days, NaiveDate};
use chrono_tz::Tz;
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::domain::{
    Currency, Debt, Debtor, Jurisdiction, Money, Phone, PhoneKind, Reason, Uf, UsState, Zone,
    cpf_from_base,
};

/// Share of the portfolio per UF, in tenths of a percent (roughly IBGE 2022).
const UF_WEIGHTS: [(Uf, u32); 27] = [
    (Uf::SP, 218),
    (Uf::MG, 101),
    (Uf::RJ, 79),
    (Uf::BA, 69),
    (Uf::PR, 56),
    (Uf::RS, 53),
    (Uf::PE, 45),
    (Uf::CE, 43),
    (Uf::PA, 40),
    (Uf::SC, 37),
    (Uf::GO, 35),
    (Uf::MA, 33),
    (Uf::AM, 19),
    (Uf::ES, 19),
    (Uf::PB, 19),
    (Uf::MT, 18),
    (Uf::RN, 16),
    (Uf::PI, 16),
    (Uf::AL, 15),
    (Uf::DF, 14),
    (Uf::MS, 14),
    (Uf::SE, 11),
    (Uf::RO, 8),
    (Uf::TO, 8),
    (Uf::AC, 4),
    (Uf::AP, 4),
    (Uf::RR, 3),
];

const US: [(UsState, Tz); 4] = [
    (UsState::NY, Tz::America__New_York),
    (UsState::FL, Tz::America__New_York),
    (UsState::TX, Tz::America__Chicago),
    (UsState::AZ, Tz::America__Phoenix),
];

const FIRST: &[&str] = &[
    "Ana",
    "Maria",
    "João",
    "José",
    "Francisca",
    "Antônio",
    "Juliana",
    "Carlos",
    "Fernanda",
    "Paulo",
    "Adriana",
    "Lucas",
    "Patrícia",
    "Marcos",
    "Aline",
    "Rafael",
    "Camila",
    "Pedro",
    "Luana",
    "Gabriel",
    "Beatriz",
    "Thiago",
    "Larissa",
    "Bruno",
    "Vanessa",
    "Felipe",
    "Raimunda",
    "Sebastião",
    "Letícia",
    "Mateus",
];
const LAST: &[&str] = &[
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Rodrigues",
    "Ferreira",
    "Alves",
    "Pereira",
    "Lima",
    "Gomes",
    "Costa",
    "Ribeiro",
    "Martins",
    "Carvalho",
    "Almeida",
    "Lopes",
    "Soares",
    "Fernandes",
    "Vieira",
    "Barbosa",
    "Rocha",
    "Dias",
    "Nascimento",
    "Andrade",
    "Moreira",
    "Nunes",
    "Marques",
    "Machado",
    "Mendes",
    "Freitas",
];
const CREDITORS: &[&str] = &[
    "Loja Aurora",
    "TelePlus",
    "Banco Horizonte",
    "Energia Sul",
    "Escola Saber",
];

/// Why this debtor owes, as they would tell an agent (the model's hidden
/// truth), with its share of the portfolio in percent.
const REASONS: [(Reason, u32); 7] = [
    (Reason::CashFlow, 25),
    (Reason::JobLoss, 22),
    (Reason::Forgot, 20),
    (Reason::Illness, 10),
    (Reason::Other, 12),
    (Reason::BillingError, 6),
    (Reason::DisputesDebt, 5),
];

pub struct Generated {
    pub debtor: Debtor,
    pub reason: Reason,
    /// This debtor's own random stream, so runs are the same however the
    /// work is split across threads.
    pub rng: ChaCha8Rng,
}

fn pick<T: Copy>(rng: &mut impl Rng, weighted: &[(T, u32)]) -> T {
    let total: u32 = weighted.iter().map(|(_, w)| w).sum();
    let mut n = rng.random_range(0..total);
    for &(item, w) in weighted {
        if n < w {
            return item;
        }
        n -= w;
    }
    weighted[weighted.len() - 1].0
}

/// The area code of the state's capital (DDD in Brazil).
fn area_code(j: Jurisdiction) -> u16 {
    match j {
        Jurisdiction::Us(UsState::NY) => 212,
        Jurisdiction::Us(UsState::FL) => 305,
        Jurisdiction::Us(UsState::TX) => 214,
        Jurisdiction::Us(UsState::AZ) => 602,
        Jurisdiction::Us(_) => 202,
        Jurisdiction::Br(uf) => match uf {
            Uf::AC => 68,
            Uf::AL => 82,
            Uf::AP => 96,
            Uf::AM => 92,
            Uf::BA => 71,
            Uf::CE => 85,
            Uf::DF => 61,
            Uf::ES => 27,
            Uf::GO => 62,
            Uf::MA => 98,
            Uf::MT => 65,
            Uf::MS => 67,
            Uf::MG => 31,
            Uf::PA => 91,
            Uf::PB => 83,
            Uf::PR => 41,
            Uf::PE => 81,
            Uf::PI => 86,
            Uf::RJ => 21,
            Uf::RN => 84,
            Uf::RS => 51,
            Uf::RO => 69,
            Uf::RR => 95,
            Uf::SC => 48,
            Uf::SP => 11,
            Uf::SE => 79,
            Uf::TO => 63,
        },
    }
}

/// Debtor `index` of the portfolio of `seed`, with debts due around `start`
/// (from 90 days before it to 20 days after: every stage of the régua).
pub fn debtor(seed: u64, index: usize, start: NaiveDate) -> Generated {
    let mut rng =
        ChaCha8Rng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let id = index as i64 + 1;
    let (jurisdiction, zone) = if rng.random_bool(0.02) {
        let (state, tz) = US[rng.random_range(0..US.len())];
        (Jurisdiction::Us(state), Zone::Known(tz))
    } else {
        let uf = pick(&mut rng, &UF_WEIGHTS);
        (Jurisdiction::Br(uf), Zone::Known(uf.capital_time_zone()))
    };
    // A file from the real world: now and then a zone nobody can read.
    let time_zone = if rng.random_bool(0.002) {
        Zone::parse("America/Sao_Paul")
    } else {
        zone
    };
    let base: [u8; 9] = std::array::from_fn(|_| rng.random_range(0..10));
    let name = format!(
        "{} {} {}",
        FIRST[rng.random_range(0..FIRST.len())],
        LAST[rng.random_range(0..LAST.len())],
        LAST[rng.random_range(0..LAST.len())]
    );
    // Numbers of the debtor's own state, shaped as their kind is (a
    // Brazilian mobile has nine digits from a 9, a landline eight from a 3,
    // a work number from a 2; US numbers are the 555-01xx kept for
    // fiction, a work number's under the next area code): a debtor's work
    // number is never their own.
    let area = area_code(jurisdiction);
    let number = |digits: u32, kind: PhoneKind| match (jurisdiction, kind) {
        (Jurisdiction::Us(_), PhoneKind::Work) => {
            format!("+1{}55501{:02}", area + 1, digits % 100)
        }
        (Jurisdiction::Us(_), _) => format!("+1{area}55501{:02}", digits % 100),
        (Jurisdiction::Br(_), PhoneKind::Mobile) => {
            format!("+55{area}9{:08}", digits % 100_000_000)
        }
        (Jurisdiction::Br(_), PhoneKind::Landline) => {
            format!("+55{area}3{:07}", digits % 10_000_000)
        }
        (Jurisdiction::Br(_), PhoneKind::Work) => format!("+55{area}2{:07}", digits % 10_000_000),
    };
    let digits = rng.random_range(0..100_000_000u32);
    let kind = if rng.random_bool(0.85) {
        PhoneKind::Mobile
    } else {
        PhoneKind::Landline
    };
    let mut phones = vec![Phone {
        number: number(digits, kind),
        kind,
        consent: rng.random_bool(0.93),
    }];
    if rng.random_bool(0.3) {
        phones.push(Phone {
            number: number(rng.random_range(0..10_000_000u32), PhoneKind::Work),
            kind: PhoneKind::Work,
            consent: rng.random_bool(0.7),
        });
    }
    let email = rng
        .random_bool(0.7)
        .then(|| format!("devedor{id}@exemplo.com.br"));
    let segment = pick(
        &mut rng,
        &[("retail", 60), ("telecom", 25), ("small_business", 15)],
    )
    .to_string();
    let tags = if rng.random_bool(0.005) {
        vec!["represented_by_attorney".to_string()]
    } else {
        vec![]
    };
    // Balances from R$ 50 to about R$ 20,000, most of them small.
    let balance = (5_000.0 * (rng.random_range(0.0..1.0f64) * 6.0).exp()) as i64;
    let balance = balance.min(2_000_000);
    let interest = balance * rng.random_range(10..35) / 100;
    let offset = rng.random_range(-90i64..=20);
    let due_date = if offset >= 0 {
        start + Days::new(offset as u64)
    } else {
        start - Days::new(offset.unsigned_abs())
    };
    let debt = Debt {
        id,
        creditor: CREDITORS[rng.random_range(0..CREDITORS.len())].to_string(),
        original: Money::new(balance - interest, Currency::BRL),
        balance: Money::new(balance, Currency::BRL),
        interest_and_fees: Money::new(interest, Currency::BRL),
        due_date,
    };
    let reason = pick(&mut rng, &REASONS);
    Generated {
        debtor: Debtor {
            id,
            external_id: format!("SIM-{id:07}"),
            name,
            document: cpf_from_base(base),
            phones,
            email,
            jurisdiction,
            time_zone,
            segment,
            tags,
            debts: vec![debt],
        },
        reason,
        rng,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_debtor_and_valid_documents() {
        let start = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        for i in 0..200 {
            let a = debtor(7, i, start);
            let b = debtor(7, i, start);
            assert_eq!(a.debtor, b.debtor);
            let cpf = a.debtor.document.to_string();
            // A CPF whose digits are all equal is invalid by rule; the
            // generator makes those only by astronomically rare chance.
            assert!(cpf.parse::<crate::domain::Document>().is_ok(), "{cpf}");
            assert!(a.debtor.debts[0].balance.is_positive());
        }
        assert_ne!(debtor(7, 0, start).debtor, debtor(8, 0, start).debtor);
    }

    /// The demo's numbers are ones an import would take for that debtor,
    /// of the kind they are said to be: a CE debtor's mobile is from 85.
    #[test]
    fn phones_are_of_the_debtors_state_and_of_their_kind() {
        let start = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        for i in 0..2_000 {
            let d = debtor(1, i, start).debtor;
            if let [own, work] = &d.phones[..] {
                assert_ne!(own.number, work.number, "a debtor's two numbers");
            }
            for p in &d.phones {
                let read = crate::import::phone(&p.number, d.jurisdiction);
                let (_, kind) = read.unwrap_or_else(|e| panic!("{}: {e}", p.number));
                // Only a Brazilian number says its kind.
                if p.kind != PhoneKind::Work && matches!(d.jurisdiction, Jurisdiction::Br(_)) {
                    assert_eq!(kind, p.kind, "{}", p.number);
                }
                if let Jurisdiction::Br(uf) = d.jurisdiction {
                    let area = area_code(d.jurisdiction).to_string();
                    assert!(p.number[3..].starts_with(&area), "{uf:?} {}", p.number);
                }
            }
        }
    }
}
