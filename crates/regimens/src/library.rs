//! The set of regimens a workstation offers, loaded from files and checked.

use sha2::Digest;
use thiserror::Error;

use crate::regimen::Regimen;

include!(concat!(env!("OUT_DIR"), "/shipped.rs"));

/// A regimen file that could not be used: which file, which field, and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{file}: {field}: {reason}")]
pub struct RegimenError {
    pub file: String,
    pub field: String,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct RegimenLibrary {
    regimens: Vec<Regimen>,
}

impl RegimenLibrary {
    /// The regimens shipped in `crates/regimens/data`.
    pub fn shipped() -> Result<Self, RegimenError> {
        Self::from_files(SHIPPED.iter().copied())
    }

    /// Loads regimen files given as (file name, text), refusing the first bad one.
    pub fn from_files<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, RegimenError> {
        let mut regimens: Vec<Regimen> = Vec::new();
        for (file, text) in files {
            let regimen = parse(file, text)?;
            if regimens.iter().any(|r| r.code == regimen.code) {
                return Err(RegimenError {
                    file: file.to_owned(),
                    field: "code".into(),
                    reason: format!("{:?} is defined twice", regimen.code),
                });
            }
            regimens.push(regimen);
        }
        regimens.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(Self { regimens })
    }

    pub fn all(&self) -> &[Regimen] {
        &self.regimens
    }

    /// The regimen with this code; an unknown code is refused naming the field.
    pub fn find(&self, code: &str) -> Result<&Regimen, dosing::DoseError> {
        self.regimens.iter().find(|r| r.code == code).ok_or_else(|| {
            dosing::DoseError::new(
                "regimen",
                format!("no regimen has the code {code:?}; `cws regimen list` shows them"),
            )
        })
    }
}

/// Parses and checks one regimen file.
pub fn parse(file: &str, text: &str) -> Result<Regimen, RegimenError> {
    let regimen = parse_exchanged(file, text)?;
    let stem = file.strip_suffix(".json").unwrap_or(file);
    if stem != regimen.code {
        return Err(RegimenError {
            file: file.to_owned(),
            field: "code".into(),
            reason: format!("{:?} does not match the file name {file:?}", regimen.code),
        });
    }
    Ok(regimen)
}

/// Parses and checks a regimen exchanged with another site (`source` names it
/// in errors), exactly as a shipped file is checked, but under any file name.
/// Its content hash is of the text as given, so it matches the sender's.
pub fn parse_exchanged(source: &str, text: &str) -> Result<Regimen, RegimenError> {
    let file = source;
    let error = |field: String, reason: String| RegimenError { file: file.to_owned(), field, reason };
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let mut regimen: Regimen = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let field = e.path().to_string();
        error(if field == "." { "(file)".into() } else { field }, e.inner().to_string())
    })?;
    regimen.check().map_err(|(field, reason)| error(field, reason))?;
    regimen.content_sha256 = hex::encode(sha2::Sha256::digest(text.as_bytes()));
    Ok(regimen)
}

