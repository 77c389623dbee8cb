//! The command line (DESIGN.md's contract) and what each command does with
//! its files and exit codes: 0 ok, 1 runtime failure, 2 usage or bad input.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

use regua::config::{self, Config};
use regua::schedule::{self, Policy};
use regua::server::store::shown_url;

#[derive(Parser, Debug)]
#[command(
    name = "regua",
    version,
    about = "A keyboard-driven console for debt-collection call centres, and the régua engine behind it",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// `regua --server URL` is `regua console --server URL`.
    #[command(flatten)]
    console: ConsoleArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The agent console (what `regua` alone starts)
    Console(ConsoleArgs),
    /// The supervisor's live board (supervisors and admins)
    Board(BoardArgs),
    /// Run the régua on a synthetic portfolio and audit every contact it makes
    Simulate(SimulateArgs),
    /// Print or check a policy file
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Run the collection API
    Serve(ServeArgs),
    /// Manage users
    #[command(subcommand)]
    Users(UsersCommand),
    /// Import a portfolio CSV (columns in README), all or nothing
    Import(ImportArgs),
    /// Fill an empty database with demo users and a lived-in demo portfolio
    DemoData {
        /// sqlite://PATH or postgres://…
        #[arg(long, env = "REGUA_DATABASE_URL")]
        database: String,
        /// Debtors in the demo portfolio
        #[arg(long, default_value_t = 500, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
        debtors: usize,
        /// Seed: the same seed gives the same portfolio
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(clap::Args, Debug, Default)]
struct ConsoleArgs {
    /// A regua server (default: the config file's, else the embedded one)
    #[arg(long, env = "REGUA_SERVER")]
    server: Option<String>,
    /// Who logs in (default: the config file's; the demo agent `ana` on the embedded default)
    #[arg(long, env = "REGUA_USER")]
    user: Option<String>,
}

#[derive(clap::Args, Debug, Default)]
struct BoardArgs {
    /// A regua server (default: the config file's, else the embedded one)
    #[arg(long, env = "REGUA_SERVER")]
    server: Option<String>,
    /// Who logs in (default: the config file's; the demo supervisor `sofia` on the embedded default)
    #[arg(long, env = "REGUA_USER")]
    user: Option<String>,
}

#[derive(clap::Args, Debug)]
struct ServeArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:7878")]
    listen: std::net::SocketAddr,
    /// sqlite://PATH or postgres://… (default: REGUA_DATABASE_URL, else SQLite in the data directory)
    #[arg(long, env = "REGUA_DATABASE_URL")]
    database: Option<String>,
    /// Policy file (the built-in default when absent)
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Seed demo users (password "demo") and a demo portfolio into an empty database
    #[arg(long)]
    demo: bool,
    /// Also serve the supervisor's board over SSH on this address (host key
    /// kept in the data directory as ssh_host_ed25519_key)
    #[arg(long)]
    ssh_listen: Option<std::net::SocketAddr>,
}

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("target").args(["server", "database"])))]
struct ImportArgs {
    file: PathBuf,
    /// A running server (logs in with REGUA_USER and REGUA_PASSWORD)
    #[arg(long, env = "REGUA_SERVER")]
    server: Option<String>,
    /// Straight into a database: sqlite://PATH or postgres://…
    #[arg(long, env = "REGUA_DATABASE_URL")]
    database: Option<String>,
}

#[derive(Subcommand, Debug)]
enum UsersCommand {
    /// Add a user; the password comes from standard input (one line)
    Add {
        name: String,
        #[arg(long)]
        role: regua::domain::Role,
        /// sqlite://PATH or postgres://…
        #[arg(long, env = "REGUA_DATABASE_URL")]
        database: String,
    },
    /// Let a public key (one OpenSSH line on standard input, as in
    /// ~/.ssh/id_ed25519.pub) open the SSH board as this user
    AddKey {
        name: String,
        /// sqlite://PATH or postgres://…
        #[arg(long, env = "REGUA_DATABASE_URL")]
        database: String,
    },
}

#[derive(clap::Args, Debug)]
struct SimulateArgs {
    /// Policy file (the built-in default when absent)
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Debtors in the synthetic portfolio
    #[arg(long, default_value_t = 10_000, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000_000))]
    debtors: usize,
    /// Days to run
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
    days: u32,
    /// Seed: the same seed gives the same portfolio and the same run
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print the figures as one JSON document
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand, Debug)]
enum PolicyCommand {
    /// Write the default policy, commented, to standard output
    Print,
    /// Check a policy file: every mistake with its line and key
    Check { file: PathBuf },
}

