//! The FPL data source: typed models of the API's responses and the embedded real samples.

pub mod model;
pub mod samples;
