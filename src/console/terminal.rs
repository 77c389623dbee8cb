//! Owning the terminal and giving it back: raw mode and the alternate
//! screen on the way in; restored on the way out, on panic and on signals;
//! lent to a child (the dialer) with nothing read from the keyboard
//! meanwhile.

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, Event, KeyEventKind};
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::crossterm::{cursor, execute};
use std::io::{self, Stdout};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::keymap::Key;

pub type Term = Terminal<CrosstermBackend<Stdout>>;

pub fn enter() -> io::Result<Term> {
    take()?;
    Terminal::new(CrosstermBackend::new(io::stdout()))
}

/// Raw mode and the alternate screen, put back on panic; for a screen
/// that draws through its own backend (the board).
pub fn take() -> io::Result<()> {
    install_panic_hook();
    enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen, cursor::Hide)
}

/// Gives the terminal back as it was. Safe to call more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(io::stdout(), LeaveAlternateScreen, cursor::Show);
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
                Ok(_) => continue,
                Err(_) => return,
            };
            if !send(input) {
                return;
            }
        }
    })
}

/// Runs `program` with the terminal handed over to it, and takes it back.
pub fn lend(
    term: &mut Term,
    paused: &AtomicBool,
    run: impl FnOnce() -> io::Result<std::process::ExitStatus>,
) -> io::Result<std::process::ExitStatus> {
    paused.store(true, Ordering::Release);
    restore();
    let status = run();
    let back = enable_raw_mode()
        .and_then(|_| execute!(io::stdout(), EnterAlternateScreen, cursor::Hide))
        .and_then(|_| term.clear());
    paused.store(false, Ordering::Release);
    back?;
    status
}