/// Reads and checks a policy file, printing every mistake to stderr.
/// Text from a file (a policy's names and ids, quoted back in its
/// mistakes), with control and bidirectional characters written as escapes:
/// data on the terminal, never a sequence it would act on.
fn terminal_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || regua::client::sanitize::is_bidi_control(c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn read_policy(path: &std::path::Path) -> Result<Policy, ExitCode> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        eprintln!("regua: cannot read {name}: {e}");
        ExitCode::from(2)
    })?;
    schedule::load(&name, &text).map_err(|errors| {
        for e in &errors {
            eprintln!("{}", terminal_safe(&e.to_string()));
        }
        eprintln!(
            "regua: {name}: {} mistake(s); nothing was changed",
            errors.len()
        );
        ExitCode::from(2)
    })
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        None => console(ConsoleArgs {
            server: given(cli.console.server),
            user: given(cli.console.user),
        }),
        // clap takes an empty REGUA_SERVER or REGUA_USER as a value.
        Some(Command::Console(a)) => console(ConsoleArgs {
            server: given(a.server),
            user: given(a.user),
        }),
        Some(Command::Board(a)) => board(BoardArgs {
            server: given(a.server),
            user: given(a.user),
        }),
        Some(Command::Policy(PolicyCommand::Print)) => {
            print!("{}", schedule::DEFAULT_TOML);
            ExitCode::SUCCESS
        }
        Some(Command::Policy(PolicyCommand::Check { file })) => match read_policy(&file) {
            Ok(policy) => {
                println!(
                    "{}: ok — policy '{}', {} steps, {} engagement rules, {} queues",
                    file.display(),
                    terminal_safe(&policy.name),
                    policy.steps.len(),
                    policy.engagement.len(),
                    policy.queues.len()
                );
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        Some(Command::Simulate(args)) => simulate(args),
        Some(Command::Serve(args)) => runtime().block_on(serve(args)),
        Some(Command::Import(args)) => runtime().block_on(import(args)),
        Some(Command::DemoData {
            database,
            debtors,
            seed,
        }) => runtime().block_on(demo_data(database, debtors, seed)),
        Some(Command::Users(UsersCommand::Add {
            name,
            role,
            database,
        })) => runtime().block_on(add_user(name, role, database)),
        Some(Command::Users(UsersCommand::AddKey { name, database })) => {
            runtime().block_on(add_key(name, database))
        }
    }
}

fn load_config() -> Result<Config, ExitCode> {
    config::load(env_set("REGUA_CONFIG").map(PathBuf::from)).map_err(|e| {
        eprintln!("regua: {e}");
        ExitCode::from(2)
    })
}

fn console(args: ConsoleArgs) -> ExitCode {
    let Setup {
        config,
        keymap,
        theme,
        policy,
        clock,
        dir,
    } = match setup() {
        Ok(s) => s,
        Err(code) => return code,
    };
    runtime().block_on(async move {
        let options = regua::launch::Options {
            server: args.server.or(config.server.clone()),
            user: args.user.or(config.user.clone()),
            data_dir: dir.clone(),
            policy,
            demo_user: "ana",
            clock: clock.clone(),
        };
        let target = match connect(options).await {
            Ok(t) => t,
            Err(code) => return code,
        };
        let outbox = match regua::client::outbox::Outbox::open(&dir, config.locale).await {
            Ok(o) => o.with_clock(clock.clone()).for_owner(target.owner()),
            Err(e) => {
                eprintln!("regua: {e}");
                return ExitCode::from(1);
            }
        };
        let app = regua::console::app::App::new(
            config.locale,
            keymap,
            target.user.name.clone(),
            target.label(config.locale),
            clock.now(),
        );
        let result = match regua::console::terminal::enter() {
            Ok(term) => {
                let r = regua::console::run::run(
                    term,
                    regua::console::run::Session {
                        client: target.client.clone(),
                        clock,
                        outbox,
                        app,
                        theme,
                        dial_command: config.dial_command().map(<[String]>::to_vec),
                        locale: config.locale,
                        control_dir: Some(dir.clone()),
                    },
                )
                .await;
                regua::console::terminal::restore();
                r
            }
            Err(e) => Err(e),
        };
        target.leave().await;
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("regua: terminal: {e}");
                ExitCode::from(1)
            }
        }
    })
}

