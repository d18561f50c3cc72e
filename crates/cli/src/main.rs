//! `cws`: the workstation's command line. It links no desktop libraries.
//! Exit codes: 0 ok, 2 bad input (with the field named), 1 anything else.

mod dose;
mod output;
mod regimen;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cws", version, about = "Clinical Workstation command line")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Calculate doses exactly, with the derivation of every number.
    #[command(subcommand)]
    Dose(dose::DoseCommand),
    /// List and show the regimen library.
    #[command(subcommand)]
    Regimen(regimen::RegimenCommand),
}

/// Why a command failed, which decides the exit code.
pub enum Failure {
    /// The user's input was refused: exit 2.
    Input(dosing::DoseError),
    /// Anything else: exit 1.
    Other(anyhow::Error),
}

impl From<dosing::DoseError> for Failure {
    fn from(error: dosing::DoseError) -> Self {
        Self::Input(error)
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Self::Other(error)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Dose(command) => dose::run(command),
        Command::Regimen(command) => regimen::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(error)) => {
            eprintln!("cws: {error}");
            ExitCode::from(2)
        }
        Err(Failure::Other(error)) => {
            eprintln!("cws: {error:#}");
            ExitCode::from(1)
        }
    }
}
