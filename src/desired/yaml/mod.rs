//! A spanned YAML tree: every key and value knows its line and column.
//!
//! Plain block files are read from the parser's events ([`events`]); everything else
//! goes through serde-saphyr, where our own `Deserialize` impl keeps map entries in
//! order, keeps duplicate keys (so the validator can name both lines) and wraps every
//! node with `serde_saphyr::Spanned`.

mod events;

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::{DuplicateKeyPolicy, Spanned};

/// Largest file the loader parses; bigger ones are refused before parsing.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

/// Most nodes, deepest nesting and most documents a file may have.
const MAX_NODES: usize = 200_000;
const MAX_DEPTH: usize = 64;
const MAX_DOCUMENTS: usize = 1_000;

/// A 1-based place in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Location {
    /// 1-based line (0 when unknown).
    pub line: u64,
    /// 1-based column (0 when unknown).
    pub column: u64,
}

/// One YAML node and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: NodeValue,
    /// Where the node starts.
    pub location: Location,
}

/// The value of a node. Maps keep every entry in order, duplicates included.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    /// `null`, `~` or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer or float.
    Number(Number),
    /// A string (quoted or plain).
    String(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, entries in file order.
    Map(Vec<(Node, Node)>),
}

impl NodeValue {
    /// The word used in messages ("a string", "a list", ...).
    pub fn describe(&self) -> &'static str {
        match self {
            NodeValue::Null => "null",
            NodeValue::Bool(_) => "a boolean",
            NodeValue::Number(n) if n.is_f64() => "a number",
            NodeValue::Number(_) => "an integer",
            NodeValue::String(_) => "a string",
            NodeValue::Seq(_) => "a list",
            NodeValue::Map(_) => "a mapping",
        }
    }
}

impl Node {
    /// The string value, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            NodeValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The map entries, if this is a map.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            NodeValue::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// Whether the node is null.
    pub fn is_null(&self) -> bool {
        matches!(self.value, NodeValue::Null)
    }

    /// The key as text (scalars written as in YAML), for map keys.
    pub fn key_text(&self) -> String {
        match &self.value {
            NodeValue::String(s) => s.clone(),
            NodeValue::Null => "null".to_string(),
            NodeValue::Bool(b) => b.to_string(),
            NodeValue::Number(n) => n.to_string(),
            NodeValue::Seq(_) | NodeValue::Map(_) => "<complex key>".to_string(),
        }
    }

    /// The value of the first entry with this key, if this is a map.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// A node of a JSON scalar (a substituted value), placed where it was referenced.
    pub fn from_json(value: &Value, location: Location) -> Node {
        let value = match value {
            Value::Bool(b) => NodeValue::Bool(*b),
            Value::Number(n) => NodeValue::Number(n.clone()),
            Value::String(s) => NodeValue::String(s.clone()),
            _ => NodeValue::Null,
        };
        Node { value, location }
    }

