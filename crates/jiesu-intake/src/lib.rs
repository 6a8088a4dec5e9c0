//! Smart intake for jiesu: suggestions made when a case is written.
//!
//! * [`classify`] — the Chinese message category classifier (raw text segmented with jieba, or
//!   pre-segmented text), with its training, evaluation and the shipped model.

pub mod classify;
