//! The `apinizer-gitops` binary: all logic lives in the library.

fn main() -> std::process::ExitCode {
    apinizer_gitops::cli::run()
}
