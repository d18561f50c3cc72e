//! NHS numbers: Modulus 11 and the issued ranges (NHS Data Dictionary), shown
//! as `999 123 4567`. An `NhsNumber` that exists has passed both checks.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NhsNumber([u8; 10]);

/// Whether a site accepts numbers from the unissued 9xx range that the NHS
/// keeps for test and synthetic data. Accepted by default, since demonstration
/// and test data use it; a production site refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NhsNumberPolicy {
    pub accept_test_range: bool,
}

impl NhsNumberPolicy {
    /// Reads the site setting `CWS_NHS_NUMBER_TEST_RANGE` (`accept`, the
    /// default, or `refuse`); the caller passes the value, so this stays pure.
    pub fn from_setting(value: Option<&str>) -> Result<Self, NhsNumberError> {
        match value.map(str::trim) {
            None | Some("") | Some("accept") => Ok(Self { accept_test_range: true }),
            Some("refuse") => Ok(Self { accept_test_range: false }),
            Some(other) => Err(NhsNumberError::BadSetting(other.to_owned())),
        }
    }
}

impl Default for NhsNumberPolicy {
    fn default() -> Self {
        Self { accept_test_range: true }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NhsNumberError {
    #[error("an NHS number has exactly 10 digits (spaces allowed); {0:?} is not one")]
    NotTenDigits(String),
    #[error("the check digit is wrong: the last digit should be {expected}, so this number is mistyped")]
    CheckDigitMismatch { expected: u8 },
    #[error(
        "no NHS number can begin with these nine digits (their check digit would be 10), so this number is mistyped"
    )]
    NeverIssued,
    #[error("{0} is outside the ranges the NHS issues numbers from")]
    OutsideIssuedRanges(String),
    #[error("{0} is in the NHS test range (9xx), which this site does not accept")]
    TestRangeRefused(String),
    #[error("CWS_NHS_NUMBER_TEST_RANGE is {0:?}; set it to accept or refuse")]
    BadSetting(String),
}

/// Issued ranges by their first three digits: Scotland (CHI), Northern Ireland,
/// and England, Wales and the Isle of Man.
const ISSUED_PREFIXES: [(u16, u16); 4] = [(10, 311), (320, 399), (400, 499), (600, 799)];
const TEST_PREFIXES: (u16, u16) = (900, 999);

impl NhsNumber {
    pub fn parse(text: &str, policy: NhsNumberPolicy) -> Result<Self, NhsNumberError> {
        let compact: String = text.chars().filter(|c| *c != ' ').collect();
        let single_spaced = !text.trim().contains("  ");
        if compact.len() != 10 || !compact.bytes().all(|b| b.is_ascii_digit()) || !single_spaced {
            return Err(NhsNumberError::NotTenDigits(text.to_owned()));
        }
        let mut digits = [0u8; 10];
        for (slot, byte) in digits.iter_mut().zip(compact.bytes()) {
            *slot = byte - b'0';
        }
        let expected = check_digit(&digits)?;
        if expected != digits[9] {
            return Err(NhsNumberError::CheckDigitMismatch { expected });
        }
        let number = Self(digits);
        let prefix = number.prefix();
        if (TEST_PREFIXES.0..=TEST_PREFIXES.1).contains(&prefix) {
            return if policy.accept_test_range {
                Ok(number)
            } else {
                Err(NhsNumberError::TestRangeRefused(number.to_string()))
            };
        }
        if !ISSUED_PREFIXES.iter().any(|(low, high)| (*low..=*high).contains(&prefix)) {
            return Err(NhsNumberError::OutsideIssuedRanges(number.to_string()));
        }
        Ok(number)
    }

    /// The ten digits with no spaces, as stored and exchanged.
    pub fn digits(&self) -> String {
        self.0.iter().map(|d| char::from(b'0' + d)).collect()
    }

    fn prefix(&self) -> u16 {
        self.0[..3].iter().fold(0, |acc, d| acc * 10 + u16::from(*d))
    }

    /// Builds the number with a valid check digit from nine digits, if one exists.
    pub fn from_nine_digits(first_nine: [u8; 9]) -> Option<Self> {
        let mut digits = [0u8; 10];
        digits[..9].copy_from_slice(&first_nine);
        let check = check_digit(&digits).ok()?;
        digits[9] = check;
        Some(Self(digits))
    }
}

