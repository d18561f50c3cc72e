//! `cws user enrol|list|disable`: who may sign in with a card, and with what roles.
//! Until an enabled user may manage users, the OS account that owns the store
//! enrols (the first-run bootstrap); from then on, enrolling and disabling need
//! the card and PIN of someone with manage_users.

use std::path::PathBuf;

use clap::Subcommand;
use identity::certificate_holder;
use services::{Context, StoreLocation};
use session::Permission;
use store::{AuditAction, EnrolledRole, EnrolledUser};

use crate::card_authority::{CardArgs, os_account_or_card_holder, settings_ca};
use crate::trusted_settings::trusted_settings;
use crate::{Failure, block_on, output, with_context};

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
        /// The wards they work on, comma separated (their inpatients are in a
        /// legitimate relationship with them); `cws user wards` changes them later.
        #[arg(long, value_delimiter = ',')]
        wards: Vec<String>,
        #[arg(long)]
        json: bool,
        /// Your card, once someone may manage users. The certificate is checked against the site CA.
        #[command(flatten)]
        card: CardArgs,
    },
    /// Everyone enrolled.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Stop a user signing in (their history stays).
    Disable {
        user_id: String,
        #[command(flatten)]
        card: CardArgs,
    },
    /// Set the wards a member of staff works on (their inpatients are theirs to see), e.g. WARD7,WARD9; none clears them.
    Wards {
        user_id: String,
        #[arg(long, value_delimiter = ',')]
        wards: Vec<String>,
        #[command(flatten)]
        card: CardArgs,
    },
}

pub fn roles(codes: &[String]) -> Vec<EnrolledRole> {
    codes
        .iter()
        .map(|c| session::JobRole::from_code(&c.trim().to_uppercase()))
        .map(|role| EnrolledRole { code: role.code, name: role.name })
        .collect()
}

pub fn run(command: UserCommand, location: StoreLocation) -> Result<(), Failure> {
    block_on(with_context(&location, async |context| run_on(context, command).await))
}

async fn run_on(context: &Context, command: UserCommand) -> Result<(), Failure> {
    match command {
        UserCommand::Enrol { cert, roles: codes, registration, job_title, wards, json, card } => {
            let bytes =
                std::fs::read(&cert).map_err(|e| Failure::Input(format!("cert: {}: {e}", cert.display())))?;
            // The certificate is checked against the trusted settings' CA, when they name one.
            let trust = settings_ca(trusted_settings()?)?;
            let holder = certificate_holder(&bytes, trust.as_ref())
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
                user_id: holder.user_id,
                display_name: holder.common_name,
                job_title,
                professional_body,
                registration_number,
                roles: roles(&codes),
                disabled: false,
                card_key_sha256: Some(holder.key_sha256),
            };
            let acting =
                os_account_or_card_holder(context, &card, Permission::ManageUsers, AuditAction::UserEnrol)
                    .await?;
            services::users::enrol(context, &acting, &user).await?;
            let wards: Vec<String> =
                wards.into_iter().map(|w| w.trim().to_owned()).filter(|w| !w.is_empty()).collect();
            if !wards.is_empty() {
                services::relationships::set_wards(context, &acting, &user.user_id, &wards).await?;
            }
            if json {
                output::json(&user)?
            } else {
                println!(
                    "Enrolled {} ({}) with roles {}.",
                    user.display_name,
                    user.user_id,
                    codes.join(", ")
                );
                if !wards.is_empty() {
                    println!("They work on: {}.", wards.join(", "));
                }
            }
        }
        UserCommand::List { json } => {
            let users = services::users::list(context).await?;
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
        UserCommand::Disable { user_id, card } => {
            let acting =
                os_account_or_card_holder(context, &card, Permission::ManageUsers, AuditAction::UserDisable)
                    .await?;
            services::users::disable(context, &acting, &user_id).await?;
            println!("User {user_id} can no longer sign in.");
        }
        UserCommand::Wards { user_id, wards, card } => {
            let acting =
                os_account_or_card_holder(context, &card, Permission::ManageUsers, AuditAction::UserWards)
                    .await?;
            let wards: Vec<String> =
                wards.into_iter().map(|w| w.trim().to_owned()).filter(|w| !w.is_empty()).collect();
            services::relationships::set_wards(context, &acting, &user_id, &wards).await?;
            println!(
                "User {user_id} works on: {}",
                if wards.is_empty() { "no ward".into() } else { wards.join(", ") }
            );
        }
    }
    Ok(())
}
