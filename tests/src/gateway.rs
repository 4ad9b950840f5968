//! The local API gateway (`tools/gateway`, the binary `make dev` runs) as a process of its own,
//! on a port the kernel picks, configured only by the settings given here, reading
//! `template.yaml` as `scripts/sam_transform.py` (SAM's own transform) deploys it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use crate::binaries::{debug_binary, workspace_root};

/// The setting that names the template's parameter values as deployed (`Name=Value …`, as
/// `sam deploy --parameter-overrides` takes them): given to the transform, not the gateway.
pub const PARAMETERS: &str = "TOKENGATE_GATEWAY_PARAMETERS";

/// `template.yaml` as CloudFormation deploys it with `parameters`: the JSON
/// `scripts/sam_transform.py` writes, run once per parameter set in a test process (about a
/// second each), as `make dev` runs it once.
pub async fn transformed_template(parameters: &str) -> String {
    static DONE: Mutex<Option<HashMap<String, String>>> = Mutex::new(None);
    if let Some(json) = DONE
        .lock()
        .unwrap()
        .get_or_insert_with(HashMap::new)
        .get(parameters)
    {
        return json.clone();
    }
    let root = workspace_root();
    let out = tokio::process::Command::new(root.join(".venv/bin/python3"))
        .arg(root.join("scripts/sam_transform.py"))
        .args(["--parameter-overrides", parameters])
        .arg(root.join("template.yaml"))
        .output()
        .await
        .expect("the .venv's Python runs scripts/sam_transform.py (make venv)");
    assert!(
        out.status.success(),
        "sam_transform.py --parameter-overrides {parameters:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = String::from_utf8(out.stdout).expect("JSON");
    let mut done = DONE.lock().unwrap();
    done.get_or_insert_with(HashMap::new)
        .insert(parameters.to_owned(), json.clone());
    json
}

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
    /// and `settings` (e.g. `TOKENGATE_GATEWAY_API=http`; [`PARAMETERS`] goes to the
    /// transform); it serves under the stage prefix unless they say otherwise. Logs to `log`,
    /// the transformed template beside it.
    pub async fn start(lambda_url: &str, settings: &[(&str, &str)], log: &Path) -> Self {
        let parameters = settings
            .iter()
            .find(|(k, _)| *k == PARAMETERS)
            .map_or("", |(_, v)| *v);
        let template = log.with_extension("cfn.json");
        std::fs::write(&template, transformed_template(parameters).await)
            .expect("the transformed template");
        let out = std::fs::File::create(log).expect("gateway log file");
        let mut command = Command::new(debug_binary("tokengate-gateway"));
        command
            .env_clear()
            .env("TOKENGATE_GATEWAY_ADDR", "127.0.0.1:0")
            .env("TOKENGATE_LAMBDA_URL", lambda_url)
            .env("TOKENGATE_GATEWAY_TEMPLATE", &template)
            .env("AWS_REGION", "us-east-1")
            .envs(settings.iter().filter(|(k, _)| *k != PARAMETERS).copied())
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