impl RegimenLibrary {
    /// The shipped file's text for a regimen, exactly as its hash was taken.
    pub fn shipped_text(code: &str) -> Option<&'static str> {
        SHIPPED.iter().find(|(file, _)| file.strip_suffix(".json") == Some(code)).map(|(_, text)| *text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_CODES: [&str; 12] = [
        "AC",
        "EC90",
        "FEC100",
        "DOCETAXEL-100",
        "DOCETAXEL-75",
        "PACLITAXEL-WEEKLY-80",
        "CARBOPLATIN-PACLITAXEL",
        "R-CHOP-21",
        "ABVD",
        "FOLFOX-6-MODIFIED",
        "GEMCITABINE-CARBOPLATIN",
        "CAPECITABINE-1250",
    ];

    fn r_chop() -> String {
        SHIPPED
            .iter()
            .find(|(f, _)| *f == "R-CHOP-21.json")
            .map(|(_, t)| (*t).to_owned())
            .expect("R-CHOP-21 ships")
    }

    #[test]
    fn every_seed_regimen_ships_under_exactly_its_code() {
        let library = RegimenLibrary::shipped().expect("shipped regimens are valid");
        for code in SEED_CODES {
            assert!(library.find(code).is_ok(), "{code} is missing");
        }
        assert_eq!(library.all().len(), SEED_CODES.len());
    }

    #[test]
    fn an_unknown_regimen_is_refused_naming_the_field() {
        let library = RegimenLibrary::shipped().expect("shipped regimens are valid");
        assert_eq!(library.find("R-CHOP-14").map_err(|e| e.field), Err("regimen".into()));
    }

    #[test]
    fn malformed_json_names_the_file() {
        let error = parse("BROKEN.json", "{ not json").expect_err("not JSON");
        assert_eq!(error.file, "BROKEN.json");
    }

    #[test]
    fn a_wrong_type_names_the_field_path() {
        let text = r_chop().replace("\"cycles\": 6", "\"cycles\": \"six\"");
        let error = parse("R-CHOP-21.json", &text).expect_err("cycles is a number");
        assert_eq!(error.field, "cycles");
    }

    #[test]
    fn an_unknown_field_is_refused() {
        let text = r_chop().replacen("\"cycles\": 6", "\"cycles\": 6, \"colour\": \"blue\"", 1);
        let error = parse("R-CHOP-21.json", &text).expect_err("unknown field");
        assert!(error.reason.contains("colour"), "{error}");
    }

    #[test]
    fn a_day_outside_the_cycle_is_refused_naming_the_drug() {
        let text =
            r_chop().replacen("\"days\": [\n        1\n      ]", "\"days\": [\n        22\n      ]", 1);
        let error = parse("R-CHOP-21.json", &text).expect_err("day 22 of a 21-day cycle");
        assert_eq!(error.field, "drugs[0].days");
    }

    #[test]
    fn an_unknown_dose_basis_is_refused_naming_the_field() {
        let text = r_chop().replacen("\"basis\": \"mg/m2\"", "\"basis\": \"mg/m3\"", 1);
        let error = parse("R-CHOP-21.json", &text).expect_err("mg/m3 is no basis");
        assert_eq!(error.field, "drugs[0].dose.basis");
    }

    #[test]
    fn a_code_that_differs_from_the_file_name_is_refused() {
        let error = parse("R-CHOP-14.json", &r_chop()).expect_err("wrong file name");
        assert_eq!(error.field, "code");
    }

    #[test]
    fn a_twice_daily_line_is_planned_as_two_doses_a_day() {
        let library = RegimenLibrary::shipped().expect("shipped regimens are valid");
        let capecitabine = library.find("CAPECITABINE-1250").expect("ships").plan();
        assert_eq!(capecitabine.drugs[0].administrations_per_day, 2);
        let r_chop = library.find("R-CHOP-21").expect("ships").plan();
        assert!(r_chop.drugs.iter().all(|d| d.administrations_per_day == 1));
    }

    #[test]
    fn a_frequency_the_engine_cannot_count_is_refused() {
        let text = r_chop().replacen("\"once daily with breakfast\"", "\"as needed\"", 1);
        let error = parse("R-CHOP-21.json", &text).expect_err("uncountable frequency");
        assert!(error.field.ends_with(".frequency"), "{error}");
    }

    #[test]
    fn a_cap_in_the_wrong_unit_is_refused() {
        let text = r_chop().replacen("\"cap_mg\"", "\"cap_iu\"", 1);
        let error = parse("R-CHOP-21.json", &text).expect_err("vincristine is dosed in mg");
        assert!(error.field.ends_with(".cap_iu"), "{error}");
    }

    #[test]
    fn only_regimens_dosed_by_auc_need_renal_function() {
        let library = RegimenLibrary::shipped().expect("shipped regimens are valid");
        assert!(library.find("CARBOPLATIN-PACLITAXEL").expect("ships").needs_renal_function());
        assert!(!library.find("R-CHOP-21").expect("ships").needs_renal_function());
    }
}
