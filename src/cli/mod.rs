//! Command-line interface: the flags of DESIGN.md section 2 and the dispatch to one
//! function per command. Each command lives in its own file below this module.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use std::io::Write;

use crate::refs::{Env, ProcessEnv};

mod apply;
mod drift;
mod export;
mod interrupt;
mod logging;
mod plan;
mod quickstart;
mod sandbox;
pub mod server;
mod validate;

/// Exit code for a usage or input error, an API failure or a failed change.
pub const EXIT_ERROR: u8 = 1;
/// Exit code for "changes present" (`plan --detailed-exitcode`) and "drift" (`drift`).
pub const EXIT_CHANGES: u8 = 2;

/// The version line: the package version and, when the build knew it, the git commit
/// (see build.rs).
pub const VERSION: &str = env!("APINIZER_GITOPS_VERSION");

/// GitOps for Apinizer connections.
#[derive(Debug, Parser)]
#[command(
    name = "apinizer-gitops",
    version = VERSION,
    about,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub log: LogArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and check desired-state files offline.
    Validate(ValidateArgs),
    /// Show what apply would change.
    Plan(PlanArgs),
    /// Execute a plan (computed now, or a saved plan file).
    Apply(ApplyArgs),
    /// Scheduled drift detection: a plan that exits 0 in sync, 2 on drift.
    Drift(DriftArgs),
    /// Write desired-state YAML from what the server holds.
    Export(ExportArgs),
    /// Run a local Apinizer-compatible server.
    Sandbox(SandboxArgs),
    /// Print the JSON Schema of the desired-state files (or write it with --out).
    Schema {
        /// Write the schema to FILE (folders created) instead of printing it.
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
    },
    /// Tell the whole story against an in-process sandbox: plan, apply, plan again,
    /// a change behind the tool's back, drift.
    Quickstart(QuickstartArgs),
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Logging and colour flags, shared by every command.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// More logging (-v debug, -vv trace); logs go to stderr.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Log line format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// No colour (also when NO_COLOR is set).
    #[arg(long, global = true)]
    pub no_color: bool,
}

/// Log line formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Output formats of commands that print a plan or a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text (stable summary lines).
    Text,
    /// JSON documented by `schemas/plan.schema.json`.
    Json,
    /// Markdown for pull-request comments.
    Markdown,
}

/// Output formats of `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateFormat {
    /// Human-readable lines and a summary.
    Text,
    /// `{"valid", "errors", "warnings"}`.
    Json,
    /// GitHub Actions workflow commands (`::error file=...::...`): annotations on the diff.
    Github,
    /// A GitLab Code Quality report (JSON array).
    Gitlab,
}

/// Which desired-state files to read.
#[derive(Debug, Clone, Args)]
pub struct FileArgs {
    /// Desired-state files, folders (`**/*.yaml`, `**/*.yml`) or globs; repeatable.
    #[arg(
        short = 'f',
        long = "file",
        value_name = "PATH_OR_GLOB",
        default_value = "./connections"
    )]
    pub files: Vec<String>,
    /// Accept literal secret values with a warning (local trials only).
    #[arg(long)]
    pub allow_literal_secrets: bool,
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Only variables matching these globs may be referenced (e.g. `PAYMENTS_*`);
    /// repeatable, or comma-separated in the environment variable.
    #[arg(
        long = "allow-env",
        value_name = "GLOB",
        env = "APINIZER_GITOPS_ALLOW_ENV",
        value_delimiter = ','
    )]
    pub allow_env: Vec<String>,
}

/// The `--values` files (validate, plan, apply, drift, export).
#[derive(Debug, Clone, Default, Args)]
pub struct ValuesArgs {
    /// Values files for `${var:NAME}` references; repeatable, later files win.
    #[arg(
        id = "values",
        long = "values",
        value_name = "FILE",
        env = "APINIZER_GITOPS_VALUES",
        value_delimiter = ','
    )]
    pub files: Vec<PathBuf>,
}

impl FileArgs {
    /// What to load and how strictly, as these flags say (values files as given).
    pub fn load_options(&self) -> Result<crate::desired::LoadOptions, String> {
        Ok(crate::desired::LoadOptions {
            paths: self.files.clone(),
            allow_literal_secrets: self.allow_literal_secrets,
            values_files: Some(self.values.files.clone()),
            reference_policy: crate::refs::ReferencePolicy::new(&self.allow_env)?,
        })
    }
}

/// Limits a run to part of the desired and current state.
#[derive(Debug, Clone, Default, Args)]
pub struct SelectionArgs {
    /// Project name glob; repeatable.
    #[arg(long = "project", value_name = "GLOB")]
    pub projects: Vec<String>,
    /// Connection type; repeatable.
    #[arg(long = "type", value_name = "TYPE", value_parser = ConnectionTypeParser)]
    pub types: Vec<String>,
    /// Connection name glob; repeatable.
    #[arg(long = "name", value_name = "GLOB")]
    pub names: Vec<String>,
}