/// What the console and the board both read before they start: the
/// config, its keymap and theme, the policy, the clock and the data
/// directory (logging there).
struct Setup {
    config: Config,
    keymap: regua::console::keymap::Keymap,
    theme: regua::console::theme::Theme,
    policy: Policy,
    clock: std::sync::Arc<dyn regua::domain::Clock>,
    dir: PathBuf,
}

/// Finds the server and logs in, for the console and the board alike; a
/// failure is said on stderr and is exit 1.
async fn connect(options: regua::launch::Options) -> Result<regua::launch::Target, ExitCode> {
    regua::launch::connect(options).await.map_err(|e| {
        eprintln!("regua: {e}");
        ExitCode::from(1)
    })
}

/// The config's key bindings and theme (`no_color` turning colour off);
/// a bad one is said with its file and line, exit 2.
fn keys_and_theme(
    config: &Config,
    no_color: Option<&str>,
) -> Result<(regua::console::keymap::Keymap, regua::console::theme::Theme), ExitCode> {
    let config_name = config
        .path
        .as_ref()
        .map_or("config".to_string(), |p| p.display().to_string());
    let keymap = regua::console::keymap::Keymap::with(&config.bindings, &config.commands).map_err(
        |errors| {
            for e in &errors {
                eprintln!("regua: {config_name}:{e}");
            }
            ExitCode::from(2)
        },
    )?;
    let theme =
        regua::console::theme::Theme::load(config.theme.as_deref().unwrap_or("dark"), no_color)
            .map_err(|e| {
                eprintln!("regua: {config_name}: theme: {e}");
                ExitCode::from(2)
            })?;
    Ok((keymap, theme))
}

fn setup() -> Result<Setup, ExitCode> {
    let config = load_config()?;
    let no_color = std::env::var("NO_COLOR").ok().filter(|v| !v.is_empty());
    let (keymap, theme) = keys_and_theme(&config, no_color.as_deref())?;
    let policy = match &config.policy {
        Some(path) => read_policy(path)?,
        None => schedule::default_policy(),
    };
    let clock = clock()?;
    let dir = data_dir();
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("regua: {}: {e}", dir.display());
        return Err(ExitCode::from(1));
    }
    log_to_file(&dir);
    Ok(Setup {
        config,
        keymap,
        theme,
        policy,
        clock,
        dir,
    })
}

fn board(args: BoardArgs) -> ExitCode {
    let Setup {
        config,
        keymap,
        theme,
        policy,
        clock,
        dir,
    } = match setup() {
        Ok(s) => s,
        Err(code) => return code,
    };
    runtime().block_on(async move {
        let options = regua::launch::Options {
            server: args.server.or(config.server.clone()),
            user: args.user.or(config.user.clone()),
            data_dir: dir.clone(),
            policy,
            demo_user: "sofia",
            clock: clock.clone(),
        };
        let target = match connect(options).await {
            Ok(t) => t,
            Err(code) => return code,
        };
        if target.user.role == regua::domain::Role::Agent {
            eprintln!(
                "regua board: {} is an agent; the board is for supervisors and admins",
                target.user.name
            );
            target.leave().await;
            return ExitCode::from(1);
        }
        let board = regua::board::model::Board::new(
            config.locale,
            keymap,
            config.board,
            target.user.name.clone(),
            target.label(config.locale),
            clock.now(),
        );
        let result = run_board_here(regua::board::run::Session {
            client: target.client.clone(),
            clock,
            board,
            theme,
        })
        .await;
        target.leave().await;
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("regua: terminal: {e}");
                ExitCode::from(1)
            }
        }
    })
}

/// The board on this process's terminal: its keys read on a thread, its
/// frames to stdout, SIGTERM, SIGHUP and SIGINT ending it like `q`.
async fn run_board_here(session: regua::board::run::Session) -> std::io::Result<()> {
    use regua::board::run::Input;
    use regua::console::terminal;
    let size = ratatui::crossterm::terminal::size()?;
    terminal::take()?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let keys = tx.clone();
    terminal::spawn_reader(std::sync::Arc::default(), move |input| {
        let input = match input {
            terminal::Input::Key(k) => Input::Key(k),
            terminal::Input::Resize(w, h) => Input::Resize(w, h),
            // Dropped whole: as keystrokes its letters would be the board's
            // commands (`x` lets a lease go).
            terminal::Input::Paste(_) => return true,
        };
        keys.send(input).is_ok()
    });
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
            signal(SignalKind::interrupt()),
        ) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = hup.recv() => {}
            _ = int.recv() => {}
        }
        let _ = tx.send(Input::Closed);
    });
    let r = regua::board::run::run(std::io::stdout(), size, rx, session).await;
    terminal::restore();
    r
}

