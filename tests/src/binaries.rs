//! The binaries of the local stack — every function, the admin CLI, the gateway — built as
//! `make dev` builds them, and commands started with the environment a user's shell has.

use std::path::PathBuf;
use std::time::SystemTime;

/// The functions, as the template and `cargo lambda watch` name them.
pub const FUNCTIONS: [&str; 7] = [
    "login",
    "refresh",
    "logout",
    "password",
    "authorizer",
    "jwks",
    "me",
];

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// A binary of the workspace's debug build.
pub fn debug_binary(name: &str) -> PathBuf {
    workspace_root().join("target/debug").join(name)
}

/// Each function's debug binary and its modification time (`None` if it is missing).
pub fn function_binaries() -> Vec<(PathBuf, Option<SystemTime>)> {
    FUNCTIONS
        .iter()
        .map(|f| {
            let path = debug_binary(f);
            let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
            (path, modified)
        })
        .collect()
}

/// `program` run from the workspace root with the environment a user's shell has.
///
/// Cargo gives a test process the variables of the package under test (`CARGO_MANIFEST_DIR`,
/// `CARGO_PKG_NAME`, …). Build scripts such as ring's declare `rerun-if-env-changed` on them,
/// so a `cargo build` that saw them would rebuild ring, rustls and the AWS SDK's HTTP stack
/// that `cargo test` just built.
pub fn user_command(program: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(program);
    command.current_dir(workspace_root());
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_MANIFEST_")
            || [
                "CARGO_CRATE_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
            ]
            .contains(&name.as_ref())
        {
            command.env_remove(name.as_ref());
        }
    }
    command
}

/// Builds every function, the admin CLI and the gateway in one `cargo build`, the packages
/// `scripts/dev.sh` builds: whichever of the two runs first, the other finds them fresh.
pub async fn build() {
    let mut command = user_command("cargo");
    command.args(["build", "--quiet", "--locked"]);
    for package in FUNCTIONS
        .iter()
        .chain(&["tokengate-admin", "tokengate-gateway"])
    {
        command.args(["-p", package]);
    }
    let status = command.status().await.expect("cargo runs");
    assert!(status.success(), "building the local stack failed");
}

/// Builds the admin CLI alone (`target/debug/tokengate`), for tests that run it as a user
/// would; with the workspace's one feature set (cargo hakari) it is the binary `build` makes.
pub async fn build_cli() {
    let status = user_command("cargo")
        .args(["build", "--quiet", "--locked", "-p", "tokengate-admin"])
        .status()
        .await
        .expect("cargo runs");
    assert!(status.success(), "building the admin CLI failed");
}
