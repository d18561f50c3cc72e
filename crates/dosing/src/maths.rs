//! Square roots and fractional powers in decimal arithmetic.
//!
//! Method: `rust_decimal`'s `maths` feature. `sqrt` is Newton–Raphson
//! iteration to the full 28-digit precision of `Decimal`; `powd` for a
//! fractional exponent is `exp(y × ln x)` by series expansion; `log10` is
//! `ln x / ln 10`. These agree with 40-digit `mpmath` to well beyond the 12
//! significant digits the dose rules need (see `tests/mpmath_crosscheck.rs`),
//! and every result is rounded once, afterwards, by a named rule.

use rust_decimal::{Decimal, MathematicalOps};

use crate::DoseError;

pub(crate) fn sqrt(x: Decimal, field: &str) -> Result<Decimal, DoseError> {
    x.sqrt().ok_or_else(|| DoseError::new(field, "cannot take the square root of a negative number"))
}

pub(crate) fn pow(base: Decimal, exponent: Decimal, field: &str) -> Result<Decimal, DoseError> {
    base.checked_powd(exponent)
        .ok_or_else(|| DoseError::new(field, "the power could not be computed exactly"))
}

pub(crate) fn log10(x: Decimal, field: &str) -> Result<Decimal, DoseError> {
    x.checked_log10().ok_or_else(|| DoseError::new(field, "the logarithm could not be computed"))
}
