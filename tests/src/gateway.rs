//! The local API gateway (`tools/gateway`, the binary `make dev` runs) as a process of its own,
//! on a port the kernel picks, configured only by the settings given here.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::binaries::{debug_binary, workspace_root};

/// A running gateway; killed on drop.
pub struct Gateway {
    child: Child,
    log: PathBuf,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Gateway {
    /// Starts a gateway in front of the Invoke API at `lambda_url` with the template's routes
    /// and `settings` (e.g. `TOKENGATE_GATEWAY_API=http`); it serves under the stage prefix
    /// unless they say otherwise. Logs to `log`.
    pub async fn start(lambda_url: &str, settings: &[(&str, &str)], log: &Path) -> Self {
        let out = std::fs::File::create(log).expect("gateway log file");
        let template = workspace_root().join("template.yaml");
        let mut command = Command::new(debug_binary("tokengate-gateway"));
        command
            .env_clear()
            .env("TOKENGATE_GATEWAY_ADDR", "127.0.0.1:0")
            .env("TOKENGATE_LAMBDA_URL", lambda_url)
            .env("TOKENGATE_TEMPLATE", &template)
            .env("AWS_REGION", "us-east-1")
            .envs(settings.iter().copied())
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log handle"))
            .stderr(out);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("{command:?} starts ({e}); is it built?"));
        let mut gateway = Self {
            child,
            log: log.to_owned(),
            url: String::new(),
        };
        // The gateway prints the address the kernel gave it once it listens.
        for _ in 0..400 {
            let text = gateway.log_text();
            if let Some(addr) = text
                .lines()
                .find_map(|l| l.strip_prefix("tokengate gateway listening on "))
                .and_then(|l| l.split_whitespace().next())
            {
                gateway.url = addr.to_owned();
                return gateway;
            }
            if let Ok(Some(status)) = gateway.child.try_wait() {
                panic!("the gateway exited ({status}): {text}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the gateway did not start: {}", gateway.log_text());
    }

    /// What the gateway logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}
