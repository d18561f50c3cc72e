//! Thin Tauri commands, one module per area of the app.

pub mod app;
pub mod beds;
pub mod cards;
pub mod chemotherapy;
pub mod discharge;
pub mod discharge_form;
pub mod imaging;
pub mod patients;
pub mod relationships;
pub mod results;
pub mod sact;
pub mod sact_views;
pub mod sign_in;
