//! The generated workload: N connections cycling through the 14 types, written as
//! desired-state YAML over several files and projects. Every body is cloned from the
//! shipped examples (one connection of each type, secrets as `${env:...}` references),
//! so the loader accepts it and the catalog stays the only place that knows a type's
//! fields. Generation is deterministic: the same shape and description give the same
//! files. Four in nine emails log in (a password a GET returns), as in the workload the
//! issue measured.

use std::collections::BTreeMap;
use std::path::Path;

use apinizer_gitops::desired::{API_VERSION, LoadOptions, Loaded, load};
use apinizer_gitops::model::Connection;
use apinizer_gitops::plan::{SelectedProject, Selection, UnsetSecrets, select};
use apinizer_gitops::refs::MapEnv;
use apinizer_gitops::render::yaml::to_yaml;
use serde_json::{Map, Value, json};
use tempfile::TempDir;

/// How big a workload is.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Connections in all.
    pub connections: usize,
    /// YAML files they are spread over.
    pub files: usize,
    /// Projects the files name (file `f` belongs to project `f % projects`).
    pub projects: usize,
}

impl Shape {
    /// `connections` spread evenly over 10 projects, 10 files each.
    pub const fn ten_projects(connections: usize) -> Shape {
        Shape {
            connections,
            files: 100,
            projects: 10,
        }
    }

    /// The connection count as the rows name it: `10k`, `100k`, `1000`.
    pub fn label(&self) -> String {
        match self.connections {
            n if n >= 10_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
            n => n.to_string(),
        }
    }
}

/// Desired-state files on disk and the variables they reference.
pub struct Workload {
    /// The shape it was generated with.
    pub shape: Shape,
    /// Folder holding the files (removed on drop).
    dir: TempDir,
    /// A value for every referenced variable.
    env: MapEnv,
}

impl Workload {
    /// Writes the files of `shape` into a fresh temporary folder, every connection with
    /// this `description` (two descriptions make the same connections, changed once).
    pub fn generate(shape: Shape, description: &str) -> Workload {
        let examples = examples();
        let dir = tempfile::tempdir().expect("temporary folder");
        let documents = documents(shape, &examples.prototypes, description);
        for (file, document) in documents.iter().enumerate() {
            let path = dir.path().join(format!("connections-{file:03}.yaml"));
            std::fs::write(path, to_yaml(document)).expect("workload file written");
        }
        Workload {
            shape,
            dir,
            env: examples.env,
        }
    }

    /// A value for every variable the files reference, as the environment gives them.
    pub fn variables(&self) -> &BTreeMap<String, String> {
        &self.env.0
    }

    /// The folder to pass as `-f`.
    pub fn folder(&self) -> &Path {
        self.dir.path()
    }

    /// Every project of the files with its connections resolved, as `plan` selects them.
    fn selected(&self) -> Vec<SelectedProject> {
        let loaded = load_valid(&options(self.folder()));
        select(
            loaded.state,
            &Selection::default(),
            &self.env,
            UnsetSecrets::Refuse,
        )
        .expect("variables all set")
    }

    /// The resolved connections by project, as a sandbox seed (the server in sync).
    pub fn seed(&self) -> Vec<(String, Connection)> {
        self.selected()
            .into_iter()
            .flat_map(|p| {
                let project = p.name;
                p.connections
                    .into_iter()
                    .map(move |c| (project.clone(), c.resolved_connection()))
            })
            .collect()
    }

    /// The project names the files use.
    pub fn project_names(&self) -> Vec<String> {
        (0..self.shape.projects).map(project_name).collect()
    }
}

/// One example body of each type and a value for every variable the examples use.
struct Examples {
    prototypes: Vec<Map<String, Value>>,
    env: MapEnv,
}

fn examples() -> Examples {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/connections");
    let loaded = load_valid(&options(&folder));
    let prototypes = loaded
        .state
        .projects
        .values()
        .flat_map(|p| &p.connections)
        .map(|c| body(&c.template))
        .collect();
    let env = loaded
        .state
        .variables()
        .into_iter()
        .map(|name| {
            let value = format!("bench-{}", name.to_lowercase());
            (name, value)
        })
        .collect::<BTreeMap<_, _>>();
    Examples {
        prototypes,
        env: MapEnv(env),
    }
}

/// A template as a YAML connection entry: `type` and `name` first, then its fields.
/// `expose_body` puts back what the loader set aside as sensitive: in the shipped
/// examples that is only reference text (`Bearer ${env:...}`), never a value.
fn body(template: &Connection) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("type".into(), json!(template.kind));
    body.insert("name".into(), json!(template.name));
    body.extend(template.expose_body());
    body
}

/// The documents of the workload, one per file. Connection `i` goes to file
/// `i % files`, with the body of prototype `i % 14`, a name of its own and
/// `description`.
fn documents(shape: Shape, prototypes: &[Map<String, Value>], description: &str) -> Vec<Value> {
    let mut connections = vec![Vec::new(); shape.files];
    for i in 0..shape.connections {
        let mut entry = prototypes[i % prototypes.len()].clone();
        let kind = entry["type"]
            .as_str()
            .expect("type is a string")
            .to_string();
        entry.insert("name".into(), json!(format!("{kind}-{i:06}")));
        entry.insert("description".into(), json!(description));
        if kind == "email" && !logs_in(i / prototypes.len()) {
            send_without_login(&mut entry);
        }
        connections[i % shape.files].push(Value::Object(entry));
    }
    connections
        .into_iter()
        .enumerate()
        .map(|(file, connections)| {
            json!({
                "apiVersion": API_VERSION,
                "project": project_name(file % shape.projects),
                "prune": true,
                "connections": connections,
            })
        })
        .collect()
}

/// Whether the `ordinal`-th email connection logs in: 4 in 9 do (317 of the 714 emails at
/// 10k, as in the workload issue 11 measured: 320 readable email passwords), the rest
/// send without a login.
fn logs_in(ordinal: usize) -> bool {
    ordinal % 9 < 4
}

/// An email connection without a login: no username, no password.
fn send_without_login(entry: &mut Map<String, Value>) {
    entry.insert("auth".into(), json!(false));
    entry.remove("username");
    entry.remove("password");
}

fn project_name(index: usize) -> String {
    format!("bench-{index}")
}

/// Loads files that must be valid; otherwise stops with the first diagnostics.
fn load_valid(options: &LoadOptions) -> Loaded {
    load(options).unwrap_or_else(|diagnostics| {
        let first: Vec<String> = diagnostics
            .iter()
            .take(3)
            .map(|d| d.render_text())
            .collect();
        panic!(
            "{} diagnostics loading the workload, first: {}",
            diagnostics.len(),
            first.join("\n")
        )
    })
}

fn options(folder: &Path) -> LoadOptions {
    LoadOptions {
        paths: vec![folder.display().to_string()],
        allow_literal_secrets: false,
        values_files: None,
        ..LoadOptions::default()
    }
}