/// Modulus 11: weights 10..2 over the first nine digits; 11 − remainder, with 11 → 0 and 10 → never issued.
fn check_digit(digits: &[u8; 10]) -> Result<u8, NhsNumberError> {
    let sum: u32 = digits[..9].iter().zip((2..=10).rev()).map(|(d, w)| u32::from(*d) * w).sum();
    match 11 - (sum % 11) {
        11 => Ok(0),
        10 => Err(NhsNumberError::NeverIssued),
        check => Ok(check as u8),
    }
}

impl fmt::Display for NhsNumber {
    /// `943 476 5919`, the CUI display.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.digits();
        write!(f, "{} {} {}", &d[..3], &d[3..6], &d[6..])
    }
}

impl TryFrom<String> for NhsNumber {
    type Error = NhsNumberError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text, NhsNumberPolicy::default())
    }
}

impl From<NhsNumber> for String {
    fn from(number: NhsNumber) -> Self {
        number.digits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<NhsNumber, NhsNumberError> {
        NhsNumber::parse(text, NhsNumberPolicy::default())
    }

    #[test]
    fn the_data_dictionary_examples() {
        assert_eq!(parse("9434765919").map(|n| n.to_string()), Ok("943 476 5919".into()));
        assert_eq!(parse("9434765918"), Err(NhsNumberError::CheckDigitMismatch { expected: 9 }));
        assert!(parse("4010232137").is_ok(), "England and Wales range");
        assert!(parse("9876543210").is_ok(), "remainder 0 gives check digit 0");
        assert!(parse("9990000050").is_ok());
        assert_eq!(parse("1234567890"), Err(NhsNumberError::NeverIssued));
    }

    #[test]
    fn single_spaces_are_allowed_and_other_shapes_refused() {
        assert!(parse("943 476 5919").is_ok());
        for bad in ["943-476-5919", "943  476 5919", "94347659", "94347659190", "943476591x", ""] {
            assert!(matches!(parse(bad), Err(NhsNumberError::NotTenDigits(_))), "{bad:?}");
        }
    }

    #[test]
    fn checksum_alone_is_not_enough() {
        assert!(matches!(parse("0000000000"), Err(NhsNumberError::OutsideIssuedRanges(_))));
        assert!(matches!(parse("5000000005"), Err(NhsNumberError::OutsideIssuedRanges(_))));
    }

    #[test]
    fn a_production_site_can_refuse_the_test_range() {
        let production = NhsNumberPolicy { accept_test_range: false };
        assert!(matches!(
            NhsNumber::parse("9434765919", production),
            Err(NhsNumberError::TestRangeRefused(_))
        ));
        assert!(NhsNumber::parse("4010232137", production).is_ok());
    }

    #[test]
    fn the_site_setting_chooses_the_policy() {
        assert_eq!(NhsNumberPolicy::from_setting(None), Ok(NhsNumberPolicy { accept_test_range: true }));
        assert_eq!(
            NhsNumberPolicy::from_setting(Some("refuse")),
            Ok(NhsNumberPolicy { accept_test_range: false })
        );
        assert!(NhsNumberPolicy::from_setting(Some("maybe")).is_err());
    }

    #[test]
    fn nine_digits_complete_to_a_valid_number_when_one_exists() {
        let number = NhsNumber::from_nine_digits([9, 4, 3, 4, 7, 6, 5, 9, 1]).expect("exists");
        assert_eq!(number.digits(), "9434765919");
        assert_eq!(NhsNumber::from_nine_digits([1, 2, 3, 4, 5, 6, 7, 8, 9]), None);
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Every number built from nine digits reads back, and changing any one
        /// digit of it is caught (Modulus 11 detects every single-digit error).
        #[test]
        fn a_single_mistyped_digit_is_always_caught(nine in proptest::array::uniform9(0u8..10), position in 0usize..10, replacement in 0u8..10) {
            let Some(number) = NhsNumber::from_nine_digits([9, nine[1], nine[2], nine[3], nine[4], nine[5], nine[6], nine[7], nine[8]]) else {
                return Ok(());
            };
            prop_assert_eq!(NhsNumber::parse(&number.to_string(), NhsNumberPolicy::default()), Ok(number));
            let mut digits: Vec<u8> = number.digits().into_bytes();
            prop_assume!(digits[position] != b'0' + replacement);
            digits[position] = b'0' + replacement;
            let mistyped = String::from_utf8(digits).expect("ASCII digits");
            prop_assert!(NhsNumber::parse(&mistyped, NhsNumberPolicy::default()).is_err(), "{} accepted", mistyped);
        }
    }
}
