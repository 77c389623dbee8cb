//! The board end to end: the real `regua serve --demo --ssh-listen` and
//! the real `regua board` in a pseudo-terminal (its output always drained
//! into a vt100 screen); an outcome recorded through the API shows on the
//! board within a second; `ssh` into the built-in endpoint shows the board.

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_regua");

/// `regua serve --demo` on free ports; stopped when dropped.
struct Server {
    child: Child,
    http: String,
    ssh: String,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn serve() -> Server {
    serve_with(&[])
}

/// `serve`, with more of the environment.
fn serve_with(env: &[(&str, &str)]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("regua.db").display());
    let ssh = format!("127.0.0.1:{}", free_port());
    // The SSH board's keys come from the server's config: z quits, q not.
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[keys.global]\nq = \"none\"\n[keys.board]\nz = \"quit\"\n",
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--database",
            &db,
        ])
        .args(["--ssh-listen", &ssh])
        .env("REGUA_DATA_DIR", dir.path())
        .env("REGUA_CONFIG", &config)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut http = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("regua serve: listening on ") {
            http = Some(url.to_string());
        }
        if line.contains("board over ssh") {
            break;
        }
    }
    // Keep reading its log, or the server blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server {
        child,
        http: http.expect("the server says where it listens"),
        ssh,
        dir,
    }
}

