//! Owning the terminal and giving it back: raw mode and the alternate
//! screen on the way in; restored on the way out, on panic and on signals;
//! lent to a child (the dialer, the agent's commands) with nothing read
//! from the keyboard meanwhile.

use ratatui::backend::CrosstermBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{
    self, DisableBracketedPaste, EnableBracketedPaste, Event, KeyEventKind,
};
use ratatui::crossterm::terminal::{
    BeginSynchronizedUpdate, Clear, ClearType, EndSynchronizedUpdate, EnterAlternateScreen,
    LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::crossterm::{cursor, execute, queue};
use ratatui::{Frame, Terminal};
use std::io::{self, Stdout, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::keymap::Key;

pub type Term = Terminal<CrosstermBackend<Stdout>>;

pub fn enter() -> io::Result<Term> {
    take()?;
    Terminal::new(CrosstermBackend::new(io::stdout()))
}

/// Draws a frame with `render`; `shown` is what the screen holds (`None`
/// after something cleared it: a resize, a program the terminal was lent
/// to). A frame that changes no cell is dropped before a byte is written,
/// where `Terminal::draw` would still send the frame's colour reset and
/// cursor hide. The rest is one synchronized update: the terminal shows
/// the whole frame at once.
pub fn draw_frame<W: Write>(
    term: &mut Terminal<CrosstermBackend<W>>,
    shown: &mut Option<Buffer>,
    render: impl FnOnce(&mut Frame),
) -> io::Result<()> {
    render(&mut term.get_frame());
    let fresh = term.current_buffer_mut();
    if shown.as_ref() == Some(&*fresh) {
        // The frame is what the screen holds: it becomes the one the next
        // diff is taken against, unwritten.
        term.swap_buffers();
        return Ok(());
    }
    *shown = Some(fresh.clone());
    queue!(term.backend_mut(), BeginSynchronizedUpdate)?;
    term.flush()?;
    term.swap_buffers();
    queue!(term.backend_mut(), EndSynchronizedUpdate)?;
    term.backend_mut().flush()
}

/// Raw mode and the alternate screen, put back on panic; for a screen
/// that draws through its own backend (the board).
pub fn take() -> io::Result<()> {
    install_panic_hook();
    enable_raw_mode()?;
    // Pasted text comes as one paste, not as keystrokes: a line break in a
    // pasted note had submitted the form and the letters after it run as
    // commands (`n` leased the next debtor, `q` quit).
    execute!(
        io::stdout(),
        EnterAlternateScreen,
        cursor::Hide,
        EnableBracketedPaste
    )
}

/// Gives the terminal back as it was. Safe to call more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
}

/// The terminal is put back before the panic is printed, or the report
/// would be lost in the alternate screen.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// What the keyboard and the terminal say.
pub enum Input {
    Key(Key),
    /// The terminal's new width and height.
    Resize(u16, u16),
    /// Text pasted into the terminal, whole.
    Paste(String),
}

/// Reads the terminal on its own thread; while `paused` is set (a child
/// owns the terminal) it reads nothing, so no keystroke is stolen.
pub fn spawn_reader(
    paused: Arc<AtomicBool>,
    send: impl Fn(Input) -> bool + Send + 'static,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        loop {
            if paused.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            match event::poll(Duration::from_millis(50)) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(_) => return,
            }
            // The pause may have begun while we waited.
            if paused.load(Ordering::Acquire) {
                continue;
            }
            let input = match event::read() {
                // Some terminals report releases too: only presses act.
                Ok(Event::Key(k)) if k.kind == KeyEventKind::Press => Input::Key(Key::of(k)),
                Ok(Event::Resize(w, h)) => Input::Resize(w, h),
                Ok(Event::Paste(text)) => Input::Paste(text),
                Ok(_) => continue,
                Err(_) => return,
            };
            if !send(input) {
                return;
            }
        }
    })
}

/// Saves the window's title (xterm's title stack; others ignore it).
const PUSH_TITLE: &str = "\x1b[22;0t";

/// What a program may leave set that the console does not set itself, put
/// back: colours (the clear after would paint every blank cell with them,
/// and ratatui never draws a blank cell again), mouse reports (which would
/// come as keys, and go on in the shell after), autowrap, a scroll region,
/// origin mode, insert mode, application keypad and cursor keys, the
/// character set, and the title saved before it ran.
const AS_IT_WAS: &str = concat!(
    "\x1b[0m",
    "\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1005l\x1b[?1006l\x1b[?1015l",
    "\x1b[?7h\x1b[r\x1b[?6l\x1b[4l\x1b>\x1b[?1l\x1b(B",
    "\x1b[23;0t",
);

/// Runs `program` with the terminal handed over to it, and takes it back.
pub fn lend(
    term: &mut Term,
    paused: &AtomicBool,
    run: impl FnOnce() -> io::Result<std::process::ExitStatus>,
) -> io::Result<std::process::ExitStatus> {
    paused.store(true, Ordering::Release);
    restore();
    // The window's title is the program's to change while it runs.
    let _ = io::stdout().write_all(PUSH_TITLE.as_bytes());
    let status = run();
    // A fresh terminal, whose buffers are blank, draws every cell next.
    // (`Terminal::clear` would ask the terminal where its cursor is, and
    // fail on one that does not answer, leaving the screen blank but for
    // what changed after.)
    let back = enable_raw_mode()
        .and_then(|_| io::stdout().write_all(AS_IT_WAS.as_bytes()))
        .and_then(|_| {
            execute!(
                io::stdout(),
                EnterAlternateScreen,
                cursor::Hide,
                EnableBracketedPaste,
                Clear(ClearType::All)
            )
        })
        .and_then(|_| Terminal::new(CrosstermBackend::new(io::stdout())))
        .map(|fresh| *term = fresh);
    paused.store(false, Ordering::Release);
    back?;
    status
}

/// What a terminal was sent, kept where a test can read it.
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct Sent(pub std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

#[cfg(test)]
impl Write for Sent {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{Sent, draw_frame};
    use ratatui::backend::CrosstermBackend;
    use ratatui::layout::Rect;
    use ratatui::widgets::Paragraph;
    use ratatui::{Terminal, TerminalOptions, Viewport};

    #[test]
    fn a_frame_like_the_screen_writes_nothing_until_the_screen_is_lost() {
        let sent = Sent::default();
        let mut term = Terminal::with_options(
            CrosstermBackend::new(sent.clone()),
            TerminalOptions {
                viewport: Viewport::Fixed(Rect::new(0, 0, 40, 5)),
            },
        )
        .unwrap();
        let mut shown = None;
        let draw = |term: &mut Terminal<_>, text: &str, shown: &mut _| {
            draw_frame(term, shown, |f| {
                f.render_widget(Paragraph::new(text), f.area());
            })
            .unwrap();
            String::from_utf8(std::mem::take(&mut *sent.0.borrow_mut())).unwrap()
        };
        assert!(draw(&mut term, "fila:12", &mut shown).contains("fila:12"));
        assert_eq!(
            draw(&mut term, "fila:12", &mut shown),
            "",
            "nothing changed"
        );
        let changed = draw(&mut term, "fila:13", &mut shown);
        assert!(
            changed.contains('3') && !changed.contains("fila"),
            "{changed:?}"
        );
        // The screen was cleared (a resize; the dialer's return clears it
        // the same way): the same frame is drawn whole once `shown` is let
        // go.
        term.resize(Rect::new(0, 0, 40, 5)).unwrap();
        shown = None;
        assert!(draw(&mut term, "fila:13", &mut shown).contains("fila:13"));
    }
}
