//! Board bandwidth: the bytes per second `regua board` writes to a
//! pseudo-terminal, at 80x24 and 200x50, with 200 agents changing state
//! (each every ~10 s, spread evenly: ~20 changes/s) and with only the clocks
//! moving; `htop` in the same harness for comparison. Also the CPU each
//! process used over the window (utime + stime from /proc/<pid>/stat).
//!
//! cargo build --release && cargo bench --bench board_bandwidth
//! Environment: BENCH_SECONDS (60) — the measured window per case; the
//! first 5 s after start are skipped.
//!
//! Uses the release `regua` next to this bench's executable
//! (target/release/deps/ → target/release/regua).

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use reqwest::Client;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use regua::domain::Role;

const AGENTS: usize = 200;
/// Each agent changes state this often.
const PERIOD: Duration = Duration::from_secs(10);
/// Skipped after a program starts.
const WARMUP: Duration = Duration::from_secs(5);
const CLOCK: &str = "2026-03-10T13:00:00Z";

fn regua_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("regua");
    assert!(
        bin.exists(),
        "{} missing: run `cargo build --release` first",
        bin.display()
    );
    bin
}

/// The server; killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// utime + stime of `pid`, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return f64::NAN;
    };
    // Fields after the command name (which may hold spaces): state is the 3rd.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    ticks as f64 / hz
}

struct Figures {
    bytes_per_s: f64,
    cpu_per_min: f64,
    server_cpu_per_min: f64,
    screen_ok: bool,
}

/// Runs `cmd` in a pty of `cols`x`rows`, always draining it; skips the
/// warm-up, then counts bytes and CPU over `window`.
fn measure(
    cmd: CommandBuilder,
    cols: u16,
    rows: u16,
    window: Duration,
    server_pid: u32,
    expect: &str,
) -> Figures {
    let pair = native_pty_system()
        .openpty(PtySize {
            rows,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let pid = child.process_id().unwrap();
    let mut reader = pair.master.try_clone_reader().unwrap();
    let bytes = Arc::new(AtomicU64::new(0));
    let screen = Arc::new(std::sync::Mutex::new(vt100::Parser::new(
        rows.try_into().expect("rows"),
        cols.try_into().expect("cols"),
        0,
    )));
    let (b, s) = (bytes.clone(), screen.clone());
    let master = pair.master;
    let drain = std::thread::spawn(move || {
        let _master = master;
        let mut buf = [0u8; 16384];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                return;
            }
            b.fetch_add(n as u64, Ordering::Relaxed);
            s.lock().unwrap().process(&buf[..n]);
        }
    });
    std::thread::sleep(WARMUP);
    let (b0, c0, s0) = (
        bytes.load(Ordering::Relaxed),
        cpu_seconds(pid),
        cpu_seconds(server_pid),
    );
    std::thread::sleep(window);
    let (b1, c1, s1) = (
        bytes.load(Ordering::Relaxed),
        cpu_seconds(pid),
        cpu_seconds(server_pid),
    );
    let text = screen.lock().unwrap().screen().contents();
    let screen_ok = text.contains(expect);
    if !screen_ok {
        eprintln!("  ! {expect:?} not on screen:\n{text}");
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = drain.join();
    let secs = window.as_secs_f64();
    Figures {
        bytes_per_s: (b1 - b0) as f64 / secs,
        cpu_per_min: (c1 - c0) * 60.0 / secs,
        server_cpu_per_min: (s1 - s0) * 60.0 / secs,
        screen_ok,
    }
}

fn start_server(bin: &Path, db: &str, data: &Path) -> (Server, String) {
    let mut child = Command::new(bin)
        .args([
            "serve",
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--database",
            db,
        ])
        .env("REGUA_CLOCK", CLOCK)
        .env("REGUA_CONFIG", "/dev/null")
        .env("REGUA_DATA_DIR", data)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut url = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(u) = line.strip_prefix("regua serve: listening on ") {
            url = Some(u.to_string());
            break;
        }
    }
    // Keep reading its log, or the server blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (
        Server(child),
        url.expect("the server says where it listens"),
    )
}

