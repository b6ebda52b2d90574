//! The release binary as a pipeline runs it: one child process per command, timed from
//! spawn to exit, with its peak resident memory.
//!
//! Each command starts through a launcher, this bench's own executable started afresh:
//! Linux counts the memory of the process a child was spawned from (at `exec`) into the
//! child's `ru_maxrss`, so a child of the bench, which holds the workloads and the
//! sandbox, would report the bench's peak. The launcher is a few MB.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use apinizer_gitops::sandbox::RequestCounts;

/// The binary cargo built next to this bench (release, as `cargo bench` builds it).
const BINARY: &str = env!("CARGO_BIN_EXE_apinizer-gitops");

/// The first argument that makes the bench executable a launcher.
const LAUNCH: &str = "--launch-measured";

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

    /// Runs the command to its end through the launcher; stops the bench unless it
    /// exits 0.
    pub fn run(&self) -> Exited {
        let stderr = tempfile::tempfile().expect("temporary file for stderr");
        let launcher = std::env::current_exe().expect("the bench's own executable");
        let output = Command::new(launcher)
            .arg(LAUNCH)
            .arg(BINARY)
            .args(&self.args)
            .env_clear()
            .envs(&self.env)
            .stdin(Stdio::null())
            .stderr(stderr.try_clone().expect("stderr handle"))
            .output()
            .expect("the launcher starts");
        if !output.status.success() {
            panic!(
                "`apinizer-gitops {}` exited with {}: {}",
                self.args.join(" "),
                output.status,
                read_all(stderr)
            );
        }
        Exited::parse(&String::from_utf8_lossy(&output.stdout))
    }
}

/// When the bench was started as a launcher (`--launch-measured BINARY ARGS...`): runs
/// the command with the environment given, prints its wall time in nanoseconds and
/// its peak RSS in bytes (`-` where unknown), and exits with its exit code.
pub fn launch_if_asked() {
    let mut args = std::env::args_os().skip(1);
    if args.next().is_none_or(|first| first != LAUNCH) {
        return;
    }
    let program = args.next().expect("a program to launch");
    let start = Instant::now();
    let child = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let (status, peak_rss) = wait_with_peak_rss(child);
    let peak = peak_rss.map_or_else(|| "-".to_string(), |bytes| bytes.to_string());
    println!("{} {peak}", start.elapsed().as_nanos());
    std::process::exit(status.code().unwrap_or(1));
}

/// What a finished command measured.
#[derive(Debug, Clone, Copy)]
pub struct Exited {
    /// From spawn to exit.
    pub wall: Duration,
    /// Peak resident memory in MB, where the platform reports it.
    pub peak_rss: Option<f64>,
}

impl Exited {
    /// Reads the launcher's line: nanoseconds, then bytes or `-`.
    fn parse(line: &str) -> Exited {
        let mut fields = line.split_whitespace();
        let nanos: u64 = fields
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("the launcher printed {line:?}"));
        let peak_rss = fields
            .next()
            .and_then(|bytes| bytes.parse::<f64>().ok())
            .map(|bytes| bytes / 1e6);
        Exited {
            wall: Duration::from_nanos(nanos),
            peak_rss,
        }
    }
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
fn wait_with_peak_rss(child: std::process::Child) -> (ExitStatus, Option<u64>) {
    use std::os::unix::process::ExitStatusExt;
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits pid_t");
    let mut status = 0;
    // SAFETY: zeroed is a valid rusage; wait4 writes both out-parameters and reaps the
    // child, which `Child` then never waits for again (it is dropped unwaited).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
    let bytes_per_unit = if cfg!(target_os = "macos") { 1 } else { 1024 };
    let peak = u64::try_from(usage.ru_maxrss).unwrap_or(0) * bytes_per_unit;
    (ExitStatus::from_raw(status), Some(peak))
}

/// Elsewhere only the exit status: no peak RSS.
#[cfg(not(unix))]
fn wait_with_peak_rss(mut child: std::process::Child) -> (ExitStatus, Option<u64>) {
    (child.wait().expect("the binary exits"), None)
}
