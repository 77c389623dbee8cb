//! Text from a server is data, never terminal commands. Every string of
//! every answer passes through here once, where it enters the client, so no
//! view can forget (ratatui writes what it is given, escape sequences too).
//!
//! What becomes of what:
//! - an escape sequence (CSI `ESC [ … final`, OSC `ESC ] … BEL|ST`, DCS,
//!   SOS, PM, APC up to their terminator, the two- and three-byte escapes,
//!   and their 8-bit C1 forms) is taken out whole and leaves one visible
//!   `�` (U+FFFD), so a tampered field shows that something was there; its
//!   payload never shows (an unterminated string runs to the end of the
//!   text, as a terminal would swallow it);
//! - any other C0 or C1 control character and DEL becomes `�`;
//! - line breaks (LF, CR, CR LF, VT, FF, NEL) and tabs become one space in
//!   single-line text; [`clean_multiline`] turns the line breaks into `\n`;
//! - bidirectional formatting characters (U+202A–U+202E, U+2066–U+2069,
//!   U+200E, U+200F, U+061C) are dropped: invisible, and able to show text
//!   in another order than it is stored.
//!
//! Text without any of these comes back borrowed, unchanged.

use std::borrow::Cow;
use std::iter::Peekable;
use std::str::Chars;

/// What an escape sequence or a stray control character leaves behind.
pub const REPLACEMENT: char = '\u{FFFD}';

/// Object keys whose strings are multi-line text (a note, a talking point): their
/// line breaks are kept as `\n`. Every other string is one line.
pub const MULTILINE_KEYS: &[&str] = &["note", "text"];

/// Single-line text (a name, a code, a message): no control character at
/// all in the result.
pub fn clean(s: &str) -> Cow<'_, str> {
    scrub(s, false)
}

/// Multi-line text (a note): as [`clean`], but line breaks become `\n`, the
/// only control character left.
pub fn clean_multiline(s: &str) -> Cow<'_, str> {
    scrub(s, true)
}

pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

fn scrub(s: &str, multiline: bool) -> Cow<'_, str> {
    let clean_already = s
        .chars()
        .all(|c| !(c.is_control() || is_bidi_control(c)) || (multiline && c == '\n'));
    if clean_already {
        return Cow::Borrowed(s);
    }
    let line_break = if multiline { '\n' } else { ' ' };
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                skip_escape(&mut chars);
                out.push(REPLACEMENT);
            }
            '\u{9b}' => {
                skip_csi(&mut chars);
                out.push(REPLACEMENT);
            }
            // OSC, DCS, SOS, PM, APC.
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => {
                skip_string(&mut chars);
                out.push(REPLACEMENT);
            }
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push(line_break);
            }
            '\n' | '\u{0b}' | '\u{0c}' | '\u{85}' => out.push(line_break),
            '\t' => out.push(' '),
            c if is_bidi_control(c) => {}
            c if c.is_control() => out.push(REPLACEMENT),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn in_range(c: Option<&char>, from: u8, to: u8) -> bool {
    c.is_some_and(|&c| (from as char..=to as char).contains(&c))
}

/// After an ESC: the rest of whatever sequence it starts. A character that
/// cannot continue one is left for the caller (ESC alone is dropped).
fn skip_escape(chars: &mut Peekable<Chars>) {
    match chars.peek() {
        Some('[') => {
            chars.next();
            skip_csi(chars);
        }
        Some(']' | 'P' | 'X' | '^' | '_') => {
            chars.next();
            skip_string(chars);
        }
        // Intermediates, then a final byte: `ESC ( B`, `ESC # 8`.
        c if in_range(c, 0x20, 0x2f) => {
            while chars.next_if(|&c| ('\x20'..='\x2f').contains(&c)).is_some() {}
            chars.next_if(|&c| ('\x30'..='\x7e').contains(&c));
        }
        // One byte: `ESC c` (reset), `ESC 7`, `ESC M`.
        c if in_range(c, 0x30, 0x7e) => {
            chars.next();
        }
        _ => {}
    }
}

/// Parameters and intermediates, then the final byte; a malformed sequence
/// ends at the first character that does not belong.
fn skip_csi(chars: &mut Peekable<Chars>) {
    while chars.next_if(|&c| ('\x20'..='\x3f').contains(&c)).is_some() {}
    chars.next_if(|&c| ('\x40'..='\x7e').contains(&c));
}

