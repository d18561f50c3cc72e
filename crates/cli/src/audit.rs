//! `cws audit verify|export`.

use std::path::PathBuf;

use chrono::{NaiveDate, TimeZone, Utc};
use clap::Subcommand;
use store::{AuditVerdict, Store, write_csv};

use crate::{Failure, block_on, output};

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; name the first entry that was edited, deleted or reordered.
    Verify {
        #[arg(long)]
        json: bool,
    },
    /// Write entries as CSV for Information Governance.
    Export {
        /// First day included (YYYY-MM-DD, UTC).
        #[arg(long)]
        from: String,
        /// Last day included (YYYY-MM-DD, UTC).
        #[arg(long)]
        to: String,
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

fn day(text: &str, field: &str) -> Result<NaiveDate, Failure> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| Failure::Input(format!("{field}: {text:?} is not a date in the form YYYY-MM-DD")))
}

pub fn run(command: AuditCommand, path: PathBuf) -> Result<(), Failure> {
    block_on(async move {
        let store = Store::open(&path).await?;
        let result = match command {
            AuditCommand::Verify { json } => verify(&store, json).await,
            AuditCommand::Export { from, to, output } => export(&store, &from, &to, output).await,
        };
        store.close().await;
        result
    })
}

async fn verify(store: &Store, json: bool) -> Result<(), Failure> {
    let verdict = store.verify_audit().await?;
    if json {
        output::json(&verdict)?;
    }
    match verdict {
        AuditVerdict::Intact { entries } => {
            if !json {
                println!("The audit trail is intact: {entries} entries.");
            }
            Ok(())
        }
        AuditVerdict::Broken { problem, .. } => {
            Err(Failure::Other(anyhow::anyhow!("the audit trail has been tampered with: {problem}")))
        }
    }
}

async fn export(store: &Store, from: &str, to: &str, output_path: Option<PathBuf>) -> Result<(), Failure> {
    let (from, to) = (day(from, "from")?, day(to, "to")?);
    if to < from {
        return Err(Failure::Input("to: the last day is before the first".into()));
    }
    let start = Utc.from_utc_datetime(&from.and_hms_opt(0, 0, 0).unwrap_or_default());
    let end = Utc.from_utc_datetime(&to.succ_opt().unwrap_or(to).and_hms_opt(0, 0, 0).unwrap_or_default());
    let entries = store.audit_entries(start, end).await?;
    match output_path {
        Some(file) => {
            let out = std::fs::File::create(&file).map_err(|e| Failure::Other(e.into()))?;
            write_csv(&entries, out)?;
            eprintln!("Wrote {} audit entries to {}.", entries.len(), file.display());
        }
        None => write_csv(&entries, std::io::stdout().lock())?,
    }
    Ok(())
}
