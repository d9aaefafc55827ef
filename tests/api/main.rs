//! The integration tests: one binary, every test against a real application with its own
//! PostgreSQL database and Redis prefix (the simulator's tests need neither).

mod config;
mod control;
mod fpl_decode;
mod helpers;
mod jobs;
mod kinds;
mod sim;
mod supervision;
