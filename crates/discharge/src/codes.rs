//! NHS Data Dictionary codes the summary carries, with their words, so a
//! reader sees "21 Emergency: via the emergency department", not "21".

/// What a code means, where this table knows it.
fn meaning(table: &[(&str, &'static str)], code: &str) -> Option<&'static str> {
    table.iter().find(|(c, _)| *c == code.trim()).map(|(_, words)| *words)
}

const ADMISSION_METHOD: &[(&str, &str)] = &[
    ("11", "Elective: from the waiting list"),
    ("12", "Elective: booked"),
    ("13", "Elective: planned"),
    ("21", "Emergency: via the emergency department"),
    ("22", "Emergency: via the GP"),
    ("23", "Emergency: via the bed bureau"),
    ("24", "Emergency: via a consultant clinic"),
    ("25", "Emergency: via a mental health crisis team"),
    ("28", "Emergency: other means"),
    ("81", "Transfer from another hospital provider"),
];

const ADMISSION_SOURCE: &[(&str, &str)] = &[
    ("19", "Usual place of residence"),
    ("29", "Temporary place of residence"),
    ("51", "Another NHS hospital provider: ward for general patients"),
    ("54", "NHS run care home"),
    ("65", "Local authority residential accommodation"),
];

const DISCHARGE_METHOD: &[(&str, &str)] = &[
    ("1", "Discharged on clinical advice or with clinical consent"),
    ("2", "Self-discharged, or discharged by a relative or advocate"),
    ("3", "Discharged by a mental health review tribunal, the Home Secretary or a court"),
    ("4", "Died"),
    ("5", "Stillbirth"),
];

const DISCHARGE_DESTINATION: &[(&str, &str)] = &[
    ("19", "Usual place of residence"),
    ("29", "Temporary place of residence"),
    ("51", "Another NHS hospital provider: ward for general patients"),
    ("54", "NHS run care home"),
    ("65", "Local authority residential accommodation"),
    ("79", "Not applicable: the patient died"),
];

const SPECIALTY: &[(&str, &str)] = &[
    ("100", "General surgery"),
    ("300", "General medicine"),
    ("303", "Clinical haematology"),
    ("370", "Medical oncology"),
    ("800", "Clinical oncology"),
];

/// Which Data Dictionary list a code comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeList {
    AdmissionMethod,
    AdmissionSource,
    DischargeMethod,
    DischargeDestination,
    Specialty,
}

impl CodeList {
    fn table(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::AdmissionMethod => ADMISSION_METHOD,
            Self::AdmissionSource => ADMISSION_SOURCE,
            Self::DischargeMethod => DISCHARGE_METHOD,
            Self::DischargeDestination => DISCHARGE_DESTINATION,
            Self::Specialty => SPECIALTY,
        }
    }

    /// The code with its words, or the value as given when the list lacks it
    /// (a site's own code, or words typed in).
    pub fn describe(self, code: &str) -> String {
        match meaning(self.table(), code) {
            Some(words) => format!("{} {words}", code.trim()),
            None => code.trim().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_code_reads_with_its_words_and_an_unknown_one_as_given() {
        assert_eq!(CodeList::AdmissionMethod.describe("21"), "21 Emergency: via the emergency department");
        assert_eq!(CodeList::Specialty.describe(" 370"), "370 Medical oncology");
        assert_eq!(CodeList::DischargeDestination.describe("Sister's home"), "Sister's home");
    }
}
