//! The `apinizer-gitops` binary: all logic lives in the library.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    apinizer_gitops::cli::run()
}
