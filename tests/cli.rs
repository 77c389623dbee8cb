//! The command line as a user meets it: the real binary, its output and its
//! exit codes (0 ok, 1 runtime failure or violations, 2 bad input).

use std::path::PathBuf;
use std::process::{Command, Output};

fn regua(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_regua"))
        .args(args)
        // Never read the developer's own config file.
        .env("REGUA_CONFIG", english_config())
        .output()
        .expect("the regua binary runs")
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("regua-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Written once: tests run in parallel, and a file rewritten while another
/// test's regua reads it would be read half-written.
fn english_config() -> &'static PathBuf {
    static CONFIG: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    CONFIG.get_or_init(|| temp_file("config.toml", "locale = \"en\"\n"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn policy_print_writes_a_policy_that_checks() {
    let out = regua(&["policy", "print"]);
    assert!(out.status.success());
    let path = temp_file("printed.toml", &text(&out.stdout));
    let check = regua(&["policy", "check", path.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    assert!(text(&check.stdout).contains("ok"));
}

#[test]
fn a_bad_policy_exits_2_naming_file_line_and_key_of_each_mistake() {
    let good = text(&regua(&["policy", "print"]).stdout);
    let bad = good
        .replacen(
            "business_time_zone = \"America/Sao_Paulo\"",
            "business_time_zone = \"America/Sao_Paul\"",
            1,
        )
        .replacen(
            "sms = { max = 2, per_days = 7 }",
            "sms = { max = -1, per_days = 7 }",
            1,
        );
    let line_of = |needle: &str| bad.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let path = temp_file("bad.toml", &bad);
    let out = regua(&["policy", "check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    let file = path.display().to_string();
    assert!(
        err.contains(&format!("{file}:{}:", line_of("America/Sao_Paul\"")))
            && err.contains("policy.business_time_zone"),
        "{err}"
    );
    assert!(
        err.contains(&format!("{file}:{}:", line_of("max = -1")))
            && err.contains("compliance.messages.sms.max"),
        "{err}"
    );
    assert!(err.contains("negative"), "{err}");
}

#[test]
fn a_policy_that_is_not_toml_or_has_an_unknown_channel_exits_2() {
    let good = text(&regua(&["policy", "print"]).stdout);
    let fax = good.replacen("channel = \"letter\"", "channel = \"fax\"", 1);
    let path = temp_file("fax.toml", &fax);
    let out = regua(&["policy", "check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let line = fax.lines().position(|l| l.contains("\"fax\"")).unwrap() + 1;
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(":{line}:")) && err.contains("channel") && err.contains("fax"),
        "{err}"
    );

    let path = temp_file("garbage.toml", "[policy\nname = ");
    assert_eq!(
        regua(&["policy", "check", path.to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        regua(&["policy", "check", "/nonexistent/policy.toml"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn simulate_json_has_totals_and_no_violations_and_is_deterministic() {
    let args = [
        "simulate",
        "--debtors",
        "800",
        "--days",
        "12",
        "--seed",
        "7",
        "--json",
    ];
    let out = regua(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a["violations"], serde_json::json!([]));
    assert_eq!(a["days"].as_array().unwrap().len(), 12);
    let totals = &a["totals"];
    assert!(
        totals["contacts"]["call"]["friendly"].as_u64().unwrap()
            + totals["contacts"]["call"]["firm"].as_u64().unwrap()
            > 0
    );
    assert!(totals["promises_made"].as_u64().unwrap() > 0);
    assert!(totals["recovered_minor"].as_i64().unwrap() > 0);
    assert!(a["audit"]["contacts_checked"].as_u64().unwrap() > 1000);

    let mut b: serde_json::Value = serde_json::from_slice(&regua(&args).stdout).unwrap();
    a["seconds"] = 0.into();
    b["seconds"] = 0.into();
    assert_eq!(a, b, "the same seed gives the same run");
    let mut c: serde_json::Value = serde_json::from_slice(
        &regua(&[
            "simulate",
            "--debtors",
            "800",
            "--days",
            "12",
            "--seed",
            "8",
            "--json",
        ])
        .stdout,
    )
    .unwrap();
    c["seconds"] = 0.into();
    assert_ne!(a["totals"], c["totals"], "another seed, another portfolio");
}

#[test]
fn simulate_text_prints_days_totals_and_the_audit() {
    let out = regua(&["simulate", "--debtors", "300", "--days", "3"]);
    assert_eq!(out.status.code(), Some(0));
    let s = text(&out.stdout);
    assert!(s.contains("2026-03-02") && s.contains("2026-03-04"), "{s}");
    assert!(
        s.contains("right-party contacts") && s.contains("0 violations"),
        "{s}"
    );
}

/// In Portuguese, every word of the report is, not only its numbers.
#[test]
fn simulate_speaks_the_configs_language() {
    let config = temp_file("pt.toml", "locale = \"pt-BR\"\n");
    let out = Command::new(env!("CARGO_BIN_EXE_regua"))
        .args(["simulate", "--debtors", "300", "--days", "3"])
        .env("REGUA_CONFIG", &config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let s = text(&out.stdout);
    for said in [
        "política 'default', 300 devedores, 3 dias a partir de 02/03/2026",
        "saldo da carteira no início: R$ ",
        "dia          lig.",
        "contatos com a pessoa certa: ",
        " % das ligações)",
        "auditoria de conformidade (verificador independente): ",
        "0 violações",
    ] {
        assert!(s.contains(said), "{said:?} in {s}");
    }
    for english in [
        "debtors",
        "right-party",
        "promises:",
        "recovered:",
        "violations",
    ] {
        assert!(!s.contains(english), "{english:?} in {s}");
    }
}

/// A policy may narrow a legal call window, not widen it: São Paulo's
/// opened to 06:00-23:00 every day is refused with the file, line, key and
/// law, by `policy check` and by whatever would run it. (The simulation's
/// independent audit, which caught such a policy before, is tested on its
/// own in `simulate::audit`.)
#[test]
fn a_policy_that_widens_a_legal_window_is_refused() {
    let good = text(&regua(&["policy", "print"]).stdout);
    let lawless = good.replacen(
        "[compliance]\n",
        "[compliance.windows.SP]\nweekdays = \"06:00-23:00\"\nsaturday = \"08:00-14:00\"\nsunday = \"closed\"\nclosed_on_holidays = false\n\n[compliance]\n",
        1,
    );
    let line = lawless[..lawless.find("weekdays = \"06").unwrap()]
        .matches('\n')
        .count()
        + 1;
    let path = temp_file("lawless.toml", &lawless);
    let out = regua(&["policy", "check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("lawless.toml:{line}:"))
            && err.contains("compliance.windows.SP.weekdays")
            && err.contains("Lei 15.426/2014")
            && err.contains("compliance.windows.SP.closed_on_holidays"),
        "{err}"
    );
    let out = regua(&["simulate", "--policy", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

/// A policy's text is data on the terminal: a name that would retitle it,
/// an id that would clear it, come out escaped, in `ok` and in mistakes.
#[test]
fn escape_sequences_in_a_policy_are_printed_escaped() {
    let good = text(&regua(&["policy", "print"]).stdout);
    let titled = good.replacen("name = \"default\"", "name = \"\\u001b]0;pwn\\u0007x\"", 1);
    let path = temp_file("titled.toml", &titled);
    let out = regua(&["policy", "check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        !said.contains('\u{1b}') && !said.contains('\u{7}'),
        "{said:?}"
    );
    assert!(said.contains("\\u{1b}]0;pwn\\u{7}x"), "{said}");
    let cleared = good
        .replacen("id = \"reminder\"", "id = \"\\u001b[2Jx\"", 1)
        .replacen("id = \"due_today\"", "id = \"\\u001b[2Jx\"", 1);
    let path = temp_file("cleared.toml", &cleared);
    let out = regua(&["policy", "check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let said = text(&out.stderr);
    assert!(!said.contains('\u{1b}'), "{said:?}");
    assert!(
        said.contains("step '\\u{1b}[2Jx' is defined twice"),
        "{said}"
    );
}

#[test]
fn bad_numbers_and_a_bad_config_exit_2() {
    assert_eq!(
        regua(&["simulate", "--debtors", "0"]).status.code(),
        Some(2)
    );
    assert_eq!(regua(&["simulate", "--days", "-3"]).status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_regua"))
        .args(["simulate", "--debtors", "10", "--days", "1"])
        .env(
            "REGUA_CONFIG",
            temp_file("bad-config.toml", "locale = \"en\"\ncolour = \"blue\"\n"),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("bad-config.toml:2:") && err.contains("colour"),
        "{err}"
    );
    // A server that draws the SSH board reads the config first: a mistake
    // stops it before it says it listens.
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("s.db").display());
    let out = Command::new(env!("CARGO_BIN_EXE_regua"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &db])
        .args(["--ssh-listen", "127.0.0.1:0"])
        .env("REGUA_DATA_DIR", dir.path())
        .env(
            "REGUA_CONFIG",
            temp_file("bad-config.toml", "locale = \"en\"\ncolour = \"blue\"\n"),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("colour") && !err.contains("listening"),
        "{err}"
    );
}

#[test]
fn demo_data_keeps_to_regua_clock() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("demo.db").display());
    let out = Command::new(env!("CARGO_BIN_EXE_regua"))
        .args(["demo-data", "--database", &db, "--debtors", "40"])
        .env("REGUA_CONFIG", english_config())
        .env("REGUA_CLOCK", "2026-03-10T13:00:00Z")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Histories end by the clock's now, not the machine's.
    let newest: i64 = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let pool = sqlx::SqlitePool::connect(&db).await.unwrap();
        sqlx::query_scalar("SELECT MAX(at_ms) FROM history")
            .fetch_one(&pool)
            .await
            .unwrap()
    });
    let now_ms = 1_773_147_600_000; // 2026-03-10T13:00:00Z
    assert!(
        newest <= now_ms + 60_000 && newest > now_ms - 60 * 86_400_000,
        "newest event at {newest} ms, the clock at {now_ms}"
    );
    // A database that is not empty is left as it is.
    let again = regua(&["demo-data", "--database", &db, "--debtors", "5"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("is not empty"),
        "{}",
        text(&again.stderr)
    );
}

/// regua with `input` on its standard input.
fn regua_reading(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_regua"))
        .args(args)
        .env("REGUA_CONFIG", english_config())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// `users add` with its password.
fn add_user(name: &str, role: &str, db: &str) -> Output {
    let args = ["users", "add", name, "--role", role, "--database", db];
    regua_reading(&args, b"s3cret\n")
}

#[test]
fn user_names_are_checked_and_an_agent_gets_no_board_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("users.db").display());
    for (name, says) in [
        ("", "cannot be empty"),
        (" ana", "no spaces around it"),
        ("an\u{1b}[2Ja", "no control characters"),
        (&"a".repeat(65), "at most 64 bytes"),
    ] {
        let out = add_user(name, "agent", &db);
        assert_eq!(out.status.code(), Some(2), "{name:?}");
        let err = text(&out.stderr);
        assert!(err.contains(says), "{name:?}: {err}");
        assert!(!err.contains('\u{1b}'), "printed escaped: {err:?}");
    }
    let out = add_user("ana", "agent", &db);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ana@desk\n";
    let out = regua_reading(
        &["users", "add-key", "ana", "--database", &db],
        key.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("ana is an agent; the board over SSH is for supervisors"),
        "{}",
        text(&out.stderr)
    );
}

/// A session kept by a regua that did not keep its user with it, and a
/// server that is down: said so, with no password asked for (one would not
/// bring the server back). With its user kept, the console starts offline
/// (`console_e2e`).
#[test]
fn a_server_that_is_down_is_said_without_asking_a_password() {
    let dir = tempfile::tempdir().unwrap();
    let url = "http://127.0.0.1:9";
    std::fs::write(
        dir.path().join(regua::client::session::TOKEN_FILE),
        format!(r#"{{"server":"{url}","token":"kept-token"}}"#),
    )
    .unwrap();
    // `regua --server` is `regua console --server`.
    for console in [&["console"][..], &[]] {
        let out = Command::new(env!("CARGO_BIN_EXE_regua"))
            .args(console)
            .args(["--server", url, "--user", "ana"])
            .env("REGUA_CONFIG", english_config())
            .env("REGUA_DATA_DIR", dir.path())
            .env_remove("REGUA_PASSWORD")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = text(&out.stderr);
        assert!(
            err.contains("unreachable") && !err.contains("password"),
            "{err}"
        );
    }
}

#[test]
fn help_lists_the_commands() {
    let out = regua(&["--help"]);
    assert!(out.status.success());
    let s = text(&out.stdout);
    for command in [
        "console",
        "serve",
        "simulate",
        "policy",
        "import",
        "users",
        "demo-data",
    ] {
        assert!(s.contains(command), "{command}: {s}");
    }
}

#[test]
fn a_bad_key_binding_stops_the_console_with_its_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_regua"))
        .env(
            "REGUA_CONFIG",
            temp_file(
                "bad-keys.toml",
                "locale = \"en\"\n[keys.workspace]\n\"ctrl-d\" = \"call\"\nz = \"dance\"\n",
            ),
        )
        .env(
            "REGUA_DATA_DIR",
            std::env::temp_dir().join("regua-bad-keys"),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("regua: "),
        "said as regua's other errors are: {err}"
    );
    assert!(
        err.contains("bad-keys.toml:4: keys.workspace.\"z\": unknown action or command \"dance\""),
        "{err}"
    );
}

#[test]
fn a_bad_regua_clock_is_refused_by_name() {
    let out = Command::new(env!("CARGO_BIN_EXE_regua"))
        .env("REGUA_CLOCK", "tuesday morning")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("REGUA_CLOCK"),
        "{}",
        text(&out.stderr)
    );
}

/// `regua import --database`: a bad file imports nothing and names each bad
/// row; a good one twice creates, then updates, and every debtor gets a
/// verdict (queues are a query over them).
#[test]
fn import_into_a_database_is_all_or_nothing_and_plans_everyone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("regua.db");
    let url = format!("sqlite://{}", db.display());
    let header =
        "external_id,name,document,jurisdiction,debt_id,creditor,original,balance,due_date\n";
    let bad = temp_file(
        "bad-portfolio.csv",
        &format!(
            "{header}B-1,Ana,529.982.247-26,SP,C-1,Loja,10.00,10.00,2026-02-01\n\
             B-2,Bia,111.444.777-35,XX,C-2,Loja,10.00,-1.00,2026-02-30\n"
        ),
    );
    let out = regua(&["import", bad.to_str().unwrap(), "--database", &url]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    for needle in [
        "line 2, document",
        "line 3, jurisdiction",
        "line 3, balance",
        "line 3, due_date",
        "nothing was imported",
    ] {
        assert!(err.contains(needle), "{needle}: {err}");
    }

    let good = temp_file(
        "good-portfolio.csv",
        &format!(
            "{header}G-1,Rita Lima,529.982.247-25,SP,C-1,Loja,100.00,120.50,2026-02-01\n\
             G-1,Rita Lima,529.982.247-25,SP,C-2,Loja,50.00,50.00,2026-02-15\n\
             G-2,Caio Alves,111.444.777-35,RJ,C-3,TelePlus,80.00,80.00,2026-01-10\n"
        ),
    );
    let first = regua(&["import", good.to_str().unwrap(), "--database", &url]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout).contains("2 debtors (2 new, 0 updated)"),
        "{}",
        text(&first.stdout)
    );
    let again = regua(&["import", good.to_str().unwrap(), "--database", &url]);
    assert!(
        text(&again.stdout).contains("2 debtors (0 new, 2 updated)"),
        "{}",
        text(&again.stdout)
    );
    let counts = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql).fetch_one(&pool);
        (
            count("SELECT COUNT(*) FROM debtors").await.unwrap(),
            count("SELECT COUNT(*) FROM debts").await.unwrap(),
            count("SELECT COUNT(*) FROM verdicts").await.unwrap(),
            count("SELECT COUNT(*) FROM verdicts WHERE queue IS NOT NULL")
                .await
                .unwrap(),
        )
    });
    assert_eq!(
        counts,
        (2, 3, 2, 2),
        "debtors, debts, verdicts, debtors in a queue"
    );
}

/// `regua serve` stops on SIGTERM though consoles and boards hold live
/// streams open (they never end by themselves): the streams end, and the
/// process exits 0.
#[test]
fn serve_stops_on_sigterm_with_live_streams_open() {
    stops_on_sigterm(false);
}

/// ...and so it does with its stderr gone (a `| tee` that the same ctrl-c
/// ended): saying it stops had panicked, and it never did.
#[test]
fn serve_stops_on_sigterm_with_its_stderr_closed() {
    stops_on_sigterm(true);
}

fn stops_on_sigterm(close_stderr: bool) {
    use std::io::{BufRead, BufReader, Read};
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_regua"))
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .env("REGUA_CONFIG", english_config())
        .env("REGUA_DATA_DIR", dir.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("serve says where it listens").unwrap();
        if let Some(a) = line.strip_prefix("regua serve: listening on ") {
            break a.to_string();
        }
    };
    let http = reqwest::blocking::Client::new();
    let login: serde_json::Value = http
        .post(format!("{base}/v1/sessions"))
        .json(&serde_json::json!({ "username": "sofia", "password": "demo" }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let mut stream = http
        .get(format!("{base}/v1/events"))
        .bearer_auth(login["token"].as_str().unwrap())
        .send()
        .unwrap();
    assert!(stream.status().is_success());
    if close_stderr {
        drop(lines);
    }
    // SAFETY: kill(2) on the child this test started.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    let asked = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if asked.elapsed() > Duration::from_secs(10) {
            child.kill().unwrap();
            panic!("still running 10 s after SIGTERM with a live stream open");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    let mut rest = String::new();
    stream
        .read_to_string(&mut rest)
        .expect("the stream ended cleanly");
}

/// `regua serve` on the data directory's own database is the server a
/// console on the embedded default joins, not a second one on the same
/// file; when serve stops, the console runs it itself; and a serve started
/// while a console runs it is refused, naming where it runs.
#[test]
fn serve_on_the_data_directorys_database_is_the_server_consoles_join() {
    use regua::launch::{Options, connect};
    use std::io::{BufRead, BufReader};
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    /// A failing test does not leave its server running.
    struct Stopped(std::process::Child);
    impl Drop for Stopped {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let mut serve = Stopped(
        Command::new(env!("CARGO_BIN_EXE_regua"))
            .args(["serve", "--demo", "--listen", "0.0.0.0:0"])
            .env("REGUA_CONFIG", english_config())
            .env("REGUA_DATA_DIR", dir.path())
            .env_remove("REGUA_DATABASE_URL")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(serve.0.stderr.take().unwrap()).lines();
    let port = loop {
        let line = lines.next().expect("serve says where it listens").unwrap();
        if let Some(a) = line.strip_prefix("regua serve: listening on http://0.0.0.0:") {
            break a.to_string();
        }
    };
    let base = format!("http://127.0.0.1:{port}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let console = runtime
        .block_on(connect(Options {
            server: None,
            user: None,
            data_dir: dir.path().to_path_buf(),
            policy: regua::schedule::default_policy(),
            demo_user: "ana",
            clock: Arc::new(regua::domain::SystemClock),
        }))
        .unwrap();
    assert_eq!(
        console.label(regua::domain::Locale::En),
        "embedded (shared)"
    );
    assert_eq!(
        console.label(regua::domain::Locale::PtBr),
        "local (compartilhado)"
    );
    assert_eq!(*console.client.server(), base, "joined serve's server");

    // SAFETY: kill(2) on the child this test started.
    assert_eq!(
        unsafe { libc::kill(serve.0.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    assert!(serve.0.wait().unwrap().success());
    let gone = Instant::now();
    let taken_over = loop {
        let server = console.client.server();
        if *server != base && runtime.block_on(console.client.me()).is_ok() {
            break server;
        }
        assert!(
            gone.elapsed() < Duration::from_secs(15),
            "no server 15 s after serve stopped"
        );
        std::thread::sleep(Duration::from_millis(50));
    };

    let refused = Command::new(env!("CARGO_BIN_EXE_regua"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("REGUA_CONFIG", english_config())
        .env("REGUA_DATA_DIR", dir.path())
        .env_remove("REGUA_DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let said = text(&refused.stderr);
    assert!(
        said.contains(&format!(
            "runs the server of {} at {taken_over};",
            dir.path().display()
        )) && said.contains("quit it first"),
        "{said}"
    );
    // Named as another spelling of the same file, too.
    let db = format!("sqlite://{}/./regua.db", dir.path().display());
    let refused = Command::new(env!("CARGO_BIN_EXE_regua"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &db])
        .env("REGUA_CONFIG", english_config())
        .env("REGUA_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains("quit it first"));
    runtime.block_on(console.leave());
}

/// A database URL's password is never printed (an error about the URL
/// said it whole).
#[test]
fn a_database_password_is_not_printed() {
    let out = regua(&[
        "serve",
        "--database",
        "postgres://regua:Sup3rSecret@127.0.0.1:5432/regua?sslmode=bogus",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(!err.contains("Sup3rSecret"), "{err}");
    assert!(
        err.contains("postgres://regua:***@127.0.0.1:5432/regua"),
        "{err}"
    );
}

/// Through a server, what was not the file's fault is a failure (1), as the
/// console's login is; only the file's bad rows are 2.
#[test]
fn importing_through_a_server_says_whose_fault_by_its_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let db = format!("sqlite://{}", dir.path().join("regua.db").display());
    let mut server = Command::new(env!("CARGO_BIN_EXE_regua"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database",
            &db,
            "--demo",
        ])
        .env("REGUA_CONFIG", english_config())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed().as_secs() < 30, "regua serve did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let file = temp_file(
        "import-fault.csv",
        "external_id,name,document,jurisdiction,phone,phone_consent,debt_id,creditor,original,balance,due_date\n\
         X-1,Rita Lima,529.982.247-26,SP,,,C-1,Loja,10.00,10.00,2026-02-01\n",
    );
    let url = format!("http://127.0.0.1:{port}");
    let import = |user: &str, password: &str| {
        Command::new(env!("CARGO_BIN_EXE_regua"))
            .args(["import", file.to_str().unwrap(), "--server", &url])
            .env("REGUA_CONFIG", english_config())
            .env("REGUA_USER", user)
            .env("REGUA_PASSWORD", password)
            .output()
            .unwrap()
            .status
            .code()
    };
    let codes = [
        import("sofia", "wrong"),
        import("ana", "demo"),
        import("sofia", "demo"),
    ];
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(
        codes,
        [Some(1), Some(1), Some(2)],
        "refused, an agent, a bad CPF"
    );
}
