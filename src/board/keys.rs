//! Keys from a raw byte stream (an SSH channel has no crossterm to read it
//! for us): printable text, control keys, and the common VT escape
//! sequences. An Esc followed by a key in the same read is Alt+key, as
//! terminals send it; an Esc alone at the end of a read is Esc.

use ratatui::crossterm::event::{KeyCode, KeyModifiers};

use crate::console::keymap::Key;

/// Where a paste starts and ends, once the board asks the terminal to mark
/// them (`ESC [ ? 2004 h`).
const PASTE_START: &str = "\x1b[200~";
const PASTE_END: &str = "\x1b[201~";

/// Keys from a channel's reads, one read at a time. A paste is dropped
/// whole, as the local board drops it: its characters as keys would act
/// (a `q` quits), and a paste may come in several reads.
#[derive(Default)]
pub struct Decoder {
    /// Inside a paste: what may be the start of its end marker, carried
    /// from the last read.
    pasting: Option<String>,
    /// A read that ended partway into a paste's start marker.
    starting: String,
}

impl Decoder {
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Key> {
        let mut text = std::mem::take(&mut self.starting) + &String::from_utf8_lossy(bytes);
        let mut keys = Vec::new();
        loop {
            if let Some(tail) = self.pasting.take() {
                let joined = tail + &text;
                let Some(at) = joined.find(PASTE_END) else {
                    // The end marker may be cut in two: keep its length
                    // but one.
                    let from = joined.len().saturating_sub(PASTE_END.len() - 1);
                    let from = (from..=joined.len())
                        .find(|&i| joined.is_char_boundary(i))
                        .unwrap_or(joined.len());
                    self.pasting = Some(joined[from..].to_string());
                    return keys;
                };
                text = joined[at + PASTE_END.len()..].to_string();
            }
            if let Some(at) = text.find(PASTE_START) {
                keys.extend(decode(&text.as_bytes()[..at]));
                self.pasting = Some(String::new());
                text = text[at + PASTE_START.len()..].to_string();
                continue;
            }
            // `ESC [` and more of the start marker at the very end: the
            // rest is in the next read. (A lone ESC is the Esc key.)
            let cut = (2..PASTE_START.len())
                .rev()
                .find(|&n| text.ends_with(&PASTE_START[..n]))
                .map_or(text.len(), |n| text.len() - n);
            self.starting = text[cut..].to_string();
            keys.extend(decode(&text.as_bytes()[..cut]));
            return keys;
        }
    }
}

/// The keys in `bytes`; anything not understood is dropped.
pub fn decode(bytes: &[u8]) -> Vec<Key> {
    let text = String::from_utf8_lossy(bytes);
    let chars: Vec<char> = text.chars().collect();
    let mut keys = Vec::new();
    let mut i = 0;
    let plain = |code| Key::new(code, KeyModifiers::NONE);
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        let key = match c {
            '\x1b' => match chars.get(i) {
                None => plain(KeyCode::Esc),
                Some('[') | Some('O') => {
                    let (key, used) = sequence(&chars[i + 1..]);
                    i += 1 + used;
                    match key {
                        Some(k) => k,
                        None => continue,
                    }
                }
                Some('\x1b') => plain(KeyCode::Esc),
                Some(&next) => {
                    i += 1;
                    match control(next) {
                        Some(k) => Key::new(k.code, k.mods | KeyModifiers::ALT),
                        None if next.is_control() => continue,
                        None => Key::new(KeyCode::Char(next), KeyModifiers::ALT),
                    }
                }
            },
            c => match control(c) {
                Some(k) => k,
                None if c.is_control() => continue,
                None => plain(KeyCode::Char(c)),
            },
        };
        keys.push(key);
    }
    keys
}

