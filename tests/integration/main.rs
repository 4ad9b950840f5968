//! Integration tests against the AWS API emulator: real KMS signatures, real DynamoDB
//! conditional writes and transactions. One test binary; each test starts its own emulator.

mod amplification;
mod authorizer;
mod cold_start;
mod contract;
mod deploy_doc;
mod emulator_stack;
mod faults;
mod keyring;
mod kms_signing;
mod lockout;
mod password;
mod scopes;
mod sessions;
mod stack;
