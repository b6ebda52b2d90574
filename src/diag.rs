//! Diagnostics: an error or warning about desired-state input, with its place and a hint.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Value, json};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Stops the run (exit 1).
    Error,
    /// Reported; the run goes on.
    Warning,
}

impl Severity {
    /// The word printed before the message.
    pub fn word(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One finding about the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file, when known.
    pub file: Option<PathBuf>,
    /// 1-based line (0 when unknown).
    pub line: u64,
    /// 1-based column (0 when unknown).
    pub column: u64,
    /// The project, when known.
    pub project: Option<String>,
    /// The connection, when known.
    pub connection: Option<String>,
    /// What is wrong. Never contains a secret value.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error with only a message; place and context are added with the builders.
    pub fn error(message: impl Into<String>) -> Self {
        Self::new(Severity::Error, message.into())
    }

    /// A warning with only a message.
    pub fn warning(message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, message.into())
    }

    fn new(severity: Severity, message: String) -> Self {
        Diagnostic {
            severity,
            file: None,
            line: 0,
            column: 0,
            project: None,
            connection: None,
            message,
            hint: None,
        }
    }

    /// Sets the file, line and column.
    pub fn at(mut self, file: &Path, line: u64, column: u64) -> Self {
        self.file = Some(file.to_path_buf());
        self.line = line;
        self.column = column;
        self
    }

    /// Sets the project.
    pub fn in_project(mut self, project: Option<&str>) -> Self {
        self.project = project.map(str::to_string);
        self
    }

    /// Sets the connection.
    pub fn in_connection(mut self, connection: Option<&str>) -> Self {
        self.connection = connection.map(str::to_string);
        self
    }

    /// Sets the hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:column: error: message` and, when there is one, `  hint: ...` below.
    /// Every part is [`printable`]: a file name or value cannot start a line of its own.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        if let Some(file) = &self.file {
            let file = file.display().to_string();
            let _ = write!(out, "{}:{}:{}: ", printable(&file), self.line, self.column);
        }
        let _ = write!(out, "{}: ", self.severity.word());
        if let Some(connection) = &self.connection {
            let _ = write!(out, "connection `{}`: ", printable(connection));
        }
        out.push_str(&printable(&self.message));
        if let Some(hint) = &self.hint {
            let _ = write!(out, "\n  hint: {}", printable(hint));
        }
        out
    }
}

/// Text from the server or the files made safe to print on one line: every control
/// character (ESC, CR, LF, DEL, C1), line or paragraph separator and bidirectional
/// override is written as an escape (`\n`, `\r`, `\t`, `\u{1b}`), so no value can start a
/// line of its own, move the cursor or recolour the terminal. Renderers call it where
/// untrusted text is written.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(out, "{}", c.escape_unicode());
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Characters a terminal or a log viewer acts on instead of showing.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{061c}' | '\u{200e}' | '\u{200f}'
                | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// Sorts diagnostics by file, line and column (unplaced ones first), errors before
/// warnings at the same place.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.severity, &a.message)
            .cmp(&(&b.file, b.line, b.column, b.severity, &b.message))
    });
}

/// The JSON report of a validation: `{"valid", "errors": [...], "warnings": [...]}`.
pub fn json_report(errors: &[Diagnostic], warnings: &[Diagnostic]) -> Value {
    json!({
        "valid": errors.is_empty(),
        "errors": errors,
        "warnings": warnings,
    })
}

