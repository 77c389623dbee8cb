//! The command line (DESIGN.md's contract) and what each command does with
//! its files and exit codes: 0 ok, 1 runtime failure, 2 usage or bad input.

use clap::{CommandFactory, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

use regua::config::{self, Config};
use regua::schedule::{self, Policy};

#[derive(Parser, Debug)]
#[command(
    name = "regua",
    version,
    about = "A keyboard-driven console for debt-collection call centres, and the régua engine behind it"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the régua on a synthetic portfolio and audit every contact it makes
    Simulate(SimulateArgs),
    /// Print or check a policy file
    #[command(subcommand)]
    Policy(PolicyCommand),
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
fn read_policy(path: &std::path::Path) -> Result<Policy, ExitCode> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        eprintln!("regua: cannot read {name}: {e}");
        ExitCode::from(2)
    })?;
    schedule::load(&name, &text).map_err(|errors| {
        for e in &errors {
            eprintln!("{e}");
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
        None => {
            // The console arrives with its own issue; until then, say what exists.
            let _ = Cli::command().print_long_help();
            ExitCode::SUCCESS
        }
        Some(Command::Policy(PolicyCommand::Print)) => {
            print!("{}", schedule::DEFAULT_TOML);
            ExitCode::SUCCESS
        }
        Some(Command::Policy(PolicyCommand::Check { file })) => match read_policy(&file) {
            Ok(policy) => {
                println!(
                    "{}: ok — policy '{}', {} steps, {} engagement rules, {} queues",
                    file.display(),
                    policy.name,
                    policy.steps.len(),
                    policy.engagement.len(),
                    policy.queues.len()
                );
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        Some(Command::Simulate(args)) => simulate(args),
    }
}

fn load_config() -> Result<Config, ExitCode> {
    config::load(std::env::var_os("REGUA_CONFIG").map(PathBuf::from)).map_err(|e| {
        eprintln!("regua: {e}");
        ExitCode::from(2)
    })
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
