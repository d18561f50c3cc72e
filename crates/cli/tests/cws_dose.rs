//! `cws dose` and `cws regimen` as a pharmacist or a script would run them.

use std::process::{Command, Output};

fn cws(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cws")).args(args).output().expect("cws runs")
}

fn json(args: &[&str]) -> serde_json::Value {
    let output = cws(args);
    assert!(output.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("valid JSON")
}

fn refused(args: &[&str]) -> String {
    let output = cws(args);
    assert_eq!(output.status.code(), Some(2), "{args:?} should be refused as bad input");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "one line on stderr: {stderr}");
    stderr
}

#[test]
fn bsa_json_gives_decimals_as_strings() {
    let result = json(&["dose", "bsa", "--height-cm", "170", "--weight-kg", "70", "--json"]);
    assert_eq!(result["bsa_m2"], "1.82");
    assert_eq!(result["formula"], "mosteller");
    assert!(result["steps"].as_array().is_some_and(|s| !s.is_empty()));
}

#[test]
fn bsa_by_another_formula() {
    let result =
        json(&["dose", "bsa", "--height-cm", "171", "--weight-kg", "68.5", "--formula", "dubois", "--json"]);
    assert_eq!(result["bsa_m2"], "1.80");
}

#[test]
fn impossible_height_is_refused_naming_the_field() {
    let stderr = refused(&["dose", "bsa", "--height-cm", "1700", "--weight-kg", "70"]);
    assert!(stderr.contains("height_cm"), "{stderr}");
}

#[test]
fn weight_in_grams_is_refused_naming_the_field() {
    let stderr = refused(&["dose", "bsa", "--height-cm", "170", "--weight-kg", "70000"]);
    assert!(stderr.contains("weight_kg"), "{stderr}");
}

#[test]
fn crcl_json_names_the_weight_used() {
    let args = ["dose", "crcl", "--sex", "male", "--age-years", "60", "--weight-kg", "70"];
    let result =
        json(&[&args[..], &["--creatinine-umol-l", "80", "--weight-basis", "actual", "--json"]].concat());
    assert_eq!(result["crcl_ml_min"], "86");
    assert_eq!(result["weight_used_kg"], "70");
}

#[test]
fn negative_creatinine_is_refused() {
    let stderr = refused(&[
        "dose",
        "crcl",
        "--sex",
        "male",
        "--age-years",
        "60",
        "--weight-kg",
        "70",
        "--creatinine-umol-l",
        "-80",
    ]);
    assert!(stderr.contains("creatinine_umol_l"), "{stderr}");
}

#[test]
fn carboplatin_caps_the_gfr_at_125() {
    let result = json(&["dose", "carboplatin", "--auc", "5", "--gfr-ml-min", "160", "--json"]);
    assert_eq!(result["dose_mg"], "750");
    assert_eq!(result["gfr_used_ml_min"], "125");
    assert_eq!(result["gfr_capped"], true);
}

#[test]
fn carboplatin_from_cockcroft_gault_is_rounded_to_5_mg() {
    let result = json(&[
        "dose",
        "carboplatin",
        "--auc",
        "5",
        "--sex",
        "female",
        "--age-years",
        "60",
        "--weight-kg",
        "70",
        "--creatinine-umol-l",
        "80",
        "--height-cm",
        "170",
        "--json",
    ]);
    assert_eq!(result["dose_mg"], "490");
    assert_eq!(result["gfr_capped"], false);
}

#[test]
fn band_reports_table_version_and_rule() {
    let result = json(&["dose", "band", "--drug", "vincristine", "--dose-mg", "1.95", "--json"]);
    assert_eq!(result["band_dose_mg"], "2");
    assert_eq!(result["table"], "national-single-container-1mg-ml");
    assert_eq!(result["boundary_rule"], "to-a");
    assert!(result["table_version"].is_string());
}

