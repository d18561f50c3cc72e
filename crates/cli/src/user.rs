//! `cws user enrol|list|disable`: who may sign in with a card, and with what roles.
//! Run by the OS account that administers the store (the first-run bootstrap,
//! until a LOCAL-ADMIN card holder with manage_users does it in the app).

use std::path::PathBuf;

use clap::Subcommand;
use identity::{Trust, certificate_holder};
use store::{EnrolledRole, EnrolledUser, Store};

use crate::{Failure, block_on, os_actor, output};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Enrol the holder of a card certificate (PEM or DER), with their roles and registration.
    Enrol {
        #[arg(long)]
        cert: PathBuf,
        /// National RBAC role codes, comma separated, e.g. R8000,R8003.
        #[arg(long, value_delimiter = ',', required = true)]
        roles: Vec<String>,
        /// BODY:NUMBER, e.g. GMC:7000001, GPhC:2000002, NMC:99A0003E, HCPC:PA12345.
        #[arg(long)]
        registration: Option<String>,
        #[arg(long, default_value = "Clinician")]
        job_title: String,
        /// Check the certificate was issued by this CA (PEM or DER).
        #[arg(long, env = "CWS_CARD_CA")]
        ca: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Everyone enrolled.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Stop a user signing in (their history stays).
    Disable { user_id: String },
}

pub fn roles(codes: &[String]) -> Vec<EnrolledRole> {
    codes
        .iter()
        .map(|c| session::JobRole::from_code(&c.trim().to_uppercase()))
        .map(|role| EnrolledRole { code: role.code, name: role.name })
        .collect()
}

pub fn run(command: UserCommand, path: PathBuf) -> Result<(), Failure> {
    let actor = os_actor();
    block_on(async move {
        let store = Store::open(&path).await?;
        let result = run_on(&store, command, &actor).await;
        store.close().await;
        result
    })
}

async fn run_on(store: &Store, command: UserCommand, actor: &store::Actor) -> Result<(), Failure> {
    match command {
        UserCommand::Enrol { cert, roles: codes, registration, job_title, ca, json } => {
            let bytes =
                std::fs::read(&cert).map_err(|e| Failure::Input(format!("cert: {}: {e}", cert.display())))?;
            let trust = match ca {
                Some(ca) => Some(Trust::from_pem_or_der(
                    &std::fs::read(&ca).map_err(|e| Failure::Input(format!("ca: {e}")))?,
                )?),
                None => None,
            };
            let (user_id, name) = certificate_holder(&bytes, trust.as_ref())
                .map_err(|e| Failure::Input(format!("cert: {e}")))?;
            let (professional_body, registration_number) = match registration
                .as_deref()
                .map(|r| r.split_once(':'))
            {
                None => (None, None),
                Some(Some((body, number))) => (Some(body.to_owned()), Some(number.to_owned())),
                Some(None) => {
                    return Err(Failure::Input("registration: give BODY:NUMBER, e.g. GMC:7000001".into()));
                }
            };
            let user = EnrolledUser {
                user_id,
                display_name: name,
                job_title,
                professional_body,
                registration_number,
                roles: roles(&codes),
                disabled: false,
            };
            store.enrol_user(actor, &user).await?;
            if json {
                output::json(&user)?
            } else {
                println!("Enrolled {} ({}) with roles {}.", user.display_name, user.user_id, codes.join(", "))
            }
        }
        UserCommand::List { json } => {
            let users = store.users().await?;
            if json {
                output::json(&users)?;
            } else {
                for u in users {
                    let roles: Vec<&str> = u.roles.iter().map(|r| r.code.as_str()).collect();
                    let state = if u.disabled { "  DISABLED" } else { "" };
                    println!(
                        "{}  {}  {}  {}{state}",
                        u.user_id,
                        u.display_name,
                        u.job_title,
                        roles.join(",")
                    );
                }
            }
        }
        UserCommand::Disable { user_id } => {
            store.disable_user(actor, &user_id).await?;
            println!("User {user_id} can no longer sign in.");
        }
    }
    Ok(())
}
