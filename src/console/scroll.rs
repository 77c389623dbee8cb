//! How far a view is scrolled. Lines wrap to the width of the screen, so
//! only drawing knows where the text ends: the view records the furthest
//! it can go, and the keys that come next stop there instead of scrolling
//! into blank rows that take as many keys to come back from.

use std::cell::Cell;
use std::ops::Range;

use super::action::Action;

/// Rows a page key moves.
const PAGE: i32 = 10;

/// The rows a movement key moves (up is negative); 0 for another action.
pub fn rows(action: Action) -> i32 {
    match action {
        Action::Up => -1,
        Action::Down => 1,
        Action::PageUp => -PAGE,
        Action::PageDown => PAGE,
        _ => 0,
    }
}

#[derive(Clone, Debug, Default)]
pub struct Scroll {
    top: u16,
    end: Cell<End>,
}

/// Two views are scrolled alike when they start at the same row; where
/// each was last drawn to is not part of it.
impl PartialEq for Scroll {
    fn eq(&self, other: &Scroll) -> bool {
        self.top == other.top
    }
}

impl Eq for Scroll {}

/// Where the text ends, as last drawn.
#[derive(Clone, Copy, Debug, Default)]
enum End {
    /// Not drawn yet.
    #[default]
    Unknown,
    /// Past what was drawn: a long list is laid out only as far as shown.
    Beyond,
    /// The furthest first row that still fills the view.
    At(u16),
}

impl Scroll {
    /// The first row shown.
    pub fn top(&self) -> u16 {
        match self.end.get() {
            End::At(last) => self.top.min(last),
            End::Unknown | End::Beyond => self.top,
        }
    }

    pub fn by(&mut self, rows: i32) {
        let last = match self.end.get() {
            End::At(last) => i32::from(last),
            End::Unknown | End::Beyond => i32::from(u16::MAX),
        };
        self.top = (i32::from(self.top()) + rows).clamp(0, last) as u16;
    }

    pub fn home(&mut self) {
        self.top = 0;
    }

    /// Drawing: the text laid out takes `lines` rows, the view shows
    /// `rows`; `whole` unless more text follows what was laid out. Gives
    /// the first row to show.
    pub fn fit(&self, lines: usize, rows: u16, whole: bool) -> u16 {
        self.end.set(if whole {
            let last = lines.saturating_sub(usize::from(rows));
            End::At(u16::try_from(last).unwrap_or(u16::MAX))
        } else {
            End::Beyond
        });
        self.top()
    }

    /// Whether rows are hidden above and below, as last drawn.
    pub fn more(&self) -> (bool, bool) {
        let top = self.top();
        let below = match self.end.get() {
            End::At(last) => top < last,
            End::Beyond => true,
            End::Unknown => false,
        };
        (top > 0, below)
    }
}

/// A list shown a few rows at a time (search results, the outcome form's
/// dispositions, the board's queues): the window moves as little as it
/// takes to keep the selected row in view, so the selection never leaves
/// the screen. Drawing moves it, since only drawing knows the rows.
#[derive(Clone, Debug, Default)]
pub struct Follow {
    top: Cell<usize>,
}

impl Follow {
    /// Drawing: the rows of a `len`-long list to show in `rows`.
    pub fn window(&self, sel: usize, len: usize, rows: usize) -> Range<usize> {
        if len == 0 {
            return 0..0;
        }
        let rows = rows.clamp(1, len);
        let sel = sel.min(len - 1);
        let mut top = self.top.get().min(len - rows);
        if sel < top {
            top = sel;
        } else if sel >= top + rows {
            top = sel + 1 - rows;
        }
        self.top.set(top);
        top..top + rows
    }
}

/// The margin of a row in a window of a longer list: `↑` on the first row
/// when rows are hidden above, `↓` on the last when some are below (`↕`
/// on a single row with both).
pub fn mark(row: usize, shown: &Range<usize>, len: usize) -> &'static str {
    let above = row == shown.start && shown.start > 0;
    let below = row + 1 == shown.end && shown.end < len;
    if above && below {
        "↕"
    } else if above {
        "↑"
    } else if below {
        "↓"
    } else {
        " "
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_the_end_the_view_last_drew() {
        let mut s = Scroll::default();
        // Before any draw the end is unknown.
        s.by(50);
        assert_eq!(s.top(), 50);
        // 30 lines in 10 rows: row 20 is the last that fills the view.
        assert_eq!(s.fit(30, 10, true), 20);
        assert_eq!(s.more(), (true, false));
        // Back one goes back one, not 30 blank rows.
        s.by(-1);
        assert_eq!(s.top(), 19);
        s.by(100);
        assert_eq!(s.top(), 20);
        s.by(-100);
        assert_eq!((s.top(), s.more()), (0, (false, true)));
        // A text that fits shows from its first line.
        s.by(5);
        assert_eq!(s.fit(4, 10, true), 0);
        assert_eq!(s.more(), (false, false));
        // Home from down the text (the row kept from before the text
        // shrank comes back with it).
        s.fit(30, 10, true);
        s.by(7);
        assert_eq!(s.top(), 12);
        s.home();
        assert_eq!(s.top(), 0);
    }

    #[test]
    fn a_list_laid_out_only_as_far_as_shown_scrolls_on() {
        let mut s = Scroll::default();
        s.by(5);
        // 5 scrolled past and 10 shown laid out, with more after them.
        assert_eq!(s.fit(15, 10, false), 5);
        assert_eq!(s.more(), (true, true));
        s.by(10);
        assert_eq!(s.top(), 15);
    }

    #[test]
    fn a_window_follows_the_selection_moving_as_little_as_it_can() {
        let f = Follow::default();
        assert_eq!(f.window(0, 12, 5), 0..5);
        assert_eq!(f.window(4, 12, 5), 0..5);
        // Past the bottom: one row at a time.
        assert_eq!(f.window(5, 12, 5), 1..6);
        assert_eq!(f.window(11, 12, 5), 7..12);
        // Back up: the window stays until the selection reaches its top.
        assert_eq!(f.window(8, 12, 5), 7..12);
        assert_eq!(f.window(6, 12, 5), 6..11);
        // The list shrank (a filter typed): the window still fits it.
        assert_eq!(f.window(0, 3, 5), 0..3);
        assert_eq!(f.window(0, 0, 5), 0..0);
        // Room for every row: all of them.
        assert_eq!(Follow::default().window(9, 12, 20), 0..12);
    }

    #[test]
    fn marks_say_where_rows_are_hidden() {
        let shown = 3..8;
        let marks: String = (3..8).map(|r| mark(r, &shown, 12)).collect();
        assert_eq!(marks, "↑   ↓");
        assert_eq!(mark(4, &(4..5), 9), "↕");
        let all = 0..5;
        let marks: String = (0..5).map(|r| mark(r, &all, 5)).collect();
        assert_eq!(marks, "     ");
    }
}
