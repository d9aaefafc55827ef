//! The integration tests: one binary, every test against a real application with its own
//! PostgreSQL database and Redis prefix.

mod cache;
mod config;
mod control;
mod fpl_decode;
mod helpers;
mod jobs;
mod kinds;
mod supervision;
mod tree;
