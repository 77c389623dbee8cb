//! The cleaning of [`super::sanitize`] applied while an answer is read, not
//! to a `serde_json::Value` built first: a 10,000-event timeline as a
//! `Value` tree cost more memory than everything else the console holds.
//!
//! [`Clean`] wraps a deserializer and hands every string it reads — values
//! and object keys — through [`clean`] or, under a key of [`MULTILINE_KEYS`]
//! (directly or in an array), [`clean_multiline`]: the same text as
//! cleaning the `Value` gave.

use serde::de::{self, DeserializeSeed, Visitor};
use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use super::sanitize::{MULTILINE_KEYS, clean, clean_multiline};

/// A deserializer whose strings come out clean. `multiline`: its strings
/// keep their line breaks. `key`: it reads an object key (or an enum's
/// variant) and tells the map whether that key is a multi-line one.
pub struct Clean<'k, D> {
    inner: D,
    multiline: bool,
    key: Option<&'k Cell<bool>>,
}

impl<D> Clean<'static, D> {
    pub fn new(inner: D) -> Self {
        Clean {
            inner,
            multiline: false,
            key: None,
        }
    }
}

impl<'k, D> Clean<'k, D> {
    fn visitor<V>(&self, inner: V) -> CleanVisitor<'k, V> {
        CleanVisitor {
            inner,
            multiline: self.multiline,
            key: self.key,
        }
    }
}

macro_rules! forward {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            let v = self.visitor(visitor);
            self.inner.$method(v)
        }
    )*};
}

impl<'de, 'k, D: de::Deserializer<'de>> de::Deserializer<'de> for Clean<'k, D> {
    type Error = D::Error;

    forward! {
        deserialize_any deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32
        deserialize_i64 deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32
        deserialize_u64 deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char
        deserialize_str deserialize_string deserialize_bytes deserialize_byte_buf
        deserialize_option deserialize_unit deserialize_seq deserialize_map
        deserialize_identifier deserialize_ignored_any
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let v = self.visitor(visitor);
        self.inner.deserialize_unit_struct(name, v)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let v = self.visitor(visitor);
        self.inner.deserialize_newtype_struct(name, v)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let v = self.visitor(visitor);
        self.inner.deserialize_tuple(len, v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let v = self.visitor(visitor);
        self.inner.deserialize_tuple_struct(name, len, v)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let v = self.visitor(visitor);
        self.inner.deserialize_struct(name, fields, v)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let v = self.visitor(visitor);
        self.inner.deserialize_enum(name, variants, v)
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// A seed whose deserializer is wrapped in [`Clean`].
struct CleanSeed<'k, S> {
    inner: S,
    multiline: bool,
    key: Option<&'k Cell<bool>>,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for CleanSeed<'_, S> {
    type Value = S::Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.inner.deserialize(Clean {
            inner: d,
            multiline: self.multiline,
            key: self.key,
        })
    }
}

struct CleanVisitor<'k, V> {
    inner: V,
    multiline: bool,
    key: Option<&'k Cell<bool>>,
}

impl<V> CleanVisitor<'_, V> {
    /// The text cleaned; a key also says whether its value is multi-line.
    fn clean<'s>(&self, s: &'s str) -> Cow<'s, str> {
        let cleaned = if self.multiline {
            clean_multiline(s)
        } else {
            clean(s)
        };
        if let Some(key) = self.key {
            key.set(MULTILINE_KEYS.contains(&cleaned.as_ref()));
        }
        cleaned
    }
}

macro_rules! pass {
    ($($method:ident: $ty:ty)*) => {$(
        fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
            self.inner.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for CleanVisitor<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.inner.expecting(f)
    }

    pass! {
        visit_bool: bool visit_i8: i8 visit_i16: i16 visit_i32: i32 visit_i64: i64
        visit_i128: i128 visit_u8: u8 visit_u16: u16 visit_u32: u32 visit_u64: u64
        visit_u128: u128 visit_f32: f32 visit_f64: f64 visit_char: char
        visit_bytes: &[u8] visit_borrowed_bytes: &'de [u8] visit_byte_buf: Vec<u8>
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        match self.clean(v) {
            Cow::Borrowed(v) => self.inner.visit_str(v),
            Cow::Owned(v) => self.inner.visit_string(v),
        }
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        match self.clean(v) {
            Cow::Borrowed(v) => self.inner.visit_borrowed_str(v),
            Cow::Owned(v) => self.inner.visit_string(v),
        }
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        match self.clean(&v) {
            Cow::Borrowed(_) => self.inner.visit_string(v),
            Cow::Owned(v) => self.inner.visit_string(v),
        }
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        let multiline = self.multiline;
        self.inner.visit_some(Clean {
            inner: d,
            multiline,
            key: None,
        })
    }

    fn visit_newtype_struct<D: de::Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        let multiline = self.multiline;
        self.inner.visit_newtype_struct(Clean {
            inner: d,
            multiline,
            key: None,
        })
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        let multiline = self.multiline;
        self.inner.visit_seq(Seq {
            inner: seq,
            multiline,
        })
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(Map {
            inner: map,
            multiline: Cell::new(false),
        })
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(Enum { inner: data })
    }
}

