//! Server text never carries a secret out. Every secret the run holds (the API token,
//! the login password, each resolved secret value sent in a body) is registered here
//! when it comes into use, and every text the server provided is passed through
//! [`scrub`] before it is printed, logged or saved: each registered value (and its
//! JSON-escaped spelling) becomes `(sensitive)`. A server that echoes a request body in
//! an error, or names a connection after the token, prints `(sensitive)` instead.
//!
//! The registry is process-wide because the secrets of one run are: any sink may print
//! any server text. Values shorter than [`MIN_SECRET_LEN`] characters are not
//! registered; replacing every `ab` of a message would garble it and, letter by letter,
//! tell the value anyway.

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::RwLock;

/// What a secret reads as wherever it would have been shown.
pub const SENSITIVE: &str = "(sensitive)";

/// The shortest value that is scrubbed.
pub const MIN_SECRET_LEN: usize = 6;

/// Registered values, longest first (so a value containing another is replaced whole).
static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers a secret value (and its JSON-escaped spelling) for [`scrub`].
pub fn register(value: &str) {
    if value.chars().count() < MIN_SECRET_LEN {
        return;
    }
    let escaped = serde_json::to_string(value).expect("a string serialises");
    let escaped = &escaped[1..escaped.len() - 1];
    let mut secrets = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    for spelling in [value, escaped] {
        if !secrets.iter().any(|s| s == spelling) {
            secrets.push(spelling.to_string());
        }
    }
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// Registers every value of a connection's secrets.
pub fn register_secrets(secrets: &crate::model::Secrets) {
    for (_, value) in secrets.iter() {
        register(secrecy::ExposeSecret::expose_secret(value));
    }
}

/// The text with every registered secret replaced by `(sensitive)`.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    let mut result = Cow::Borrowed(text);
    for secret in secrets.iter() {
        if result.contains(secret.as_str()) {
            result = Cow::Owned(result.replace(secret.as_str(), SENSITIVE));
        }
    }
    result
}

/// A writer that scrubs what passes through it, a line at a time (a secret is never
/// split across two writes of a line); the rest is written on flush and on drop.
pub struct Scrubbing<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> Scrubbing<W> {
    /// Wraps a writer.
    pub fn new(inner: W) -> Self {
        Scrubbing {
            inner,
            pending: Vec::new(),
        }
    }

    fn write_scrubbed(&mut self, bytes: &[u8]) -> io::Result<()> {
        let text = String::from_utf8_lossy(bytes);
        self.inner.write_all(scrub(&text).as_bytes())
    }
}

impl<W: Write> Write for Scrubbing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if let Some(end) = self.pending.iter().rposition(|&b| b == b'\n') {
            let lines: Vec<u8> = self.pending.drain(..=end).collect();
            self.write_scrubbed(&lines)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.write_scrubbed(&rest)?;
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for Scrubbing<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_values_are_replaced_in_both_spellings() {
        register("canary-redact-\"quoted\"");
        register("canary-redact");
        register("abcde");
        let text = r#"echo canary-redact-"quoted" and {"v":"canary-redact-\"quoted\""} abcde"#;
        assert_eq!(
            scrub(text),
            r#"echo (sensitive) and {"v":"(sensitive)"} abcde"#
        );
        assert!(matches!(scrub("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn the_writer_scrubs_lines_split_across_writes() {
        register("canary-split-value");
        let mut out = Vec::new();
        {
            let mut writer = Scrubbing::new(&mut out);
            write!(writer, "a canary-sp").unwrap();
            write!(writer, "lit-value b\nprompt canary-split-value").unwrap();
            writer.flush().unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a (sensitive) b\nprompt (sensitive)"
        );
    }
}
