//! SIGINT and SIGTERM for the commands that talk to a server. `plan`, `drift`, `export`
//! and an `apply` that has not started writing exit 130 at once (after a file being
//! written is complete, so none is left half-written). While `apply` executes changes, the
//! first signal asks it to stop starting new ones and report ([`crate::apply::Interrupt`]);
//! a second signal exits at once.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::apply::{Interrupt, InterruptSender};

/// The exit code after an interrupt (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Set while `apply` executes changes: the first signal goes to the run.
static RUN: Mutex<Option<InterruptSender>> = Mutex::new(None);
/// Whether a signal came already (a second one always exits).
static RECEIVED: AtomicBool = AtomicBool::new(false);

/// Listens for SIGINT and SIGTERM on a thread of its own, so that a signal is acted on
/// even while the command blocks (reading files, asking for confirmation).
pub fn listen() {
    match listener() {
        Ok(listening) => {
            std::thread::spawn(listening);
            tracing::debug!("listening for SIGINT and SIGTERM");
        }
        Err(e) => tracing::warn!("cannot listen for SIGINT/SIGTERM: {e}"),
    }
}

/// Registers the handlers now (so no signal is missed) and returns the loop to run.
#[cfg(unix)]
fn listener() -> std::io::Result<impl FnOnce() + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    let (mut interrupts, mut terminations) = {
        let _context = runtime.enter();
        (
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        )
    };
    Ok(move || {
        runtime.block_on(async {
            loop {
                let name = tokio::select! {
                    _ = interrupts.recv() => "SIGINT",
                    _ = terminations.recv() => "SIGTERM",
                };
                on_signal(name);
            }
        })
    })
}

/// Without Unix signals, Ctrl-C only.
#[cfg(not(unix))]
fn listener() -> std::io::Result<impl FnOnce() + Send + 'static> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    Ok(move || {
        runtime.block_on(async {
            while tokio::signal::ctrl_c().await.is_ok() {
                on_signal("Ctrl-C");
            }
        })
    })
}

fn on_signal(name: &'static str) {
    let again = RECEIVED.swap(true, Ordering::SeqCst);
    let run = RUN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match run.as_ref() {
        Some(sender) if !again => {
            eprintln!(
                "{name} received: no new change starts; the changes in flight may finish (up to --timeout), then every change is reported. Send it again to exit at once."
            );
            sender.send(name);
        }
        _ => {
            eprintln!("{name} received: exiting");
            let _no_half_written_file = crate::whole_file::block_writes();
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
    }
}

/// While the returned guard lives, the first signal stops the run (through the returned
/// interrupt) instead of exiting.
pub fn graceful() -> (GracefulGuard, Interrupt) {
    let (sender, interrupt) = Interrupt::channel();
    *RUN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(sender);
    (GracefulGuard, interrupt)
}

/// Ends graceful handling when dropped.
pub struct GracefulGuard;

impl Drop for GracefulGuard {
    fn drop(&mut self) {
        *RUN.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }
}
