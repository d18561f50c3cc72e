//! `cws nhs-number check`.

use clap::Subcommand;
use patients::{NhsNumber, NhsNumberPolicy};

use crate::Failure;

#[derive(Subcommand)]
pub enum NhsNumberCommand {
    /// Prints `valid`, or the reason the number is not one.
    Check {
        number: String,
        /// Refuse the 9xx test range, as a production site does (also set by CWS_NHS_NUMBER_TEST_RANGE=refuse).
        #[arg(long)]
        refuse_test_range: bool,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: NhsNumberCommand) -> Result<(), Failure> {
    let NhsNumberCommand::Check { number, refuse_test_range, json } = command;
    let site = crate::nhs_policy()?;
    let policy = NhsNumberPolicy { accept_test_range: site.accept_test_range && !refuse_test_range };
    let parsed = NhsNumber::parse(&number, policy).map_err(|e| Failure::Input(format!("nhs_number: {e}")))?;
    if json {
        crate::output::json(
            &serde_json::json!({"valid": true, "nhs_number": parsed.digits(), "display": parsed.to_string()}),
        )?;
    } else {
        println!("valid ({parsed})");
    }
    Ok(())
}
