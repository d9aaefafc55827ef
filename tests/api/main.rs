//! The integration tests: one binary, every test against a real application with its own
//! PostgreSQL database and Redis prefix.

mod config;
mod control;
mod fpl_client;
mod fpl_decode;
mod helpers;
mod jobs;
mod kinds;
mod meta;
mod supervision;
mod tree;
