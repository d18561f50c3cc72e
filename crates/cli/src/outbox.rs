//! `cws outbox list|run`: the discharge outbox, worked by the account the site
//! names in `[discharge] sender_account` (or, stand-alone, the account that
//! holds the store's key). `run` keeps going until interrupted, between passes
//! waiting a few seconds; an interruption mid-send leaves the row claimed, and
//! the next run takes it up again.

use clap::Subcommand;
use services::StoreLocation;
use services::discharge_outbox::{SenderToken, run_once};

use crate::card_authority::trusted_ca;
use crate::trusted_settings::trusted_settings;
use crate::{Failure, block_on, output, with_context};

/// How long `run` waits between passes over the outbox.
const PASS_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Subcommand)]
pub enum OutboxCommand {
    /// Every send: the summary, channel, recipient, status, attempts and last error.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Send what is due, retrying with backoff; with --once, one pass and stop.
    Run {
        #[arg(long)]
        once: bool,
    },
}

pub fn run(command: OutboxCommand, location: StoreLocation) -> Result<(), Failure> {
    block_on(with_context(&location, async |context| {
        let sender = SenderToken::for_account(context, &crate::adt::interface_account())?;
        match command {
            OutboxCommand::List { json } => {
                let rows = services::discharge_outbox::list(context, &sender).await?;
                if json {
                    return Ok(output::json(&rows)?);
                }
                if rows.is_empty() {
                    println!("The outbox is empty.");
                }
                for row in rows {
                    println!(
                        "{:>5}  summary {:<6} {:<5} {:<10} {:<12} attempts {}  next {}{}",
                        row.id,
                        row.summary_id,
                        row.channel,
                        row.recipient,
                        row.status,
                        row.attempts,
                        row.next_try_utc,
                        row.last_error.as_ref().map(|e| format!("  last error: {e}")).unwrap_or_default()
                    );
                    for response in
                        [&row.infrastructure_response, &row.business_response].into_iter().flatten()
                    {
                        println!("       {response}");
                    }
                }
                Ok(())
            }
            OutboxCommand::Run { once } => {
                let trust = trusted_ca(trusted_settings()?)?;
                loop {
                    let report = run_once(context, &sender, &trust).await?;
                    let news = report.delivered
                        + report.retrying
                        + report.given_up
                        + report.acknowledged
                        + report.undeliverable
                        + report.practice_responses;
                    if news > 0 || once {
                        println!(
                            "Delivered {}, to retry {}, given up {}; acknowledged by the practice {}, undeliverable {}; practice responses {} ({} refusing).",
                            report.delivered,
                            report.retrying,
                            report.given_up,
                            report.acknowledged,
                            report.undeliverable,
                            report.practice_responses,
                            report.refused_by_practice,
                        );
                    }
                    if report.unread_responses > 0 {
                        eprintln!(
                            "{} message(s) on the response workflow could not be read or matched to a send; they are left in the MESH inbox for you to look at.",
                            report.unread_responses
                        );
                    }
                    if once {
                        return Ok(());
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(PASS_INTERVAL) => {}
                        _ = tokio::signal::ctrl_c() => return Ok(()),
                    }
                }
            }
        }
    }))
}