/// The system clock, or with `REGUA_CLOCK=2026-03-10T13:00:00Z` one that
/// starts there (demos and end-to-end tests at a fixed hour).
fn clock() -> Result<std::sync::Arc<dyn regua::domain::Clock>, ExitCode> {
    match std::env::var("REGUA_CLOCK") {
        Err(_) => Ok(std::sync::Arc::new(regua::domain::SystemClock)),
        Ok(text) => match chrono::DateTime::parse_from_rfc3339(&text) {
            Ok(t) => Ok(std::sync::Arc::new(
                regua::domain::ShiftedClock::starting_at(t.with_timezone(&chrono::Utc)),
            )),
            Err(e) => {
                eprintln!(
                    "regua: REGUA_CLOCK={text:?}: {e} (expected RFC 3339, e.g. 2026-03-10T13:00:00Z)"
                );
                Err(ExitCode::from(2))
            }
        },
    }
}

/// The console owns the screen: its log goes to `<data dir>/regua.log`.
fn log_to_file(dir: &std::path::Path) {
    let path = dir.join("regua.log");
    if let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    {
        let _ = tracing_subscriber::fmt()
            .with_writer(std::sync::Mutex::new(file))
            .with_ansi(false)
            .try_init();
    }
}

fn simulate(args: SimulateArgs) -> ExitCode {
    let config = match load_config() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let policy = match args.policy.as_ref().or(config.policy.as_ref()) {
        Some(path) => match read_policy(path) {
            Ok(p) => p,
            Err(code) => return code,
        },
        None => schedule::default_policy(),
    };
    let report = regua::simulate::simulate(&policy, args.debtors, args.days, args.seed);
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_text(config.locale));
    }
    if report.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("regua: {} compliance violation(s)", report.violations.len());
        ExitCode::from(1)
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
}

/// A variable of the environment, unless unset or empty: `REGUA_DATA_DIR=`
/// means the default, as an empty `XDG_DATA_HOME` does, not the current
/// directory.
fn env_set(name: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

/// An empty value is none.
fn given(v: Option<String>) -> Option<String> {
    v.filter(|v| !v.is_empty())
}

/// The data directory: REGUA_DATA_DIR, else the platform's.
fn data_dir() -> PathBuf {
    if let Some(dir) = env_set("REGUA_DATA_DIR") {
        return PathBuf::from(dir);
    }
    directories::ProjectDirs::from("", "", "regua")
        .map_or_else(|| PathBuf::from("."), |d| d.data_dir().to_path_buf())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
    // Not eprintln!: with stderr gone (a `| tee` killed by the same
    // ctrl-c) it panics, and the stop it announces never happened.
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "regua serve: stopping; requests in flight finish first"
    );
}