/// A control string, up to BEL or ST (`ESC \` or U+009C). Another ESC ends
/// it and is left to start a sequence of its own.
fn skip_string(chars: &mut Peekable<Chars>) {
    while let Some(c) = chars.peek() {
        match c {
            '\u{7}' | '\u{9c}' => {
                chars.next();
                return;
            }
            '\u{1b}' => {
                let mut ahead = chars.clone();
                ahead.next();
                if ahead.peek() == Some(&'\\') {
                    chars.next();
                    chars.next();
                }
                return;
            }
            _ => {
                chars.next();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn forbidden(c: char, multiline: bool) -> bool {
        (c.is_control() && !(multiline && c == '\n')) || is_bidi_control(c)
    }

    #[test]
    fn escape_sequences_leave_one_mark_and_no_payload() {
        let cases = [
            ("Ana\u{1b}[2JSilva", "Ana�Silva"),
            ("\u{1b}[1;31mred\u{1b}[0m", "�red�"),
            ("\u{1b}]52;c;ZWNobyBwd25lZA==\u{7}Ana", "�Ana"),
            ("\u{1b}]0;title\u{1b}\\Ana", "�Ana"),
            (
                "\u{1b}]8;;http://evil\u{1b}\\link\u{1b}]8;;\u{1b}\\",
                "�link�",
            ),
            ("\u{1b}P1$r\u{1b}\\x", "�x"),
            ("\u{1b}_apc\u{9c}x", "�x"),
            ("a\u{9b}31mb", "a�b"),
            ("a\u{9d}0;t\u{7}b", "a�b"),
            ("\u{1b}(Bok", "�ok"),
            ("\u{1b}cok", "�ok"),
            ("\u{1b}#8ok", "�ok"),
            ("end\u{1b}", "end�"),
            ("\u{1b}\u{1b}[Hx", "��x"),
            // An OSC cut short by another escape: both go.
            ("\u{1b}]0;t\u{1b}[2Jx", "��x"),
            // Unterminated: swallowed to the end, as a terminal would.
            ("Ana \u{1b}]0;rest of it", "Ana �"),
            // A malformed CSI ends at the first stranger.
            ("\u{1b}[12\u{e9}x", "�\u{e9}x"),
        ];
        for (input, want) in cases {
            assert_eq!(clean(input), want, "{input:?}");
        }
    }

    #[test]
    fn controls_line_breaks_and_bidi() {
        assert_eq!(clean("a\u{0}b\u{7}c\u{7f}d\u{85}e\u{90}"), "a�b�c�d e�");
        assert_eq!(clean("Ana\nMaria\r\nda\tSilva\rX"), "Ana Maria da Silva X");
        assert_eq!(
            clean_multiline("paga dia 15\r\nligar\rdepois\u{b}fim\n"),
            "paga dia 15\nligar\ndepois\nfim\n"
        );
        assert_eq!(
            clean_multiline("nota\n\u{1b}[2J\tx"),
            "nota\n� x",
            "escapes go from notes too"
        );
        assert_eq!(
            clean("invoice\u{202E}fdp.exe\u{2066}\u{200F}\u{61C}"),
            "invoicefdp.exe"
        );
        assert!(matches!(
            clean("Fulano de Tal, nº 3 — ção 🙂"),
            Cow::Borrowed(_)
        ));
        assert!(matches!(clean_multiline("a\nb"), Cow::Borrowed(_)));
    }

    fn nasty() -> impl Strategy<Value = String> {
        let pieces = prop_oneof![
            any::<char>().prop_map(String::from),
            Just("\u{1b}".to_string()),
            Just("\u{1b}[".to_string()),
            Just("\u{1b}]".to_string()),
            Just("\u{7}".to_string()),
            Just("\u{9b}".to_string()),
            Just("\u{9c}".to_string()),
            Just("\u{1b}\\".to_string()),
            Just("\r\n".to_string()),
            Just("\u{202E}".to_string()),
            "[0-9;]{0,4}",
            "[a-zA-Z ]{0,4}",
        ];
        prop::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn no_control_character_survives(s in nasty()) {
            let one = clean(&s);
            prop_assert!(!one.chars().any(|c| forbidden(c, false)), "{:?} -> {:?}", s, one);
            let many = clean_multiline(&s);
            prop_assert!(!many.chars().any(|c| forbidden(c, true)), "{:?} -> {:?}", s, many);
            prop_assert_eq!(clean(&one), one.clone(), "cleaning twice changes nothing");
            prop_assert_eq!(clean_multiline(&many), many.clone());
        }

        #[test]
        fn printable_text_is_unchanged(s in any::<String>()) {
            let printable: String = s.chars().filter(|&c| !forbidden(c, false)).collect();
            prop_assert!(matches!(clean(&printable), Cow::Borrowed(t) if t == printable));
            prop_assert!(matches!(clean_multiline(&printable), Cow::Borrowed(t) if t == printable));
        }
    }
}
