//! `apinizer-gitops completions SHELL`: the scripts complete subcommands, flags and values
//! below the first word (bash is driven for real, as a shell would on TAB), `--type`
//! offers the 14 types and `--format` its values.

use std::process::Command as Process;

use assert_cmd::Command;

const TYPES: [&str; 14] = [
    "email",
    "kafka",
    "elasticsearch",
    "database",
    "ldap",
    "ftp",
    "rabbitMq",
    "activeMq",
    "snmp",
    "linux-script",
    "graylog",
    "syslog",
    "webhook",
    "logback",
];

fn script(shell: &str) -> String {
    let output = Command::cargo_bin("apinizer-gitops")
        .unwrap()
        .args(["completions", shell])
        .output()
        .unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

/// What bash offers for the command line `line` (the last word is being completed; a
/// trailing space means a new, empty word), asked the way readline asks: through the
/// function `complete -p` names, with COMP_WORDS and COMP_CWORD set.
fn bash_completes(line: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("apinizer-gitops.bash");
    std::fs::write(&path, script("bash")).unwrap();
    let program = r#"
source "$1"
spec=$(complete -p apinizer-gitops) || exit 3
fn=$(sed -E 's/.* -F ([^ ]+) .*/\1/' <<<"$spec")
read -r -a COMP_WORDS <<<"$2"
[[ "$2" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE="$2"
COMP_POINT=${#COMP_LINE}
cur="${COMP_WORDS[COMP_CWORD]}"
prev="${COMP_WORDS[COMP_CWORD-1]}"
"$fn" apinizer-gitops "$cur" "$prev"
printf '%s\n' "${COMPREPLY[@]}"
"#;
    // Run in an empty folder: a completion that fell back to file names would show none
    // of the expected words.
    let output = Process::new("bash")
        .current_dir(dir.path())
        .args(["-c", program, "bash"])
        .arg(&path)
        .arg(line)
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_a_flag_of_a_subcommand() {
    assert_eq!(bash_completes("apinizer-gitops plan --fo"), ["--format"]);
    assert_eq!(
        bash_completes("apinizer-gitops validate --check"),
        ["--check-env"]
    );
}

#[test]
fn bash_completes_the_values_of_format_and_type() {
    assert_eq!(
        bash_completes("apinizer-gitops plan --format "),
        ["text", "json", "markdown"]
    );
    assert_eq!(
        bash_completes("apinizer-gitops validate --format "),
        ["text", "json", "github", "gitlab"]
    );
    assert_eq!(bash_completes("apinizer-gitops drift --type "), TYPES);
    assert_eq!(
        bash_completes("apinizer-gitops apply --type linux"),
        ["linux-script"]
    );
    assert_eq!(
        bash_completes("apinizer-gitops export --log-format "),
        ["text", "json"]
    );
}

#[test]
fn bash_completes_subcommands_at_the_first_word() {
    assert_eq!(bash_completes("apinizer-gitops dr"), ["drift"]);
    let shells = bash_completes("apinizer-gitops completions ");
    let shells: Vec<&str> = shells
        .iter()
        .map(String::as_str)
        .filter(|w| !w.starts_with('-'))
        .collect();
    assert_eq!(shells, ["bash", "elvish", "fish", "powershell", "zsh"]);
}

#[test]
fn zsh_offers_the_types_and_the_formats() {
    let script = script("zsh");
    assert!(script.starts_with("#compdef apinizer-gitops"));
    let types = format!(":TYPE:({})'", TYPES.join(" "));
    assert_eq!(
        script.matches(&types).count(),
        4,
        "plan, apply, drift, export"
    );
    assert!(script.contains(r#"'--format=[Output format]:FORMAT:((text\:"#));
    for value in ["json\\:", "markdown\\:", "github\\:", "gitlab\\:"] {
        assert!(script.contains(value), "{value}");
    }
}

/// The `complete` command of a subcommand's flag: from its start to the next command
/// (fish lists the values on lines of their own).
fn fish_command<'a>(script: &'a str, subcommand: &str, flag: &str) -> &'a str {
    let condition = format!("__fish_apinizer_gitops_using_subcommand {subcommand}\" -l {flag} ");
    let start = script
        .find(&condition)
        .expect("the flag has a complete command");
    let rest = &script[start..];
    &rest[..rest.find("\ncomplete ").unwrap_or(rest.len())]
}

#[test]
fn fish_offers_the_types_and_the_formats() {
    let script = script("fish");
    let types = fish_command(&script, "drift", "type");
    for name in TYPES {
        assert!(types.contains(&format!("{name}\\t")), "{name} in {types}");
    }
    let formats = fish_command(&script, "validate", "format");
    for value in ["text\\t", "json\\t", "github\\t", "gitlab\\t"] {
        assert!(formats.contains(value), "{value} in {formats}");
    }
    // Where fish is installed, ask it, as a TAB would.
    if Process::new("fish").arg("--version").output().is_err() {
        eprintln!("fish is not installed: its script was checked as text only");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("apinizer-gitops.fish");
    std::fs::write(&path, &script).unwrap();
    let ask = |line: &str| -> Vec<String> {
        let program = format!("source {}; complete -C '{line}'", path.display());
        let output = Process::new("fish")
            .args(["-c", &program])
            .output()
            .unwrap();
        let text = String::from_utf8(output.stdout).unwrap();
        text.lines()
            .map(|l| l.split('\t').next().unwrap().to_string())
            .collect()
    };
    // fish sorts what it offers.
    let mut types = TYPES.map(str::to_string).to_vec();
    types.sort();
    assert_eq!(ask("apinizer-gitops plan --type "), types);
    assert_eq!(
        ask("apinizer-gitops validate --format "),
        ["github", "gitlab", "json", "text"]
    );
}
