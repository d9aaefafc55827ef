//! The integration tests: one binary, every test against a real application with its own
//! PostgreSQL schema and Redis prefix (the simulator's tests need neither).

mod access;
mod alerting;
mod cache;
mod chaos;
mod config;
mod contract;
mod control;
mod dashboard;
mod entries;
mod fake_telegram;
mod fpl_client;
mod fpl_decode;
mod fpl_drift;
mod fpl_via_sim;
mod helpers;
mod hostile;
mod instance;
mod jobs;
mod kinds;
mod lifecycle;
mod live;
mod liveness;
mod malformed;
mod meta;
mod metrics;
mod odd_answers;
mod ops;
mod pace;
mod rollover;
mod season;
mod sim;
mod supervision;
mod tournaments;
mod tree;
mod webdriver;
