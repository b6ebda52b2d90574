//! The release binary as a pipeline runs it: one child process per command, timed from
//! spawn to exit, with its peak resident memory.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use apinizer_gitops::sandbox::RequestCounts;

/// The binary cargo built next to this bench (release, as `cargo bench` builds it).
const BINARY: &str = env!("CARGO_BIN_EXE_apinizer-gitops");

/// A command line for the binary and the environment it gets (nothing else: the
/// bench's own environment, `RUST_LOG` say, never changes a figure).
pub struct Invocation {
    args: Vec<String>,
    env: BTreeMap<String, String>,
}

impl Invocation {
    /// `apinizer-gitops <args>` with only `env` set.
    pub fn new(args: &[&str], env: &BTreeMap<String, String>) -> Invocation {
        Invocation {
            args: args.iter().map(|a| a.to_string()).collect(),
            env: env.clone(),
        }
    }

    /// Adds `-f folder`.
    pub fn files(mut self, folder: &Path) -> Invocation {
        self.args.push("-f".into());
        self.args.push(folder.display().to_string());
        self
    }

    /// Points the command at a server (`APINIZER_URL`, `APINIZER_TOKEN`) with
    /// `--parallelism`.
    pub fn server(mut self, url: &str, token: &str, parallelism: usize) -> Invocation {
        self.env.insert("APINIZER_URL".into(), url.into());
        self.env.insert("APINIZER_TOKEN".into(), token.into());
        self.args.push("--parallelism".into());
        self.args.push(parallelism.to_string());
        self
    }

    /// Runs the command to its end; stops the bench unless it exits 0.
    pub fn run(&self) -> Exited {
        let stderr = tempfile::tempfile().expect("temporary file for stderr");
        let start = Instant::now();
        let child = Command::new(BINARY)
            .args(&self.args)
            .env_clear()
            .envs(&self.env)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr.try_clone().expect("stderr handle"))
            .spawn()
            .expect("the binary starts");
        let (status, peak_rss) = wait_with_peak_rss(child);
        let wall = start.elapsed();
        if !status.success() {
            panic!(
                "`apinizer-gitops {}` exited with {status}: {}",
                self.args.join(" "),
                read_all(stderr)
            );
        }
        Exited { wall, peak_rss }
    }
}

/// What a finished command measured.
#[derive(Debug, Clone, Copy)]
pub struct Exited {
    /// From spawn to exit.
    pub wall: Duration,
    /// Peak resident memory in MB, where the platform reports it.
    pub peak_rss: Option<f64>,
}

/// One run of a command against a sandbox: what the process measured and the requests
/// the sandbox answered meanwhile.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// Wall time and memory.
    pub exited: Exited,
    /// Requests by kind.
    pub requests: RequestCounts,
}

/// Runs `once` `runs` times; the run of median wall time.
pub fn median_run<T: Copy>(
    runs: usize,
    wall: impl Fn(&T) -> Duration,
    once: impl FnMut() -> T,
) -> T {
    assert!(runs > 0, "at least one run");
    let mut all: Vec<T> = std::iter::repeat_with(once).take(runs).collect();
    all.sort_by_key(|run| wall(run));
    all[runs / 2]
}

fn read_all(mut file: std::fs::File) -> String {
    use std::io::{Read, Seek};
    let mut text = String::new();
    let _ = file.rewind().and_then(|()| file.read_to_string(&mut text));
    text
}

/// Waits for `child` with `wait4`, whose rusage holds the child's peak RSS
/// (`ru_maxrss`: kilobytes on Linux, bytes on macOS).
#[cfg(unix)]
fn wait_with_peak_rss(child: std::process::Child) -> (ExitStatus, Option<f64>) {
    use std::os::unix::process::ExitStatusExt;
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits pid_t");
    let mut status = 0;
    // SAFETY: zeroed is a valid rusage; wait4 writes both out-parameters and reaps the
    // child, which `Child` then never waits for again (it is dropped unwaited).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
    let bytes_per_unit = if cfg!(target_os = "macos") {
        1.0
    } else {
        1024.0
    };
    let peak = usage.ru_maxrss as f64 * bytes_per_unit / 1e6;
    (ExitStatus::from_raw(status), Some(peak))
}

/// Elsewhere only the exit status: no peak RSS.
#[cfg(not(unix))]
fn wait_with_peak_rss(mut child: std::process::Child) -> (ExitStatus, Option<f64>) {
    (child.wait().expect("the binary exits"), None)
}