async fn serve(args: ServeArgs) -> ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .try_init();
    let policy = match &args.policy {
        Some(path) => match read_policy(path) {
            Ok(p) => p,
            Err(code) => return code,
        },
        None => schedule::default_policy(),
    };
    // The SSH board is drawn here, as the server's config says: a mistake
    // in it stops the server before it starts, not after it says it runs.
    let look = match args.ssh_listen {
        Some(_) => match board_look() {
            Ok(l) => Some(l),
            Err(code) => return code,
        },
        None => None,
    };
    let dir = data_dir();
    let url = args.database.unwrap_or_else(|| {
        let _ = std::fs::create_dir_all(&dir);
        regua::embedded::database_url(&dir)
    });
    // The data directory's own database is the one a console or board on
    // the embedded default serves: this server takes that part, so they
    // join it instead of running a second server on the same file.
    let claim = if regua::embedded::is_own_database(&dir, &url) {
        match regua::embedded::Claim::take(&dir) {
            Ok(Some(claim)) => Some(claim),
            Ok(None) => {
                let at = regua::client::session::read_server_address(&dir)
                    .map_or(String::new(), |a| format!(" at {a}"));
                eprintln!(
                    "regua serve: another regua (a console, a board or a serve) runs the server of {}{at}; quit it first, or serve another database with --database",
                    dir.display()
                );
                return ExitCode::from(1);
            }
            Err(e) => {
                eprintln!("regua serve: {e}");
                return ExitCode::from(1);
            }
        }
    } else {
        None
    };
    let store = match regua::server::store::connect(&url).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("regua serve: {}: {e}", shown_url(&url));
            return ExitCode::from(
                if matches!(e, regua::server::store::StoreError::BadUrl(_)) {
                    2
                } else {
                    1
                },
            );
        }
    };
    let clock = match clock() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let state = regua::server::app::AppState::new(store, policy, clock);
    if args.demo {
        match regua::server::seed_demo(&state, 500, 1).await {
            Ok(true) => {
                eprintln!("regua serve: seeded demo users (password \"demo\") and 500 debtors")
            }
            Ok(false) => {}
            Err(e) => {
                eprintln!("regua serve: seeding demo data: {e}");
                return ExitCode::from(1);
            }
        }
    }
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("regua serve: cannot listen on {}: {e}", args.listen);
            return ExitCode::from(1);
        }
    };
    let http = listener.local_addr().map_or(args.listen, |a| a);
    eprintln!("regua serve: listening on http://{http}");
    if let Some(claim) = &claim
        && let Err(e) = claim.announce(&format!("http://{}", reachable(http)))
    {
        eprintln!("regua serve: {e}");
        return ExitCode::from(1);
    }
    let mut ssh_boards = None;
    if let (Some(addr), Some(look)) = (args.ssh_listen, look) {
        match ssh_endpoint(addr, http, &state, look).await {
            Ok(open) => ssh_boards = Some(open),
            Err(e) => {
                eprintln!("regua serve: ssh: {e}");
                return ExitCode::from(1);
            }
        }
    }
    let claim = claim.map(std::sync::Arc::new);
    let stopping = {
        let claim = claim.clone();
        async move {
            shutdown_signal().await;
            if let Some(claim) = claim {
                claim.withdraw();
            }
        }
    };
    let served = regua::server::serve(listener, state, stopping).await;
    if let Some(open) = ssh_boards {
        open.closed(std::time::Duration::from_secs(3)).await;
    }
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("regua serve: {e}");
            ExitCode::from(1)
        }
    }
}

/// How boards drawn by this process look and answer: the config file's
/// keys, theme, thresholds and locale. A bad config stops `serve` with its
/// line.
struct Look {
    keymap: regua::console::keymap::Keymap,
    theme: regua::console::theme::Theme,
    limits: regua::config::BoardConfig,
    locale: regua::domain::Locale,
}

fn board_look() -> Result<Look, ExitCode> {
    let config = load_config()?;
    // Colour is each SSH client's to turn off, not the server's terminal's.
    let (keymap, theme) = keys_and_theme(&config, None)?;
    Ok(Look {
        keymap,
        theme,
        limits: config.board,
        locale: config.locale,
    })
}

/// Starts the SSH board on `addr`, talking to this server at `http`; the
/// boards it opens, for a stopping server to wait on.
async fn ssh_endpoint(
    addr: std::net::SocketAddr,
    http: std::net::SocketAddr,
    state: &regua::server::app::AppState,
    look: Look,
) -> Result<std::sync::Arc<regua::ssh::OpenBoards>, String> {
    let login_grace = login_grace()?;
    let path = data_dir().join("ssh_host_ed25519_key");
    let key = regua::ssh::host_key(&path)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let api = reachable(http);
    eprintln!(
        "regua serve: board over ssh on {} (host key {})",
        listener.local_addr().map_or(addr, |a| a),
        path.display()
    );
    let endpoint = std::sync::Arc::new(regua::ssh::Endpoint {
        state: state.clone(),
        api: format!("http://{api}"),
        keymap: look.keymap,
        theme: look.theme,
        limits: look.limits,
        locale: look.locale,
        open: std::sync::Arc::default(),
        login_grace,
    });
    let open = endpoint.open.clone();
    // Runs for as long as the server does.
    tokio::spawn(async move {
        if let Err(e) = regua::ssh::serve(listener, key, endpoint).await {
            eprintln!("regua serve: ssh: {e}");
        }
    });
    Ok(open)
}

