//! The regimen library. Each regimen is a versioned JSON file validated on
//! load; the code knows no regimen by name. Pure: files arrive as text.

mod library;
mod regimen;

pub use library::{RegimenError, RegimenLibrary, parse_exchanged};
pub use regimen::{Emetogenicity, Regimen, RegimenDrug, RegimenStatus, Route};
