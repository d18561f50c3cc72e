//! `cws audit verify|export|anchor|break-glass`.

use std::path::PathBuf;

use chrono::{NaiveDate, TimeZone, Utc};
use clap::Subcommand;
use services::{Context, StoreLocation};
use store::{AuditAnchor, AuditVerdict, write_csv};

use crate::{Failure, block_on, output, with_context};

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; name the first entry that was edited, deleted or reordered.
    Verify {
        /// A file of anchor lines (from `cws audit anchor` or the system log): each anchored
        /// entry must still be in the chain with the same hash.
        #[arg(long)]
        anchors: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Print the head of the trail (sequence, hash, time) as one line, to keep outside the store.
    Anchor,
    /// Each break-glass use between two days, for the Privacy Officer's review:
    /// who, when, which patient record (its id, never a name) and the reason given.
    BreakGlass {
        /// First day included (YYYY-MM-DD, UTC).
        #[arg(long)]
        from: String,
        /// Last day included (YYYY-MM-DD, UTC).
        #[arg(long)]
        to: String,
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

pub fn run(command: AuditCommand, location: StoreLocation) -> Result<(), Failure> {
    block_on(with_context(&location, async |context| match command {
        AuditCommand::Verify { anchors, json } => verify(context, anchors, json).await,
        AuditCommand::Anchor => {
            let anchor = services::audit::anchor(context).await?;
            println!("{}", anchor.line());
            Ok(())
        }
        AuditCommand::Export { from, to, output } => export(context, &from, &to, output).await,
        AuditCommand::BreakGlass { from, to, json } => {
            let (start, end) = days(&from, &to)?;
            let uses = services::imaging::break_glass_uses(context, start, end).await?;
            if json {
                return Ok(output::json(&uses)?);
            }
            if uses.is_empty() {
                println!("No break-glass use between {from} and {to}.");
            }
            for entry in &uses {
                let reason = entry.outcome.split_once("reason: ").map_or("", |(_, r)| r);
                println!(
                    "{}  user {}  at {}  patient record {}  reason: {reason}",
                    entry.at_utc,
                    entry.actor,
                    entry.workstation,
                    entry.patient_id.map_or("?".into(), |id| id.to_string())
                );
            }
            Ok(())
        }
    }))
}

/// From the start of the first day to the end of the last (UTC).
fn days(from: &str, to: &str) -> Result<(chrono::DateTime<Utc>, chrono::DateTime<Utc>), Failure> {
    let (from, to) = (day(from, "from")?, day(to, "to")?);
    if to < from {
        return Err(Failure::Input("to: the last day is before the first".into()));
    }
    let start = Utc.from_utc_datetime(&from.and_hms_opt(0, 0, 0).unwrap_or_default());
    let end = Utc.from_utc_datetime(&to.succ_opt().unwrap_or(to).and_hms_opt(0, 0, 0).unwrap_or_default());
    Ok((start, end))
}

/// Every anchor line in a file; other lines (a whole system log, say) are skipped.
fn read_anchors(file: &std::path::Path) -> Result<Vec<AuditAnchor>, Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::Input(format!("anchors: {}: {e}", file.display())))?;
    let anchors: Vec<AuditAnchor> = text.lines().filter_map(AuditAnchor::parse).collect();
    if anchors.is_empty() {
        return Err(Failure::Input(format!("anchors: {} holds no cws-audit-anchor line", file.display())));
    }
    Ok(anchors)
}

async fn verify(context: &Context, anchors: Option<PathBuf>, json: bool) -> Result<(), Failure> {
    let anchors = match anchors {
        Some(file) => read_anchors(&file)?,
        None => Vec::new(),
    };
    let verdict = services::audit::verify(context, &anchors).await?;
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

/// A new file only its owner may read: an audit export names staff and record ids.
fn owner_only_file(path: &std::path::Path) -> Result<std::fs::File, Failure> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Failure::Input(format!("output: {}: {e}", path.display())))
}

async fn export(
    context: &Context,
    from: &str,
    to: &str,
    output_path: Option<PathBuf>,
) -> Result<(), Failure> {
    let (start, end) = days(from, to)?;
    let entries = services::audit::entries(context, start, end).await?;
    match output_path {
        Some(file) => {
            write_csv(&entries, owner_only_file(&file)?)?;
            eprintln!("Wrote {} audit entries to {}.", entries.len(), file.display());
        }
        None => write_csv(&entries, std::io::stdout().lock())?,
    }
    Ok(())
}
