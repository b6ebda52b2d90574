//! A request from outside to stop a run (SIGINT, SIGTERM): set once, with the signal's
//! name, and seen by every change of the run.

use tokio::sync::watch;

/// What a run checks before it starts a change, and waits on while changes are in flight.
#[derive(Debug, Clone)]
pub struct Interrupt(watch::Receiver<Option<&'static str>>);

/// The sending side, held by whoever listens for signals.
#[derive(Debug)]
pub struct InterruptSender(watch::Sender<Option<&'static str>>);

impl Interrupt {
    /// A connected sender and interrupt.
    pub fn channel() -> (InterruptSender, Interrupt) {
        let (sender, receiver) = watch::channel(None);
        (InterruptSender(sender), Interrupt(receiver))
    }

    /// An interrupt that never comes (library callers, the quickstart).
    pub fn never() -> Interrupt {
        Interrupt::channel().1
    }

    /// The signal received so far, if any.
    pub fn received(&self) -> Option<&'static str> {
        *self.0.borrow()
    }

    /// Waits for the signal; never returns when the sender is gone without sending one.
    pub async fn wait(&self) -> &'static str {
        let mut receiver = self.0.clone();
        let received = receiver.wait_for(Option::is_some).await.map(|s| *s);
        match received {
            Ok(signal) => signal.expect("waited for Some"),
            Err(_) => std::future::pending().await,
        }
    }
}

impl InterruptSender {
    /// Asks the run to stop; the first signal's name is kept.
    pub fn send(&self, signal: &'static str) {
        self.0.send_if_modified(|current| {
            let first = current.is_none();
            if first {
                *current = Some(signal);
            }
            first
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_signal_is_kept_and_seen_by_every_clone() {
        let (sender, interrupt) = Interrupt::channel();
        let clone = interrupt.clone();
        assert_eq!(interrupt.received(), None);
        let waiting = tokio::spawn(async move { clone.wait().await });
        sender.send("SIGTERM");
        sender.send("SIGINT");
        assert_eq!(waiting.await.unwrap(), "SIGTERM");
        assert_eq!(interrupt.received(), Some("SIGTERM"));
    }

    #[tokio::test]
    async fn a_never_interrupt_does_not_fire() {
        let never = Interrupt::never();
        let waited = tokio::time::timeout(std::time::Duration::from_millis(20), never.wait());
        assert!(waited.await.is_err());
        assert_eq!(never.received(), None);
    }
}
