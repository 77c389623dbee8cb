//! The home screen: the queues, how deep, how many may be called now, how
//! long the oldest has waited.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState};

use crate::console::app::{App, Remote};
use crate::console::format::wait;
use crate::console::theme::Theme;
use crate::console::words::words;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let w = words(app.locale);
    let block = Block::bordered()
        .title(Span::styled(
            format!(" {} ", w.queues),
            theme.alert(theme.title),
        ))
        .border_style(theme.fg(theme.border));
    let queues = match &app.queues {
        Remote::Loading => {
            frame.render_widget(Paragraph::new(w.loading).block(block), area);
            return;
        }
        Remote::Failed(e) => {
            frame.render_widget(
                Paragraph::new(Line::styled(e.clone(), theme.alert(theme.danger))).block(block),
                area,
            );
            return;
        }
        Remote::Ready(q) => q,
    };
    // Figures are right-aligned, and so are their headings, with two
    // spaces between: "mais antigo" and "em atendimento" side by side read
    // as one heading otherwise.
    let header = Row::new([
        Line::from(w.queue),
        Line::from(w.depth).right_aligned(),
        Line::from(w.callable).right_aligned(),
        Line::from(w.oldest).right_aligned(),
        Line::from(w.leased).right_aligned(),
    ])
    .style(theme.fg(theme.muted));
    let rows = queues.iter().map(|q| {
        let oldest = q
            .oldest_since
            .map_or("—".to_string(), |t| wait(app.now - t));
        let callable = if q.callable > 0 {
            theme.alert(theme.ok)
        } else {
            theme.fg(theme.muted)
        };
        Row::new([
            Line::from(q.name.clone()),
            Line::from(q.depth.to_string()).right_aligned(),
            Line::styled(q.callable.to_string(), callable).right_aligned(),
            Line::from(oldest).right_aligned(),
            Line::from(q.leased.to_string()).right_aligned(),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Min(16),
            Constraint::Length(9),
            Constraint::Length(12),
            Constraint::Length(11),
            Constraint::Length(14),
        ],
    )
    .header(header)
    .column_spacing(2)
    .block(block)
    .row_highlight_style(theme.selection())
    .highlight_symbol("▶ ");
    let mut state = TableState::default().with_selected(Some(app.queue_sel));
    frame.render_stateful_widget(table, area, &mut state);
}
