//! The domain of jiesu: what a citizen request is and how it moves through the closed loop.
//!
//! **Architecture invariant:** this crate does no I/O. It knows no database, no HTTP and no clock:
//! every function takes the time it needs as an argument, and default data files are embedded
//! with `include_str!` and parsed from strings. Everything here is tested directly.

pub mod access;
pub mod accounts;
pub mod alarm;
pub mod assessment;
pub mod attachment;
pub mod calendar;
pub mod catalog;
pub mod credit_code;
pub mod deadline;
pub mod disclosure;
pub mod draft;
pub mod model;
pub mod phone;
pub mod scrub;
pub mod suggestion;
pub mod workflow;
