//! Tournaments built on FPL managers: the rules ([`rules`], pure functions), their storage and
//! the derived standings ([`store`]), the `tournament-results` job ([`job`]) and the definition a
//! tournament is created from ([`model`]).

pub mod rules;