/// `1 connection`, `2 connections`: a count with its noun in the right number.
pub fn counted(n: usize, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

/// The candidate closest to a misspelt input, for "did you mean" hints: an equal name
/// ignoring case, `-` and `_` first, then the most similar one above a threshold.
pub fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let wanted = normalize_name(input);
    let mut best: Option<(f64, &'a str)> = None;
    for candidate in candidates {
        if normalize_name(candidate) == wanted {
            return Some(candidate);
        }
        let score = strsim::jaro_winkler(&wanted, &normalize_name(candidate));
        if score >= 0.85 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// Whether two names are the same ignoring case, `-`, `_` and `.` (`bind_dn`, `bindDN`).
pub fn same_name(a: &str, b: &str) -> bool {
    normalize_name(a) == normalize_name(b)
}

fn normalize_name(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '-' | '_' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_ignore_case_separators_and_typos() {
        let types = ["email", "activeMq", "linux-script"];
        assert_eq!(did_you_mean("activemq", types), Some("activeMq"));
        assert_eq!(did_you_mean("linuxscript", types), Some("linux-script"));
        assert_eq!(did_you_mean("emial", types), Some("email"));
        assert_eq!(did_you_mean("zzz", types), None);
        let fields = ["enableUserAuthentication", "pduOidForMessage", "port"];
        assert_eq!(
            did_you_mean("enabledUserAuthentication", fields),
            Some("enableUserAuthentication")
        );
        assert_eq!(
            did_you_mean("pduUdpForMessage", fields),
            Some("pduOidForMessage")
        );
    }

    #[test]
    fn text_names_place_connection_and_hint() {
        let d = Diagnostic::error("unknown field `prot`")
            .at(Path::new("a.yaml"), 3, 5)
            .in_project(Some("P"))
            .in_connection(Some("mail"))
            .with_hint("did you mean `port`?");
        assert_eq!(
            d.render_text(),
            "a.yaml:3:5: error: connection `mail`: unknown field `prot`\n  hint: did you mean `port`?"
        );
    }

    #[test]
    fn printable_escapes_every_line_break_and_terminal_control() {
        assert!(matches!(printable("alerts-smtp"), Cow::Borrowed(_)));
        assert_eq!(
            printable("a\nNo changes. 0 connections\r\t\u{1b}[31m\u{7f}\u{9b}\u{2028}\u{202e}"),
            "a\\nNo changes. 0 connections\\r\\t\\u{1b}[31m\\u{7f}\\u{9b}\\u{2028}\\u{202e}"
        );
        assert_eq!(printable("Ödeme: ok"), "Ödeme: ok");
    }

    proptest::proptest! {
        /// Whatever the text, the printable form is one line without a character a
        /// terminal acts on, and text that needs nothing is left as it is.
        #[test]
        fn printable_text_is_one_inert_line(text in "(?s).{0,40}") {
            let shown = printable(&text);
            proptest::prop_assert!(!shown.chars().any(needs_escape));
            proptest::prop_assert!(shown.lines().count() <= 1);
            if !text.chars().any(needs_escape) {
                proptest::prop_assert_eq!(shown.as_ref(), text.as_str());
            }
        }
    }

    #[test]
    fn text_of_a_hostile_name_stays_on_its_line() {
        let d = Diagnostic::error("bad name `a\nerror: forged`")
            .at(Path::new("x\ny.yaml"), 1, 2)
            .in_connection(Some("a\u{1b}[2J"));
        let text = d.render_text();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(!text.contains('\u{1b}'));
    }

    #[test]
    fn sorted_by_file_then_line() {
        let mut ds = vec![
            Diagnostic::error("c").at(Path::new("b.yaml"), 1, 1),
            Diagnostic::error("b").at(Path::new("a.yaml"), 9, 1),
            Diagnostic::error("a").at(Path::new("a.yaml"), 2, 1),
        ];
        sort(&mut ds);
        let order: Vec<&str> = ds.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(order, ["a", "b", "c"]);
    }

    #[test]
    fn json_report_lists_fields() {
        let e = Diagnostic::error("bad").at(Path::new("f.yaml"), 2, 3);
        let report = json_report(&[e], &[]);
        assert_eq!(report["valid"], false);
        assert_eq!(report["errors"][0]["file"], "f.yaml");
        assert_eq!(report["errors"][0]["line"], 2);
        assert_eq!(report["errors"][0]["severity"], "error");
    }
}
