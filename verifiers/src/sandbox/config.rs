//! What a sandbox run is configured with, asked for and produces.

use super::ExitStatus;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// Default `PATH` inside the sandbox (and for resolving a bare program name).
pub const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Pool-wide isolation settings. Per-run limits are in [`Limits`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SandboxConfig {
    /// How many runs may execute at once; 0 = twice the number of CPUs.
    pub max_parallel: usize,
    /// First uid leased to runs when smelt runs as root (one uid per concurrent run, so runs
    /// cannot signal or read each other). The range must belong to no real user.
    pub uid_base: u32,
    /// How many uids the range holds (caps concurrency across all pools).
    pub uid_count: u32,
    /// Use PID/network/IPC/mount namespaces.
    pub namespaces: bool,
    /// Use Landlock when the kernel offers it.
    pub landlock: bool,
    /// Use the seccomp filter.
    pub seccomp: bool,
    /// Fail instead of degrading when a layer cannot be applied.
    pub require_all_layers: bool,
    /// Paths the sandbox may read and execute under (Landlock). The program's installation
    /// prefix (`/usr` for `/usr/bin/python3`) is added automatically.
    pub read_paths: Vec<PathBuf>,
    /// Where work directories are created; default: the system temp dir.
    pub work_root: Option<PathBuf>,
    /// Size of the tmpfs work dir, in MiB.
    pub disk_mb: u64,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            max_parallel: 0,
            uid_base: 60_000,
            uid_count: 1024,
            namespaces: true,
            landlock: true,
            seccomp: true,
            require_all_layers: false,
            read_paths: [
                "/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin", "/etc",
            ]
            .iter()
            .map(PathBuf::from)
            .collect(),
            work_root: None,
            disk_mb: 64,
        }
    }
}

/// Resource limits of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Wall-clock deadline; the process tree is killed when it passes.
    pub timeout: Duration,
    /// CPU seconds (RLIMIT_CPU).
    pub cpu_secs: u64,
    /// Address space in bytes (RLIMIT_AS).
    pub memory_bytes: u64,
    /// Processes/threads (RLIMIT_NPROC; per leased uid when root).
    pub max_processes: u64,
    /// Largest file the program may write (RLIMIT_FSIZE).
    pub max_file_bytes: u64,
    /// Open files (RLIMIT_NOFILE).
    pub max_open_files: u64,
    /// Cap on each of stdout and stderr; past it the program is killed.
    pub max_output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(10),
            cpu_secs: 10,
            memory_bytes: 1 << 30,
            max_processes: 64,
            max_file_bytes: 16 << 20,
            max_open_files: 256,
            max_output_bytes: 1 << 20,
        }
    }
}

/// One program to run.
#[derive(Debug, Clone, Default)]
pub struct RunSpec {
    /// A path, or a name looked up in the sandbox's `PATH`.
    pub program: String,
    pub args: Vec<String>,
    /// Added to (or overriding) the minimal environment.
    pub env: Vec<(String, String)>,
    pub stdin: Vec<u8>,
    /// Files created in the work dir before the program starts (plain names, read-only).
    pub files: Vec<(String, Vec<u8>)>,
    pub limits: Limits,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunOutput {
    pub status: ExitStatus,
    /// Killed at the wall-clock deadline.
    pub timed_out: bool,
    /// Killed for exceeding the CPU-seconds limit.
    pub cpu_limit_exceeded: bool,
    /// Killed for printing more than `max_output_bytes` on stdout or stderr.
    pub output_limit_exceeded: bool,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    pub wall_time: Duration,
    pub cpu_time: Duration,
    pub max_rss_kib: u64,
}

impl RunOutput {
    /// Exited with status 0 and no limit hit.
    pub fn success(&self) -> bool {
        self.status == ExitStatus::Exited(0)
            && !self.timed_out
            && !self.cpu_limit_exceeded
            && !self.output_limit_exceeded
    }
}

/// Which layers a pool actually applies (known after its first run).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Layers {
    pub pid_network_ipc_mount_namespaces: bool,
    pub user_namespace: bool,
    pub uid_drop: bool,
    pub landlock_abi: Option<u32>,
    pub seccomp: bool,
    pub tmpfs_workdir: bool,
}
