//! Drawing the model. Views read the app and the theme and write to the
//! frame; they change nothing the keys act on, only record what drawing
//! alone can know (where a scrolled text ends, which rows of a list fit:
//! `Scroll` and `Follow`, in cells).

mod bars;
mod outbox;
mod overlays;
mod queues;
mod workspace;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

use super::action::Action;
use super::app::App;
use super::scroll::Scroll;
use super::theme::Theme;

pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let [top, body, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    bars::top(frame, top, app, theme);
    match &app.work {
        Some(w) => workspace::draw(frame, body, app, w, theme),
        None => queues::draw(frame, body, app, theme),
    }
    // The overlay before the key bar: its hints depend on whether the
    // overlay fits, which drawing it finds out.
    if let Some(overlay) = &app.overlay {
        overlays::draw(frame, body, app, overlay, theme);
    }
    bars::bottom(frame, bottom, app, theme);
}

/// A box of at most `w`×`h` in the middle of `area`.
fn centred(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// Text in a box, scrolled no further than its end, with ↑ and ↓ on the
/// border where rows are hidden (`None`: a box that does not scroll, and
/// shows from its top). `wrap`: long lines fold at the box's width;
/// `whole` unless more text follows `text` (see `Scroll::fit`).
pub struct Scrolled<'a> {
    pub text: Text<'static>,
    pub wrap: bool,
    pub whole: bool,
    pub block: Block<'a>,
}

pub fn scrolled(frame: &mut Frame, area: Rect, s: Scrolled<'_>, scroll: Option<&Scroll>) {
    let Scrolled {
        text,
        wrap,
        whole,
        mut block,
    } = s;
    let inner = block.inner(area);
    let mut p = Paragraph::new(text);
    if wrap {
        p = p.wrap(Wrap { trim: false });
    }
    let mut top = 0;
    if let Some(scroll) = scroll {
        // Laying the text out twice is only worth it when its end counts.
        let lines = if whole { p.line_count(inner.width) } else { 0 };
        top = scroll.fit(lines, inner.height, whole);
        let (above, below) = scroll.more();
        if above {
            block = block.title_top(Line::from(" ↑ ").right_aligned());
        }
        if below {
            block = block.title_bottom(Line::from(" ↓ ").right_aligned());
        }
    }
    frame.render_widget(block, area);
    frame.render_widget(p.scroll((top, 0)), inner);
}

/// The keys column of a help screen.
const KEYS: usize = 16;

/// One action on a help screen, in rows `width` wide: its keys in their
/// column, and what it does folded under itself. Keys too wide for their
/// column (a keymap can bind many) take a row of their own.
pub fn help_rows<'a>(
    keys: &str,
    words: impl Iterator<Item = &'a str>,
    width: usize,
) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    let mut first = keys.to_string();
    if keys.width() >= KEYS {
        rows.push((std::mem::take(&mut first), String::new()));
    }
    let room = width.saturating_sub(KEYS).max(20);
    for (i, text) in fold(words, room).into_iter().enumerate() {
        let keys = if i == 0 {
            std::mem::take(&mut first)
        } else {
            String::new()
        };
        rows.push((format!("{keys:<KEYS$}"), text));
    }
    rows
}

/// Words greedily into rows of at most `width` columns (a longer word
/// has a row of its own).
pub fn fold<'a>(words: impl Iterator<Item = &'a str>, width: usize) -> Vec<String> {
    let mut rows: Vec<String> = Vec::new();
    let mut row = String::new();
    for word in words {
        if !row.is_empty() && row.width() + 1 + word.width() > width {
            rows.push(std::mem::take(&mut row));
        }
        if !row.is_empty() {
            row.push(' ');
        }
        row.push_str(word);
    }
    rows.push(row);
    rows
}

/// One hint of a key bar: the key bound to an action, and a word for it.
pub struct Hint {
    pub action: Action,
    pub key: String,
    pub said: &'static str,
}

impl Hint {
    /// Columns as drawn: `key said`.
    fn width(&self) -> usize {
        self.key.width() + 1 + self.said.width()
    }
}

