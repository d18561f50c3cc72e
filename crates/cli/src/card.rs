//! `cws card list|login`: the smart cards in the readers, and a full login
//! check (PIN, proof of key, certificate trust) for a card, from the command line.

use std::io::Read;
use std::path::PathBuf;

use clap::Subcommand;
use identity::{CardReader, IdentityError, Trust};
use zeroize::Zeroizing;

use crate::{Failure, output};

/// OpenSC's module, for real cards, unless CWS_PKCS11_MODULE or --module says otherwise.
const OPENSC_MODULE: &str = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so";

#[derive(Subcommand)]
pub enum CardCommand {
    /// The cards in the readers.
    List {
        #[arg(long, env = "CWS_PKCS11_MODULE", default_value = OPENSC_MODULE)]
        module: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Log in with a card: PIN from standard input, then key proof and certificate checks.
    Login {
        /// The card's token label or serial number.
        #[arg(long)]
        card: String,
        /// The issuing CA to trust (PEM or DER).
        #[arg(long, env = "CWS_CARD_CA")]
        ca: PathBuf,
        /// Read the PIN from standard input (it is never taken as an argument).
        #[arg(long, required = true)]
        pin_stdin: bool,
        #[arg(long, env = "CWS_PKCS11_MODULE", default_value = OPENSC_MODULE)]
        module: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

impl From<IdentityError> for Failure {
    fn from(error: IdentityError) -> Self {
        if error.is_user_fixable() { Self::Input(error.to_string()) } else { Self::Other(error.into()) }
    }
}

pub fn run(command: CardCommand) -> Result<(), Failure> {
    match command {
        CardCommand::List { module, json } => {
            let cards = CardReader::open(&module)?.cards()?;
            if json {
                let rows: Vec<_> =
                    cards.iter().map(|c| serde_json::json!({"label": c.label, "serial": c.serial})).collect();
                output::json(&rows)?;
            } else if cards.is_empty() {
                println!("No card is in a reader.");
            } else {
                for card in cards {
                    println!("{}  (serial {})", card.label, card.serial);
                }
            }
            Ok(())
        }
        CardCommand::Login { card, ca, pin_stdin: _, module, json } => {
            let ca_bytes =
                std::fs::read(&ca).map_err(|e| Failure::Input(format!("ca: {}: {e}", ca.display())))?;
            let trust = Trust::from_pem_or_der(&ca_bytes)?;
            let mut pin = Zeroizing::new(String::new());
            std::io::stdin().read_to_string(&mut pin).map_err(|e| Failure::Other(e.into()))?;
            let pin = Zeroizing::new(pin.trim_end_matches(['\r', '\n']).to_owned());
            let login =
                CardReader::open(&module)?.login(&card, &pin, &trust, time::OffsetDateTime::now_utc())?;
            if json {
                output::json(
                    &serde_json::json!({"user_id": login.user_id, "name": login.common_name, "card_serial": login.card_serial}),
                )?;
            } else {
                println!("Card {} proves user {} ({}).", login.card_serial, login.user_id, login.common_name);
            }
            Ok(())
        }
    }
}
