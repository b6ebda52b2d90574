//! Desired state: the loader of `-f` files, folders and globs into validated projects.
//!
//! `files` expands the paths, `yaml` parses each file into spanned documents, `document`
//! and `connection` check them against the catalog (`values`, `rules`), and [`load`]
//! merges the documents of each project, checking that settings agree and names are
//! unique.

mod connection;
mod document;
pub mod files;
#[cfg(test)]
mod fuzz;
mod rules;
mod values;
pub mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diag::{self, Diagnostic, did_you_mean};
use crate::model::Connection;
use crate::model::pointer_tokens;
use crate::refs::{ReferencePolicy, ReferenceUse, references_in_connection};
use crate::values::Values;
use document::{ParsedDocument, Setting};
use yaml::{Location, Node};

pub use document::API_VERSION;

/// What to load and how strictly.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Files, folders and globs as given on the command line.
    pub paths: Vec<String>,
    /// Literal secrets are warnings instead of errors.
    pub allow_literal_secrets: bool,
    /// The `--values` files: `${var:...}` references are substituted from them (none
    /// given: every reference is an error). `None` leaves references as written
    /// (`validate` without `--values`).
    pub values_files: Option<Vec<PathBuf>>,
    /// Which variables the files may reference (`--allow-env`, built-in refusals).
    pub reference_policy: ReferencePolicy,
}

/// A successful load: the state plus warnings.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// The desired state.
    pub state: DesiredState,
    /// Warnings (literal sensitive values, ...).
    pub warnings: Vec<Diagnostic>,
    /// Every file that was read.
    pub files: Vec<PathBuf>,
    /// The values substituted for `${var:...}`, when values files were asked for.
    pub values: Option<Arc<Values>>,
}

/// Every desired project, by name.
#[derive(Debug, Clone, Default)]
pub struct DesiredState {
    /// Projects by exact (case-sensitive) name.
    pub projects: BTreeMap<String, DesiredProject>,
}

/// One project's settings and connections, merged over all its documents.
#[derive(Debug, Clone, Default)]
pub struct DesiredProject {
    /// The project name.
    pub name: String,
    /// Delete current connections that are not desired.
    pub prune: bool,
    /// Allow prune with no desired connection.
    pub allow_empty: bool,
    /// Connection-name globs never touched.
    pub ignore: Vec<String>,
    /// Connection-name globs never deleted or replaced.
    pub protect: ProtectGlobs,
    /// The desired connections, in file order.
    pub connections: Vec<DesiredConnection>,
    /// Where the project's documents start.
    pub sources: Vec<SourceRef>,
}

/// One desired connection.
#[derive(Debug, Clone)]
pub struct DesiredConnection {
    /// The connection as written: references unresolved, literal secrets split off.
    pub template: Connection,
    /// The previous name, for a rename.
    pub renamed_from: Option<String>,
    /// JSON Pointers left out of the comparison (connection's and document's).
    pub ignore_fields: Vec<String>,
    /// Where `protect: true` is written; `None` when the connection does not protect
    /// itself.
    pub protect: Option<SourceRef>,
    /// Where the connection starts.
    pub source: SourceRef,
    /// Fields written with `${var:...}`, as written, by JSON Pointer (the template holds
    /// the substituted values).
    pub var_templates: BTreeMap<String, String>,
}

/// A project's `protect` globs (matched ignoring case, as names compare) and where they
/// are written.
#[derive(Debug, Clone, Default)]
pub struct ProtectGlobs {
    /// The globs.
    pub globs: Vec<String>,
    /// The first document that sets them.
    pub source: Option<SourceRef>,
}

impl ProtectGlobs {
    /// The first glob that matches a connection name.
    pub fn matching(&self, name: &str) -> Option<&str> {
        self.globs
            .iter()
            .find(|glob| name_glob_matches(glob, name))
            .map(String::as_str)
    }
}

/// A place in a desired-state file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SourceRef {
    /// The file, as found from the command-line paths.
    pub file: PathBuf,
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub column: u64,
}

impl SourceRef {
    fn new(file: &Path, location: Location) -> Self {
        SourceRef {
            file: file.to_path_buf(),
            line: location.line,
            column: location.column,
        }
    }
}