/// `REGUA_SSH_LOGIN_GRACE` (whole seconds), else OpenSSH's 120.
fn login_grace() -> Result<std::time::Duration, String> {
    match std::env::var("REGUA_SSH_LOGIN_GRACE") {
        Err(_) => Ok(regua::ssh::LOGIN_GRACE),
        Ok(s) => match s.trim().parse::<u64>() {
            Ok(secs) if secs > 0 => Ok(std::time::Duration::from_secs(secs)),
            _ => Err(format!(
                "REGUA_SSH_LOGIN_GRACE: {s:?} is not a number of seconds (more than 0)"
            )),
        },
    }
}

/// Where this process reaches a server listening on `addr`: a wildcard
/// listen on loopback.
fn reachable(mut addr: std::net::SocketAddr) -> std::net::SocketAddr {
    match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => {
            addr.set_ip(std::net::Ipv6Addr::LOCALHOST.into());
        }
        _ => {}
    }
    addr
}

async fn add_key(name: String, database: String) -> ExitCode {
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    let line = line.trim();
    let key = match russh::keys::PublicKey::from_openssh(line) {
        Ok(k) => k,
        Err(e) => {
            eprintln!(
                "regua users add-key: standard input: not an OpenSSH public key ({e}); e.g. `regua users add-key {name} < ~/.ssh/id_ed25519.pub`"
            );
            return ExitCode::from(2);
        }
    };
    let store = match regua::server::store::connect(&database).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("regua users add-key: {}: {e}", shown_url(&database));
            return ExitCode::from(1);
        }
    };
    let user = match store.user_by_name(&name).await {
        Ok(Some((user, _))) => user,
        Ok(None) => {
            eprintln!("regua users add-key: no user {name:?}");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("regua users add-key: {e}");
            return ExitCode::from(1);
        }
    };
    // The board is what a key opens, and the board is not an agent's.
    if user.role == regua::domain::Role::Agent {
        eprintln!(
            "regua users add-key: {} is an agent; the board over SSH is for supervisors and admins",
            terminal_safe(&user.name)
        );
        return ExitCode::from(2);
    }
    // Kept without its comment: the key is what is compared.
    let text = key.to_openssh().unwrap_or_else(|_| line.to_string());
    match store.add_user_key(user.id, &text, chrono::Utc::now()).await {
        Ok(()) => {
            println!(
                "{} may now open the board over SSH with {} {}",
                user.name,
                key.algorithm(),
                key.fingerprint(Default::default())
            );
            ExitCode::SUCCESS
        }
        Err(regua::server::store::StoreError::Conflict(what)) => {
            eprintln!("regua users add-key: {what} already exists");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("regua users add-key: {e}");
            ExitCode::from(1)
        }
    }
}

async fn add_user(name: String, role: regua::domain::Role, database: String) -> ExitCode {
    if let Some(problem) = regua::domain::User::name_problem(&name) {
        eprintln!("regua users add: {}: {problem}", terminal_safe(&name));
        return ExitCode::from(2);
    }
    let mut password = String::new();
    if std::io::stdin().read_line(&mut password).is_err() || password.trim().is_empty() {
        eprintln!("regua users add: give the password on standard input (one line)");
        return ExitCode::from(2);
    }
    let store = match regua::server::store::connect(&database).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("regua users add: {}: {e}", shown_url(&database));
            return ExitCode::from(1);
        }
    };
    let hash =
        regua::server::auth::hash_password(password.trim_end_matches(['\r', '\n']).to_string())
            .await;
    match store
        .create_user(&name, role, &hash, chrono::Utc::now())
        .await
    {
        Ok(user) => {
            println!("added {} ({}), id {}", user.name, user.role, user.id);
            ExitCode::SUCCESS
        }
        Err(regua::server::store::StoreError::Conflict(what)) => {
            eprintln!("regua users add: {what} already exists");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("regua users add: {e}");
            ExitCode::from(1)
        }
    }
}

async fn demo_data(database: String, debtors: usize, seed: u64) -> ExitCode {
    // Histories end at the clock's now, as a server on REGUA_CLOCK reads them.
    let clock = match clock() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let store = match regua::server::store::connect(&database).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("regua demo-data: {}: {e}", shown_url(&database));
            return ExitCode::from(
                if matches!(e, regua::server::store::StoreError::BadUrl(_)) {
                    2
                } else {
                    1
                },
            );
        }
    };
    let state = regua::server::app::AppState::new(store, schedule::default_policy(), clock);
    match regua::server::seed_demo(&state, debtors, seed).await {
        Ok(true) => {
            println!(
                "seeded {database}: demo users (password \"demo\") and {debtors} debtors with 45 days of history"
            );
            ExitCode::SUCCESS
        }
        Ok(false) => {
            eprintln!(
                "regua demo-data: {database} is not empty (it has users or debtors); nothing was changed"
            );
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("regua demo-data: {e}");
            ExitCode::from(1)
        }
    }
}

