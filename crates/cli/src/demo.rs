//! `cws demo seed`: fictional patients with valid NHS numbers from the 999
//! test range, for demonstrations, `make run` and tests. Obviously invented
//! names; pseudo-postcodes (ZZ99) that no real address has.

use chrono::NaiveDate;
use clap::Subcommand;
use patients::{GpPractice, NewPatient, NhsNumber, Sex};
use services::StoreLocation;

use crate::{Failure, block_on, os_actor, with_context};

const FAMILY_NAMES: [&str; 24] = [
    "Quillfeather",
    "Marchbanks",
    "Zebedee",
    "Puddleford",
    "Thistlewood",
    "Wobblesworth",
    "Gingerbrook",
    "Lanternfield",
    "Mossbottom",
    "Periwinkle",
    "Snodgrass-Test",
    "Bramblecombe",
    "Fiddlestone",
    "Hopscotch",
    "Inkwell",
    "Jollyboat",
    "Kettleby",
    "Larkspur",
    "Muddlecombe",
    "Nettlebed",
    "Oakapple",
    "Pennywhistle",
    "Quibble",
    "Rumbletum",
];
const GIVEN_NAMES: [(&str, Sex, &str); 12] = [
    ("Ada", Sex::Female, "Ms"),
    ("Bertram", Sex::Male, "Mr"),
    ("Clementine", Sex::Female, "Mrs"),
    ("Dudley", Sex::Male, "Mr"),
    ("Ermintrude", Sex::Female, "Miss"),
    ("Fergus", Sex::Male, "Dr"),
    ("Gwendolyn", Sex::Female, "Ms"),
    ("Horatio", Sex::Male, "Mr"),
    ("Isadora", Sex::Female, "Mrs"),
    ("Jasper", Sex::Male, "Mr"),
    ("Kit", Sex::Other, "Mx"),
    ("Lorna", Sex::Female, "Dr"),
];

const BATCH: usize = 500;

fn last_death_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default()
}

#[derive(Subcommand)]
pub enum DemoCommand {
    /// Add fictional patients to the store (creating the store if there is none).
    Seed {
        #[arg(long, default_value_t = 200)]
        patients: usize,
        /// Do nothing if the store already holds patients.
        #[arg(long)]
        if_empty: bool,
        /// Print `committed N` after each committed batch.
        #[arg(long)]
        progress: bool,
        #[arg(long)]
        json: bool,
    },
    /// Approve the seed regimens under the demonstration staff and put four
    /// demonstration patients mid-course, each act signed with a demonstration
    /// card (SOFTHSM2_CONF must name FOLDER's softhsm2.conf). Once per store.
    Courses {
        /// The demonstration cards' folder (from `cws card demo-init`).
        #[arg(long)]
        cards: std::path::PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Fill a demonstration bed board: three wards of twenty beds, from a day
    /// of ADT messages applied as the HL7 listener applies them. Once per store.
    WardDay {
        #[arg(long)]
        json: bool,
    },
}

/// The `index`th demonstration patient; the same index always gives the same patient.
pub fn demo_patient(index: usize) -> Option<NewPatient> {
    let mut nine = [9u8, 9, 9, 0, 0, 0, 0, 0, 0];
    let mut n = index;
    for slot in nine[3..].iter_mut().rev() {
        *slot = (n % 10) as u8;
        n /= 10;
    }
    let nhs_number = NhsNumber::from_nine_digits(nine)?;
    let family = FAMILY_NAMES[index % FAMILY_NAMES.len()];
    let (given, sex, title) = GIVEN_NAMES[(index / FAMILY_NAMES.len()) % GIVEN_NAMES.len()];
    let born = NaiveDate::from_ymd_opt(
        1930 + (index % 80) as i32,
        1 + (index % 12) as u32,
        1 + (index % 28) as u32,
    )?;
    Some(NewPatient {
        nhs_number: Some(nhs_number),
        nhs_number_failing_check: None,
        mrn: Some(format!("DEMO{index:07}")),
        family_name: family.to_owned(),
        given_names: given.to_owned(),
        title: Some(title.to_owned()),
        date_of_birth: born,
        sex,
        address: Some(format!("{} Imaginary Lane, Nowhere", 1 + index % 99)),
        postcode: Some(format!("ZZ99 {}AA", index % 10)),
        gp_practice: Some(GpPractice {
            ods_code: "Y99999".into(),
            name: Some("Demonstration Practice".into()),
        }),
        // About one in a hundred is recorded as deceased, on their 70th birthday or 1-Jan-2025.
        deceased_date: (index % 97 == 13)
            .then(|| born.checked_add_days(chrono::Days::new(365 * 70)))
            .flatten()
            .map(|d| d.min(last_death_date())),
    })
}

/// The index after the first `count` demonstration patients (some indexes
/// have no valid NHS number and are skipped), so seeding again never repeats one.
fn index_after(count: usize) -> usize {
    let mut seen = 0;
    let mut index = 1;
    while seen < count {
        if demo_patient(index).is_some() {
            seen += 1;
        }
        index += 1;
    }
    index
}

pub fn run(command: DemoCommand, location: StoreLocation) -> Result<(), Failure> {
    let (patients, if_empty, progress, json) = match command {
        DemoCommand::Seed { patients, if_empty, progress, json } => (patients, if_empty, progress, json),
        DemoCommand::Courses { cards, json } => return crate::demo_courses::seed(&cards, location, json),
        DemoCommand::WardDay { json } => return crate::demo_ward_day::run(location, json),
    };
    let operator = os_actor();
    let place = location.describe();
    block_on(with_context(&location, async |context| {
        services::demo::require_demonstration_store(context, "seeding fictional patients").await?;
        let existing = usize::try_from(services::demo::patient_count(context).await?).unwrap_or(0);
        if if_empty && existing > 0 {
            if json {
                crate::output::json(&serde_json::json!({"added": 0, "store": place}))?;
            }
            return Ok(());
        }
        let mut next_index = index_after(existing);
        let mut added = 0;
        while added < patients {
            let mut batch = Vec::with_capacity(BATCH);
            while batch.len() < BATCH.min(patients - added) {
                if let Some(patient) = demo_patient(next_index) {
                    batch.push(patient);
                }
                next_index += 1;
            }
            added += batch.len();
            services::demo::add_fictional_patients(context, &operator, batch).await?;
            if progress {
                println!("committed {}", existing + added);
            }
        }
        if json {
            crate::output::json(&serde_json::json!({"added": added, "store": place}))?;
        } else if !progress {
            println!("Added {added} fictional patients to {place}.");
        }
        Ok(())
    }))
}