impl std::fmt::Display for SourceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

impl DesiredState {
    /// Number of desired connections over all projects.
    pub fn connection_count(&self) -> usize {
        self.projects.values().map(|p| p.connections.len()).sum()
    }

    /// Every variable the templates reference, in order of first appearance.
    pub fn variables(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for connection in self.projects.values().flat_map(|p| &p.connections) {
            for name in references_in_connection(&connection.template) {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names
    }
}

/// The file, project and connection that diagnostics of one place carry.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    file: PathBuf,
    project: Option<String>,
    connection: Option<String>,
    values: Option<Arc<Values>>,
}

impl Scope {
    fn for_file(file: &Path, values: Option<&Arc<Values>>) -> Self {
        Scope {
            file: file.to_path_buf(),
            project: None,
            connection: None,
            values: values.cloned(),
        }
    }

    /// The values `${var:...}` references take, when values files were asked for.
    fn values(&self) -> Option<&Values> {
        self.values.as_deref()
    }

    fn with_project(&self, project: Option<&str>) -> Self {
        Scope {
            project: project.map(str::to_string),
            ..self.clone()
        }
    }

    fn with_connection(&self, connection: Option<&str>) -> Self {
        Scope {
            connection: connection.map(str::to_string),
            ..self.clone()
        }
    }

    /// The diagnostic placed here.
    fn diagnostic(&self, diagnostic: Diagnostic, at: Location) -> Diagnostic {
        diagnostic
            .at(&self.file, at.line, at.column)
            .in_project(self.project.as_deref())
            .in_connection(self.connection.as_deref())
    }
}

/// `ignoreFields`: a list of JSON Pointers (`/port`, `/propertiesMap/acks/value`) whose
/// first token is one of `known_fields`.
fn check_pointer_list(
    node: &Node,
    known_fields: &[&str],
    scope: &Scope,
    out: &mut Vec<Diagnostic>,
) -> Vec<String> {
    let mut pointers = Vec::new();
    for (pointer, location) in document::string_list(node, "ignoreFields", scope, out) {
        if !pointer.starts_with('/') {
            let error = Diagnostic::error(format!(
                "`ignoreFields` entry `{pointer}` is not a JSON Pointer"
            ))
            .with_hint(format!("write `/{pointer}` (RFC 6901: `/field/sub-field`)"));
            out.push(scope.diagnostic(error, location));
            continue;
        }
        let field = pointer_tokens(&pointer)
            .into_iter()
            .next()
            .unwrap_or_default();
        if known_fields.contains(&field.as_str()) {
            pointers.push(pointer);
            continue;
        }
        let hint = match did_you_mean(&field, known_fields.iter().copied()) {
            Some(s) => format!("did you mean `/{s}`?"),
            None => "name a field of the connection type".to_string(),
        };
        let message = format!("`ignoreFields` entry `{pointer}` names no known field");
        out.push(scope.diagnostic(Diagnostic::error(message).with_hint(hint), location));
    }
    pointers
}

/// Loads and validates every file. Errors are all the diagnostics of the run, sorted by
/// file and line.
pub fn load(options: &LoadOptions) -> Result<Loaded, Vec<Diagnostic>> {
    let (files, mut diagnostics) = files::expand(&options.paths);
    let values = options
        .values_files
        .as_ref()
        .map(|paths| Arc::new(crate::values::load(paths, &mut diagnostics)));
    let (documents, file_diagnostics) = load_files(&files, options, values.as_ref());
    diagnostics.extend(file_diagnostics);
    check_references(&documents, &options.reference_policy, &mut diagnostics);
    let state = merge(documents, &mut diagnostics);
    check_ignored_connections(&state, &mut diagnostics);
    diag::sort(&mut diagnostics);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(diagnostics);
    }
    Ok(Loaded {
        state,
        warnings: diagnostics,
        files,
        values,
    })
}

