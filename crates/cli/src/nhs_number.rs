//! `cws nhs-number check`.

use clap::Subcommand;
use patients::{NhsNumber, NhsNumberPolicy};

use crate::Failure;

#[derive(Subcommand)]
pub enum NhsNumberCommand {
    /// Prints `valid`, or the reason the number is not one.
    Check {
        number: String,
        /// Refuse the 9xx test range, as a production site does.
        #[arg(long)]
        refuse_test_range: bool,
    },
}

pub fn run(command: NhsNumberCommand) -> Result<(), Failure> {
    let NhsNumberCommand::Check { number, refuse_test_range } = command;
    let policy = NhsNumberPolicy { accept_test_range: !refuse_test_range };
    let parsed = NhsNumber::parse(&number, policy).map_err(|e| Failure::Input(format!("nhs_number: {e}")))?;
    println!("valid ({parsed})");
    Ok(())
}
