//! `make dev` itself, the README's first command: `scripts/dev.sh` on free ports, as a user
//! runs it. Its ready message comes only once every function is running, the three `curl`
//! lines it prints answer within five seconds of it, and `cargo lambda watch` compiles nothing
//! after it (issue 12). The other cases drive the same binaries through `tokengate_tests`'
//! harness instead, which starts in a second and is configured explicitly.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokengate_tests::binaries::{function_binaries, user_command, workspace_root, FUNCTIONS};
use tokio::io::{AsyncBufReadExt, BufReader};

/// dev.sh listens on the ports it is given, so the test picks them: a port the kernel handed
/// out and took back, free again unless another process grabs it in between.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Stops dev.sh's process group (it stops its children on TERM); keeps its logs on failure.
struct DevSh {
    pid: u32,
    state: PathBuf,
    passed: bool,
}

impl Drop for DevSh {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.pid)])
            .status();
        // Give dev.sh's trap a moment to stop its children before the group is gone.
        std::thread::sleep(Duration::from_millis(500));
        if self.passed {
            let _ = std::fs::remove_dir_all(&self.state);
        } else {
            eprintln!("e2e: make dev's logs are in {}", self.state.display());
        }
    }
}

/// The function binaries running as descendants of `root` (a process id), by name.
fn functions_running_under(root: u32) -> BTreeSet<String> {
    let mut parent = HashMap::new();
    let mut exe = HashMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        // `pid (comm) state ppid …`; comm may hold spaces, so split after its `)`.
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(ppid) = ppid {
            parent.insert(pid, ppid);
        }
        if let Ok(path) = std::fs::read_link(entry.path().join("exe")) {
            exe.insert(pid, path);
        }
    }
    let descends = |mut pid: u32| {
        while let Some(&p) = parent.get(&pid) {
            if p == root {
                return true;
            }
            pid = p;
        }
        false
    };
    let binaries: HashMap<PathBuf, &str> = function_binaries()
        .into_iter()
        .zip(FUNCTIONS)
        .filter_map(|((path, _), f)| Some((path.canonicalize().ok()?, f)))
        .collect();
    exe.iter()
        .filter(|(pid, _)| descends(**pid))
        .filter_map(|(_, path)| binaries.get(path).map(|f| f.to_string()))
        .collect()
}

pub async fn make_dev_is_ready_only_when_every_function_answers() {
    // Arrange: dev.sh as a user starts it, on ports of its own.
    let state = workspace_root().join(format!("target/e2e-make-dev-{}", std::process::id()));
    let gateway = format!("127.0.0.1:{}", free_port());
    let mut child = user_command("scripts/dev.sh")
        .env("MOTO_PORT", free_port().to_string())
        .env("LAMBDA_PORT", free_port().to_string())
        .env("GATEWAY_ADDR", &gateway)
        .env("STAGE_GATEWAY_ADDR", format!("127.0.0.1:{}", free_port()))
        .env("APP_ADDR", format!("127.0.0.1:{}", free_port()))
        .env("DEV_STATE", &state)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .expect("scripts/dev.sh starts");
    let mut dev = DevSh {
        pid: child.id().expect("dev.sh's pid"),
        state: state.clone(),
        passed: false,
    };
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let mut printed = Vec::new();
    let ready = tokio::time::timeout(Duration::from_secs(900), async {
        while let Ok(Some(line)) = lines.next_line().await {
            let done = line.starts_with("Press Ctrl-C");
            printed.push(line);
            if done {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(ready, Ok(true), "make dev said:\n{}", printed.join("\n"));

    // Act: what a user sees at the ready message, then the printed curl lines, run as printed.
    let ready_at = Instant::now();
    let running = functions_running_under(dev.pid);
    let built_at_ready = function_binaries();
    let curl: Vec<&str> = printed
        .iter()
        .map(|l| l.trim_start())
        .filter(|l| l.starts_with("TOKEN=") || l.starts_with("curl "))
        .collect();
    let answers = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::process::Command::new("bash")
            .args(["-euo", "pipefail", "-c", &curl.join("\n")])
            .current_dir(workspace_root())
            .output(),
    )
    .await;
    let took = ready_at.elapsed();

    // Assert
    let expected: BTreeSet<String> = FUNCTIONS.iter().map(|f| f.to_string()).collect();
    assert_eq!(
        running, expected,
        "every function runs when make dev says it is ready"
    );
    assert_eq!(
        curl.len(),
        3,
        "login, /api/me, refresh:\n{}",
        printed.join("\n")
    );
    let answers = answers
        .expect("the curl lines answer within 5 s")
        .expect("bash runs");
    assert!(answers.status.success(), "{answers:?}");
    assert!(
        took < Duration::from_secs(5),
        "the curl lines took {took:?}"
    );
    let bodies: Vec<Value> = serde_json::Deserializer::from_slice(&answers.stdout)
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("JSON answers");
    assert_eq!(bodies.len(), 2, "/api/me and refresh: {bodies:?}");
    assert_eq!(bodies[0]["roles"], serde_json::json!([]), "{}", bodies[0]);
    assert!(bodies[0]["sub"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(bodies[1]["token_type"], "Bearer", "{}", bodies[1]);
    for (path, at_ready) in &built_at_ready {
        assert!(
            at_ready.is_some(),
            "{} was not built at ready",
            path.display()
        );
    }
    assert_eq!(
        function_binaries(),
        built_at_ready,
        "cargo lambda watch compiled a function after the ready message"
    );
    let functions_log = std::fs::read_to_string(state.join("functions.log")).unwrap_or_default();
    assert!(
        !functions_log.contains("eyJ"),
        "a token reached make dev's logs"
    );
    dev.passed = true;
}