/// Parses `--type` as any text (the selection reports an unknown type with a "did you
/// mean" hint) but offers the catalog's 14 type names to shell completion and `--help`.
#[derive(Debug, Clone, Copy)]
struct ConnectionTypeParser;

impl clap::builder::TypedValueParser for ConnectionTypeParser {
    type Value = String;

    fn parse_ref(
        &self,
        command: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(command, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        let names = crate::catalog::type_names().map(clap::builder::PossibleValue::new);
        Some(Box::new(names))
    }
}

/// How to reach and authenticate to the Apinizer Management API.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Apinizer Manager URL; the client appends `/apiops/`.
    #[arg(long, env = "APINIZER_URL", value_name = "URL")]
    pub server: Option<String>,
    /// Read the API token from this file.
    #[arg(long, env = "APINIZER_TOKEN_FILE", value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// Concurrent API requests.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub parallelism: u16,
    /// Per-request timeout (e.g. 30s, 500ms).
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// Retries for 429, 500, 502, 503, 504 and connection errors.
    #[arg(long, default_value_t = 4)]
    pub retries: u32,
    /// Trust this CA certificate (PEM) in addition to the system roots.
    #[arg(long, value_name = "PATH")]
    pub ca_cert: Option<PathBuf>,
    /// Do not verify TLS certificates (dangerous).
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
    /// Allow sending the token over plain http:// to a non-loopback host.
    #[arg(long)]
    pub allow_insecure_http: bool,
    /// The largest answer read from the server (bytes, KiB, MiB, GiB); past it the
    /// request fails.
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = server::parse_size)]
    pub max_response_size: u64,
}

/// `validate` flags.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub files: FileArgs,
    /// Also check that every referenced environment variable is set.
    #[arg(long)]
    pub check_env: bool,
    /// Validate once per values file matching this glob (`env/*.yaml`), naming the
    /// environment in each error.
    #[arg(long, value_name = "GLOB", conflicts_with = "values")]
    pub values_each: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ValidateFormat::Text)]
    pub format: ValidateFormat,
}

/// What a plan is made of: the files, the selection and the server (plan, apply, drift).
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    #[command(flatten)]
    pub files: FileArgs,
    #[command(flatten)]
    pub selection: SelectionArgs,
    #[command(flatten)]
    pub server: ServerArgs,
    /// Refuse (exit 1, nothing written) a plan with more than N deletes plus replaces.
    #[arg(long, value_name = "N")]
    pub max_deletes: Option<usize>,
}

/// `plan` flags.
#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Save the plan to this file for `apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 2 when changes are present.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Re-send the write-only values (secrets the server masks) of matching existing
    /// connections; name globs ignoring case, repeatable, `*` for all selected.
    #[arg(long = "rotate", value_name = "GLOB")]
    pub rotate: Vec<String>,
}

/// `apply` flags.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A saved plan file (from `plan --out`); without it, plan now and apply.
    pub plan_file: Option<PathBuf>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Keep starting changes after one failed.
    #[arg(long)]
    pub continue_on_error: bool,
    /// Output format of the plan shown before applying.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Re-send the write-only values (secrets the server masks) of matching existing
    /// connections; name globs ignoring case, repeatable, `*` for all selected.
    #[arg(long = "rotate", value_name = "GLOB", conflicts_with = "plan_file")]
    pub rotate: Vec<String>,
}

/// `drift` flags.
#[derive(Debug, Args)]
pub struct DriftArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

/// `export` flags.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub selection: SelectionArgs,
    #[command(flatten)]
    pub server: ServerArgs,
    /// Folder to write one file per project into.
    #[arg(long, value_name = "DIR", default_value = "./connections")]
    pub out: PathBuf,
    /// Replace files in DIR that export did not write, or that changed since it wrote
    /// them (a symbolic link is replaced, never written through).
    #[arg(long)]
    pub force: bool,
    /// A field whose whole value equals a value of these files is written as
    /// `${var:NAME}`.
    #[command(flatten)]
    pub values: ValuesArgs,
}

/// `quickstart` flags.
#[derive(Debug, Args)]
pub struct QuickstartArgs {
    /// Desired-state files for the story (default: the repository's examples/connections,
    /// embedded in the binary, so no checkout is needed).
    #[arg(short = 'f', long = "file", value_name = "PATH_OR_GLOB")]
    pub files: Vec<String>,
}

