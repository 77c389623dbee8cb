//! The real console in a pseudo-terminal, on the embedded default with a
//! temporary data directory and the clock at a Tuesday 10:00 in São Paulo:
//!
//! - first frame: from spawn to the queue table on screen, with the data
//!   directory already made (the first run seeds and is not counted);
//! - key → screen: a debtor leased, `j`/`k` pressed in turn (each scrolls
//!   the talking points one line, so each changes the screen), timed from
//!   the write to the pty until the workspace's panels read differently;
//! - memory: one debtor given a 10,000-event history, opened by search,
//!   its timeline scrolled; VmRSS and VmHWM from /proc.
//!
//! It drives `target/release/regua`: build it first.
//!
//! cargo build --release && cargo bench --bench console_pty
//! Environment: REGUA_PTY_STARTS (20), REGUA_PTY_KEYS (300), REGUA_PTY_BIN
//! (another build of regua, to compare).

use chrono::{DateTime, TimeZone, Utc};
use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

mod common;

const CLOCK: &str = "2026-03-10T13:00:00Z";

fn clock() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 13, 0, 0).unwrap()
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `REGUA_PTY_BIN`, else `target/release/regua`, beside the directory this
/// bench runs from (`target/release/deps`).
fn binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("REGUA_PTY_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("current exe");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/release")
        .join("regua");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build --release` first",
        bin.display()
    );
    bin
}

/// End of a synchronized update: the console wraps every frame in one.
const FRAME_END: &[u8] = b"\x1b[?2026l";

/// The frames the pty has shown so far, and when the latest one ended.
struct Screen {
    parser: vt100::Parser,
    frame_at: Instant,
    closed: bool,
}

struct Console {
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    screen: Arc<(Mutex<Screen>, Condvar)>,
    rows: u16,
    _master: Box<dyn MasterPty + Send>,
}

impl Console {
    fn spawn(dir: &Path, cols: u16, rows: u16) -> Console {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pty");
        let mut cmd = CommandBuilder::new(binary());
        cmd.env("REGUA_DATA_DIR", dir);
        cmd.env("REGUA_CLOCK", CLOCK);
        // No config file but the defaults.
        cmd.env("XDG_CONFIG_HOME", dir.join("config"));
        cmd.env("TERM", "xterm-256color");
        let child = pair.slave.spawn_command(cmd).expect("regua starts");
        drop(pair.slave);
        let screen = Arc::new((
            Mutex::new(Screen {
                parser: vt100::Parser::new(nonzero(rows), nonzero(cols), 0),
                frame_at: Instant::now(),
                closed: false,
            }),
            Condvar::new(),
        ));
        // Always drained, or the console blocks writing its frames.
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let shared = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 65536];
            // Bytes of a frame still being written: the screen is updated a
            // whole frame at a time, at the end of its synchronized update,
            // as a terminal that supports them shows it.
            let mut pending: Vec<u8> = Vec::new();
            loop {
                let n = reader.read(&mut buf).unwrap_or(0);
                let at = Instant::now();
                let (lock, cv) = &*shared;
                let mut s = lock.lock().unwrap();
                if n == 0 {
                    s.parser.process(&pending);
                    s.closed = true;
                    cv.notify_all();
                    return;
                }
                pending.extend_from_slice(&buf[..n]);
                if let Some(end) = pending
                    .windows(FRAME_END.len())
                    .rposition(|w| w == FRAME_END)
                {
                    let rest = pending.split_off(end + FRAME_END.len());
                    s.parser.process(&pending);
                    pending = rest;
                    s.frame_at = at;
                    cv.notify_all();
                }
            }
        });
        let writer = pair.master.take_writer().expect("pty writer");
        Console {
            child,
            writer,
            screen,
            rows,
            _master: pair.master,
        }
    }

    fn press(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    fn contents(&self) -> String {
        self.screen.0.lock().unwrap().parser.screen().contents()
    }

    /// The workspace's panels: the rows under the debtor's header and above
    /// the status bar, where no clock ticks.
    fn panels(s: &Screen, rows: u16) -> String {
        let cols = s.parser.screen().size().1.get();
        s.parser
            .screen()
            .rows(0, cols)
            .skip(5)
            .take(usize::from(rows) - 6)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Waits until `done` holds for the screen; the time its output came.
    fn until(&self, limit: Duration, done: impl Fn(&Screen) -> bool) -> Option<Instant> {
        let (lock, cv) = &*self.screen;
        let end = Instant::now() + limit;
        let mut s = lock.lock().unwrap();
        loop {
            if done(&s) {
                return Some(s.frame_at);
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() || s.closed {
                return None;
            }
            s = cv.wait_timeout(s, left).unwrap().0;
        }
    }

    fn until_text(&self, text: &str, limit: Duration) -> Option<Instant> {
        self.until(limit, |s| s.parser.screen().contents().contains(text))
    }

    fn expect_text(&self, text: &str) {
        if self.until_text(text, Duration::from_secs(30)).is_none() {
            panic!("'{text}' never showed; the screen:\n{}", self.contents());
        }
    }

    /// Waits until nothing has come for `quiet`.
    fn settle(&self, quiet: Duration) {
        loop {
            let last = self.screen.0.lock().unwrap().frame_at;
            let since = last.elapsed();
            if since >= quiet {
                return;
            }
            std::thread::sleep(quiet - since);
        }
    }

    /// kB of a `/proc/<pid>/status` line (VmRSS, VmHWM).
    fn status_kb(&self, field: &str) -> u64 {
        let pid = self.child.process_id().expect("a pid");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
            .unwrap_or(0)
    }

    fn quit(mut self) {
        self.press("q");
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        panic!("regua did not quit on q");
    }
}

/// The depth column's heading: the queue table is on screen (pt-BR, the
/// default locale).
const QUEUE_TABLE: &str = "na fila";

fn nonzero(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).expect("a terminal has rows and columns")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// A first run: the data directory made and the demo portfolio seeded.
fn seeded() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let c = Console::spawn(dir.path(), 200, 50);
    c.expect_text(QUEUE_TABLE);
    c.quit();
    dir
}

fn first_frame(dir: &Path) {
    let runs = env("REGUA_PTY_STARTS", 20);
    let mut first = Vec::new();
    let mut table = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let c = Console::spawn(dir, 200, 50);
        let any = c
            .until(Duration::from_secs(30), |s| {
                !s.parser.screen().contents().trim().is_empty()
            })
            .expect("a frame");
        let shown = c
            .until_text(QUEUE_TABLE, Duration::from_secs(30))
            .expect("the queue table");
        first.push(ms(any - start));
        table.push(ms(shown - start));
        c.quit();
    }
    for (what, v) in [("first frame", &mut first), ("queue table", &mut table)] {
        v.sort_by(f64::total_cmp);
        println!(
            "start → {what}, {runs} runs (ms): median {:.0}, min–max {:.0}–{:.0}, p90 {:.0}",
            percentile(v, 0.5),
            v[0],
            v[v.len() - 1],
            percentile(v, 0.9)
        );
    }
}

/// Presses `j` and `k` in turn on the focused panel, each time timing until
/// the panels read differently. Between presses a pause of 30–130 ms, as
/// someone typing (0 for the auto-repeat case). Returns the latencies.
fn keys(c: &mut Console, presses: usize, pause_ms: u64) -> Vec<f64> {
    let rows = c.rows;
    let mut lat = Vec::with_capacity(presses);
    let mut timeouts = 0;
    let mut seed: u64 = 7;
    for i in 0..presses {
        let before = Console::panels(&c.screen.0.lock().unwrap(), rows);
        let start = Instant::now();
        c.press(if i % 2 == 0 { "j" } else { "k" });
        match c.until(Duration::from_secs(2), |s| {
            Console::panels(s, rows) != before
        }) {
            Some(at) => lat.push(ms(at.saturating_duration_since(start))),
            None => timeouts += 1,
        }
        if pause_ms > 0 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            std::thread::sleep(Duration::from_millis(pause_ms + (seed >> 33) % 100));
        }
    }
    assert_eq!(timeouts, 0, "key presses that changed nothing on screen");
    lat.sort_by(f64::total_cmp);
    lat
}

fn report_keys(what: &str, lat: &[f64]) {
    println!(
        "key → screen, {what}, {} presses (ms): median {:.1}, p99 {:.1}, max {:.1}  [load {}]",
        lat.len(),
        percentile(lat, 0.5),
        percentile(lat, 0.99),
        lat[lat.len() - 1],
        load()
    );
}

fn key_to_screen(dir: &Path) {
    let presses = env("REGUA_PTY_KEYS", 300);
    for (cols, rows) in [(200, 50), (80, 24)] {
        let mut c = Console::spawn(dir, cols, rows);
        c.expect_text(QUEUE_TABLE);
        c.press("n");
        // The workspace, with the talking points loaded (the first one is
        // numbered).
        c.expect_text("1. ");
        c.settle(Duration::from_millis(500));
        let typing = keys(&mut c, presses, 30);
        report_keys(&format!("{cols}x{rows}, typing"), &typing);
        let repeat = keys(&mut c, presses, 0);
        report_keys(&format!("{cols}x{rows}, auto-repeat"), &repeat);
        println!(
            "  resident: VmRSS {} kB, VmHWM {} kB",
            c.status_kb("VmRSS"),
            c.status_kb("VmHWM")
        );
        // Give the debtor back for the next run.
        c.press("x");
        c.expect_text(QUEUE_TABLE);
        c.quit();
    }
}

/// Appends `n` events to the first debtor's history, straight into the
/// store; their external id, to search by.
fn long_history(dir: &Path, n: usize) -> String {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let url = format!("sqlite://{}", dir.join("regua.db").display());
        let store = regua::server::store::connect(&url).await.unwrap();
        let debtor = store.debtor(1).await.unwrap().expect("debtor 1");
        for chunk in common::history(n, clock()).chunks(1000) {
            let change = regua::server::store::Change {
                events: chunk.to_vec(),
                ..Default::default()
            };
            store.apply(debtor.id, &change).await.unwrap();
        }
        debtor.external_id
    })
}

fn memory(dir: &Path) {
    let events = 10_000;
    let external = long_history(dir, events);
    let mut c = Console::spawn(dir, 200, 50);
    c.expect_text(QUEUE_TABLE);
    c.settle(Duration::from_millis(500));
    let queues = (c.status_kb("VmRSS"), c.status_kb("VmHWM"));
    c.press("/");
    c.press(&external);
    c.expect_text(&external);
    c.settle(Duration::from_millis(300));
    c.press("\r");
    // The timeline's newest event (the history ends with a voicemail).
    c.expect_text("caixa postal");
    c.settle(Duration::from_millis(500));
    c.press("\t");
    c.settle(Duration::from_millis(300));
    let lat = keys(&mut c, 100, 30);
    report_keys(
        &format!("200x50, timeline of {events} events, typing"),
        &lat,
    );
    println!(
        "memory, {events}-event timeline, 200x50 (kB): at the queues VmRSS {} (VmHWM {}); \
         debtor open and scrolled VmRSS {}, VmHWM {}  [load {}]",
        queues.0,
        queues.1,
        c.status_kb("VmRSS"),
        c.status_kb("VmHWM"),
        load()
    );
    c.quit();
}

fn main() {
    // `cargo bench` passes `--bench`; a filter, if any, is ignored.
    println!("regua: {}  [load {}]", binary().display(), load());
    let dir = seeded();
    first_frame(dir.path());
    println!("  [load {}]", load());
    key_to_screen(dir.path());
    memory(dir.path());
}
