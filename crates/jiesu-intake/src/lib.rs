//! Smart intake for jiesu: suggestions made when a case is written.
//!
//! * [`classify`] — the Chinese message category classifier (raw text segmented with jieba, or
//!   pre-segmented text), with its training, evaluation and the shipped model.
//! * [`dups`] — duplicate finding: scores open cases near a new one in space and time (text,
//!   distance, time, category), evaluated on Boston 311.
//! * [`hot`] — 热点 hot issues: messages about one problem at one place grouped (MinHash/LSH
//!   candidates, a similarity and place check, union-find within time windows) and ranked by a
//!   heat index.
//! * [`suggest`] — the classifier's label mapped onto the district's categories and unit kinds,
//!   with a calibrated confidence and the manual-queue flag ([`suggest::suggest_category`]).

pub mod classify;
pub mod dups;
pub mod hot;
pub mod suggest;
