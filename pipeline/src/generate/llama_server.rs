//! llama.cpp's `llama-server`, started and stopped by smelt (`model.kind = "llama_server"`).
//!
//! smelt starts the server on the GGUF file `model.id` names, on a free loopback port, with
//! one slot per concurrent sample (`--parallel`), waits until `/health` answers, and then talks
//! to it through the OpenAI-compatible backend ([`super::openai`]), one `n = 1` request per
//! sample (llama-server has no `n`). The server is killed when the generator is dropped, and
//! by the kernel if smelt itself dies (it is spawned from the thread that reads its log, with
//! `PR_SET_PDEATHSIG`). If the server exits, its last log lines become the error.

use super::openai::OpenAiGenerator;
use super::{BoxFuture, Completion, GenError, GenRequest, Generator};
use crate::config::ModelConfig;
use smelt_verifiers::sandbox::{spawn_process, ExitStatus, ManagedProcess, ProcessSpec};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The program started when `model.server` is not set (looked up in `PATH`).
pub const DEFAULT_PROGRAM: &str = "llama-server";
/// Lines of the server's log kept for error messages.
const LOG_LINES: usize = 40;
/// Context per slot beyond `max_tokens`, for the prompt.
const PROMPT_ROOM: usize = 2048;

/// A running `llama-server` and the OpenAI client that talks to it.
pub struct LlamaServerGenerator {
    client: OpenAiGenerator,
    server: Mutex<ManagedProcess>,
    log: Arc<Mutex<VecDeque<String>>>,
    url: String,
}

impl std::fmt::Debug for LlamaServerGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlamaServerGenerator")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// What to start: the resolved program, model file and arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    pub program: String,
    pub model: PathBuf,
    pub port: u16,
    pub args: Vec<String>,
}

impl Launch {
    /// The launch for `cfg` with `slots` concurrent sequences: checks that the model is a
    /// readable GGUF file (by its magic) before anything starts.
    pub fn for_config(
        cfg: &ModelConfig,
        base_dir: &Path,
        slots: usize,
        max_tokens: usize,
    ) -> Result<Launch, GenError> {
        let id = cfg.id.as_deref().map(str::trim).unwrap_or_default();
        if id.is_empty() {
            return Err(GenError::Load(
                "`model.id` is not set; for kind = \"llama_server\" give the .gguf file to serve"
                    .into(),
            ));
        }
        let model = super::mistral::resolve_local_file(id, base_dir);
        check_gguf(&model)?;
        let port = free_port()?;
        let slots = slots.max(1);
        let ctx = slots.saturating_mul(max_tokens.saturating_add(PROMPT_ROOM));
        let mut args: Vec<String> = vec![
            "--model".into(),
            model.display().to_string(),
            "--host".into(),
            "127.0.0.1".into(),
            "--port".into(),
            port.to_string(),
            "--parallel".into(),
            slots.to_string(),
            "--ctx-size".into(),
            ctx.to_string(),
            "--alias".into(),
            id.to_owned(),
            "--no-webui".into(),
        ];
        args.extend(cfg.server_args.iter().cloned());
        let program = cfg
            .server
            .as_ref()
            .map(|p| {
                let p = super::mistral::resolve_local_file(&p.display().to_string(), base_dir);
                p.display().to_string()
            })
            .or_else(|| {
                std::env::var(crate::env::LLAMA_SERVER)
                    .ok()
                    .filter(|s| !s.is_empty())
            })
            .unwrap_or_else(|| DEFAULT_PROGRAM.to_owned());
        Ok(Launch {
            program,
            model,
            port,
            args,
        })
    }
}

impl LlamaServerGenerator {
    /// Starts the server for `cfg` and waits (up to `model.request_timeout_s`, at most 10
    /// minutes) until it serves.
    pub async fn start(
        cfg: &ModelConfig,
        base_dir: &Path,
        slots: usize,
        max_tokens: usize,
    ) -> Result<Self, GenError> {
        let launch = Launch::for_config(cfg, base_dir, slots, max_tokens)?;
        let log = Arc::new(Mutex::new(VecDeque::with_capacity(LOG_LINES)));
        let server = spawn(&launch, &log)?;
        let url = format!("http://127.0.0.1:{}/v1", launch.port);
        let mut client_cfg = cfg.clone();
        client_cfg.url = Some(url.clone());
        let client = OpenAiGenerator::new(&client_cfg)?.one_request_per_sample();
        let generator = LlamaServerGenerator {
            client,
            server: Mutex::new(server),
            log,
            url,
        };
        let limit = Duration::from_secs(cfg.request_timeout_s.clamp(1, 600));
        generator.wait_healthy(&launch, limit).await?;
        tracing::info!(url = %generator.url, model = %launch.model.display(), "llama-server is up");
        Ok(generator)
    }

