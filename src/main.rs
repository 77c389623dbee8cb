use clap::Parser;
use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    cli::run(cli::Cli::parse())
}
