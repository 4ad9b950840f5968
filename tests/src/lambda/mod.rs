//! A local Lambda service: the Invoke API (`POST /2015-03-31/functions/{name}/invocations`, what
//! the local gateway calls) in front of the function binaries, each run the way Lambda runs a
//! deployed `bootstrap`: one process per execution environment, polling a Runtime API of its own,
//! one invocation at a time; an invocation that finds no free environment starts another (a cold
//! start, as on AWS, where `cargo lambda watch` would queue it behind the busy one); the
//! environment is exactly Lambda's reserved variables plus the function's configuration —
//! nothing inherited from the test process.
//!
//! A test that must reach each environment of a function in turn (the e2e proof that every
//! authorizer instance refuses a revoked token) starts them up front, as provisioned concurrency
//! does ([`Lambda::provision`]), and pins the function's invocations to them
//! ([`Lambda::pin`]); Lambda itself offers no way to pick an environment.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::serve::serve;
use runtime_api::runtime;

mod runtime_api;

/// Execution environments per function at most (Lambda's default account limit is 1,000; the
/// tests never run more than a handful of requests at once).
const MAX_ENVIRONMENTS: usize = 16;
const ACCOUNT: &str = "123456789012";
const RUNTIME_API: &str = "/2018-06-01/runtime";

/// A function as deployed: its binary and its configuration.
#[derive(Debug, Clone)]
pub struct FunctionConfig {
    /// The function name (`login`, …).
    pub name: String,
    /// The compiled function (the `bootstrap` of its deployment package).
    pub binary: PathBuf,
    /// `MemorySize`: only reported to the function, not enforced.
    pub memory_mb: u32,
    /// `Timeout`: an invocation not answered by then fails with `Sandbox.Timedout`.
    pub timeout: Duration,
    /// Its environment variables (the template's `Environment.Variables`, the AWS endpoint and
    /// credentials).
    pub environment: Vec<(String, String)>,
}

/// What an environment answered.
enum Outcome {
    Response(Bytes),
    Error(Bytes),
}

struct Invocation {
    request_id: String,
    event: Bytes,
    deadline_ms: u128,
    reply: oneshot::Sender<Outcome>,
}

#[derive(Default)]
struct Counts {
    environments: usize,
    /// Environments holding no invocation: starting, or waiting in `next`.
    free: usize,
    queued: usize,
    started: usize,
    /// Invocations handed to each environment, by its id.
    handed: HashMap<usize, usize>,
}

/// The environments a function's invocations are pinned to, taken in turn.
#[derive(Default)]
struct Pins {
    to: Vec<usize>,
    next: usize,
}

/// One function: its queue of invocations and its environments.
struct Function {
    config: FunctionConfig,
    log: PathBuf,
    region: String,
    queue: mpsc::UnboundedSender<Invocation>,
    next: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    counts: Mutex<Counts>,
    /// Each environment's own queue, by its id: where pinned invocations go.
    own_queues: Mutex<HashMap<usize, mpsc::UnboundedSender<Invocation>>>,
    pins: Mutex<Pins>,
}

impl Function {
    /// The queue of the environment the next invocation is pinned to, if it is pinned.
    fn pinned_queue(&self) -> Option<mpsc::UnboundedSender<Invocation>> {
        let mut pins = self.pins.lock().expect("pins");
        if pins.to.is_empty() {
            return None;
        }
        let id = pins.to[pins.next % pins.to.len()];
        pins.next += 1;
        self.own_queues.lock().expect("queues").get(&id).cloned()
    }
}

/// One execution environment: the process and the invocation it holds.
struct Environment {
    /// Its number among the function's environments, from 1 in starting order.
    id: usize,
    function: Arc<Function>,
    current: Mutex<Option<(String, oneshot::Sender<Outcome>)>>,
    /// Invocations pinned to this environment.
    own: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
}

struct Running {
    environment: Arc<Environment>,
    child: Child,
    runtime_api: JoinHandle<()>,
}

struct Shared {
    functions: Mutex<HashMap<String, Arc<Function>>>,
    running: Mutex<Vec<Running>>,
    log_dir: PathBuf,
    region: String,
}

/// The running service; every function process is killed on drop.
pub struct Lambda {
    /// `http://127.0.0.1:PORT`: the Invoke API.
    pub url: String,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Lambda {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        let mut running = self.shared.running.lock().expect("running lock");
        for r in running.iter_mut() {
            r.runtime_api.abort();
            let _ = r.child.kill();
            let _ = r.child.wait();
        }
        running.clear();
    }
}