/// The hints of a key bar that fit in `width` columns, `gap` apart: the
/// last go first, but never the key to the help, which lists them all.
pub fn fitting(mut hints: Vec<Hint>, gap: usize, width: usize) -> Vec<Hint> {
    let columns =
        |h: &[Hint]| h.iter().map(Hint::width).sum::<usize>() + gap * h.len().saturating_sub(1);
    while columns(&hints) > width {
        match hints.iter().rposition(|h| h.action != Action::Help) {
            Some(i) => hints.remove(i),
            None => break,
        };
    }
    hints
}

/// A row of parts that fits in `width` columns: while it does not, the
/// last part of the highest rank goes, whole; rank 0 stays (the screen
/// cuts what still does not fit).
pub fn ranked(mut parts: Vec<(Span<'static>, u8)>, width: usize) -> Line<'static> {
    while parts.iter().map(|(s, _)| s.width()).sum::<usize>() > width {
        let Some(worst) = parts.iter().map(|(_, r)| *r).max().filter(|r| *r > 0) else {
            break;
        };
        let last = parts.iter().rposition(|(_, r)| *r == worst);
        parts.remove(last.expect("the highest rank is someone's"));
    }
    Line::from(parts.into_iter().map(|(s, _)| s).collect::<Vec<_>>())
}

/// The start of `text` that fits in `width` columns, without a trailing
/// space.
pub fn cut(text: &str, width: usize) -> &str {
    let mut end = 0;
    let mut used = 0;
    for (i, c) in text.char_indices() {
        used += unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used > width {
            break;
        }
        end = i + c.len_utf8();
    }
    text[..end].trim_end()
}

/// `text` in `width` columns: whole when it fits, else cut with `…`.
pub fn clipped(text: &str, width: usize) -> String {
    if text.width() <= width {
        text.to_string()
    } else {
        format!("{}…", cut(text, width.saturating_sub(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipped_says_when_it_cut() {
        assert_eq!(clipped("recusado", 8), "recusado");
        assert_eq!(clipped("recusado pelo servidor", 12), "recusado pe…");
        assert_eq!(clipped("recusado pelo", 10), "recusado…");
        assert_eq!(clipped("Conceição", 5), "Conc…");
        assert_eq!(clipped("日本語", 4), "日…");
    }

    #[test]
    fn fold_keeps_rows_within_the_width_and_a_long_word_whole() {
        let words = "ligar para o devedor quando a lei permitir".split_whitespace();
        assert_eq!(
            fold(words, 16),
            ["ligar para o", "devedor quando a", "lei permitir"]
        );
        let long = ["a", "palavra-comprida-demais", "b"];
        assert_eq!(
            fold(long.into_iter(), 8),
            ["a", "palavra-comprida-demais", "b"]
        );
        assert_eq!(fold(std::iter::empty(), 8), [""]);
    }

    #[test]
    fn help_rows_fold_under_their_column_and_wide_keys_take_their_own_row() {
        let words = || "fechar, cancelar ou voltar".split_whitespace();
        let rows = help_rows("esc", words(), 30);
        assert_eq!(
            rows,
            [
                (format!("{:<16}", "esc"), "fechar, cancelar ou".to_string()),
                (" ".repeat(16), "voltar".to_string()),
            ]
        );
        let rows = help_rows("pgdown, ctrl-d, space", words(), 60);
        assert_eq!(rows[0], ("pgdown, ctrl-d, space".into(), String::new()));
        assert_eq!(
            rows[1],
            (" ".repeat(16), "fechar, cancelar ou voltar".into())
        );
    }

    #[test]
    fn fitting_drops_hints_from_the_end_but_keeps_the_help() {
        let hint = |action, key: &str, said| Hint {
            action,
            key: key.to_string(),
            said,
        };
        let hints = || {
            vec![
                hint(Action::Call, "c", "ligar"),
                hint(Action::Help, "?", "ajuda"),
                hint(Action::Search, "/", "buscar"),
            ]
        };
        let kept = |width| -> Vec<Action> {
            fitting(hints(), 2, width)
                .into_iter()
                .map(|h| h.action)
                .collect()
        };
        assert_eq!(kept(80), [Action::Call, Action::Help, Action::Search]);
        // 7 + 2 + 7 columns: the search goes, though it comes after help.
        assert_eq!(kept(16), [Action::Call, Action::Help]);
        assert_eq!(kept(10), [Action::Help]);
        // Too narrow even for the help alone: it stays, the screen cuts it.
        assert_eq!(kept(3), [Action::Help]);
        assert!(fitting(Vec::new(), 2, 0).is_empty());
    }
}