/// A program in a pseudo-terminal, its screen kept up to date.
struct Pty {
    screen: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

impl Pty {
    fn spawn(cmd: CommandBuilder, cols: u16, rows: u16) -> Pty {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            rows.try_into().expect("rows"),
            cols.try_into().expect("cols"),
            0,
        )));
        let s = screen.clone();
        std::thread::spawn(move || {
            let _master = pair.master;
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    return;
                }
                s.lock().unwrap().process(&buf[..n]);
            }
        });
        Pty {
            screen,
            writer,
            child,
        }
    }

    fn text(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// Waits until the screen shows `what`; how long it took.
    fn wait_for(&self, what: &str, limit: Duration) -> Duration {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.text().contains(what) {
                return start.elapsed();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("{what:?} not on screen after {limit:?}:\n{}", self.text());
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn an_outcome_reaches_the_board_within_a_second() {
    let server = serve();
    let mut cmd = CommandBuilder::new(BIN);
    cmd.args(["board", "--server", &server.http, "--user", "sofia"]);
    cmd.env("REGUA_PASSWORD", "demo");
    cmd.env("REGUA_DATA_DIR", server.dir.path().join("board"));
    cmd.env("TERM", "xterm-256color");
    let board = Pty::spawn(cmd, 120, 40);
    // In the default locale, pt-BR.
    board.wait_for("● ao vivo", Duration::from_secs(15));
    board.wait_for("filas", Duration::from_secs(5));

    let rt = tokio::runtime::Runtime::new().unwrap();
    let ana = regua::client::Client::new(&server.http).unwrap();
    rt.block_on(ana.login("ana", "demo")).unwrap();
    // At any hour: an outcome needs no call window, only that nobody
    // else holds the debtor.
    let debtor = 1;
    let outcome = serde_json::json!({"disposition": "refused"});
    let recorded: serde_json::Value = rt
        .block_on(ana.send(
            regua::client::Method::POST,
            &format!("/v1/debtors/{debtor}/outcomes"),
            Some(&outcome),
            Some(&regua::client::new_key()),
        ))
        .unwrap();
    assert!(recorded["id"].is_i64(), "{recorded}");
    // In the server's default locale, pt-BR: "refused" is "recusou"; the
    // debtor by the name the event gives.
    let took = board.wait_for("ana: recusou — ", Duration::from_secs(1));
    eprintln!("the outcome showed after {took:?}");
}

/// An SSH client that connects and never signs in, never idle (it sends a
/// keepalive every 100 ms), is let go once the login grace is over: it
/// had held its connection for good.
#[test]
fn a_connection_that_never_signs_in_is_let_go_after_the_grace() {
    struct Trusting;
    impl russh::client::Handler for Trusting {
        type Error = russh::Error;
        async fn check_server_key(
            &mut self,
            _key: &russh::keys::PublicKeyOrCertificate,
        ) -> Result<bool, Self::Error> {
            Ok(true)
        }
    }
    let server = serve_with(&[("REGUA_SSH_LOGIN_GRACE", "2")]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let config = russh::client::Config {
            keepalive_interval: Some(Duration::from_millis(300)),
            inactivity_timeout: None,
            ..Default::default()
        };
        let started = Instant::now();
        let handle = russh::client::connect(Arc::new(config), server.ssh.as_str(), Trusting)
            .await
            .expect("the key exchange");
        while !handle.is_closed() && started.elapsed() < Duration::from_secs(20) {
            let _ = handle.send_keepalive(true).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let took = started.elapsed();
        assert!(handle.is_closed(), "still open after {took:?}");
        assert!(
            took >= Duration::from_millis(1900),
            "let go early: {took:?}"
        );
        assert!(took < Duration::from_secs(8), "let go late: {took:?}");
        eprintln!("let go after {took:?}");
    });
}

#[test]
fn ssh_shows_the_board() {
    if Command::new("ssh").arg("-V").output().is_err()
        || Command::new("ssh-keygen").arg("--help").output().is_err()
    {
        eprintln!("skipped: no ssh or ssh-keygen on this machine");
        return;
    }
    let mut server = serve();
    let key = server.dir.path().join("id");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(made.success());
    let db = format!("sqlite://{}", server.dir.path().join("regua.db").display());
    let mut add = Command::new(BIN)
        .args(["users", "add-key", "sofia", "--database", &db])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let public = std::fs::read(key.with_extension("pub")).unwrap();
    add.stdin.take().unwrap().write_all(&public).unwrap();
    assert!(add.wait().unwrap().success());

    let (host, port) = server.ssh.split_once(':').unwrap();
    let ssh = |extra: &[&str]| {
        let mut cmd = CommandBuilder::new("ssh");
        cmd.args(["-tt", "-o", "StrictHostKeyChecking=no", "-o"]);
        cmd.arg("UserKnownHostsFile=/dev/null");
        cmd.args(["-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-i"]);
        cmd.arg(&key);
        cmd.args(extra);
        cmd.args(["-p", port, &format!("sofia@{host}")]);
        cmd.env("TERM", "xterm-256color");
        let session = Pty::spawn(cmd, 100, 30);
        session.wait_for("regua board sofia @ ssh", Duration::from_secs(15));
        session.wait_for("● ao vivo", Duration::from_secs(5));
        session.wait_for("filas", Duration::from_secs(5));
        session
    };
    let sessions = || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let pool = sqlx::SqlitePool::connect(&db).await.unwrap();
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
                .fetch_one(&pool)
                .await
                .unwrap();
            n
        })
    };
    let coloured = |s: &Pty| {
        let parser = s.screen.lock().unwrap();
        let screen = parser.screen();
        (0..30).any(|row| {
            (0..100).any(|col| {
                screen
                    .cell(row, col)
                    .is_some_and(|c| c.fgcolor() != vt100::Color::Default)
            })
        })
    };

    let mut session = ssh(&[]);
    assert!(coloured(&session), "the server's theme has colour");
    assert_eq!(sessions(), 1, "the SSH board has a token of its own");
    // A paste is dropped whole: the z in it does not quit.
    assert!(session.screen.lock().unwrap().screen().bracketed_paste());
    session
        .writer
        .write_all(b"\x1b[200~pasted z\x1b[201~")
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        session.child.try_wait().unwrap().is_none(),
        "a pasted z quit"
    );
    // The server's config unbound q and bound z to quit.
    session.writer.write_all(b"q").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(session.child.try_wait().unwrap().is_none(), "q is unbound");
    session.writer.write_all(b"z").unwrap();
    let quit = ends_within(Duration::from_secs(5), "ssh after z", || {
        session.child.try_wait().unwrap().map(|s| s.success())
    });
    assert!(quit, "ssh exits 0 after z");
    assert_eq!(sessions(), 0, "its token ended with it");

    // A mistyped password may be typed again, as ssh asks: one typo had
    // ended the connection.
    let mut cmd = CommandBuilder::new("ssh");
    cmd.args(["-tt", "-o", "StrictHostKeyChecking=no", "-o"]);
    cmd.arg("UserKnownHostsFile=/dev/null");
    cmd.args(["-o", "PubkeyAuthentication=no", "-o", "LogLevel=ERROR"]);
    cmd.args(["-p", port, &format!("sofia@{host}")]);
    cmd.env("TERM", "xterm-256color");
    let mut typing = Pty::spawn(cmd, 100, 30);
    typing.wait_for("password:", Duration::from_secs(15));
    typing.writer.write_all(b"wrong\r").unwrap();
    ends_within(Duration::from_secs(10), "asked again", || {
        (typing.text().matches("password:").count() >= 2).then_some(())
    });
    typing.writer.write_all(b"demo\r").unwrap();
    typing.wait_for("regua board sofia @ ssh", Duration::from_secs(15));
    typing.writer.write_all(b"z").unwrap();
    ends_within(Duration::from_secs(5), "ssh after z", || {
        typing.child.try_wait().unwrap()
    });

    // A client that sends NO_COLOR gets none.
    let mut plain = ssh(&["-o", "SetEnv=NO_COLOR=1"]);
    assert!(!coloured(&plain), "{}", plain.text());

    // The server stopping ends the board as a quit would: the terminal is
    // given back, with a line saying why, and the server exits 0.
    // SAFETY: kill(2) on the server this test started.
    let pid = server.child.id() as libc::pid_t;
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    ends_within(
        Duration::from_secs(10),
        "ssh after SIGTERM to the server",
        || plain.child.try_wait().unwrap(),
    );
    plain.wait_for("regua: the server is stopping", Duration::from_secs(2));
    {
        let parser = plain.screen.lock().unwrap();
        let screen = parser.screen();
        assert!(!screen.alternate_screen(), "the terminal given back");
        assert!(!screen.hide_cursor(), "the cursor shown again");
    }
    let status = ends_within(Duration::from_secs(10), "the server after SIGTERM", || {
        server.child.try_wait().unwrap()
    });
    assert!(status.success(), "{status:?}");
}