/// `sandbox` flags.
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8091")]
    pub listen: String,
    /// Bearer token to accept (random when not given).
    #[arg(long)]
    pub token: Option<String>,
    /// Username for the token endpoint (with --password).
    #[arg(long, requires = "password")]
    pub username: Option<String>,
    /// Password for the token endpoint (with --username).
    #[arg(long, requires = "username")]
    pub password: Option<String>,
    /// Create this project, empty; repeatable.
    #[arg(long = "project", value_name = "NAME")]
    pub projects: Vec<String>,
    /// Desired-state files that become the initial content (secrets from env).
    #[arg(long, value_name = "DIR")]
    pub seed: Vec<String>,
    /// Latency added to every response (e.g. 20ms).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub latency: Option<Duration>,
    /// Share of requests that fail (500, 503, 429, dropped connections), 0.0 to 1.0.
    #[arg(long, default_value_t = 0.0)]
    pub fail_rate: f64,
    /// Lifetime of tokens from the token endpoint (e.g. 60s); each login then issues a
    /// new token, refused with 401 token_expired after it. Default: the --token token,
    /// which never expires.
    #[arg(long, value_parser = humantime::parse_duration, requires = "username")]
    pub token_ttl: Option<Duration>,
    /// Single GETs answer every value in full, secrets included, as crud/get-connection.md
    /// reads the API. Default: as the type pages read it, the fields they call masked
    /// come back null.
    #[arg(long)]
    pub unmasked_get: bool,
}

/// Parses the command line, runs the command and returns its exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    logging::init(&cli.log);
    let talks_to_a_server = matches!(
        cli.command,
        Command::Plan(_) | Command::Apply(_) | Command::Drift(_) | Command::Export(_)
    );
    if talks_to_a_server {
        interrupt::listen();
    }
    // Every report, plan and list goes through the scrubber: server text in it (names,
    // messages) never shows a secret of the run.
    let mut out = crate::redact::Scrubbing::new(std::io::stdout());
    let code = dispatch(cli.command, &cli.log, &ProcessEnv, &mut out);
    drop(out);
    ExitCode::from(code)
}

/// Runs one command with variables from `env` and its report on `out`; the quickstart
/// runs its steps through here too, so they behave exactly like the command line.
pub fn dispatch(command: Command, log: &LogArgs, env: &dyn Env, out: &mut dyn Write) -> u8 {
    match command {
        Command::Validate(args) => validate::run(&args, out),
        Command::Schema { out: None } => print_schema(out),
        Command::Schema { out: Some(file) } => write_schema(&file, out),
        Command::Completions { shell } => print_completions(shell, out),
        Command::Plan(args) => plan::run(args, log, env, out),
        Command::Drift(args) => drift::run(args, log, env, out),
        Command::Apply(args) => apply::run(&args, log, env, out),
        Command::Export(args) => export::run(&args, env, out),
        Command::Quickstart(args) => quickstart::run(&args, out),
        Command::Sandbox(args) => sandbox::run(args),
    }
}

/// Runs an async command to completion on a fresh runtime.
pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the tokio runtime starts")
        .block_on(future)
}

// Output errors (a closed pipe: `schema | head`) are ignored rather than panicking, as
// for every report the commands write to `out`.
fn print_schema(out: &mut dyn Write) -> u8 {
    let _ = writeln!(out, "{}", crate::schema::connections_schema_text());
    0
}

/// `schema --out FILE`: writes the schema where the user wants it; exit 1 with the cause
/// when it cannot be written.
fn write_schema(file: &std::path::Path, out: &mut dyn Write) -> u8 {
    match crate::schema::write_connections_schema(file) {
        Ok(()) => {
            let _ = writeln!(out, "Wrote {}", file.display());
            0
        }
        Err(error) => {
            eprintln!("error: cannot write {}: {error}", file.display());
            1
        }
    }
}

fn print_completions(shell: clap_complete::Shell, out: &mut dyn Write) -> u8 {
    let _ = out.write_all(completion_script(shell).as_bytes());
    0
}

/// The binary's name, as the shell sees it.
const BIN_NAME: &str = "apinizer-gitops";

/// The completion script for `shell`.
///
/// clap_complete's bash script spells the state of a hyphenated binary one way in its
/// dispatch loop and another in its case arms, so nothing below the first word completes
/// (clap-rs/clap#6421). The bash script is therefore generated for a name without a
/// hyphen, whose identifiers agree, and only the `complete` lines, which name the
/// command, are pointed back at the real name. The other shells handle the hyphen.
fn completion_script(shell: clap_complete::Shell) -> String {
    use clap::CommandFactory;
    let name = match shell {
        clap_complete::Shell::Bash => BASH_SAFE_NAME,
        _ => BIN_NAME,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), name, &mut script);
    let script = String::from_utf8(script).expect("completion scripts are UTF-8");
    if shell != clap_complete::Shell::Bash {
        return script;
    }
    let suffix = format!(" {BASH_SAFE_NAME}");
    script
        .lines()
        .map(|line| match line.strip_suffix(&suffix) {
            Some(start) if line.trim_start().starts_with("complete ") => {
                format!("{start} {BIN_NAME}\n")
            }
            _ => format!("{line}\n"),
        })
        .collect()
}

/// The name the bash script is generated for (see [`completion_script`]).
const BASH_SAFE_NAME: &str = "apinizer_gitops";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
