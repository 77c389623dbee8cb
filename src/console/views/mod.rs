//! Drawing the model. Views read the app and the theme and write to the
//! frame; they never change state.

mod bars;
mod overlays;
mod queues;
mod workspace;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

use super::app::App;
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
