//! Laboratory results from ORU^R01: each OBX under its OBR, with its test
//! code, value, units, reference range, abnormal flag, observation time and
//! the laboratory that reported it. Numbers stay exact (decimal text).

use chrono::{DateTime, Utc};
use hl7::Message;
use patients::NhsNumberPolicy;

use crate::fields::{AdtError, Header, PatientIdentity, header, parse_timestamp, patient};

/// One result as the laboratory reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabResult {
    /// OBX-3.1 and OBX-3.2: the laboratory's code and name for the test.
    pub code: String,
    pub name: String,
    /// OBX-5 as sent; `value_type` (OBX-2) says how to read it (`NM` numeric).
    pub value: String,
    pub value_type: String,
    /// OBX-6.1, e.g. `10*9/L`.
    pub units: String,
    /// OBX-7, e.g. `2.0-7.5`.
    pub reference_range: String,
    /// OBX-8 (table 0078: `L`, `H`, `LL`, `HH`, `N`, `A`…).
    pub abnormal_flag: String,
    /// OBX-11: `F` final, `P` preliminary, `C` corrected, `X` cannot be obtained…
    pub status: String,
    /// OBX-14, else OBR-7: when the specimen was taken.
    pub observed_at: DateTime<Utc>,
    /// OBX-15 (producer), else MSH-4: the laboratory.
    pub laboratory: String,
}

/// An ORU^R01 message read: whose results, and the results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultsReport {
    pub header: Header,
    pub patient: PatientIdentity,
    pub results: Vec<LabResult>,
}

/// Reads an ORU^R01, refusing it (for an AE) with the field at fault.
pub fn read_results(message: &Message, policy: NhsNumberPolicy) -> Result<ResultsReport, AdtError> {
    let header = header(message)?;
    if header.message_type != "ORU" || header.event != "R01" {
        return Err(AdtError::new(
            "MSH-9",
            "200",
            format!("{}^{} is not a results message (ORU^R01)", header.message_type, header.event),
        ));
    }
    let pid =
        message.segment("PID").ok_or_else(|| AdtError::new("PID", "100", "the PID segment is missing"))?;
    let patient = patient(pid, policy)?;
    let mut results = Vec::new();
    let mut specimen_time = None;
    for (index, segment) in message.segments.iter().enumerate() {
        match segment.id.as_str() {
            "OBR" => {
                specimen_time = parse_timestamp(segment.value(7)).map_err(|reason| {
                    AdtError::new(&format!("OBR-7 (segment {})", index + 1), "102", reason)
                })?;
            }
            "OBX" => {
                let at = |field: &str| format!("{field} (segment {})", index + 1);
                let code = segment.component(3, 1).trim().to_owned();
                if code.is_empty() {
                    return Err(AdtError::new(&at("OBX-3"), "101", "the result has no test code"));
                }
                let observed = parse_timestamp(segment.value(14))
                    .map_err(|reason| AdtError::new(&at("OBX-14"), "102", reason))?
                    .or(specimen_time)
                    .ok_or_else(|| {
                        AdtError::new(
                            &at("OBX-14"),
                            "101",
                            "neither OBX-14 nor OBR-7 says when the specimen was taken",
                        )
                    })?;
                let laboratory = Some(segment.component(15, 1).trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| header.sending_facility.clone());
                results.push(LabResult {
                    code,
                    name: segment.component(3, 2).trim().to_owned(),
                    value: segment.value(5).trim().to_owned(),
                    value_type: segment.value(2).trim().to_owned(),
                    units: segment.component(6, 1).trim().to_owned(),
                    reference_range: segment.value(7).trim().to_owned(),
                    abnormal_flag: segment.value(8).trim().to_owned(),
                    status: segment.value(11).trim().to_owned(),
                    observed_at: observed,
                    laboratory,
                });
            }
            _ => {}
        }
    }
    if results.is_empty() {
        return Err(AdtError::new("OBX", "100", "the message carries no OBX result"));
    }
    Ok(ResultsReport { header, patient, results })
}

#[cfg(test)]
mod flag_tests {
    use super::out_of_range;

