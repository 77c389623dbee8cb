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
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("regua.db").display());
    let ssh = format!("127.0.0.1:{}", free_port());
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
    board.wait_for("● live", Duration::from_secs(15));
    board.wait_for("queues", Duration::from_secs(5));

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
    let took = board.wait_for(&format!("debtor {debtor}"), Duration::from_secs(1));
    // In the server's default locale, pt-BR: "refused" is "recusou".
    assert!(board.text().contains("ana: recusou"), "{}", board.text());
    eprintln!("the outcome showed after {took:?}");
}

#[test]
fn ssh_shows_the_board() {
    if Command::new("ssh").arg("-V").output().is_err()
        || Command::new("ssh-keygen").arg("--help").output().is_err()
    {
        eprintln!("skipped: no ssh or ssh-keygen on this machine");
        return;
    }
    let server = serve();
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
    let mut cmd = CommandBuilder::new("ssh");
    cmd.args(["-tt", "-o", "StrictHostKeyChecking=no", "-o"]);
    cmd.arg("UserKnownHostsFile=/dev/null");
    cmd.args(["-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-i"]);
    cmd.arg(&key);
    cmd.args(["-p", port, &format!("sofia@{host}")]);
    let mut session = Pty::spawn(cmd, 100, 30);
    session.wait_for("regua board sofia @ ssh", Duration::from_secs(15));
    session.wait_for("● live", Duration::from_secs(5));
    session.wait_for("queues", Duration::from_secs(5));
    // q ends the session, and with it ssh.
    session.writer.write_all(b"q").unwrap();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if let Ok(Some(status)) = session.child.try_wait() {
            assert!(status.success(), "{status:?}");
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("ssh still running after q");
}
