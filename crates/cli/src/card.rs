//! `cws card list|login`: the smart cards in the readers, and a full login
//! check (PIN, proof of key, certificate trust) for a card, from the command line.

use std::path::PathBuf;

use clap::Subcommand;
use identity::CardReader;

use services::StoreLocation;

use crate::card_authority::{CardSource, pkcs11_module};

use crate::{Failure, output};

#[derive(Subcommand)]
pub enum CardCommand {
    /// The cards in the readers.
    List {
        /// The PKCS#11 module (default: the site settings, CWS_PKCS11_MODULE, or OpenSC's).
        #[arg(long)]
        module: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Make the five demonstration cards (SoftHSM2 tokens from a local demonstration CA) and enrol their holders.
    DemoInit {
        /// Where the tokens and the CA certificate go (default: `demo-cards` beside the store).
        #[arg(long)]
        folder: Option<PathBuf>,
        /// Do nothing if the demonstration cards already exist.
        #[arg(long)]
        if_missing: bool,
    },
    /// Report cards put into and taken out of the PC/SC readers, as it happens, until stopped.
    Watch {
        /// One JSON object a line.
        #[arg(long)]
        json: bool,
    },
    /// Log in with a card: PIN from standard input, then key proof and certificate checks.
    Login {
        /// The card's token label or serial number.
        #[arg(long)]
        card: String,
        /// Read the PIN from standard input (it is never taken as an argument).
        #[arg(long, required = true)]
        pin_stdin: bool,
        #[command(flatten)]
        source: CardSource,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: CardCommand, location: StoreLocation) -> Result<(), Failure> {
    match command {
        CardCommand::DemoInit { folder, if_missing } => demo_init(folder, if_missing, location),
        CardCommand::List { module, json } => {
            let module = pkcs11_module(module, crate::site_settings()?);
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
        CardCommand::Watch { json } => watch(json),
        CardCommand::Login { card, pin_stdin: _, source, json } => {
            let settings = crate::site_settings()?;
            let trust = source.required_trust(settings)?;
            let pin = crate::card_authority::read_pin()?;
            let login =
                source.reader(settings)?.login(&card, &pin, &trust, time::OffsetDateTime::now_utc())?;
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

fn watch(json: bool) -> Result<(), Failure> {
    use std::io::Write;
    let print = |line: String| {
        println!("{line}");
        // A watcher's reader may be a pipe; each event must arrive as it happens.
        let _ = std::io::stdout().flush();
    };
    let ready = |readers: &[String]| match json {
        true => print(serde_json::json!({ "watching": readers }).to_string()),
        false => print(format!("Watching {} reader(s): {}", readers.len(), readers.join(", "))),
    };
    let event = |event: identity::readers::ReaderEvent| {
        let change = format!("{:?}", event.change).to_lowercase();
        match json {
            true => print(serde_json::json!({ "reader": event.reader, "change": change }).to_string()),
            false => print(format!("{}: card {change}", event.reader)),
        }
    };
    identity::readers::watch_readers(ready, event)?;
    Ok(())
}

/// The five demonstration cards: label, PIN (demonstration only), and the staff member.
pub const DEMO_CARDS: [(&str, &str, &str, &str); 5] = [
    ("DEMO-PRESCRIBER", "1111", "555000000001", "GMC:7000001"),
    ("DEMO-PHARMACIST", "2222", "555000000002", "GPhC:2000002"),
    ("DEMO-NURSE", "3333", "555000000003", "NMC:99A0003E"),
    ("DEMO-WARD-DOCTOR", "4444", "555000000004", "GMC:7000004"),
    ("DEMO-SECOND-NURSE", "5555", "555000000005", "NMC:99A0005E"),
];

/// Where `make run` and `cws card demo-init` keep the demonstration cards.
pub fn demo_folder(store_path: &std::path::Path) -> PathBuf {
    store_path.parent().map(|p| p.join("demo-cards")).unwrap_or_else(|| PathBuf::from("demo-cards"))
}

fn demo_init(folder: Option<PathBuf>, if_missing: bool, location: StoreLocation) -> Result<(), Failure> {
    use demo_cards::DemoCa;
    use demo_cards::{SOFTHSM_MODULE, SoftHsmTokens};

    let folder = match (folder, location.local_path()) {
        (Some(folder), _) => folder,
        (None, Some(store_path)) => demo_folder(store_path),
        (None, None) => {
            return Err(Failure::Input(
                "folder: a shared store has no folder beside it; give --folder".into(),
            ));
        }
    };
    let ca_file = folder.join("demo-ca.pem");
    if if_missing && ca_file.exists() {
        return Ok(());
    }
    if ca_file.exists() {
        return Err(Failure::Input(format!(
            "folder: demonstration cards already exist in {}",
            folder.display()
        )));
    }
    let tokens = SoftHsmTokens::create(&folder)?;
    let ca = DemoCa::new("Clinical Workstation Demonstration CA (not for clinical use)")?;
    let now = time::OffsetDateTime::now_utc();
    let staff = session::demo::staff();
    crate::block_on(crate::with_context(&location, async |context| {
        services::demo::require_demonstration_store(
            context,
            "demonstration cards, whose PINs are published,",
        )
        .await?;
        // Demonstration cards carry published PINs: never into a store with real administrators.
        let roles = &crate::trusted_settings::trusted_settings()?.roles;
        let permission = session::Permission::ManageUsers;
        let Some(acting) =
            services::cards::bootstrap_acting(context, roles, permission, &crate::os_actor()).await?
        else {
            return Err(Failure::Input(
                "store: someone here may already manage users; demonstration cards, whose PINs are published, go only into a new store".into(),
            ));
        };
        for (label, pin, user_id, registration) in DEMO_CARDS {
            let member = staff
                .iter()
                .find(|s| s.user_id.as_str() == user_id)
                .ok_or_else(|| Failure::Other(anyhow::anyhow!("no demo staff {user_id}")))?;
            let card = ca.issue(
                user_id,
                &member.display_name,
                now - time::Duration::days(1),
                now + time::Duration::days(365),
            )?;
            tokens.add_card(label, pin, &card.key_pem, &card.cert_der)?;
            let (body, number) = registration.split_once(':').unwrap_or_default();
            let user = store::EnrolledUser {
                user_id: user_id.to_owned(),
                display_name: member.display_name.clone(),
                job_title: member.job_title.clone(),
                professional_body: Some(body.to_owned()),
                registration_number: Some(number.to_owned()),
                roles: crate::user::roles(std::slice::from_ref(&member.role.code)),
                disabled: false,
                card_key_sha256: Some(identity::certificate_holder(&card.cert_der, None)?.key_sha256),
            };
            services::users::enrol(context, &acting, &user).await?;
        }
        Ok(())
    }))?;
    std::fs::write(&ca_file, ca.cert_pem()).map_err(|e| Failure::Other(e.into()))?;
    println!(
        "Made {} demonstration cards in {} (PINs are in the README; demonstration only).",
        DEMO_CARDS.len(),
        folder.display()
    );
    println!(
        "SOFTHSM2_CONF={} CWS_PKCS11_MODULE={SOFTHSM_MODULE} CWS_CARD_CA={}",
        tokens.config().display(),
        ca_file.display()
    );
    Ok(())
}