/// An array's items are as multi-line as the array.
struct Seq<A> {
    inner: A,
    multiline: bool,
}

impl<'de, A: de::SeqAccess<'de>> de::SeqAccess<'de> for Seq<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.inner.next_element_seed(CleanSeed {
            inner: seed,
            multiline: self.multiline,
            key: None,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// An object: each value is multi-line when its key (cleaned) says so.
struct Map<A> {
    inner: A,
    multiline: Cell<bool>,
}

impl<'de, A: de::MapAccess<'de>> de::MapAccess<'de> for Map<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        // A key that is not text (none in JSON) is not a multi-line one.
        self.multiline.set(false);
        self.inner.next_key_seed(CleanSeed {
            inner: seed,
            multiline: false,
            key: Some(&self.multiline),
        })
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.inner.next_value_seed(CleanSeed {
            inner: seed,
            multiline: self.multiline.get(),
            key: None,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// An enum written `{"variant": value}`: the variant is a key like any other.
struct Enum<A> {
    inner: A,
}

impl<'de, A: de::EnumAccess<'de>> de::EnumAccess<'de> for Enum<A> {
    type Error = A::Error;
    type Variant = Variant<A::Variant>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), A::Error> {
        let multiline = Cell::new(false);
        let (value, inner) = self.inner.variant_seed(CleanSeed {
            inner: seed,
            multiline: false,
            key: Some(&multiline),
        })?;
        Ok((
            value,
            Variant {
                inner,
                multiline: multiline.get(),
            },
        ))
    }
}

struct Variant<A> {
    inner: A,
    multiline: bool,
}

impl<'de, A: de::VariantAccess<'de>> de::VariantAccess<'de> for Variant<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.inner.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.inner.newtype_variant_seed(CleanSeed {
            inner: seed,
            multiline: self.multiline,
            key: None,
        })
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.inner.tuple_variant(
            len,
            CleanVisitor {
                inner: visitor,
                multiline: self.multiline,
                key: None,
            },
        )
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.inner.struct_variant(
            fields,
            CleanVisitor {
                inner: visitor,
                multiline: false,
                key: None,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::{Value, json};

    fn read<T: de::DeserializeOwned>(json: &str) -> T {
        let mut de = serde_json::Deserializer::from_str(json);
        T::deserialize(Clean::new(&mut de)).unwrap()
    }

    #[test]
    fn values_are_cleaned_everywhere_notes_keep_lines() {
        let text = json!({
            "name": "Ana\u{1b}[2J\nSilva",
            "na\u{1b}[1mme": 1,
            "tags": ["a\u{7}", {"note": "one\ntwo\u{1b}]0;x\u{7}"}],
            "note": ["l1\nl2"],
            "n": 3,
            "m": null,
        })
        .to_string();
        assert_eq!(
            read::<Value>(&text),
            json!({
                "name": "Ana� Silva",
                "na�me": 1,
                "tags": ["a�", {"note": "one\ntwo�"}],
                "note": ["l1\nl2"],
                "n": 3,
                "m": null,
            })
        );
    }

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Note { text: String, by: String },
        Call(String),
        Text(String),
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Typed {
        name: Option<String>,
        lines: Vec<String>,
        #[serde(flatten)]
        kind: Kind,
        outer: Vec<Kind>,
    }

    /// Typed answers: options, externally tagged enums and `flatten` (whose
    /// strings serde buffers before they reach the struct) all go through.
    #[test]
    fn typed_answers_are_cleaned_as_their_json_would_be() {
        let text = json!({
            "name": "Ana\r\nSilva",
            "lines": ["a\tb", "\u{202E}c"],
            "note": {"text": "x\ny\u{1b}[0m", "by": "ana\nmaria"},
            "outer": [{"call": "1\n2"}, {"text": "3\n4\u{7}"}],
        })
        .to_string();
        assert_eq!(
            read::<Typed>(&text),
            Typed {
                name: Some("Ana Silva".into()),
                lines: vec!["a b".into(), "c".into()],
                kind: Kind::Note {
                    text: "x\ny�".into(),
                    by: "ana maria".into()
                },
                outer: vec![Kind::Call("1 2".into()), Kind::Text("3\n4�".into())],
            }
        );
    }
}