    /// Plain JSON (last duplicate key wins; the validator reports duplicates).
    pub fn to_json(&self) -> Value {
        match &self.value {
            NodeValue::Null => Value::Null,
            NodeValue::Bool(b) => Value::Bool(*b),
            NodeValue::Number(n) => Value::Number(n.clone()),
            NodeValue::String(s) => Value::String(s.clone()),
            NodeValue::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeValue::Map(entries) => {
                let mut map = Map::new();
                for (k, v) in entries {
                    map.insert(k.key_text(), v.to_json());
                }
                Value::Object(map)
            }
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<NodeValue>::deserialize(deserializer)?;
        Ok(Node {
            value: spanned.value,
            location: Location {
                line: spanned.referenced.line(),
                column: spanned.referenced.column(),
            },
        })
    }
}

impl<'de> Deserialize<'de> for NodeValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = NodeValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<NodeValue, E> {
        Ok(NodeValue::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<NodeValue, E> {
        Ok(NodeValue::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<NodeValue, E> {
        Ok(NodeValue::Number(v.into()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<NodeValue, E> {
        Number::from_i128(v)
            .map(NodeValue::Number)
            .ok_or_else(|| E::custom("integer out of range"))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<NodeValue, E> {
        Number::from_u128(v)
            .map(NodeValue::Number)
            .ok_or_else(|| E::custom("integer out of range"))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<NodeValue, E> {
        Number::from_f64(v)
            .map(NodeValue::Number)
            .ok_or_else(|| E::custom("non-finite numbers are not allowed"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<NodeValue, E> {
        Ok(NodeValue::String(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<NodeValue, E> {
        Ok(NodeValue::String(v))
    }

    fn visit_bytes<E: de::Error>(self, _v: &[u8]) -> Result<NodeValue, E> {
        Err(E::custom("binary values (!!binary) are not supported"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<NodeValue, E> {
        Ok(NodeValue::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<NodeValue, E> {
        Ok(NodeValue::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<NodeValue, D::Error> {
        NodeValue::deserialize(deserializer)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<NodeValue, D::Error> {
        NodeValue::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NodeValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(NodeValue::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NodeValue, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(NodeValue::Map(entries))
    }
}

/// The boolean a YAML 1.1 word (`yes`, `on`, `no`, `off`, `y`, `n`, any case) meant;
/// YAML 1.2, which the loader reads, knows only `true` and `false`, so these arrive as
/// strings.
pub fn yaml11_boolean(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "yes" | "y" | "on" => Some(true),
        "no" | "n" | "off" => Some(false),
        _ => None,
    }
}

/// The hint for a YAML 1.1 boolean word where a boolean belongs.
pub fn yaml11_boolean_hint(text: &str) -> Option<String> {
    yaml11_boolean(text).map(|value| {
        format!("YAML 1.2 booleans are `true` and `false` (not yes/no/on/off): write `{value}`")
    })
}

/// Why a file could not be turned into documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What went wrong.
    pub message: String,
    /// Where, when known.
    pub location: Location,
    /// How to fix it.
    pub hint: Option<String>,
}

impl ParseError {
    fn at_start(message: &str, hint: &str) -> Self {
        ParseError {
            message: message.to_string(),
            location: Location { line: 1, column: 1 },
            hint: Some(hint.to_string()),
        }
    }
}

/// Turns the bytes of a file into its YAML documents (empty documents skipped). Refuses
/// files over [`MAX_FILE_BYTES`], non-UTF-8 bytes, files without any document and YAML
/// whose aliases expand beyond a small budget (billion laughs).
pub fn parse_documents(bytes: &[u8]) -> Result<Vec<Node>, ParseError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ParseError::at_start(
            &format!(
                "file is {} bytes, larger than the {} MiB limit",
                bytes.len(),
                MAX_FILE_BYTES / (1024 * 1024)
            ),
            "split the connections over several files",
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| non_utf8_error(bytes, &e))?;
    let documents = match events::documents(text) {
        Some(documents) => documents,
        None => parse_with_serde(text).map_err(|e| syntax_error(&e, text))?,
    };
    if documents.is_empty() {
        return Err(ParseError::at_start(
            "no document: the file is empty or holds only comments",
            "add `project:` and `connections:`, or remove the file",
        ));
    }
    Ok(documents)
}

/// The documents as serde-saphyr reads them (the reader of everything but plain files).
fn parse_with_serde(text: &str) -> Result<Vec<Node>, serde_saphyr::Error> {
    serde_saphyr::from_multiple_with_options(text, parse_options())
}

/// Whether the event reader, where it reads a text at all, reads it as serde-saphyr does.
#[cfg(test)]
pub(crate) fn event_reader_agrees(text: &str) -> bool {
    events::documents(text).is_none_or(|fast| parse_with_serde(text).is_ok_and(|full| full == fast))
}

fn parse_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_aliases: 1_000,
            max_nodes: MAX_NODES,
            max_depth: MAX_DEPTH,
            max_documents: MAX_DOCUMENTS,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 100_000,
            max_replay_stack_depth: 16,
            max_alias_expansions_per_anchor: 1_000,
        },
        duplicate_keys: DuplicateKeyPolicy::PassThrough,
        with_snippet: false,
        strict_booleans: true,
    }
}

fn non_utf8_error(bytes: &[u8], error: &std::str::Utf8Error) -> ParseError {
    let valid = &bytes[..error.valid_up_to()];
    let line = valid.iter().filter(|b| **b == b'\n').count() as u64 + 1;
    let line_start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
    let column = String::from_utf8_lossy(&valid[line_start..])
        .chars()
        .count() as u64
        + 1;
    ParseError {
        message: format!(
            "file is not valid UTF-8 (invalid byte at offset {})",
            error.valid_up_to()
        ),
        location: Location { line, column },
        hint: Some("save the file as UTF-8".to_string()),
    }
}

fn syntax_error(error: &serde_saphyr::Error, source: &str) -> ParseError {
    let mut location = error.location().map_or(Location::default(), |l| Location {
        line: l.line(),
        column: l.column(),
    });
    let text = error.to_string();
    let first_line = text.lines().next().unwrap_or("invalid YAML").trim();
    let message = strip_location_prefix(first_line);
    let hint = if message.contains("tab") {
        // The scanner reports the end of the line before the tab; point at the tab.
        location = indentation_tab(source, location.line).unwrap_or(location);
        "indent with spaces: YAML does not allow tabs for indentation"
    } else if message.contains("alias") || message.contains("budget") {
        "anchors and aliases are limited to keep parsing fast; write the values out"
    } else {
        "fix the YAML syntax (indentation, quotes, `key: value`)"
    };
    ParseError {
        message: format!("invalid YAML: {message}"),
        location,
        hint: Some(hint.to_string()),
    }
}

/// The first tab in a line's leading whitespace on line `from` (1-based) or the next one,
/// where the scanner's report of it lands.
fn indentation_tab(source: &str, from: u64) -> Option<Location> {
    source
        .lines()
        .enumerate()
        .skip(from.saturating_sub(1) as usize)
        .take(2)
        .find_map(|(index, line)| {
            let indent = &line[..line.len() - line.trim_start().len()];
            indent.find('\t').map(|at| Location {
                line: index as u64 + 1,
                column: indent[..at].chars().count() as u64 + 1,
            })
        })
}

/// serde-saphyr prefixes some messages with "line N column M:"; we print our own.
fn strip_location_prefix(message: &str) -> &str {
    match message.find(" at line ") {
        Some(index) => &message[..index],
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<Node> {
        parse_documents(text.as_bytes()).expect("parses")
    }

    #[test]
    fn keys_and_values_know_their_place() {
        let docs = parse("a: 1\nb:\n  - x\n  - \"y\"\n");
        let root = &docs[0];
        let (key_b, value_b) = &root.as_map().unwrap()[1];
        assert_eq!(key_b.location, Location { line: 2, column: 1 });
        let NodeValue::Seq(items) = &value_b.value else {
            panic!("seq")
        };
        assert_eq!(items[1].location.line, 4);
        assert_eq!(items[1].as_str(), Some("y"));
    }

    #[test]
    fn duplicate_keys_are_kept_in_order() {
        let docs = parse("type: elasticsearch\nhost: h\ntype: READ\n");
        let entries = docs[0].as_map().unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[2].0.location.line, 3);
    }

    #[test]
    fn scalars_keep_their_yaml_type() {
        let docs = parse("i: 5\nf: 1.5\nb: true\ns: '5'\nn: ~\nr: ${env:X}\n");
        let json = docs[0].to_json();
        assert_eq!(
            json,
            serde_json::json!({"i": 5, "f": 1.5, "b": true, "s": "5", "n": null, "r": "${env:X}"})
        );
    }

    #[test]
    fn multiple_documents_and_empty_files() {
        assert_eq!(parse("a: 1\n---\nb: 2\n").len(), 2);
        let empty = parse_documents(b"# only a comment\n").unwrap_err();
        assert!(empty.message.contains("no document"));
        assert!(parse_documents(b"").is_err());
    }

    #[test]
    fn non_utf8_bytes_are_located() {
        let error = parse_documents(b"a: 1\nb: \xff\n").unwrap_err();
        assert!(error.message.contains("UTF-8"));
        assert_eq!(error.location, Location { line: 2, column: 4 });
    }

    #[test]
    fn syntax_errors_carry_a_location() {
        let error = parse_documents(b"a: [1, 2\nb: 3\n").unwrap_err();
        assert!(error.message.starts_with("invalid YAML"), "{error:?}");
        assert!(error.location.line >= 1);
    }

    #[test]
    fn a_tab_is_reported_at_its_own_line_and_column() {
        let text =
            "project: P\nconnections:\n  - type: email\n    name: m\n    host: h\n  \tport: 25\n";
        let error = parse_documents(text.as_bytes()).unwrap_err();
        assert!(error.message.contains("tab"), "{error:?}");
        assert_eq!(error.location, Location { line: 6, column: 3 });
        assert!(error.hint.unwrap().contains("indent with spaces"));
    }

    #[test]
    fn yaml11_words_are_named_booleans() {
        assert_eq!(yaml11_boolean("yes"), Some(true));
        assert_eq!(yaml11_boolean("Off"), Some(false));
        assert_eq!(yaml11_boolean("maybe"), None);
        assert!(yaml11_boolean_hint("on").unwrap().contains("write `true`"));
    }

    #[test]
    fn alias_bombs_fail_fast() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let start = std::time::Instant::now();
        let error = parse_documents(text.as_bytes()).unwrap_err();
        // A hang guard, not a speed target: under a full parallel test run on a shared
        // 2-core machine the refusal alone has taken over 2 s.
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        assert!(error.message.starts_with("invalid YAML"), "{error:?}");
    }

    #[test]
    fn huge_files_are_refused_before_parsing() {
        let big = vec![b'#'; MAX_FILE_BYTES + 1];
        assert!(parse_documents(&big).unwrap_err().message.contains("MiB"));
    }
}
