//! Notes for the reader of a plan, as data: what kind of note, which connection, which
//! fields. Renderers summarise the notes of a kind that repeat per connection (text: one
//! line, `-v` lists them; markdown: a collapsed list; JSON: every note, sorted).
//!
//! A new kind of note is a new [`NoteKind`] variant with its wording below.

use serde::{Deserialize, Serialize};

/// What a note says about its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    /// The server does not return these values, so they cannot be compared
    /// (`--rotate` re-sends them).
    WriteOnly,
    /// `apply FILE`: the server already holds what this change makes; it is left out.
    AlreadyInEffect,
    /// A preview ran without this sensitive value's variable, so the value is not
    /// compared; apply needs it.
    UnsetVariable,
}

impl NoteKind {
    /// What the connections of the summary line do, after `N connection(s)`: a verb
    /// phrase for one connection and for several.
    pub fn summary_phrase(self) -> (&'static str, &'static str) {
        match self {
            NoteKind::WriteOnly => (
                "holds write-only values that cannot be compared",
                "hold write-only values that cannot be compared",
            ),
            NoteKind::AlreadyInEffect => (
                "is already as the saved plan makes it, left out",
                "are already as the saved plan makes them, left out",
            ),
            NoteKind::UnsetVariable => ("uses it", "use it"),
        }
    }

    /// What the summary line of this kind's notes about `variable` starts with (the
    /// notes of an unset variable are summarised once per variable).
    pub fn summary_lead(self, variable: Option<&str>) -> Option<String> {
        match (self, variable) {
            (NoteKind::UnsetVariable, Some(variable)) => Some(unset_text(variable)),
            _ => None,
        }
    }

    /// The per-connection text after `project/type/name: `, given the paths.
    fn detail(self, paths: &str, variable: Option<&str>) -> String {
        match self {
            NoteKind::WriteOnly => {
                format!("cannot compare {paths} (write-only: the server does not return the value)")
            }
            NoteKind::AlreadyInEffect => "already in effect, left out".to_string(),
            NoteKind::UnsetVariable => {
                format!("{} ({paths})", unset_text(variable.unwrap_or("?")))
            }
        }
    }
}

/// `not compared: ${env:X} is not set; apply needs it`.
fn unset_text(variable: &str) -> String {
    format!("not compared: ${{env:{variable}}} is not set; apply needs it")
}

/// One note about one connection.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Note {
    /// What the note says.
    pub kind: NoteKind,
    /// Project name.
    pub project: String,
    /// Connection type.
    #[serde(rename = "type")]
    pub connection_type: String,
    /// Connection name.
    pub name: String,
    /// JSON Pointers the note is about.
    pub paths: Vec<String>,
    /// The variable the note is about (`unset_variable`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variable: Option<String>,
}

impl Note {
    /// `project/type/name: ...`: the note as one line of text.
    pub fn text(&self) -> String {
        format!(
            "{}/{}/{}: {}",
            self.project,
            self.connection_type,
            self.name,
            self.kind
                .detail(&self.paths.join(", "), self.variable.as_deref())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_reads_as_one_line_and_serialises_as_data() {
        let note = Note {
            kind: NoteKind::WriteOnly,
            project: "P".into(),
            connection_type: "ftp".into(),
            name: "f".into(),
            paths: vec!["/password".into()],
            variable: None,
        };
        assert_eq!(
            note.text(),
            "P/ftp/f: cannot compare /password (write-only: the server does not return the value)"
        );
        assert_eq!(
            serde_json::to_value(&note).unwrap(),
            serde_json::json!({"kind": "write_only", "project": "P", "type": "ftp", "name": "f", "paths": ["/password"]})
        );
    }
}