/// The checked documents of every file, in file order, parsed on as many threads as the
/// machine has cores (files are independent until they merge).
fn load_files(
    files: &[PathBuf],
    options: &LoadOptions,
    values: Option<&Arc<Values>>,
) -> (Vec<(PathBuf, ParsedDocument)>, Vec<Diagnostic>) {
    let parts = crate::parallel::in_parts(files.to_vec(), |part| {
        let mut diagnostics = Vec::new();
        let documents: Vec<_> = part
            .iter()
            .flat_map(|file| load_file(file, options, values, &mut diagnostics))
            .collect();
        (documents, diagnostics)
    });
    let mut documents = Vec::new();
    let mut diagnostics = Vec::new();
    for (part, found) in parts {
        documents.extend(part);
        diagnostics.extend(found);
    }
    (documents, diagnostics)
}

/// The checked documents of one file.
fn load_file(
    file: &Path,
    options: &LoadOptions,
    values: Option<&Arc<Values>>,
    out: &mut Vec<Diagnostic>,
) -> Vec<(PathBuf, ParsedDocument)> {
    let scope = Scope::for_file(file, values);
    let bytes = match read_capped(file) {
        Ok(bytes) => bytes,
        Err(message) => {
            let error = Diagnostic::error(message).with_hint("check the path and its permissions");
            out.push(scope.diagnostic(error, Location::default()));
            return Vec::new();
        }
    };
    check_bytes(&scope, &bytes, options, out)
}

/// The checked documents of one file's bytes.
fn check_bytes(
    scope: &Scope,
    bytes: &[u8],
    options: &LoadOptions,
    out: &mut Vec<Diagnostic>,
) -> Vec<(PathBuf, ParsedDocument)> {
    let documents = match yaml::parse_documents(bytes) {
        Ok(documents) => documents,
        Err(e) => {
            let mut error = Diagnostic::error(e.message);
            error.hint = e.hint;
            out.push(scope.diagnostic(error, e.location));
            return Vec::new();
        }
    };
    documents
        .iter()
        .filter_map(|d| document::check_document(d, scope, options.allow_literal_secrets, out))
        .map(|d| (scope.file.clone(), d))
        .collect()
}

/// Every reference must pass the policy (never the tool's or a CI system's credentials,
/// only `--allow-env` names), and a variable a secret field or sensitive entry uses may not
/// also feed a plain field, where its value would be stored readable: one error per
/// variable, at the plain use, naming the sensitive one.
fn check_references(
    documents: &[(PathBuf, ParsedDocument)],
    policy: &ReferencePolicy,
    out: &mut Vec<Diagnostic>,
) {
    let mut sensitive_at: BTreeMap<&str, (Place, &ReferenceUse)> = BTreeMap::new();
    let mut plain_at: BTreeMap<&str, (Place, &ReferenceUse)> = BTreeMap::new();
    for (file, document) in documents {
        let project = document.project.as_ref().map(|p| p.value.as_str());
        let scope = Scope::for_file(file, None).with_project(project);
        for connection in &document.connections {
            let scope = scope.with_connection(Some(&connection.template.name));
            for (reference, at) in &connection.references {
                if let Err(refusal) = policy.check(&reference.variable) {
                    let error = Diagnostic::error(refusal.message).with_hint(refusal.hint);
                    out.push(scope.diagnostic(error, *at));
                }
                let seen = if reference.sensitive {
                    &mut sensitive_at
                } else {
                    &mut plain_at
                };
                let place = Place {
                    scope: scope.clone(),
                    at: *at,
                };
                seen.entry(&reference.variable)
                    .or_insert((place, reference));
            }
        }
    }
    for (variable, (plain, plain_use)) in &plain_at {
        let Some((secret, secret_use)) = sensitive_at.get(variable) else {
            continue;
        };
        let message = format!(
            "`${{env:{variable}}}` feeds the plain field `{}` here and the sensitive `{}` of {} at {}:{}:{}: its value would be stored readable",
            plain_use.pointer,
            secret_use.pointer,
            secret.scope.connection.as_deref().unwrap_or_default(),
            secret.scope.file.display(),
            secret.at.line,
            secret.at.column,
        );
        let error = Diagnostic::error(message)
            .with_hint("give the secret a variable of its own, used only by secret values");
        out.push(plain.scope.diagnostic(error, plain.at));
    }
}