#[test]
fn band_outside_the_table_is_not_banded() {
    let result = json(&["dose", "band", "--drug", "vincristine", "--dose-mg", "20", "--json"]);
    assert_eq!(result["banded"], false);
    assert!(result["band_dose_mg"].is_null());
}

#[test]
fn unknown_drug_is_refused() {
    let stderr = refused(&["dose", "band", "--drug", "aspirin", "--dose-mg", "2"]);
    assert!(stderr.contains("drug"), "{stderr}");
}

#[test]
fn r_chop_for_a_large_patient_caps_vincristine_at_2_mg() {
    let result = json(&[
        "dose",
        "regimen",
        "--regimen",
        "R-CHOP-21",
        "--height-cm",
        "190",
        "--weight-kg",
        "120",
        "--json",
    ]);
    assert_eq!(result["bsa_m2"], "2.52");
    let vincristine = result["drugs"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["drug"] == "vincristine"))
        .expect("vincristine");
    assert_eq!(vincristine["final_dose"], "2");
    assert_eq!(vincristine["capped"], true);
    assert!(vincristine["steps"].as_array().is_some_and(|s| s.iter().any(|s| s["kind"] == "cap")));
}

#[test]
fn a_modification_needs_a_reason() {
    let stderr = refused(&[
        "dose",
        "regimen",
        "--regimen",
        "AC",
        "--height-cm",
        "170",
        "--weight-kg",
        "70",
        "--modify",
        "doxorubicin=80",
    ]);
    assert!(stderr.contains("reason"), "{stderr}");
}

#[test]
fn a_modification_is_applied_with_its_reason() {
    let result = json(&[
        "dose",
        "regimen",
        "--regimen",
        "AC",
        "--height-cm",
        "170",
        "--weight-kg",
        "70",
        "--modify",
        "doxorubicin=80",
        "--reason",
        "grade 3 mucositis",
        "--json",
    ]);
    let doxorubicin = &result["drugs"][0];
    assert_eq!(doxorubicin["calculated_dose"], "109.2");
    assert_eq!(doxorubicin["final_dose"], "87.36");
    assert_eq!(doxorubicin["modified"], true);
}

#[test]
fn unknown_regimen_is_refused() {
    let stderr =
        refused(&["dose", "regimen", "--regimen", "R-CHOP-99", "--height-cm", "170", "--weight-kg", "70"]);
    assert!(stderr.contains("regimen"), "{stderr}");
}

#[test]
fn regimen_list_and_show() {
    let list = json(&["regimen", "list", "--json"]);
    assert_eq!(list.as_array().map(Vec::len), Some(12));
    let shown = json(&["regimen", "show", "FEC100", "--json"]);
    assert_eq!(shown["code"], "FEC100");
    assert_eq!(shown["drugs"].as_array().map(Vec::len), Some(3));
}

#[test]
fn text_output_reads_as_a_derivation() {
    let output =
        cws(&["dose", "regimen", "--regimen", "R-CHOP-21", "--height-cm", "190", "--weight-kg", "120"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("Capped at the maximum single dose of 2 mg"), "{text}");
}

#[test]
fn a_modification_for_a_drug_not_in_the_regimen_is_refused_by_the_engine() {
    let stderr = refused(&[
        "dose",
        "regimen",
        "--regimen",
        "AC",
        "--height-cm",
        "170",
        "--weight-kg",
        "70",
        "--modify",
        "vincristine=50",
        "--reason",
        "neuropathy",
    ]);
    assert!(stderr.contains("vincristine is not in AC"), "{stderr}");
}

#[test]
fn a_negative_lifetime_dose_cannot_hide_the_limit() {
    let stderr = refused(&[
        "dose",
        "regimen",
        "--regimen",
        "AC",
        "--height-cm",
        "170",
        "--weight-kg",
        "70",
        "--prior-cumulative",
        "doxorubicin=-1000",
    ]);
    assert!(stderr.contains("prior_cumulative.doxorubicin"), "{stderr}");
}
