//! `cws demo ward-day`: a demonstration bed board. Three wards of twenty beds
//! (three bays of six and two side rooms each) are filled by a day of HL7 v2
//! ADT from a fictional PAS, applied through the interface exactly as the
//! listener applies a feed: admissions of the demonstration patients,
//! discharges that leave beds to be cleaned, transfers, and admissions
//! cancelled. The wards differ in occupancy so the board's thresholds show.
//! Each message is kept by its key, so a second run changes nothing.

use chrono::{DateTime, Duration, Utc};
use services::StoreLocation;
use services::interface::FeedToken;

use crate::demo::demo_patient;
use crate::{Failure, block_on, with_context};

/// The fictional PAS the demonstration day comes from.
const SENDER: &str = "DEMO-PAS";

/// Each ward: its code, and how many of its twenty beds end occupied, and
/// being cleaned; the rest end free.
const WARDS: [(&str, usize, usize); 3] = [("WARD7", 20, 0), ("WARD8", 18, 1), ("WARD9", 13, 4)];

/// A patient the PAS sends with an NHS number that fails its check (999 000
/// 0108): kept by hospital number and flagged wherever they are shown.
const PATIENT_WITH_A_FAILING_NHS_NUMBER: &str =
    "PID|||9990000108^^^NHS^NH~DEMOX0001^^^RXX^PI||CHECKDIGIT^Wren^^^Mx||19770707|U";
const WARD_OF_THE_FAILING_NUMBER: &str = "WARD9";

/// A ward's twenty beds as (room, bed).
fn ward_beds() -> Vec<(String, String)> {
    let mut beds = Vec::new();
    for bay in 1..=3 {
        for bed in 1..=6 {
            beds.push((format!("BAY{bay}"), format!("BED{bed}")));
        }
    }
    beds.push(("SIDE1".into(), "SR1".into()));
    beds.push(("SIDE2".into(), "SR2".into()));
    beds
}

struct Day {
    messages: Vec<String>,
    start: DateTime<Utc>,
}

impl Day {
    fn message(&mut self, event: &str, minutes: i64, pid: &str, pv1_place: &str, prior: &str) {
        let at = (self.start + Duration::minutes(minutes)).format("%Y%m%d%H%M%S");
        let number = self.messages.len() + 1;
        let structure = match event {
            "A02" | "A12" => "ADT_A02",
            "A03" => "ADT_A03",
            _ => "ADT_A01",
        };
        // Admissions say when the patient is expected home: one to six days on.
        let home = match event {
            "A01" => {
                let day = (self.start + Duration::days(1 + (number % 6) as i64)).format("%Y%m%d");
                format!("\rPV2|||||||||{day}")
            }
            _ => String::new(),
        };
        self.messages.push(format!(
            "MSH|^~\\&|{SENDER}|RXX01|CLINWS|RXX01|{at}||ADT^{event}^{structure}|DEMODAY{number:04}|P|2.4\r\
             EVN|{event}|{at}\r{pid}\rPV1||I|{pv1_place}|||{prior}{home}"
        ));
    }
}

/// The day's messages in the order they happened.
fn demonstration_day(start: DateTime<Utc>) -> Vec<String> {
    let mut day = Day { messages: Vec::new(), start };
    let mut index = 1;
    let mut next_patient = move || loop {
        let found = demo_patient(index);
        index += 1;
        if let Some(patient) = found {
            let sex = match patient.sex {
                patients::Sex::Female => "F",
                patients::Sex::Male => "M",
                patients::Sex::Other => "O",
                patients::Sex::Unknown => "U",
            };
            return format!(
                "PID|||{}^^^NHS^NH~{}^^^RXX^PI||{}^{}^^^{}||{}|{sex}",
                patient.nhs_number.map(|n| n.digits()).unwrap_or_default(),
                patient.mrn.unwrap_or_default(),
                patient.family_name,
                patient.given_names,
                patient.title.unwrap_or_default(),
                patient.date_of_birth.format("%Y%m%d"),
            );
        }
    };
    let mut minute = 0;
    let mut transfers = Vec::new();
    for (ward, occupied, cleaning) in WARDS {
        for (position, (room, bed)) in ward_beds().into_iter().enumerate() {
            let pid = if ward == WARD_OF_THE_FAILING_NUMBER && position == 0 {
                PATIENT_WITH_A_FAILING_NHS_NUMBER.to_owned()
            } else {
                next_patient()
            };
            let place = format!("{ward}^{room}^{bed}");
            minute += 3;
            day.message("A01", minute, &pid, &place, "");
            if position >= occupied + cleaning {
                // Admitted in error and cancelled: the bed is free again.
                day.message("A11", minute + 1, &pid, &place, "");
            } else if position >= occupied {
                // Gone home this morning: the bed waits for housekeeping.
                day.message("A03", minute + 240, &pid, &place, "");
            } else if position == 0 {
                transfers.push((pid, place));
            }
        }
    }
    // In the afternoon, the first patient of WARD7 and of WARD8 move to side
    // rooms on WARD9 (left free by its cancelled admissions); their beds wait
    // for cleaning.
    for ((pid, from), side_room) in transfers.into_iter().zip(["SIDE2^SR2", "SIDE1^SR1"]) {
        minute += 5;
        day.message("A02", 300 + minute, &pid, &format!("WARD9^{side_room}"), &from);
    }
    let mut sorted: Vec<(usize, String)> = day.messages.iter().cloned().enumerate().collect();
    sorted.sort_by_key(|(order, message)| (message.split('|').nth(6).map(str::to_owned), *order));
    sorted.into_iter().map(|(_, message)| message).collect()
}

pub fn run(location: StoreLocation, json: bool) -> Result<(), Failure> {
    // The day began this morning, seven hours ago, so every event is in the past.
    let start = Utc::now() - Duration::hours(7);
    let messages = demonstration_day(start);
    block_on(with_context(&location, async |context| {
        services::demo::require_demonstration_store(context, "a demonstration bed board").await?;
        let feed = FeedToken::for_account(context, &crate::adt::interface_account())?;
        let mut applied = 0;
        for message in &messages {
            let reply = services::interface::receive(context, &feed, message).await;
            match reply.outcome {
                hl7::ack::Outcome::Accepted => applied += 1,
                other => {
                    return Err(Failure::Other(anyhow::anyhow!(
                        "the demonstration day's message {} was answered {}",
                        applied + 1,
                        other.code()
                    )));
                }
            }
        }
        if json {
            crate::output::json(&serde_json::json!({"messages": messages.len(), "accepted": applied}))?;
        } else {
            println!(
                "Demonstration ward day: {applied} ADT messages acknowledged, each kept once: three wards of twenty beds."
            );
        }
        Ok(())
    }))
}
