//! What one field is, in words: its JSON type, default, enum values, unit, rules and
//! flags, read from the catalog. The field reference (`docs/connection-types.md`) and the
//! JSON Schema's hovers (`markdownDescription`) both print these, so they cannot differ.

use super::{FieldSpec, Kind, ObjectSpec, Rule, scalar_text};

/// The type as a reader names it: `integer`, `list of ElasticHost`, `map of MapValue`,
/// `string (enum)`.
pub fn type_text(spec: &FieldSpec) -> String {
    match spec.kind {
        Kind::Array => match &spec.items {
            Some(items) => format!("list of {}", type_text(items)),
            None => "list".to_string(),
        },
        Kind::Map => match &spec.values {
            Some(values) => format!("map of {}", type_text(values)),
            None => "map".to_string(),
        },
        Kind::Object => spec.object.clone().unwrap_or_else(|| "object".to_string()),
        Kind::String if spec.enum_name.is_some() => "string (enum)".to_string(),
        other => other.json_name().to_string(),
    }
}

/// The allowed values of the field or of its list items.
pub fn enum_values(spec: &FieldSpec) -> Option<&'static [String]> {
    spec.enum_values()
        .or_else(|| spec.items.as_deref().and_then(FieldSpec::enum_values))
}

/// The documented default as YAML would write it (`30000`, `""`, `[]`).
pub fn default_text(spec: &FieldSpec) -> Option<String> {
    spec.default.as_ref().map(|v| match v {
        serde_json::Value::String(s) if s.is_empty() => "\"\"".to_string(),
        other => scalar_text(other),
    })
}

/// The flags that change how a field is handled: secret, write-only, answered as an ID,
/// base64 content, unordered list, server rewrite.
pub fn flags(spec: &FieldSpec) -> Vec<String> {
    let mut flags = Vec::new();
    if spec.secret {
        flags.push("secret: a ${env:NAME} reference, never printed".to_string());
    }
    if spec.masked_in_get {
        flags.push("write-only: the server answers it as null".to_string());
    }
    if let Some(response) = &spec.response_name {
        flags.push(format!("answered as an ID in `{response}`"));
    }
    if let Some(wire) = &spec.wire_name {
        flags.push(format!("sent as `{wire}`"));
    }
    if let Some(sensitive) = &spec.sensitive {
        let mut names: Vec<String> = sensitive.exact.iter().map(|n| format!("`{n}`")).collect();
        names.extend(sensitive.contains.iter().map(|c| format!("`*{c}*`")));
        flags.push(format!(
            "sensitive entries ({}): a literal value is warned about; use ${{env:NAME}}",
            names.join(", ")
        ));
    }
    if spec.is_base64_content() {
        flags.push("base64 file content".to_string());
    }
    if spec.set {
        flags.push("order does not matter".to_string());
    }
    if let Some(rewrite) = spec.rewrite {
        flags.push(
            match rewrite {
                super::Rewrite::TrailingSlash => "the server appends a missing `/`",
                super::Rewrite::StripLeadingSlash => "the server strips a leading `/`",
                super::Rewrite::ServerFillsWhenEmpty => "the server fills in an empty value",
            }
            .to_string(),
        );
    }
    flags
}

/// The bounds and shape rules of the value itself (`1-65535`, `at least 8 characters`).
pub fn limits(spec: &FieldSpec) -> Vec<String> {
    let mut limits = Vec::new();
    match (spec.minimum, spec.maximum) {
        (Some(lo), Some(hi)) => limits.push(format!("{lo}-{hi}")),
        (Some(lo), None) => limits.push(format!("at least {lo}")),
        (None, Some(hi)) => limits.push(format!("at most {hi}")),
        (None, None) => {}
    }
    if let Some(min) = spec.min_length {
        limits.push(format!("at least {min} characters"));
    }
    if let Some(min) = spec.min_items {
        limits.push(format!(
            "at least {min} item{}",
            if min == 1 { "" } else { "s" }
        ));
    }
    if !spec.required_keys.is_empty() {
        let keys: Vec<String> = spec
            .required_keys
            .iter()
            .map(|k| format!("`{k}`"))
            .collect();
        limits.push(format!("must hold {}", keys.join(", ")));
    }
    if spec.format == Some(super::Format::HttpUrl) {
        limits.push("an absolute http:// or https:// URL".to_string());
    }
    limits
}