    #[test]
    fn out_of_range_flags_are_named_and_normal_or_absent_is_none() {
        assert_eq!(out_of_range("L"), Some("low"));
        assert_eq!(out_of_range("HH"), Some("critically high"));
        assert_eq!(out_of_range(" H "), Some("high"));
        assert_eq!(out_of_range("N"), None);
        assert_eq!(out_of_range(""), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: NhsNumberPolicy = NhsNumberPolicy { accept_test_range: true };

    #[test]
    fn each_obx_is_read_with_its_time_units_range_flag_and_laboratory() {
        let text = "MSH|^~\\&|LIMS|RXX-PATH|CLINWS|RXX01|20261130083000||ORU^R01^ORU_R01|LAB1|P|2.4\r\
                    PID|||9990000018^^^NHS^NH||OAK^Ada||19580303|F\r\
                    OBR|1||S123|FBC^Full blood count|||20261130071500\r\
                    OBX|1|NM|NEUT^Neutrophils||1.4|10*9/L|2.0-7.5|L|||F\r\
                    OBX|2|NM|PLT^Platelets||210|10*9/L|150-400|N|||F|||20261130072000|RXX-HAEM";
        let report = read_results(&hl7::Message::parse(text).expect("parsed"), POLICY).expect("read");
        let [neutrophils, platelets] = report.results.as_slice() else { panic!("two results") };
        assert_eq!(
            (neutrophils.code.as_str(), neutrophils.value.as_str(), neutrophils.units.as_str()),
            ("NEUT", "1.4", "10*9/L")
        );
        assert_eq!((neutrophils.abnormal_flag.as_str(), neutrophils.status.as_str()), ("L", "F"));
        assert_eq!(
            neutrophils.observed_at.to_rfc3339(),
            "2026-11-30T07:15:00+00:00",
            "OBR-7 when OBX-14 is empty"
        );
        assert_eq!(neutrophils.laboratory, "RXX-PATH", "MSH-4 when OBX-15 is empty");
        assert_eq!(platelets.observed_at.to_rfc3339(), "2026-11-30T07:20:00+00:00");
        assert_eq!(platelets.laboratory, "RXX-HAEM");
    }

    #[test]
    fn a_result_without_a_time_or_code_is_refused_naming_the_segment() {
        let refused = |obx: &str| {
            let text = format!(
                "MSH|^~\\&|LIMS|RXX|||20261130083000||ORU^R01|L2|P|2.4\rPID|||RXX1^^^RXX^PI||OAK\r{obx}"
            );
            read_results(&hl7::Message::parse(&text).expect("parsed"), POLICY).expect_err("refused")
        };
        assert_eq!(refused("OBX|1|NM|NEUT||1.4").field, "OBX-14 (segment 3)");
        assert_eq!(refused("OBX|1|NM|||1.4|||||||||20261130").field, "OBX-3 (segment 3)");
    }
}

/// What a laboratory's abnormal flag (OBX-8, HL7 table 0078) says, in words,
/// when it says the result is out of range; `None` for normal or no flag.
pub fn out_of_range(flag: &str) -> Option<&'static str> {
    Some(match flag.trim() {
        "L" => "low",
        "H" => "high",
        "LL" => "critically low",
        "HH" => "critically high",
        "<" => "below the measurable range",
        ">" => "above the measurable range",
        "A" => "abnormal",
        "AA" => "critically abnormal",
        _ => return None,
    })
}

/// A site's mapping of one laboratory test code to what a chemotherapy check
/// uses, in the one unit the check expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestMapping {
    pub laboratory_code: String,
    /// neutrophils, platelets, haemoglobin, creatinine, bilirubin, alt or egfr.
    pub check: String,
    /// The unit the check's limits are in, exactly as the laboratory writes it (e.g. `10*9/L`).
    pub units: String,
}

/// What becomes of a result for the chemotherapy checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filing {
    /// The check may use it.
    ForCheck { check: String, value: rust_decimal::Decimal },
    /// Stored, but not used until a person has looked: never converted silently.
    HeldForReview { check: String, reason: String },
    /// No check uses this test.
    NotForChecks,
}

/// How a result is filed for the checks: a mapped test in the expected units
/// with an exact numeric value, final or corrected, is used; anything else a
/// check would use is held for review with the reason.
pub fn file_for_checks(result: &LabResult, mappings: &[TestMapping]) -> Filing {
    let Some(mapping) = mappings.iter().find(|m| m.laboratory_code == result.code) else {
        return Filing::NotForChecks;
    };
    let hold = |reason: String| Filing::HeldForReview { check: mapping.check.clone(), reason };
    if result.units != mapping.units {
        return hold(format!(
            "{} arrived in {:?}, not the {:?} the check expects; it is not converted",
            result.code, result.units, mapping.units
        ));
    }
    if !matches!(result.status.as_str(), "F" | "C" | "") {
        return hold(format!("{} is not final (status {:?})", result.code, result.status));
    }
    match result.value.parse::<rust_decimal::Decimal>() {
        Ok(value) if result.value_type.is_empty() || result.value_type == "NM" => {
            Filing::ForCheck { check: mapping.check.clone(), value }
        }
        _ => hold(format!("{} has the value {:?}, not a plain number", result.code, result.value)),
    }
}

#[cfg(test)]
mod filing_tests {
    use super::*;

    fn result(units: &str, value: &str, status: &str) -> LabResult {
        LabResult {
            code: "NEUT".into(),
            name: "Neutrophils".into(),
            value: value.into(),
            value_type: "NM".into(),
            units: units.into(),
            reference_range: "2.0-7.5".into(),
            abnormal_flag: String::new(),
            status: status.into(),
            observed_at: DateTime::from_timestamp(1_764_000_000, 0).expect("time"),
            laboratory: "RXX".into(),
        }
    }

    fn mappings() -> Vec<TestMapping> {
        vec![TestMapping {
            laboratory_code: "NEUT".into(),
            check: "neutrophils".into(),
            units: "10*9/L".into(),
        }]
    }

    #[test]
    fn a_final_number_in_the_expected_units_is_used_exactly() {
        assert_eq!(
            file_for_checks(&result("10*9/L", "1.40", "F"), &mappings()),
            Filing::ForCheck { check: "neutrophils".into(), value: "1.40".parse().expect("decimal") }
        );
    }

    #[test]
    fn other_units_a_preliminary_result_or_a_non_number_are_held_never_converted() {
        for (units, value, status) in
            [("10*6/L", "1400", "F"), ("10*9/L", "1.4", "P"), ("10*9/L", "<0.5", "F")]
        {
            let filed = file_for_checks(&result(units, value, status), &mappings());
            assert!(matches!(filed, Filing::HeldForReview { .. }), "{units} {value} {status}: {filed:?}");
        }
        let unmapped = LabResult { code: "CRP".into(), ..result("mg/L", "4", "F") };
        assert_eq!(file_for_checks(&unmapped, &mappings()), Filing::NotForChecks);
    }
}