impl Lambda {
    /// Starts the Invoke API on a port the kernel picks; each function's output goes to
    /// `<log_dir>/<function>.log` (its log group).
    pub async fn start(log_dir: impl Into<PathBuf>, region: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let shared = Arc::new(Shared {
            functions: Mutex::new(HashMap::new()),
            running: Mutex::new(Vec::new()),
            log_dir: log_dir.into(),
            region: region.to_owned(),
        });
        let s = shared.clone();
        let invoke_api = serve(listener, move |req| invoke(s.clone(), req));
        let s = shared.clone();
        // A process that exits (an init failure, a crash) frees nothing and fails its
        // invocation, as Lambda reports `Runtime.ExitError`.
        let reaper = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                s.reap();
            }
        });
        Self {
            url,
            shared,
            tasks: vec![invoke_api, reaper],
        }
    }

    /// Creates (or replaces) a function; it starts on its first invocation.
    pub fn deploy(&self, config: FunctionConfig) {
        let (queue, next) = mpsc::unbounded_channel();
        let function = Function {
            log: self.shared.log_dir.join(format!("{}.log", config.name)),
            region: self.shared.region.clone(),
            config,
            queue,
            next: tokio::sync::Mutex::new(next),
            counts: Mutex::new(Counts::default()),
            own_queues: Mutex::new(HashMap::new()),
            pins: Mutex::new(Pins::default()),
        };
        self.shared
            .functions
            .lock()
            .expect("functions lock")
            .insert(function.config.name.clone(), Arc::new(function));
    }

    /// How many execution environments of `function` were started so far (cold starts).
    pub fn cold_starts(&self, function: &str) -> usize {
        self.function(function)
            .map_or(0, |f| f.counts.lock().expect("counts").started)
    }

    /// Starts `n` more execution environments of `function` now, as provisioned concurrency
    /// does (their init runs before any invocation); resolves to their ids. The future holds
    /// no borrow of the service, so it may be awaited after a lock on it is released.
    pub fn provision(
        &self,
        function: &str,
        n: usize,
    ) -> impl std::future::Future<Output = std::io::Result<Vec<usize>>> + Send + 'static {
        let shared = self.shared.clone();
        let function = self
            .function(function)
            .ok_or_else(|| std::io::Error::other(format!("no function {function}")));
        async move {
            let function = function?;
            let mut ids = Vec::with_capacity(n);
            for _ in 0..n {
                let id = {
                    let mut c = function.counts.lock().expect("counts");
                    c.environments += 1;
                    c.free += 1;
                    c.started += 1;
                    c.started
                };
                shared
                    .start_environment(&function, id, "provisioned-concurrency")
                    .await?;
                ids.push(id);
            }
            Ok(ids)
        }
    }

    /// Hands `function`'s invocations to the environments `ids`, in turn (a busy one queues
    /// them; none starts); no ids: to any free environment, as Lambda does.
    pub fn pin(&self, function: &str, ids: &[usize]) {
        if let Some(f) = self.function(function) {
            *f.pins.lock().expect("pins") = Pins {
                to: ids.to_vec(),
                next: 0,
            };
        }
    }

    /// How many invocations the environment `id` of `function` has taken so far.
    pub fn invocations(&self, function: &str, id: usize) -> usize {
        self.function(function).map_or(0, |f| {
            let c = f.counts.lock().expect("counts");
            c.handed.get(&id).copied().unwrap_or(0)
        })
    }

    fn function(&self, name: &str) -> Option<Arc<Function>> {
        let functions = self.shared.functions.lock().expect("functions lock");
        functions.get(name).cloned()
    }
}

impl Shared {
    fn reap(&self) {
        let mut running = self.running.lock().expect("running lock");
        running.retain_mut(|r| {
            if !matches!(r.child.try_wait(), Ok(Some(_))) {
                return true;
            }
            r.runtime_api.abort();
            let env = &r.environment;
            let held = env.current.lock().expect("current").take();
            let mut counts = env.function.counts.lock().expect("counts");
            counts.environments -= 1;
            match held {
                Some((request_id, reply)) => {
                    let _ = reply.send(Outcome::Error(Bytes::from(
                        json!({
                            "errorType": "Runtime.ExitError",
                            "errorMessage": format!("RequestId: {request_id} Error: Runtime exited"),
                        })
                        .to_string(),
                    )));
                }
                None => counts.free -= 1,
            }
            false
        });
    }