/// A control character as a key (`None`: printable, or not a key).
fn control(c: char) -> Option<Key> {
    let plain = |code| Some(Key::new(code, KeyModifiers::NONE));
    match c {
        '\r' | '\n' => plain(KeyCode::Enter),
        '\t' => plain(KeyCode::Tab),
        '\x7f' | '\x08' => plain(KeyCode::Backspace),
        '\x00' => Some(Key::new(KeyCode::Char(' '), KeyModifiers::CONTROL)),
        '\x01'..='\x1a' => Some(Key::new(
            KeyCode::Char((b'a' + (c as u8 - 1)) as char),
            KeyModifiers::CONTROL,
        )),
        _ => None,
    }
}

/// After `ESC [` or `ESC O`: the key and how many characters it used.
fn sequence(rest: &[char]) -> (Option<Key>, usize) {
    // Parameters (digits and ';') then one final character.
    let params: String = rest
        .iter()
        .take_while(|c| c.is_ascii_digit() || **c == ';')
        .collect();
    let Some(&last) = rest.get(params.len()) else {
        return (None, rest.len());
    };
    let used = params.len() + 1;
    let plain = |code| Some(Key::new(code, KeyModifiers::NONE));
    let key = match (params.as_str(), last) {
        (_, 'A') => plain(KeyCode::Up),
        (_, 'B') => plain(KeyCode::Down),
        (_, 'C') => plain(KeyCode::Right),
        (_, 'D') => plain(KeyCode::Left),
        (_, 'H') | ("1" | "7", '~') => plain(KeyCode::Home),
        (_, 'F') | ("4" | "8", '~') => plain(KeyCode::End),
        (_, 'Z') => plain(KeyCode::BackTab),
        ("", 'P') => plain(KeyCode::F(1)),
        ("", 'Q') => plain(KeyCode::F(2)),
        ("", 'R') => plain(KeyCode::F(3)),
        ("", 'S') => plain(KeyCode::F(4)),
        ("2", '~') => plain(KeyCode::Insert),
        ("3", '~') => plain(KeyCode::Delete),
        ("5", '~') => plain(KeyCode::PageUp),
        ("6", '~') => plain(KeyCode::PageDown),
        ("15", '~') => plain(KeyCode::F(5)),
        _ => None,
    };
    (key, used)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(bytes: &[u8]) -> Vec<String> {
        decode(bytes).iter().map(ToString::to_string).collect()
    }

    fn fed(reads: &[&str]) -> Vec<String> {
        let mut d = Decoder::default();
        reads
            .iter()
            .flat_map(|r| d.feed(r.as_bytes()))
            .map(|k| k.to_string())
            .collect()
    }

    /// A paste is dropped whole, however the reads cut it; the keys
    /// around it are kept.
    #[test]
    fn a_paste_is_dropped_whole() {
        assert_eq!(fed(&["a\x1b[200~q\r/x\x1b[201~b"]), ["a", "b"]);
        assert_eq!(fed(&["x\x1b[200~qq", "q\x1b[20", "1~y"]), ["x", "y"]);
        assert_eq!(fed(&["x\x1b[2", "00~q", "q\x1b[201~", "z"]), ["x", "z"]);
        assert_eq!(
            fed(&["\x1b[200~", "q", "", "\x1b", "[201~", "\x1b"]),
            ["esc"]
        );
        assert_eq!(fed(&["q\x1b[A"]), ["q", "up"], "other sequences as before");
    }

    #[test]
    fn text_controls_and_sequences() {
        assert_eq!(keys(b"q/ab"), ["q", "/", "a", "b"]);
        assert_eq!(
            keys(b"\r\t\x7f\x03"),
            ["enter", "tab", "backspace", "ctrl-c"]
        );
        assert_eq!(keys(b"\x1b[A\x1b[B\x1bOA"), ["up", "down", "up"]);
        assert_eq!(
            keys(b"\x1b[5~\x1b[6~\x1b[Z"),
            ["pgup", "pgdown", "shift-tab"]
        );
        assert_eq!(keys(b"\x1bOP\x1b[15~"), ["f1", "f5"]);
        assert_eq!(keys(b"\x1b"), ["esc"]);
        assert_eq!(keys(b"\x1bx"), ["alt-x"]);
        assert_eq!(keys("é".as_bytes()), ["é"]);
    }
}
