//! Canonical YAML of a JSON value for diffs: block style, keys in the order given (the
//! caller orders them by the catalog), strings quoted only when YAML would misread them.

use serde_json::Value;

/// The value as a block-style YAML document (no `---`), ending in a newline.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    write_block(value, 0, &mut out);
    out
}

fn write_block(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, v) in map {
                pad(indent, out);
                out.push_str(&scalar_text(key));
                out.push(':');
                write_child(v, indent, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                write_item(item, indent, out);
            }
        }
        other => {
            pad(indent, out);
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

/// A list item in compact form: `- ` followed by the item's first line.
fn write_item(item: &Value, indent: usize, out: &mut String) {
    let mut child = String::new();
    write_block(item, indent + 2, &mut child);
    pad(indent, out);
    out.push_str("- ");
    out.push_str(&child[indent + 2..]);
}

/// A value after `key:`: inline when scalar or empty, else on the next lines.
fn write_child(value: &Value, indent: usize, out: &mut String) {
    if is_block(value) {
        out.push('\n');
        write_block(value, indent + 2, out);
    } else {
        out.push(' ');
        out.push_str(&inline(value));
        out.push('\n');
    }
}

fn is_block(value: &Value) -> bool {
    match value {
        Value::Object(map) => !map.is_empty(),
        Value::Array(items) => !items.is_empty(),
        _ => false,
    }
}

fn pad(indent: usize, out: &mut String) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn inline(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => scalar_text(s),
        Value::Array(_) => "[]".to_string(),
        Value::Object(_) => "{}".to_string(),
    }
}

/// A string as a plain scalar when YAML reads it back as the same string, else
/// double-quoted (JSON escaping is valid YAML).
fn scalar_text(s: &str) -> String {
    if is_plain_safe(s) {
        s.to_string()
    } else {
        serde_json::to_string(s).expect("a string serialises")
    }
}

fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let reserved_start = "-?:,[]{}#&*!|>'\"%@`".contains(first);
    let ambiguous = matches!(
        s.to_ascii_lowercase().as_str(),
        "true" | "false" | "null" | "~" | "yes" | "no" | "on" | "off" | "y" | "n"
    ) || s.parse::<f64>().is_ok();
    !reserved_start
        && !ambiguous
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.ends_with(':')
        && s.trim() == s
        && !s.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_values_render_as_block_yaml() {
        let v = json!({"type": "kafka", "port": 9092, "on": true, "list": [{"host": "a", "port": 1}],
            "empty": [], "map": {"bootstrap.servers": {"value": "b:9092"}}});
        let expected = "type: kafka\nport: 9092\n\"on\": true\nlist:\n  - host: a\n    port: 1\nempty: []\nmap:\n  bootstrap.servers:\n    value: b:9092\n";
        assert_eq!(to_yaml(&v), expected);
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        for s in [
            "", "true", "587", " x", "a: b", "#x", "- x", "%d{yyyy}", "a\nb",
        ] {
            assert!(scalar_text(s).starts_with('"'), "{s:?}");
        }
        for s in [
            "${env:PW}",
            "jdbc:postgresql://h:5432/app",
            "/var/log/",
            "(sensitive)",
        ] {
            assert_eq!(scalar_text(s), s);
        }
    }
}