/// A place in a file, with the diagnostics' project and connection.
struct Place {
    scope: Scope,
    at: Location,
}

/// Reads at most one byte more than the parser accepts, so a huge file is refused
/// without being read whole.
pub(crate) fn read_capped(file: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let handle = std::fs::File::open(file).map_err(|e| format!("cannot read file: {e}"))?;
    let mut bytes = Vec::new();
    handle
        .take(yaml::MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read file: {e}"))?;
    Ok(bytes)
}

/// What the first document of a project said about a setting, to compare the others.
#[derive(Default)]
struct SeenSettings {
    prune: Option<(bool, SourceRef)>,
    allow_empty: Option<(bool, SourceRef)>,
    ignore: Option<(Vec<String>, SourceRef)>,
    protect: Option<(Vec<String>, SourceRef)>,
}

/// Merges documents into projects; disagreeing settings and duplicate names are errors.
fn merge(documents: Vec<(PathBuf, ParsedDocument)>, out: &mut Vec<Diagnostic>) -> DesiredState {
    let mut state = DesiredState::default();
    let mut seen_settings: BTreeMap<String, SeenSettings> = BTreeMap::new();
    let mut seen_names: BTreeMap<(String, String), SourceRef> = BTreeMap::new();
    for (file, document) in documents {
        let Some(project_setting) = &document.project else {
            continue;
        };
        let name = project_setting.value.clone();
        let scope = Scope::for_file(&file, None).with_project(Some(&name));
        let project = state
            .projects
            .entry(name.clone())
            .or_insert_with(|| DesiredProject {
                name: name.clone(),
                ..DesiredProject::default()
            });
        project
            .sources
            .push(SourceRef::new(&file, document.location));
        let seen = seen_settings.entry(name.clone()).or_default();
        if let Some(v) = agree(&mut seen.prune, &document.prune, "prune", &scope, out) {
            project.prune = v;
        }
        if let Some(v) = agree(
            &mut seen.allow_empty,
            &document.allow_empty,
            "allowEmpty",
            &scope,
            out,
        ) {
            project.allow_empty = v;
        }
        if let Some(v) = agree(&mut seen.ignore, &document.ignore, "ignore", &scope, out) {
            project.ignore = v;
        }
        if let Some(globs) = agree(&mut seen.protect, &document.protect, "protect", &scope, out) {
            let source = seen.protect.as_ref().map(|(_, at)| at.clone());
            project.protect = ProtectGlobs { globs, source };
        }
        for parsed in document.connections {
            let source = SourceRef::new(&file, parsed.location);
            let key = (name.clone(), parsed.template.name.to_lowercase());
            let name_at = SourceRef::new(&file, parsed.name_location);
            if let Some(first) = seen_names.get(&key) {
                let message = format!(
                    "duplicate connection name `{}` in project `{name}`: also defined at {first}",
                    parsed.template.name
                );
                let error = Diagnostic::error(message)
                    .with_hint("names are compared ignoring case; rename or remove one of them");
                out.push(
                    scope
                        .with_connection(Some(&parsed.template.name))
                        .diagnostic(error, parsed.name_location),
                );
                continue;
            }
            seen_names.insert(key, name_at);
            let mut ignore_fields = parsed.ignore_fields;
            ignore_fields.extend(document.ignore_fields.iter().cloned());
            project.connections.push(DesiredConnection {
                template: parsed.template,
                renamed_from: parsed.renamed_from,
                ignore_fields,
                protect: parsed.protect.map(|at| SourceRef::new(&file, at)),
                source,
                var_templates: parsed.var_templates,
            });
        }
    }
    check_empty_prune(&state, &seen_settings, out);
    state
}

/// A pruned project whose files declare no connection would lose every connection: an
/// error at its `prune: true` unless `allowEmpty: true` (DESIGN.md 4.3). A project whose
/// connections all failed their own checks is left to those errors.
fn check_empty_prune(
    state: &DesiredState,
    settings: &BTreeMap<String, SeenSettings>,
    out: &mut Vec<Diagnostic>,
) {
    for project in state.projects.values() {
        let Some((true, place)) = &settings[&project.name].prune else {
            continue;
        };
        let failed_here = out
            .iter()
            .any(|d| d.is_error() && d.project.as_deref() == Some(&project.name));
        if !project.connections.is_empty() || project.allow_empty || failed_here {
            continue;
        }
        let message = format!(
            "project {} has `prune: true` but its files declare no connection: that would delete every connection of the project",
            project.name
        );
        let error = Diagnostic::error(message)
            .with_hint("add `allowEmpty: true` if you mean it")
            .at(&place.file, place.line, place.column)
            .in_project(Some(&project.name));
        out.push(error);
    }
}

/// A connection the files declare must not match its own project's `ignore` globs (by
/// name or `renamedFrom`): `ignore` promises the tool never touches what it matches.
fn check_ignored_connections(state: &DesiredState, out: &mut Vec<Diagnostic>) {
    for project in state.projects.values() {
        for connection in &project.connections {
            let names =
                std::iter::once(&connection.template.name).chain(connection.renamed_from.as_ref());
            let hit = names
                .flat_map(|name| project.ignore.iter().map(move |glob| (name, glob)))
                .find(|(name, glob)| name_glob_matches(glob, name));
            if let Some((name, glob)) = hit {
                out.push(ignored_connection_error(project, connection, name, glob));
            }
        }
    }
}

/// Whether an `ignore` or `protect` glob matches a connection name, ignoring case as
/// names compare.
fn name_glob_matches(glob: &str, name: &str) -> bool {
    globset::GlobBuilder::new(glob)
        .case_insensitive(true)
        .build()
        .is_ok_and(|g| g.compile_matcher().is_match(name))
}

fn ignored_connection_error(
    project: &DesiredProject,
    connection: &DesiredConnection,
    name: &str,
    glob: &str,
) -> Diagnostic {
    let message = format!(
        "connection `{name}` matches `ignore` glob `{glob}` of project `{}`, yet the files declare it: an ignored connection is never touched",
        project.name
    );
    let source = &connection.source;
    Diagnostic::error(message)
        .with_hint(format!(
            "remove `{glob}` from `ignore`, or remove the connection from the files"
        ))
        .at(&source.file, source.line, source.column)
        .in_project(Some(&project.name))
        .in_connection(Some(&connection.template.name))
}

/// Records a project setting the first time; later documents must say the same. Returns
/// the value to use when this document sets it.
fn agree<T: Clone + PartialEq + std::fmt::Debug>(
    first: &mut Option<(T, SourceRef)>,
    current: &Option<Setting<T>>,
    key: &str,
    scope: &Scope,
    out: &mut Vec<Diagnostic>,
) -> Option<T> {
    let current = current.as_ref()?;
    let here = SourceRef::new(&scope.file, current.location);
    match first {
        None => {
            *first = Some((current.value.clone(), here));
            Some(current.value.clone())
        }
        Some((value, _)) if *value == current.value => None,
        Some((value, place)) => {
            let message = format!(
                "`{key}: {:?}` disagrees with `{key}: {value:?}` at {place} for project `{}`",
                current.value,
                scope.project.as_deref().unwrap_or_default()
            );
            let error = Diagnostic::error(message).with_hint(
                "a project's prune, allowEmpty, ignore and protect must agree in all its documents",
            );
            out.push(scope.diagnostic(error, current.location));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn load_text(
        files: &[(&str, &str)],
        allow_literal_secrets: bool,
    ) -> Result<Loaded, Vec<Diagnostic>> {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        load(&LoadOptions {
            paths: vec![dir.path().display().to_string()],
            allow_literal_secrets,
            values_files: None,
            ..LoadOptions::default()
        })
    }

    #[test]
    fn documents_merge_into_projects_with_their_settings() {
        let a = "project: P\nprune: true\nignore: [tmp-*]\nignoreFields: [/description]\nconnections:\n  - type: email\n    name: mail\n    host: h\n    port: ${env:PORT}\n    password: ${env:PW}\n    renamedFrom: old-mail\n    ignoreFields: [/port]\n";
        let b = "project: P\nallowEmpty: true\nconnections:\n  - {type: graylog, name: g, hostname: h, port: 12201}\n---\nproject: Q\n";
        let loaded = load_text(&[("a.yaml", a), ("b.yml", b)], false).unwrap();
        assert_eq!(loaded.files.len(), 2);
        let p = &loaded.state.projects["P"];
        assert!(p.prune && p.allow_empty);
        assert_eq!(p.ignore, ["tmp-*"]);
        assert_eq!(p.sources.len(), 2);
        let mail = &p.connections[0];
        assert_eq!(mail.template.kind, "email");
        assert_eq!(mail.template.fields["port"], "${env:PORT}");
        assert_eq!(mail.template.fields["password"], "${env:PW}");
        assert!(!mail.template.fields.contains_key("renamedFrom"));
        assert_eq!(mail.renamed_from.as_deref(), Some("old-mail"));
        assert_eq!(mail.ignore_fields, ["/port", "/description"]);
        assert_eq!((mail.source.line, mail.source.column), (6, 5));
        assert_eq!(p.connections[1].template.fields["port"], 12201);
        assert!(loaded.state.projects["Q"].connections.is_empty());
        assert_eq!(loaded.state.connection_count(), 2);
        assert_eq!(loaded.state.variables(), ["PORT", "PW"]);
    }

    #[test]
    fn protect_globs_and_flags_are_read_with_their_places() {
        let a = "project: P\nprotect: [Ledger-*]\nconnections:\n  - {type: graylog, name: g, hostname: h, protect: true}\n  - {type: graylog, name: h, hostname: h, protect: false}\n";
        let b = "project: P\nprotect: [Ledger-*]\n";
        let loaded = load_text(&[("a.yaml", a), ("b.yaml", b)], false).unwrap();
        let p = &loaded.state.projects["P"];
        assert_eq!(p.protect.matching("ledger-core"), Some("Ledger-*"));
        assert_eq!(p.protect.matching("other"), None);
        let at = p.protect.source.as_ref().unwrap();
        assert!(at.file.ends_with("a.yaml") && at.line == 2, "{at}");
        let flag = p.connections[0].protect.as_ref().unwrap();
        assert_eq!((flag.line, flag.column), (4, 52));
        assert!(p.connections[1].protect.is_none());
        assert!(!p.connections[0].template.fields.contains_key("protect"));
    }

    #[test]
    fn scalars_for_string_fields_become_strings_and_null_means_absent() {
        let text = "project: P\nconnections:\n  - type: snmp\n    name: s\n    connectionString: udp:h/162\n    securityOrCommunityName: 12345\n    pduOidForMessage: 1.3\n    securityLevel: null\n";
        let loaded = load_text(&[("s.yaml", text)], false).unwrap();
        let fields = &loaded.state.projects["P"].connections[0].template.fields;
        assert_eq!(fields["securityOrCommunityName"], "12345");
        assert_eq!(fields["pduOidForMessage"], "1.3");
        assert!(!fields.contains_key("securityLevel"));
    }

    #[test]
    fn allowed_literal_secrets_live_in_secrets() {
        let text =
            "project: P\nconnections:\n  - {type: email, name: m, host: h, password: canary-pw}\n";
        let loaded = load_text(&[("m.yaml", text)], true).unwrap();
        assert_eq!(loaded.warnings.len(), 1);
        let template = &loaded.state.projects["P"].connections[0].template;
        assert_eq!(template.fields["password"], serde_json::Value::Null);
        assert_eq!(
            template.secrets.get("/password").unwrap().expose_secret(),
            "canary-pw"
        );
        assert!(!format!("{:?}", loaded.state).contains("canary-pw"));
    }

    #[test]
    fn errors_of_all_files_are_sorted() {
        let bad = "project: P\nconnections:\n  - {type: email, name: m}\n";
        let errors = load_text(&[("b.yaml", bad), ("a.yaml", "project: 1\n")], false).unwrap_err();
        let files: Vec<String> = errors
            .iter()
            .map(|e| {
                e.file
                    .as_ref()
                    .unwrap()
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(files, ["a.yaml", "b.yaml"]);
    }
}