/// What `ended` gives once it gives something (a process's exit status);
/// fails the test if that takes longer than `limit`.
fn ends_within<T>(limit: Duration, what: &str, mut ended: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(t) = ended() {
            return t;
        }
        assert!(
            start.elapsed() < limit,
            "{what}: still running after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A clock the test moves.
struct TestClock(Mutex<chrono::DateTime<chrono::Utc>>);

impl regua::domain::Clock for TestClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        *self.0.lock().unwrap()
    }
}

/// The board's frames, into a vt100 screen.
struct Screen(Arc<Mutex<vt100::Parser>>);

impl Write for Screen {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().process(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The row of a queue on screen, its words split on blanks.
fn queue_row(screen: &Arc<Mutex<vt100::Parser>>, name: &str) -> Vec<String> {
    let text = screen.lock().unwrap().screen().contents();
    let line = text
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("no {name} row:\n{text}"));
    line[name.len()..]
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// The board's own loop, its client and the live stream against a real
/// server whose clock the test moves: a lease runs out and a promise
/// breaks, the scheduler's pass says so, and the board's queue counts and
/// the agent's row change with no snapshot reloaded.
#[test]
fn the_scheduler_moves_the_boards_queue_counts_without_a_reload() {
    use chrono::TimeZone;
    use regua::board::run::{Input, Session};
    use regua::domain::Clock;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let morning = chrono_tz::America::Sao_Paulo
        .with_ymd_and_hms(2026, 3, 10, 10, 0, 0)
        .unwrap()
        .with_timezone(&chrono::Utc);
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(TestClock(Mutex::new(morning)));
    let (state, http) = rt.block_on(async {
        let url = format!("sqlite://{}", dir.path().join("regua.db").display());
        let store = regua::server::store::connect(&url).await.unwrap();
        let mut state = regua::server::app::AppState::new(
            store,
            regua::schedule::default_policy(),
            clock.clone(),
        );
        // The board stays signed in across the days the test skips.
        state.session_ttl = chrono::Duration::days(30);
        regua::server::seed_demo(&state, 80, 3).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let http = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(regua::server::serve(
            listener,
            state.clone(),
            std::future::pending(),
        ));
        (state, http)
    });
    let client = |user: &str| {
        let c = regua::client::Client::new(&http).unwrap();
        rt.block_on(c.login(user, "demo")).unwrap();
        c
    };
    let (sofia, ana) = (client("sofia"), client("ana"));

    // Ana leases a debtor and takes a promise for the 12th.
    let lease = rt.block_on(async {
        for q in ana.queues(regua::domain::Locale::En).await.unwrap() {
            if q.callable > 0
                && let Some(l) = ana.lease(&q.id).await.unwrap()
            {
                return l;
            }
        }
        panic!("nobody to lease")
    });
    let promised = serde_json::json!({
        "disposition": "promise_to_pay", "reason": "cash_flow",
        "promise": { "amount_minor": 1000, "due_date": "2026-03-12" }
    });
    let _: serde_json::Value = rt
        .block_on(ana.send(
            regua::client::Method::POST,
            &format!("/v1/debtors/{}/outcomes", lease.debtor.id),
            Some(&promised),
            Some(&regua::client::new_key()),
        ))
        .unwrap();

    let screen = Arc::new(Mutex::new(vt100::Parser::new(
        40.try_into().unwrap(),
        120.try_into().unwrap(),
        0,
    )));
    let board = regua::board::model::Board::new(
        regua::domain::Locale::En,
        regua::console::keymap::Keymap::default(),
        regua::config::BoardConfig::default(),
        "sofia".into(),
        "test".into(),
        clock.now(),
    );
    let (keys, input) = tokio::sync::mpsc::unbounded_channel();
    let running = rt.spawn(regua::board::run::run(
        Screen(screen.clone()),
        (120, 40),
        input,
        Session {
            client: sofia.clone(),
            clock: clock.clone(),
            board,
            theme: regua::console::theme::Theme::default(),
        },
    ));
    let wait_for = |what: &dyn Fn() -> bool, why: &str| {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if what() {
                return start.elapsed();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("{why}:\n{}", screen.lock().unwrap().screen().contents());
    };
    wait_for(
        &|| {
            let text = screen.lock().unwrap().screen().contents();
            text.contains("● live") && text.contains("Broken promises")
        },
        "the board goes live with its snapshot",
    );
    let debtor_name = lease.debtor.name.chars().take(12).collect::<String>();
    // A frame reaches the screen in more than one write: wait for all of
    // the first one rather than read it half drawn.
    wait_for(
        &|| {
            screen
                .lock()
                .unwrap()
                .screen()
                .contents()
                .contains(&debtor_name)
        },
        "ana's row names her debtor",
    );
    let broken_before = queue_row(&screen, "Broken promises");

    // Six days on: the lease ran out, the promise broke.
    *clock.0.lock().unwrap() = morning + chrono::Duration::days(6);
    rt.block_on(regua::server::scheduler_pass(&state)).unwrap();
    let counts = rt
        .block_on(sofia.queues(regua::domain::Locale::En))
        .unwrap();
    let broken = counts.iter().find(|q| q.id == "broken_promises").unwrap();
    assert_ne!(
        broken_before[0],
        broken.depth.to_string(),
        "the broken promise moved its debtor into the queue"
    );
    // The ticker names the debtor whose lease ran out: ana's row is what
    // must lose the name. (Here by her lease alone, no console open, she
    // leaves the floor with it.)
    let took = wait_for(
        &|| {
            let text = screen.lock().unwrap().screen().contents();
            queue_row(&screen, "Broken promises")[0] == broken.depth.to_string()
                && !text
                    .lines()
                    .any(|l| l.starts_with("ana ") && l.contains(&debtor_name))
        },
        "the broken promises' depth follows the server and ana's lease is gone",
    );
    eprintln!("the queue counts moved on the board after {took:?}");
    keys.send(Input::Key("q".parse().unwrap())).unwrap();
    rt.block_on(running).unwrap().unwrap();
}