    /// Starts the execution environment `id` of `function`: a Runtime API of its own, then the
    /// binary with Lambda's variables and the function's. `initialization` is
    /// `AWS_LAMBDA_INITIALIZATION_TYPE` (`on-demand` or `provisioned-concurrency`, AWS Lambda
    /// Developer Guide, "Defined runtime environment variables").
    async fn start_environment(
        &self,
        function: &Arc<Function>,
        id: usize,
        initialization: &str,
    ) -> std::io::Result<()> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let runtime_api = listener.local_addr()?.to_string();
        let config = &function.config;
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&function.log)?;
        let memory = config.memory_mb.to_string();
        // The deployment package's directory: `/var/task` on AWS.
        let task_root = config.binary.parent().unwrap_or(&self.log_dir);
        let task_root_text = task_root.to_string_lossy();
        let stream = format!("local/[$LATEST]{}-{id}", std::process::id());
        let group = format!("/aws/lambda/{}", config.name);
        let reserved = [
            ("AWS_LAMBDA_FUNCTION_NAME", config.name.as_str()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", &memory),
            ("AWS_LAMBDA_LOG_GROUP_NAME", &group),
            ("AWS_LAMBDA_LOG_STREAM_NAME", &stream),
            ("AWS_LAMBDA_RUNTIME_API", &runtime_api),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", initialization),
            ("AWS_REGION", &function.region),
            ("AWS_DEFAULT_REGION", &function.region),
            ("_HANDLER", "bootstrap"),
            ("LAMBDA_TASK_ROOT", &task_root_text),
            ("LAMBDA_RUNTIME_DIR", &task_root_text),
            ("TZ", ":UTC"),
            ("LANG", "en_US.UTF-8"),
            ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ];
        let child = Command::new(&config.binary)
            .env_clear()
            .envs(reserved)
            .envs(config.environment.iter().map(|(k, v)| (k, v)))
            .current_dir(task_root)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let (own_queue, own) = mpsc::unbounded_channel();
        function
            .own_queues
            .lock()
            .expect("queues")
            .insert(id, own_queue);
        let environment = Arc::new(Environment {
            id,
            function: function.clone(),
            current: Mutex::new(None),
            own: tokio::sync::Mutex::new(own),
        });
        let env = environment.clone();
        let runtime_api = serve(listener, move |req| runtime(env.clone(), req));
        self.running.lock().expect("running lock").push(Running {
            environment,
            child,
            runtime_api,
        });
        Ok(())
    }
}

fn reply(status: StatusCode, headers: &[(&str, &str)], body: Bytes) -> Response<Full<Bytes>> {
    let mut builder = Response::builder().status(status);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    builder.body(Full::new(body)).expect("response")
}

fn request_id() -> String {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b).expect("random bytes");
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The Invoke API: `RequestResponse` invocations only.
async fn invoke(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let name = req
        .uri()
        .path()
        .strip_prefix("/2015-03-31/functions/")
        .and_then(|p| p.strip_suffix("/invocations"))
        .map(str::to_owned);
    let function = name
        .as_deref()
        .and_then(|n| shared.functions.lock().expect("functions").get(n).cloned());
    let (Some(function), &Method::POST) = (function, req.method()) else {
        let body = json!({"Type": "User", "Message": format!("Function not found: {name:?}")});
        return Ok(reply(
            StatusCode::NOT_FOUND,
            &[("x-amzn-errortype", "ResourceNotFoundException")],
            Bytes::from(body.to_string()),
        ));
    };
    let event = req
        .into_body()
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    let timeout = function.config.timeout;
    let deadline = SystemTime::now() + timeout;
    let (tx, rx) = oneshot::channel();
    let request_id = request_id();
    let pinned = function.pinned_queue();
    let cold = {
        let mut c = function.counts.lock().expect("counts");
        c.queued += 1;
        let cold = pinned.is_none() && c.free < c.queued && c.environments < MAX_ENVIRONMENTS;
        if cold {
            c.free += 1;
            c.environments += 1;
            c.started += 1;
        }
        cold.then_some(c.started)
    };
    if let Some(id) = cold {
        if let Err(e) = shared.start_environment(&function, id, "on-demand").await {
            let mut c = function.counts.lock().expect("counts");
            c.free -= 1;
            c.environments -= 1;
            c.queued -= 1;
            return Err(std::io::Error::other(format!(
                "cannot start {}: {e}",
                function.config.binary.display()
            )));
        }
    }
    let invocation = Invocation {
        request_id: request_id.clone(),
        event,
        deadline_ms: deadline
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_millis(),
        reply: tx,
    };
    if pinned
        .as_ref()
        .unwrap_or(&function.queue)
        .send(invocation)
        .is_err()
    {
        return Err(std::io::Error::other("the function's queue is closed"));
    }
    let unhandled = [
        ("x-amz-function-error", "Unhandled"),
        ("x-amz-executed-version", "$LATEST"),
    ];
    Ok(match tokio::time::timeout(timeout, rx).await {
        Ok(Ok(Outcome::Response(body))) => reply(
            StatusCode::OK,
            &[("x-amz-executed-version", "$LATEST")],
            body,
        ),
        Ok(Ok(Outcome::Error(body))) => reply(StatusCode::OK, &unhandled, body),
        _ => {
            let message = format!(
                "RequestId: {request_id} Error: Task timed out after {} seconds (log: {})",
                timeout.as_secs(),
                function.log.display()
            );
            let body = json!({"errorType": "Sandbox.Timedout", "errorMessage": message});
            reply(StatusCode::OK, &unhandled, Bytes::from(body.to_string()))
        }
    })
}
