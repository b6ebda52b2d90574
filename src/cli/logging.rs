//! Logging setup: tracing to stderr (plans go to stdout), level from -v/-q, text or JSON.

use tracing_subscriber::EnvFilter;

use super::{LogArgs, LogFormat};

/// Whether colour is wanted: not with `--no-color`, not with `NO_COLOR`, only on a terminal.
pub fn colour_enabled(no_color_flag: bool, is_terminal: bool) -> bool {
    !no_color_flag && std::env::var_os("NO_COLOR").is_none() && is_terminal
}

/// Installs the global subscriber. `RUST_LOG` overrides the level when set.
pub fn init(args: &LogArgs) {
    let level = match (args.quiet, args.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    // The platform verifier logs each refused certificate at ERROR; the command's own
    // error says it once, with the fix.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{level},rustls_platform_verifier=off")));
    let ansi = colour_enabled(
        args.no_color,
        std::io::IsTerminal::is_terminal(&std::io::stderr()),
    );
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| crate::redact::Scrubbing::new(std::io::stderr()))
        .with_target(false);
    let _ = match args.log_format {
        LogFormat::Text => builder.with_ansi(ansi).try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