fn main() {
    let window = Duration::from_secs(
        std::env::var("BENCH_SECONDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(60),
    );
    let bin = regua_bin();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("regua.db").display());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    // The agents first (the demo seeding looks only for its own users),
    // then the server on the same file.
    rt.block_on(async {
        let store = regua::server::store::connect(&db).await.expect("store");
        let hash = regua::server::auth::hash_password("load".into()).await;
        let now = chrono::DateTime::parse_from_rfc3339(CLOCK)
            .unwrap()
            .with_timezone(&chrono::Utc);
        for i in 0..AGENTS {
            store
                .create_user(&format!("bench{i:03}"), Role::Agent, &hash, now)
                .await
                .unwrap();
        }
    });
    let (server, base) = start_server(&bin, &db, dir.path());
    let server_pid = server.0.id();

    let http = Client::builder()
        .pool_max_idle_per_host(AGENTS)
        .build()
        .unwrap();
    let tokens: Vec<String> = rt.block_on(async {
        let mut tokens = Vec::new();
        for i in 0..AGENTS {
            let r: Value = http
                .post(format!("{base}/v1/sessions"))
                .json(&json!({ "username": format!("bench{i:03}"), "password": "load" }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            tokens.push(r["token"].as_str().expect("a token").to_string());
        }
        tokens
    });

    // Each agent's console holds the live stream open, as the real one
    // does: that is what puts them on the board's floor.
    for token in &tokens {
        let stream = http
            .get(format!("{base}/v1/events"))
            .bearer_auth(token)
            .send();
        rt.spawn(async move {
            let Ok(mut stream) = stream.await else { return };
            while let Ok(Some(_)) = stream.chunk().await {}
        });
    }

    // The load: each agent ready → on_call → wrap_up → paused → … every
    // PERIOD, the agents' phases spread evenly; only while `load` is set.
    let load = Arc::new(AtomicBool::new(false));
    let (changes, errors) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    for (i, token) in tokens.into_iter().enumerate() {
        let (http, base, load, changes, errors) = (
            http.clone(),
            base.clone(),
            load.clone(),
            changes.clone(),
            errors.clone(),
        );
        rt.spawn(async move {
            tokio::time::sleep(PERIOD * i as u32 / AGENTS as u32).await;
            let mut every = tokio::time::interval(PERIOD);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let states = [
                json!({"state": "ready"}),
                json!({"state": "on_call"}),
                json!({"state": "wrap_up"}),
                json!({"state": "paused", "reason": "coffee"}),
            ];
            let mut n = i;
            loop {
                every.tick().await;
                if !load.load(Ordering::Relaxed) {
                    continue;
                }
                n += 1;
                let r = http
                    .put(format!("{base}/v1/me/state"))
                    .bearer_auth(&token)
                    .json(&states[n % states.len()])
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => changes.fetch_add(1, Ordering::Relaxed),
                    _ => errors.fetch_add(1, Ordering::Relaxed),
                };
            }
        });
    }

    let htop = Command::new("htop").arg("--version").output().is_ok();
    if !htop {
        eprintln!("htop is not installed (apt-get install -y htop): its rows are skipped");
    }
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    eprintln!(
        "window {} s per case after {} s warm-up; {AGENTS} agents, one change each every {} s when loaded",
        window.as_secs(),
        WARMUP.as_secs(),
        PERIOD.as_secs()
    );

    let mut rows = Vec::new();
    for (cols, lines) in [(80u16, 24u16), (200, 50)] {
        for loaded in [false, true] {
            load.store(loaded, Ordering::Relaxed);
            let c0 = changes.load(Ordering::Relaxed);
            let mut cmd = CommandBuilder::new(&bin);
            cmd.args(["board", "--server", &base, "--user", "sofia"]);
            cmd.env("REGUA_PASSWORD", "demo");
            cmd.env("REGUA_CLOCK", CLOCK);
            cmd.env("REGUA_CONFIG", "/dev/null");
            cmd.env("REGUA_DATA_DIR", dir.path().join("board"));
            cmd.env("TERM", "xterm-256color");
            // REGUA_CONFIG=/dev/null: the default locale, pt-BR.
            let f = measure(cmd, cols, lines, window, server_pid, "● ao vivo");
            let rate =
                (changes.load(Ordering::Relaxed) - c0) as f64 / (window + WARMUP).as_secs_f64();
            let case = if loaded {
                "board, load"
            } else {
                "board, clocks only"
            };
            eprintln!(
                "{case:<20} {cols}x{lines}: {:>8.0} B/s, {:.2} CPU s/min (server {:.2}), {rate:.1} changes/s",
                f.bytes_per_s, f.cpu_per_min, f.server_cpu_per_min
            );
            rows.push((case, cols, lines, f, rate));
        }
        if htop {
            // htop under the same load (it shows the machine, not the board's data).
            load.store(true, Ordering::Relaxed);
            let c0 = changes.load(Ordering::Relaxed);
            let mut cmd = CommandBuilder::new("htop");
            cmd.env("TERM", "xterm-256color");
            cmd.env("HOME", &home);
            let f = measure(cmd, cols, lines, window, server_pid, "Load average");
            let rate =
                (changes.load(Ordering::Relaxed) - c0) as f64 / (window + WARMUP).as_secs_f64();
            eprintln!(
                "{:<20} {cols}x{lines}: {:>8.0} B/s, {:.2} CPU s/min (server {:.2}), {rate:.1} changes/s",
                "htop, load", f.bytes_per_s, f.cpu_per_min, f.server_cpu_per_min
            );
            rows.push(("htop, load", cols, lines, f, rate));
        }
    }
    load.store(false, Ordering::Relaxed);
    let errs = errors.load(Ordering::Relaxed);

    println!();
    println!("| case | size | bytes/s | CPU s/min | server CPU s/min | state changes/s | screen |");
    println!("|---|---|---|---|---|---|---|");
    for (case, cols, lines, f, rate) in &rows {
        println!(
            "| {case} | {cols}x{lines} | {:.0} | {:.2} | {:.2} | {rate:.1} | {} |",
            f.bytes_per_s,
            f.cpu_per_min,
            f.server_cpu_per_min,
            if f.screen_ok { "ok" } else { "NOT SHOWN" }
        );
    }
    println!(
        "window {} s per case; failed state changes: {errs}",
        window.as_secs()
    );
    drop(server);
    rt.shutdown_background();
}
