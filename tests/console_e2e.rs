//! The console end to end: the real `regua` binary in a pseudo-terminal,
//! read through a terminal emulator, against a real server. The clock
//! starts on a Tuesday at 10:00 in São Paulo (`REGUA_CLOCK`), so calls are
//! allowed whatever the hour the tests run.

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};
use regua::client::outbox::{Gist, Outbox, OutboxKind};
use regua::domain::Locale;
use serde_json::Value;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CLOCK: &str = "2026-03-10T13:00:00Z";

struct Console {
    screen: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
}

impl Console {
    fn start(envs: &[(&str, &str)]) -> Console {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 30,
                cols: 100,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_regua"));
        cmd.env("REGUA_CLOCK", CLOCK);
        cmd.env("REGUA_CONFIG", "/dev/null");
        cmd.env("TERM", "xterm-256color");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let child = pty.slave.spawn_command(cmd).unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            30.try_into().unwrap(),
            100.try_into().unwrap(),
            0,
        )));
        // Always drain the output, or the console blocks writing to it.
        let mut reader = pty.master.try_clone_reader().unwrap();
        let parser = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                parser.lock().unwrap().process(&buf[..n]);
            }
        });
        Console {
            screen,
            writer: pty.master.take_writer().unwrap(),
            child,
            _master: pty.master,
        }
    }

    fn text(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// Waits until the screen shows `what`.
    fn wait_for(&self, what: &str) -> String {
        self.wait_until(what, |s| s.contains(what))
    }

    fn wait_until(&self, label: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let text = self.text();
            if ok(&text) {
                return text;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "waited 30 s for {label:?}; the screen:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The console on the embedded demo in `data` (with `config` as its
    /// config file, written there), at the queue screen, ready for `n`.
    fn at_queues(data: &Path, config: Option<&str>) -> Console {
        let mut envs = vec![("REGUA_DATA_DIR", data.to_str().unwrap().to_string())];
        if let Some(text) = config {
            let file = data.join("config.toml");
            std::fs::write(&file, text).unwrap();
            envs.push(("REGUA_CONFIG", file.to_str().unwrap().to_string()));
        }
        let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let c = Console::start(&envs);
        c.wait_for_a_callable_queue();
        c
    }

    /// The queue screen with the demo's late queue on it: ready for `n`.
    fn wait_for_a_callable_queue(&self) {
        self.wait_until("a callable queue", |s| s.contains("Atraso 30+ dias"));
    }

    fn keys(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        // A moment between keys, as a person's fingers give.
        std::thread::sleep(Duration::from_millis(150));
    }

    fn quit(self) {
        self.quit_with("q");
    }

    /// Sends `keys` in one write (as fast fingers or a paste do) and waits
    /// for the console to end well.
    fn quit_with(mut self, keys: &str) {
        self.keys(keys);
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "regua exited with {status:?}");
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "regua did not quit"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The name on the workspace's header line.
fn debtor_name(screen: &str) -> String {
    let line = screen.lines().nth(1).unwrap();
    line.split("  ").next().unwrap().trim().to_string()
}

fn api(url: &str) -> (reqwest::blocking::Client, String, String) {
    let http = reqwest::blocking::Client::new();
    let login: Value = http
        .post(format!("{url}/v1/sessions"))
        .json(&serde_json::json!({"username": "sofia", "password": "demo"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    (
        http,
        url.to_string(),
        login["token"].as_str().unwrap().to_string(),
    )
}

fn get(c: &(reqwest::blocking::Client, String, String), path: &str) -> Value {
    c.0.get(format!("{}{path}", c.1))
        .bearer_auth(&c.2)
        .send()
        .unwrap()
        .json()
        .unwrap()
}

/// The debtor's timeline events of one kind.
fn events_of(
    c: &(reqwest::blocking::Client, String, String),
    name: &str,
    kind: &str,
) -> Vec<Value> {
    let found = get(c, &format!("/v1/debtors?q={}", name.replace(' ', "%20")));
    let id = found[0]["id"].as_i64().unwrap();
    let timeline = get(c, &format!("/v1/debtors/{id}/timeline"));
    timeline
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .cloned()
        .collect()
}

/// The promises `name` made in this test: the demo history may hold older
/// ones.
fn todays_promises(c: &(reqwest::blocking::Client, String, String), name: &str) -> Vec<Value> {
    events_of(c, name, "promise")
        .into_iter()
        .filter(|p| {
            // As times, not text: "13:00:00.93Z" is after "13:00:00Z".
            let at = chrono::DateTime::parse_from_rfc3339(p["at"].as_str().unwrap()).unwrap();
            at >= chrono::DateTime::parse_from_rfc3339(CLOCK).unwrap()
        })
        .collect()
}

fn embedded_address(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("server.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["address"].as_str().unwrap().to_string()
}

/// A note pasted during a call is text in the note: the console asks the
/// terminal to mark pastes, and a line break or a `q` inside one is not a
/// key (it had submitted the form and quit).
#[test]
fn a_pasted_note_is_text_not_keys() {
    let data = tempfile::tempdir().unwrap();
    let mut c = Console::at_queues(data.path(), None);
    assert!(c.screen.lock().unwrap().screen().bracketed_paste());
    c.keys("n");
    let screen = c.wait_for("ligação permitida");
    let name = debtor_name(&screen);
    c.keys("o");
    c.wait_for("Registrar resultado");
    c.keys("recado");
    c.keys("\t\t");
    // What a terminal sends for a paste, once asked to mark them.
    c.keys("\x1b[200~ligou\r\nvolta amanhã q\x1b[201~");
    c.wait_for("volta amanhã q");
    assert!(c.child.try_wait().unwrap().is_none(), "still running");
    c.keys("\x13"); // ctrl-s
    c.wait_for("Resultado registrado");
    c.wait_until("the outbox to empty", |s| !s.contains("aguardando envio"));
    let server = api(&embedded_address(data.path()));
    let notes = events_of(&server, &name, "outcome");
    assert!(
        notes.iter().any(|o| o["note"] == "ligou\nvolta amanhã q"),
        "{notes:?}"
    );
    c.quit();
}

/// `n` and `q` together: the lease `n` asked for arrives after the console
/// let go of what it held, and is given back rather than keeping that
/// debtor from everyone until it runs out.
#[test]
fn a_lease_that_arrives_as_the_console_quits_is_given_back() {
    let data = tempfile::tempdir().unwrap();
    let c = Console::at_queues(data.path(), None);
    c.quit_with("nq");
    let db = rusqlite::Connection::open(data.path().join("regua.db")).unwrap();
    let leases: i64 = db
        .query_row("SELECT count(*) FROM leases", [], |r| r.get(0))
        .unwrap();
    assert_eq!(leases, 0, "a lease was left behind");
}

/// A dialer that cannot start is said before the call is asked for: the
/// server had counted the attempt against the caps, and the agent was left
/// on a call nobody made.
#[test]
fn a_dialer_that_cannot_start_makes_no_call() {
    let data = tempfile::tempdir().unwrap();
    let config = "dial_command = [\"nonexistent-dialer-xyz\", \"{phone}\"]\n";
    let mut c = Console::at_queues(data.path(), Some(config));
    c.keys("n");
    let screen = c.wait_for("ligação permitida");
    let name = debtor_name(&screen);
    let server = api(&embedded_address(data.path()));
    let before = events_of(&server, &name, "contact").len();
    c.keys("c");
    c.wait_for("dial_command não encontrado: nonexistent-dialer-xyz");
    assert!(!c.text().contains("Registrar resultado"), "{}", c.text());
    assert_eq!(events_of(&server, &name, "contact").len(), before);
    c.quit();
}

#[test]
fn three_debtors_worked_on_the_embedded_default() {
    let data = tempfile::tempdir().unwrap();
    let mut c = Console::at_queues(data.path(), None);
    let mut names = Vec::new();
    for round in 0..3 {
        c.keys("n");
        let screen = c.wait_until("a debtor we may call", |s| {
            s.contains("ligação permitida") && names.iter().all(|n: &String| debtor_name(s) != *n)
        });
        let name = debtor_name(&screen);
        // No dial_command configured: the console says to dial by hand,
        // and the outcome form opens once the server allowed the call.
        c.keys("c");
        c.wait_for("Registrar resultado");
        c.keys("promessa");
        c.keys("\t\t");
        c.keys("100,00");
        c.keys("\t");
        c.keys("+5");
        c.keys("\t");
        c.keys(&format!("Vai receber na sexta {round}"));
        c.keys("\x13"); // ctrl-s
        c.wait_for("Resultado registrado");
        if round == 0 {
            // With a promise pending, a second call is refused, and why.
            c.keys("c");
            c.wait_until("the refusal", |s| {
                s.contains("nenhuma ligação prevista agora — promessa para ")
            });
        }
        names.push(name);
    }
    // Delivered through the outbox: the count of waiting writes goes away.
    c.wait_until("the outbox to empty", |s| !s.contains("aguardando envio"));

    let server = api(&embedded_address(data.path()));
    for (round, name) in names.iter().enumerate() {
        let promises = todays_promises(&server, name);
        assert_eq!(promises.len(), 1, "{name}: stored once: {promises:?}");
        assert_eq!(promises[0]["amount"]["minor"], 10_000, "{promises:?}");
        assert_eq!(promises[0]["date"], "2026-03-15", "{promises:?}");
        let note = format!("Vai receber na sexta {round}");
        let notes: Vec<_> = events_of(&server, name, "outcome")
            .into_iter()
            .filter(|o| o["note"] == note.as_str())
            .collect();
        assert_eq!(notes.len(), 1, "{name}");
        // The call was one attempt, given its result by the outcome.
        let calls = events_of(&server, name, "contact");
        assert!(calls.iter().all(|c| c["result"] != "dialed"), "{calls:?}");
    }
    let db = format!("sqlite://{}", data.path().join("regua.db").display());
    assert_eq!(sessions_of(&db, "ana"), 1);
    c.quit();
    assert!(
        !data.path().join("server.json").exists(),
        "the address is taken back"
    );
    // A token nobody kept (the embedded login) is revoked on the way out.
    assert_eq!(sessions_of(&db, "ana"), 0);
}

/// How many sessions `user` has in the database at `url`.
fn sessions_of(url: &str, user: &str) -> i64 {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.name = $1",
        )
        .bind(user)
        .fetch_one(&pool)
        .await
        .unwrap()
    })
}

fn serve(db: &str, port: u16) -> std::process::Child {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_regua"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database",
            db,
            "--demo",
        ])
        .env("REGUA_CLOCK", CLOCK)
        .env("REGUA_CONFIG", "/dev/null")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "regua serve did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The console started again while the server is still down works on
/// with the session it kept, its outbox shown, and delivers once it is
/// back.
#[test]
fn an_outcome_recorded_while_the_server_is_down_arrives_once() {
    let tmp = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", tmp.path().join("regua.db").display());
    let data = tmp.path().join("console");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut server = serve(&db, port);
    let envs = [
        ("REGUA_DATA_DIR", data.to_str().unwrap()),
        ("REGUA_SERVER", &url),
        ("REGUA_USER", "ana"),
        ("REGUA_PASSWORD", "demo"),
    ];
    let mut c = Console::start(&envs);
    c.wait_for_a_callable_queue();
    c.keys("n");
    let name = debtor_name(&c.wait_for("ligação permitida"));

    // The server goes away half-way.
    server.kill().unwrap();
    server.wait().unwrap();
    c.keys("o");
    c.wait_for("Registrar resultado");
    c.keys("não atendeu");
    c.keys("\t\t");
    c.keys("Caixa postal cheia");
    c.keys("\x13");
    c.wait_for("Resultado registrado");
    c.wait_for("1 aguardando envio");
    c.quit();

    // Started again with the server still away: no password, no exit.
    let c = Console::start(&envs);
    c.wait_for("sem conexão");
    c.wait_for("1 aguardando envio");

    // Back again: the outbox delivers it, once, and the queues come.
    let mut server = serve(&db, port);
    c.wait_for_a_callable_queue();
    c.wait_until("the outbox to empty", |s| !s.contains("aguardando envio"));
    let api = api(&url);
    let notes: Vec<_> = events_of(&api, &name, "outcome")
        .into_iter()
        .filter(|o| o["note"] == "Caixa postal cheia")
        .collect();
    assert_eq!(notes.len(), 1, "arrived exactly once: {notes:?}");
    c.quit();
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn a_refused_record_is_seen_sent_again_and_given_up_on_the_outbox_screen() {
    let data = tempfile::tempdir().unwrap();
    // A write the server will refuse for good: its debtor does not exist.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let outbox = Outbox::open(data.path(), Locale::PtBr).await.unwrap();
        let body = serde_json::json!({ "disposition": "no_answer", "note": "caiu a ligação" });
        let kind = OutboxKind::Outcome { debtor_id: 999_999 };
        outbox
            .enqueue(
                kind,
                "e2e-refused",
                body,
                &Gist {
                    about: Some("Fulano de Tal".into()),
                    ..Gist::default()
                },
            )
            .await
            .unwrap();
    });
    let dir = data.path().to_str().unwrap();
    let mut c = Console::start(&[("REGUA_DATA_DIR", dir)]);
    c.wait_for("✗ 1 recusado");
    c.wait_for("(e: ver os envios)");
    c.keys("e");
    let s = c.wait_for("Fulano de Tal · devedor 999999");
    assert!(s.contains("✗ recusado"), "{s}");
    assert!(s.contains("não atendeu: caiu a ligação"), "{s}");
    assert!(s.contains("devedor não encontrado · 1 tentativa"), "{s}");
    // Sent again, refused again: still kept, one attempt more.
    c.keys("r");
    c.wait_for("devedor não encontrado · 2 tentativas");
    // Given up only when asked twice.
    c.keys("d");
    c.wait_for("d de novo para confirmar");
    assert!(c.text().contains("Fulano de Tal"));
    c.keys("d");
    c.wait_for("nada a enviar");
    c.wait_until("the count to go", |s| !s.contains("✗ 1 recusado"));
    c.quit();
    let left = rt.block_on(async {
        let outbox = Outbox::open(data.path(), Locale::PtBr).await.unwrap();
        outbox.items().await.unwrap()
    });
    assert!(left.is_empty(), "{left:?}");
}

/// Ctrl-c while a program has the terminal stops the program, not the
/// console: out of raw mode it reached both, and the console quit once
/// the program had ended (mid-call, for a dialer).
#[test]
fn ctrl_c_in_a_program_that_has_the_terminal_stops_only_the_program() {
    let data = tempfile::tempdir().unwrap();
    let started = data.path().join("started");
    let config = format!(
        r#"[commands.hang]
run = ["sh", "-c", "touch \"$0\"; exec sleep 30", "{started}"]

[keys.workspace]
"ctrl-g" = "hang"
"#,
        started = started.display()
    );
    let mut c = Console::at_queues(data.path(), Some(&config));
    c.keys("n");
    c.wait_for("ligação permitida");
    c.keys("\x07"); // ctrl-g
    let start = Instant::now();
    while !started.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "hang did not run"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    c.keys("\x03"); // ctrl-c, as the terminal sends it out of raw mode
    c.wait_for("hang foi interrompido");
    c.wait_for("ligação permitida");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(c.child.try_wait().unwrap().is_none(), "the console quit");
    c.quit();
}

#[test]
fn the_agents_own_command_runs_on_the_debtor_on_screen() {
    let data = tempfile::tempdir().unwrap();
    let out = data.path().join("ran");
    let side = data.path().join("beside");
    // One command takes the terminal (a pager would), one runs beside the
    // console; both write the arguments they were given.
    let config = format!(
        r#"dial_command = ["true", "{{phone}}"]

[commands.notes]
run = ["sh", "-c", "printf '%s\n' \"$@\" \"$REGUA_CONSOLE\" > \"$0\"", "{out}", "{{name}}", "{{debtor_id}}"]
help = "the debtor's notes"

[commands.ping]
run = ["sh", "-c", "printf '%s\n' \"$@\" > \"$0\"; sleep 30", "{side}", "{{external_id}}"]
background = true

[commands.fail]
run = ["sh", "-c", "printf '\\033[44m\\033[?1000h'; exit 3"]

[keys.queues]
"ctrl-n" = ["lease-next", "notes"]

[keys.workspace]
"ctrl-o" = "notes"
"ctrl-p" = ["ping", "record-outcome"]
"ctrl-k" = ["call", "notes"]
"ctrl-f" = ["fail", "record-outcome"]
"#,
        out = out.display(),
        side = side.display()
    );
    let mut c = Console::at_queues(data.path(), Some(&config));
    let dir = data.path().to_str().unwrap();
    let ran = |out: &Path| {
        let start = Instant::now();
        while !out.exists() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "notes did not run"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    // A chain that leases, then runs the command on the debtor it got:
    // the command waits for the server's answer.
    c.keys("\x0e"); // ctrl-n
    ran(&out);
    // The console takes its screen back once the command is done.
    let name = debtor_name(&c.wait_for("ligação permitida"));
    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(written.lines().next(), Some(name.as_str()));
    std::fs::remove_file(&out).unwrap();
    c.keys("\x0f"); // ctrl-o
    ran(&out);
    c.wait_for("ligação permitida");
    let written = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(lines[0], name);
    assert!(lines[1].parse::<i64>().is_ok(), "{written}");
    // A command can script the console back: it is told the socket.
    assert!(
        lines[2].starts_with(dir) && lines[2].ends_with(".sock"),
        "{written}"
    );
    // A chain: the command beside the console, then the outcome form.
    c.keys("\x10"); // ctrl-p
    c.wait_for("Registrar resultado");
    let start = Instant::now();
    while std::fs::read_to_string(&side).map_or(true, |s| s.is_empty()) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "ping did not run"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!std::fs::read_to_string(&side).unwrap().trim().is_empty());
    c.keys("\x1b");
    // A chain that goes on after a call: the dialer has the terminal, then
    // the command does, and the form the call's end opened is still there.
    std::fs::remove_file(&out).unwrap();
    c.keys("\x0b"); // ctrl-k
    ran(&out);
    c.wait_for("Registrar resultado");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap().lines().next(),
        Some(name.as_str())
    );
    c.keys("\x1b");
    // A command that fails ends its chain (no form), and what it left set
    // on the terminal (a colour, mouse reports) is not the console's.
    c.keys("\x06"); // ctrl-f
    let screen = c.wait_for("fail terminou com o código 3");
    assert!(!screen.contains("Registrar resultado"), "{screen}");
    {
        let parser = c.screen.lock().unwrap();
        let blue = (0..30)
            .flat_map(|row| (0..100).map(move |col| (row, col)))
            .filter(|&(row, col)| {
                let cell = parser.screen().cell(row, col).unwrap();
                cell.bgcolor() == vt100::Color::Idx(4)
            })
            .count();
        assert_eq!(blue, 0, "cells painted blue");
        assert_eq!(
            parser.screen().mouse_protocol_mode(),
            vt100::MouseProtocolMode::None
        );
    }
    // The one beside the console still runs (it sleeps): quitting does
    // not wait for it.
    c.quit();
}

/// Sends one line to the console's control socket; its answer.
fn ask(socket: &mut std::io::BufReader<std::os::unix::net::UnixStream>, line: &str) -> Value {
    socket
        .get_mut()
        .write_all(format!("{line}\n").as_bytes())
        .unwrap();
    let mut answer = String::new();
    std::io::BufRead::read_line(socket, &mut answer).unwrap();
    serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{e}: {answer:?}"))
}

#[test]
fn the_console_is_scripted_from_the_shell_through_its_socket() {
    let data = tempfile::tempdir().unwrap();
    let mut c = Console::at_queues(data.path(), None);
    let pid = c.child.process_id().unwrap();
    let path = data.path().join(format!("consoles/{pid}.sock"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700,
        "the agent's alone"
    );
    let stream = std::os::unix::net::UnixStream::connect(&path).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut socket = std::io::BufReader::new(stream);
    let state = ask(&mut socket, "state");
    assert_eq!(state["screen"], "queues", "{state}");
    assert_eq!(state["debtor"], Value::Null, "{state}");
    // The answer comes once the debtor leased is on screen.
    let state = ask(&mut socket, "lease-next");
    let first = state["debtor"]["name"].as_str().unwrap().to_string();
    assert_eq!(state["screen"], "workspace", "{state}");
    assert!(state["debtor"]["lease_id"].is_i64(), "{state}");
    assert_eq!(debtor_name(&c.wait_for("ligação permitida")), first);
    // A chain: skip this one, take the next.
    let state = ask(&mut socket, "release-lease lease-next");
    let second = state["debtor"]["name"].as_str().unwrap().to_string();
    assert_ne!(second, first, "{state}");
    c.wait_until("the second debtor", |s| debtor_name(s) == second);
    // A name it does not know is named back, and nothing is done.
    let state = ask(&mut socket, "lease-next ligar");
    assert!(
        state["error"].as_str().unwrap().contains("\"ligar\""),
        "{state}"
    );
    // What cannot be done is said as the key bar says it.
    let state = ask(&mut socket, "lease-next");
    assert_eq!(state["notice"]["severity"], "warn", "{state}");
    assert_eq!(state["debtor"]["name"], second.as_str(), "{state}");
    // A script fills the outcome form as the agent would: a field at a
    // time, text quoted as the shell quotes it.
    let state = ask(
        &mut socket,
        r#"record-outcome type promessa next-panel next-panel type 250,00 submit back"#,
    );
    assert_eq!(
        state["screen"], "outcome",
        "a refused form ends the chain: {state}"
    );
    assert_eq!(state["input"]["field"], "date", "{state}");
    assert!(state["input"]["error"]["text"].is_string(), "{state}");
    let state = ask(
        &mut socket,
        r#"type +7 next-panel type "ligou: vai pagar \"sem falta\"" submit"#,
    );
    assert_eq!(state["screen"], "workspace", "{state}");
    assert_eq!(state["debtor"]["recorded"], "promise_to_pay", "{state}");
    // Typing where nothing takes text is refused, as the key bar says.
    let state = ask(&mut socket, "type x lease-next");
    assert_eq!(state["notice"]["severity"], "warn", "{state}");
    assert_eq!(state["debtor"]["name"], second.as_str(), "{state}");
    // A search answers once what was typed has been looked up, so the
    // script can choose among what was found.
    let state = ask(&mut socket, &format!("search type '{first}'"));
    let found = state["input"]["results"]
        .as_array()
        .unwrap_or_else(|| panic!("{state}"));
    assert_eq!(found[0]["name"], first.as_str(), "{state}");
    let state = ask(&mut socket, "select");
    assert_eq!(state["debtor"]["name"], first.as_str(), "{state}");
    assert_eq!(
        state["debtor"]["lease_id"],
        Value::Null,
        "opened to read: {state}"
    );
    c.wait_until("the outbox to empty", |s| !s.contains("aguardando envio"));
    let server = api(&embedded_address(data.path()));
    let promises = todays_promises(&server, &second);
    assert_eq!(promises.len(), 1, "{promises:?}");
    assert_eq!(promises[0]["amount"]["minor"], 25_000, "{promises:?}");
    assert_eq!(promises[0]["date"], "2026-03-17", "{promises:?}");
    let notes = events_of(&server, &second, "outcome");
    assert!(
        notes
            .iter()
            .any(|o| o["note"] == r#"ligou: vai pagar "sem falta""#),
        "{notes:?}"
    );
    let state = ask(&mut socket, "release-lease");
    assert_eq!(state["debtor"], Value::Null, "{state}");
    let state = ask(&mut socket, "lease-next");
    assert!(state["debtor"]["lease_id"].is_i64(), "{state}");
    // Quitting from the shell ends the console, and still answers; an
    // outcome recorded the instant before is kept all the same.
    let state = ask(
        &mut socket,
        "record-outcome type no_answer next-panel next-panel type 'saiu por último' submit quit",
    );
    assert_eq!(state["quit"], true, "{state}");
    assert_eq!(state["debtor"]["recorded"], "no_answer", "{state}");
    let start = Instant::now();
    while c.child.try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "regua did not quit"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!path.exists(), "the socket is removed on the way out");
    // Sent before the server stopped, or waiting in the outbox for the
    // next start, or both when the process ended between the server's
    // answer and the outbox forgetting it: then the server knows its key
    // and the next start's send is answered as a replay, not recorded.
    let one = |file: &str, sql: &'static str, arg: &str| -> (i64, String) {
        let url = format!("sqlite://{}", data.path().join(file).display());
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            sqlx::query_as(sql)
                .bind(arg)
                .fetch_one(&pool)
                .await
                .unwrap()
        })
    };
    let (waiting, key) = one(
        "outbox.db",
        "SELECT COUNT(*), COALESCE(MAX(idempotency_key), '') FROM outbox \
         WHERE body LIKE '%' || ?1 || '%'",
        "saiu por último",
    );
    let (sent, _) = one(
        "regua.db",
        "SELECT COUNT(*), '' FROM history WHERE event LIKE '%' || ?1 || '%'",
        "saiu por último",
    );
    assert!(
        sent <= 1 && waiting <= 1 && waiting + sent >= 1,
        "kept once: {waiting} waiting, {sent} sent"
    );
    if waiting == 1 && sent == 1 {
        let (known, _) = one(
            "regua.db",
            "SELECT COUNT(*), '' FROM idempotency WHERE key = ?1 AND status IS NOT NULL",
            &key,
        );
        assert_eq!(known, 1, "the server answers {key} again as a replay");
    }
}
