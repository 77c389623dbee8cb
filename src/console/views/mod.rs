//! Drawing the model. Views read the app and the theme and write to the
//! frame; they never change state.

mod bars;
mod overlays;
mod queues;
mod workspace;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Text};
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
    bars::bottom(frame, bottom, app, theme);
    if let Some(overlay) = &app.overlay {
        overlays::draw(frame, body, app, overlay, theme);
    }
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
/// border where rows are hidden. `wrap`: long lines fold at the box's
/// width; `whole` unless more text follows `text` (see `Scroll::fit`).
pub struct Scrolled<'a> {
    pub text: Text<'static>,
    pub wrap: bool,
    pub whole: bool,
    pub block: Block<'a>,
}

pub fn scrolled(frame: &mut Frame, area: Rect, s: Scrolled<'_>, scroll: &Scroll) {
    let Scrolled {
        text,
        wrap,
        whole,
        block,
    } = s;
    let inner = block.inner(area);
    let mut p = Paragraph::new(text);
    if wrap {
        p = p.wrap(Wrap { trim: false });
    }
    let top = scroll.fit(p.line_count(inner.width), inner.height, whole);
    let (above, below) = scroll.more();
    let mut block = block;
    if above {
        block = block.title_top(Line::from(" ↑ ").right_aligned());
    }
    if below {
        block = block.title_bottom(Line::from(" ↓ ").right_aligned());
    }
    frame.render_widget(block, area);
    frame.render_widget(p.scroll((top, 0)), inner);
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

/// The hints of a key bar (`key word`) that fit in `width` columns, `gap`
/// apart: the last go first, but never the key to the help, which lists
/// them all.
pub fn fitting(
    mut hints: Vec<(Action, String)>,
    gap: usize,
    width: usize,
) -> Vec<(Action, String)> {
    let columns = |h: &[(Action, String)]| {
        h.iter().map(|(_, s)| s.width()).sum::<usize>() + gap * h.len().saturating_sub(1)
    };
    while columns(&hints) > width {
        match hints.iter().rposition(|(a, _)| *a != Action::Help) {
            Some(i) => hints.remove(i),
            None => break,
        };
    }
    hints
}