/// Every conditional rule of `object` that names `field`, in words.
pub fn rules(object: &ObjectSpec, field: &str) -> Vec<String> {
    object
        .rules
        .iter()
        .filter_map(|rule| rule_text(rule, field))
        .collect()
}

fn rule_text(rule: &Rule, field: &str) -> Option<String> {
    let condition = rule.describe_condition();
    let when = |text: String| {
        if condition.is_empty() {
            text
        } else {
            format!("{text} when {condition}")
        }
    };
    let others = |list: &[String]| {
        let names: Vec<String> = list.iter().map(|f| format!("`{f}`")).collect();
        names.join(", ")
    };
    if rule.require.iter().any(|f| f == field) {
        return Some(when("required".to_string()));
    }
    if rule.require_any_true.iter().any(|f| f == field) {
        let list = others(&rule.require_any_true);
        return Some(when(format!("one of {list} must be true")));
    }
    if rule.at_most_one_true.iter().any(|f| f == field) {
        let list = others(&rule.at_most_one_true);
        return Some(when(format!("at most one of {list} may be true")));
    }
    if rule.forbid_true.iter().any(|f| f == field) {
        return Some(when("must not be true".to_string()));
    }
    None
}

/// Whether the field is required, in words: `yes`, `when auth == true`, `no`.
pub fn required_text(spec: &FieldSpec, object: &ObjectSpec, field: &str) -> String {
    if spec.required {
        return "yes".to_string();
    }
    let conditional: Vec<String> = rules(object, field)
        .into_iter()
        .filter_map(|r| r.strip_prefix("required ").map(str::to_string))
        .collect();
    if conditional.is_empty() {
        "no".to_string()
    } else {
        conditional.join("; ")
    }
}

/// A field's hover text in Markdown: the description, then type, unit, default, allowed
/// values, requiredness, rules and flags. `object` is `None` for fields without rules.
pub fn markdown(spec: &FieldSpec, object: Option<&ObjectSpec>, field: &str) -> String {
    let mut lines = vec![spec.description.clone().unwrap_or_default()];
    let mut facts = vec![format!("**Type:** {}", type_text(spec))];
    if let Some(unit) = &spec.unit {
        facts.push(format!("**Unit:** {unit}"));
    }
    if let Some(default) = default_text(spec) {
        facts.push(format!("**Default:** `{default}`"));
    }
    if let Some(object) = object {
        facts.push(format!(
            "**Required:** {}",
            required_text(spec, object, field)
        ));
    } else if spec.required {
        facts.push("**Required:** yes".to_string());
    }
    lines.push(facts.join(" · "));
    if let Some(values) = enum_values(spec) {
        let list: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
        lines.push(format!("**Values:** {}", list.join(", ")));
    }
    let notes: Vec<String> = object
        .map(|o| rules(o, field))
        .unwrap_or_default()
        .into_iter()
        .filter(|r| !r.starts_with("required"))
        .chain(limits(spec))
        .chain(flags(spec))
        .collect();
    if !notes.is_empty() {
        lines.push(notes.join("; "));
    }
    lines.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::catalog;

    #[test]
    fn facts_read_the_catalog() {
        let c = catalog();
        let email = c.connection_type("email").unwrap();
        let password = c.field("email", "password").unwrap();
        assert_eq!(
            required_text(password, email, "password"),
            "when auth == true"
        );
        assert!(flags(password)[0].starts_with("secret"));
        let ftp = c.connection_type("ftp").unwrap();
        let implicit = &ftp.fields["useImplicit"];
        assert_eq!(
            rules(ftp, "useImplicit"),
            [
                "one of `useImplicit`, `useExplicit` must be true when protocol == FTPS",
                "at most one of `useImplicit`, `useExplicit` may be true"
            ]
        );
        assert_eq!(required_text(implicit, ftp, "useImplicit"), "no");
        let hosts = c.field("elasticsearch", "elasticHostList").unwrap();
        assert_eq!(type_text(hosts), "list of ElasticHost");
        let protocols = c.field("kafka", "protocolTypes").unwrap();
        assert_eq!(type_text(protocols), "list of string (enum)");
        assert_eq!(enum_values(protocols).unwrap()[1], "TLS_1_2");
        let timeout = c.field("webhook", "timeout").unwrap();
        let hover = markdown(timeout, c.connection_type("webhook"), "timeout");
        assert!(hover.contains("**Unit:** s · **Default:** `2`"), "{hover}");
        let pod = c.field("logback", "logPodName").unwrap();
        assert_eq!(default_text(pod).as_deref(), Some("\"\""));
    }
}
