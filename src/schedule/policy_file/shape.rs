//! Every mistake of shape in a policy file, not only the first: serde stops
//! at the first wrong type or unknown key, so each table of the file is
//! read on its own (the header, each step, each rule, each queue) and one
//! mistake does not hide the next.

use serde::de::DeserializeOwned;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::*;

/// A mistake and where it is; no place means the whole file.
pub(super) type Shape = (Option<Range<usize>>, String);

/// How one part of the file is read, with its mistakes added to the list.
type Read = fn(&Spanned<DeValue<'_>>, &mut Vec<Shape>);

/// A table's parts: key, how it is read, whether it must be there. These
/// mirror `RawPolicy` and `RawRules`; the default policy, which has every
/// part, must read without a mistake (tested).
const TOP: &[(&str, Read, bool)] = &[
    ("policy", read::<RawHeader>, true),
    ("step", each::<RawStep>, false),
    ("rules", rules, true),
    ("compliance", read::<RawCompliance>, false),
    ("offers", read::<RawOffers>, true),
    ("queue", each::<RawQueue>, false),
    ("scripts", read::<RawScripts>, false),
];

const RULES: &[(&str, Read, bool)] = &[
    ("promise", read::<RawPromiseRule>, true),
    ("broken_promise", read::<RawBrokenPromise>, true),
    ("callback", read::<RawCallback>, true),
    ("stop", read::<RawStop>, true),
    ("engagement", each::<RawEngagement>, false),
];

/// The file's mistake of syntax, or, where it parses, its mistakes of
/// shape. Only the first of syntax: after one, the parser's guesses at
/// what follows say things that are not so (every `[[queue]]` after a
/// broken table header a "duplicate key").
pub(super) fn mistakes(text: &str) -> Vec<Shape> {
    match DeTable::parse(text) {
        Ok(root) => {
            let mut found = Vec::new();
            parts(root.span(), root.get_ref(), TOP, &mut found);
            found
        }
        Err(e) => vec![shape(&e)],
    }
}

pub(super) fn shape(e: &toml::de::Error) -> Shape {
    (e.span(), e.message().trim().to_string())
}

fn parts(
    span: Range<usize>,
    table: &DeTable<'_>,
    known: &[(&str, Read, bool)],
    found: &mut Vec<Shape>,
) {
    for (key, value) in table {
        match known.iter().find(|(name, _, _)| *name == key.get_ref()) {
            Some((_, read, _)) => read(value, found),
            None => {
                let expected: Vec<String> = known
                    .iter()
                    .map(|(name, _, _)| format!("`{name}`"))
                    .collect();
                found.push((
                    Some(key.span()),
                    format!(
                        "unknown field `{}`, expected one of {}",
                        key.get_ref(),
                        expected.join(", ")
                    ),
                ));
            }
        }
    }
    for (name, _, required) in known {
        if *required && get(table, name).is_none() {
            found.push((Some(span.clone()), format!("missing field `{name}`")));
        }
    }
}

fn get<'t, 'i>(table: &'t DeTable<'i>, name: &str) -> Option<&'t Spanned<DeValue<'i>>> {
    table
        .iter()
        .find_map(|(key, value)| (key.get_ref() == name).then_some(value))
}

fn read<T: DeserializeOwned>(value: &Spanned<DeValue<'_>>, found: &mut Vec<Shape>) {
    if let Err(e) = T::deserialize(ValueDeserializer::from(value.clone())) {
        found.push(shape(&e));
    }
}

/// An array of tables, each read on its own.
fn each<T: DeserializeOwned>(value: &Spanned<DeValue<'_>>, found: &mut Vec<Shape>) {
    match value.get_ref() {
        DeValue::Array(items) => items.iter().for_each(|item| read::<T>(item, found)),
        _ => read::<Vec<T>>(value, found),
    }
}

fn rules(value: &Spanned<DeValue<'_>>, found: &mut Vec<Shape>) {
    match value.get_ref() {
        DeValue::Table(table) => parts(value.span(), table, RULES, found),
        _ => read::<RawRules>(value, found),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_policy_has_every_part_and_reads_without_a_mistake() {
        assert_eq!(mistakes(DEFAULT_TOML), []);
        let root = DeTable::parse(DEFAULT_TOML).unwrap();
        for (name, _, _) in TOP {
            assert!(get(root.get_ref(), name).is_some(), "{name}");
        }
        let rules = get(root.get_ref(), "rules").unwrap().get_ref();
        for (name, _, _) in RULES {
            assert!(
                get(rules.as_table().unwrap(), name).is_some(),
                "rules.{name}"
            );
        }
    }
}