    /// The server's base URL (`http://127.0.0.1:PORT/v1`).
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn wait_healthy(&self, launch: &Launch, limit: Duration) -> Result<(), GenError> {
        let health = format!("http://127.0.0.1:{}/health", launch.port);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| GenError::Load(format!("cannot build the HTTP client: {e}")))?;
        let start = Instant::now();
        loop {
            if let Some(status) = self.exited() {
                return Err(GenError::Load(format!(
                    "llama-server ({}) exited with {status} while loading `{}`:\n{}",
                    launch.program,
                    launch.model.display(),
                    self.log_tail()
                )));
            }
            // 503 while the model loads, 200 once it serves.
            if let Ok(r) = http.get(&health).send().await {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            if start.elapsed() > limit {
                return Err(GenError::Load(format!(
                    "llama-server did not become ready within {}s (model.request_timeout_s):\n{}",
                    limit.as_secs(),
                    self.log_tail()
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn exited(&self) -> Option<String> {
        let mut server = self.server.lock().unwrap_or_else(|p| p.into_inner());
        server.try_wait().map(|s| match s {
            ExitStatus::Exited(code) => format!("exit code {code}"),
            ExitStatus::Signaled(sig) => format!("signal {sig}"),
        })
    }

    fn log_tail(&self) -> String {
        let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        let lines: Vec<&str> = log.iter().map(String::as_str).collect();
        lines.join("\n")
    }

    async fn run(&self, req: &GenRequest) -> Result<Vec<Completion>, GenError> {
        match self.client.generate(req).await {
            Ok(done) => Ok(done),
            // A dead server answers nothing again: stop the run with its last words.
            Err(e) => match self.exited() {
                Some(status) => Err(GenError::Fatal(format!(
                    "llama-server exited with {status}: {e}\n{}",
                    self.log_tail()
                ))),
                None => Err(e),
            },
        }
    }
}

impl Generator for LlamaServerGenerator {
    fn model_id(&self) -> &str {
        self.client.model_id()
    }

    fn generate<'a>(
        &'a self,
        req: &'a GenRequest,
    ) -> BoxFuture<'a, Result<Vec<Completion>, GenError>> {
        Box::pin(self.run(req))
    }
}

/// Spawns the server from a thread that then reads its log until the server closes it, so
/// `PR_SET_PDEATHSIG` (tied to the spawning thread) kills the server only when it should.
fn spawn(launch: &Launch, log: &Arc<Mutex<VecDeque<String>>>) -> Result<ManagedProcess, GenError> {
    let spec = ProcessSpec {
        program: launch.program.clone(),
        args: launch.args.clone(),
        die_with_spawning_thread: true,
        ..ProcessSpec::default()
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let keep = Arc::clone(log);
    std::thread::Builder::new()
        .name("smelt-llama-server".into())
        .spawn(move || {
            let mut process = match spawn_process(&spec) {
                Ok(p) => p,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            let stderr = process.stderr.take();
            let stdout = process.stdout.take();
            drop(process.stdin.take());
            if tx.send(Ok(process)).is_err() {
                return;
            }
            let out = stdout.map(|f| {
                let keep = Arc::clone(&keep);
                std::thread::spawn(move || read_log(f, &keep))
            });
            if let Some(f) = stderr {
                read_log(f, &keep);
            }
            if let Some(t) = out {
                let _ = t.join();
            }
        })
        .map_err(|e| GenError::Load(format!("cannot start a thread for llama-server: {e}")))?;
    match rx.recv() {
        Ok(Ok(process)) => Ok(process),
        Ok(Err(e)) => Err(GenError::Load(format!(
            "cannot start llama-server `{}`: {e}; build it with `make llama-server`, or set \
             `model.server` to its path",
            launch.program
        ))),
        Err(_) => Err(GenError::Load("the llama-server thread ended early".into())),
    }
}

fn read_log(file: std::fs::File, keep: &Mutex<VecDeque<String>>) {
    for line in BufReader::new(file).lines() {
        let Ok(line) = line else { break };
        tracing::debug!(target: "smelt::llama_server", "{line}");
        let mut log = keep.lock().unwrap_or_else(|p| p.into_inner());
        if log.len() == LOG_LINES {
            log.pop_front();
        }
        log.push_back(line);
    }
}

/// Checks that `path` is a readable file that starts with the GGUF magic, so a wrong path or
/// a file of another kind fails with one sentence instead of the server's log.
pub fn check_gguf(path: &Path) -> Result<(), GenError> {
    use std::io::Read;
    let mut magic = [0u8; 4];
    let read = std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut magic));
    match read {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(GenError::Load(format!(
            "model file `{}` does not exist (model.id); `make model` downloads the default one",
            path.display()
        ))),
        Err(e) => Err(GenError::Load(format!(
            "cannot read model file `{}`: {e}",
            path.display()
        ))),
        Ok(()) if &magic != b"GGUF" => Err(GenError::Load(format!(
            "`{}` is not a GGUF file (it does not start with the GGUF magic); kind = \
             \"llama_server\" serves .gguf models",
            path.display()
        ))),
        Ok(()) => Ok(()),
    }
}

/// A port that was free a moment ago on the loopback interface.
fn free_port() -> Result<u16, GenError> {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| GenError::Load(format!("no free loopback port for llama-server: {e}")))
}

#[cfg(test)]
mod tests;