async fn import(args: ImportArgs) -> ExitCode {
    let bytes = match std::fs::read(&args.file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("regua import: cannot read {}: {e}", args.file.display());
            return ExitCode::from(2);
        }
    };
    let name = args.file.display().to_string();
    match (args.server, args.database) {
        (Some(server), _) => import_to_server(&server, &name, bytes).await,
        (None, Some(database)) => import_to_database(&database, &name, bytes).await,
        (None, None) => {
            eprintln!(
                "regua import: say where: --server URL or --database URL (or REGUA_SERVER / REGUA_DATABASE_URL)"
            );
            ExitCode::from(2)
        }
    }
}

async fn import_to_database(database: &str, name: &str, bytes: Vec<u8>) -> ExitCode {
    let debtors = match regua::import::parse_portfolio(&bytes) {
        Ok(d) => d,
        Err(errors) => {
            eprintln!("regua import: {name}: {errors}");
            return ExitCode::from(2);
        }
    };
    // The file is as large again as the debtors: not kept while they are
    // written.
    drop(bytes);
    let store = match regua::server::store::connect(database).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("regua import: {}: {e}", shown_url(database));
            return ExitCode::from(1);
        }
    };
    let state = regua::server::app::AppState::new(
        store,
        schedule::default_policy(),
        std::sync::Arc::new(regua::domain::SystemClock),
    );
    let imported = match regua::server::import(&state, debtors).await {
        Ok(i) => i,
        Err(e) => {
            eprintln!("regua import: {}", e.message);
            return ExitCode::from(1);
        }
    };
    println!(
        "{name}: {} debtors ({} new, {} updated)",
        imported.ids.len(),
        imported.created,
        imported.updated
    );
    ExitCode::SUCCESS
}

async fn import_to_server(server: &str, name: &str, bytes: Vec<u8>) -> ExitCode {
    let (Ok(user), Ok(password)) = (std::env::var("REGUA_USER"), std::env::var("REGUA_PASSWORD"))
    else {
        eprintln!("regua import: set REGUA_USER and REGUA_PASSWORD to log in to {server}");
        return ExitCode::from(2);
    };
    let http = reqwest::Client::new();
    let base = server.trim_end_matches('/');
    let login = http
        .post(format!("{base}/v1/sessions"))
        .json(&serde_json::json!({ "username": user, "password": password }))
        .send()
        .await;
    let token = match login {
        Ok(r) if r.status().is_success() => match r.json::<regua::api::LoginResponse>().await {
            Ok(l) => l.token,
            Err(e) => {
                eprintln!("regua import: {server}: {e}");
                return ExitCode::from(1);
            }
        },
        // A failure, as the console's login is: the file was not at fault.
        Ok(r) => {
            eprintln!("regua import: {server}: login refused ({})", r.status());
            return ExitCode::from(1);
        }
        Err(e) => {
            eprintln!("regua import: {server}: {e}");
            return ExitCode::from(1);
        }
    };
    let sent = http
        .post(format!("{base}/v1/import/portfolio"))
        .bearer_auth(token)
        .body(bytes)
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => match r.json::<regua::api::ImportResponse>().await {
            Ok(i) => {
                println!(
                    "{name}: {} debtors ({} new, {} updated)",
                    i.debtors, i.created, i.updated
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("regua import: {server}: {e}");
                ExitCode::from(1)
            }
        },
        Ok(r) => {
            let status = r.status();
            match r.json::<regua::api::ErrorBody>().await {
                Ok(body) => eprintln!("regua import: {name}: {}", body.error.message),
                Err(_) => eprintln!("regua import: {server}: {status}"),
            }
            // The file's own fault is 2; a user who may not import, 1.
            let forbidden = status == reqwest::StatusCode::FORBIDDEN;
            ExitCode::from(if status.is_client_error() && !forbidden {
                2
            } else {
                1
            })
        }
        Err(e) => {
            eprintln!("regua import: {server}: {e}");
            ExitCode::from(1)
        }
    }
}
