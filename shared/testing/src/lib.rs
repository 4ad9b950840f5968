//! Test support for tokengate, kept out of every production crate (a dev-dependency, and a
//! dependency of the fuzz targets).
//!
//! [`fuzz`] holds what the coverage-guided fuzz targets in `fuzz/` check, so that the same
//! oracles also run as an ordinary test (`tests/fuzz_replay.rs`): every committed seed and a
//! fixed-seed sample of mutations of them, in the workspace's one build.
//!
//! [`memory`] holds the in-memory twins of every port and [`memory::MemoryRig`], the whole
//! domain wired to them: the fast tests, the benches and the fuzz harness run on it.
//!
//! [`hashing::CountingHasher`] counts Argon2 verifications: what the lockout lets through.
//!
//! [`rule_oracle::RuleOracle`] is a plain reference implementation of the route-rule grammar:
//! the oracle the authorizer's answers are judged by, written apart from the code it judges.
//!
//! [`race::RacingSessions`] makes concurrent refreshes of one session really race.
//!
//! [`logs::CapturedLogs`] keeps log lines in memory for tests that read them.
//!
//! [`contract`] holds one contract suite per port, each case written once and run against both
//! the in-memory twin and the DynamoDB adapter ([`port_contracts!`]), so that the twin is proven
//! to behave as the adapter does.

#![deny(missing_docs)]

pub mod contract;
pub mod fuzz;
pub mod hashing;
pub mod keys;
pub mod logs;
pub mod memory;
pub mod paths;
pub mod race;
pub mod rule_oracle;
