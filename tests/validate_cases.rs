//! Table-driven: invalid desired-state inputs, each rejected by `validate --format json`
//! with exit 1 and an error at the expected line whose message (or hint) names the problem;
//! plus a valid connection and a broken conditional rule for each of the 14 types.

use assert_cmd::Command;
use serde_json::Value;

/// A one-connection document; the connection's first line is line 3, so body line `i`
/// (0-based) is line `3 + i`.
fn doc(body: &[&str]) -> String {
    let mut text = String::from("project: P\nconnections:\n");
    for (i, line) in body.iter().enumerate() {
        let prefix = if i == 0 { "  - " } else { "    " };
        text.push_str(prefix);
        text.push_str(line);
        text.push('\n');
    }
    text
}

fn with(base: &[&str], extra: &[&str]) -> String {
    let lines: Vec<&str> = base.iter().chain(extra).copied().collect();
    doc(&lines)
}

/// Runs `validate --format json` on the bytes; returns exit code and report.
fn validate(bytes: &[u8]) -> (i32, Value) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("input.yaml");
    std::fs::write(&file, bytes).unwrap();
    let output = Command::cargo_bin("apinizer-gitops")
        .unwrap()
        .args(["validate", "--format", "json", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "json report: {e}: {}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    (output.status.code().unwrap(), report)
}

fn assert_rejected(name: &str, bytes: &[u8], line: u64, fragment: &str) {
    let (code, report) = validate(bytes);
    assert_eq!(code, 1, "{name}: expected exit 1, report {report:#}");
    assert_eq!(report["valid"], false, "{name}");
    let errors = report["errors"].as_array().unwrap();
    let found = errors.iter().any(|e| {
        let text = format!("{} {}", e["message"], e["hint"]).to_lowercase();
        e["line"] == line && text.contains(&fragment.to_lowercase())
    });
    assert!(
        found,
        "{name}: no error at line {line} containing `{fragment}`; got {errors:#?}"
    );
    for e in errors {
        assert!(
            e["file"].as_str().unwrap().ends_with("input.yaml"),
            "{name}"
        );
        assert!(e["column"].as_u64().is_some(), "{name}");
    }
}

const EMAIL: &[&str] = &[
    "type: email",
    "name: mail",
    "host: smtp.example.com",
    "port: 587",
];
const KAFKA: &[&str] = &[
    "type: kafka",
    "name: k",
    "topicName: t",
    "propertiesMap:",
    "  bootstrap.servers: {value: 'b:9092'}",
    "  key.serializer: {value: s}",
    "  value.serializer: {value: s}",
];
const ES: &[&str] = &[
    "type: elasticsearch",
    "name: es",
    "elasticHostList:",
    "  - host: es.local",
];
const DATABASE: &[&str] = &[
    "type: database",
    "name: db",
    "dbType: POSTGRES",
    "jdbcUrl: jdbc:postgresql://${env:DB_HOST}/db",
    "username: u",
    "password: ${env:DB_PW}",
];
const LDAP: &[&str] = &[
    "type: ldap",
    "name: l",
    "serverAddress: ldap://h",
    "username: cn=a",
    "password: ${env:LDAP_PW}",
    "baseDn: dc=x",
];
const FTP: &[&str] = &[
    "type: ftp",
    "name: f",
    "host: h",
    "username: u",
    "password: ${env:FTP_PW}",
];
const RABBIT: &[&str] = &["type: rabbitMq", "name: r", "hostPortList:", "  - host: h"];
const ACTIVEMQ: &[&str] = &[
    "type: activeMq",
    "name: a",
    "activeMqConnectionProtocolType: TCP",
    "brokerURL: tcp://h:61616",
    "destinationType: QUEUE",
    "destinationName: q",
];
const SNMP: &[&str] = &[
    "type: snmp",
    "name: s",
    "connectionString: udp:h/162",
    "securityOrCommunityName: public",
    "pduOidForMessage: 1.3.6.1",
];
const LINUX: &[&str] = &["type: linux-script", "name: ls", "hostName: h"];
const GRAYLOG: &[&str] = &["type: graylog", "name: g", "hostname: h"];
const SYSLOG: &[&str] = &["type: syslog", "name: sl", "syslogServerHostname: h"];
const WEBHOOK: &[&str] = &["type: webhook", "name: w"];
const LOGBACK: &[&str] = &["type: logback", "name: lb", "logPath: /var/log/"];

#[test]
fn a_valid_connection_of_each_type() {
    let valid = [
        doc(EMAIL),
        doc(KAFKA),
        doc(ES),
        doc(DATABASE),
        doc(LDAP),
        with(FTP, &["protocol: SFTP"]),
        doc(RABBIT),
        doc(ACTIVEMQ),
        doc(SNMP),
        with(LINUX, &["username: u", "password: ${env:SSH_PW}"]),
        doc(GRAYLOG),
        doc(SYSLOG),
        with(WEBHOOK, &["fullUrl: https://h.example.com/x"]),
        doc(LOGBACK),
    ];
    for text in valid {
        let (code, report) = validate(text.as_bytes());
        assert_eq!(code, 0, "{text}\n{report:#}");
        assert_eq!(report["valid"], true);
    }
}

#[test]
fn a_broken_rule_of_each_type() {
    let cases: Vec<(&str, String, u64, &str)> = vec![
        (
            "email auth",
            with(EMAIL, &["auth: true"]),
            7,
            "`password` is required when `auth == true`",
        ),
        (
            "kafka secure",
            with(KAFKA, &["enableSecure: true"]),
            10,
            "`keyStoreName` is required when `enableSecure == true`",
        ),
        (
            "es authenticate",
            with(ES, &["authenticate: true"]),
            7,
            "`elasticUsername` is required when `authenticate == true`",
        ),
        (
            "database credentials by default",
            doc(&DATABASE[..4]),
            3,
            "`password` is required when `useCredentials == true`",
        ),
        (
            "ldap certificate",
            with(
                LDAP,
                &["useSsl: true", "requireCertificateType: REQUIRED_CN"],
            ),
            9,
            "`certificateId` is required",
        ),
        (
            "ftps mode",
            with(FTP, &["protocol: FTPS"]),
            8,
            "one of `useImplicit`, `useExplicit` must be true when `protocol == FTPS`",
        ),
        (
            "rabbit auth",
            with(RABBIT, &["authenticationEnabled: true"]),
            7,
            "`connectionFactoryPassword` is required",
        ),
        (
            "activemq password without username",
            with(ACTIVEMQ, &["password: ${env:MQ_PW}"]),
            9,
            "`username` is required when `password is set`",
        ),
        (
            "snmp v3 auth",
            with(SNMP, &["version: V3", "securityLevel: AUTH_NOPRIV"]),
            8,
            "`authPassphrase` is required when `version == V3",
        ),
        (
            "linux-script password without username",
            with(LINUX, &["password: ${env:SSH_PW}"]),
            6,
            "`username` is required when `password is set`",
        ),
        (
            "graylog verification",
            with(GRAYLOG, &["tlsCertVerificationEnabled: true"]),
            6,
            "`tlsTrustCertChainFile` is required",
        ),
        (
            "syslog udp ssl",
            with(
                SYSLOG,
                &["syslogProtocolType: UDP", "syslogSslEnabled: true"],
            ),
            7,
            "`syslogSslEnabled` must not be true when `syslogProtocolType == UDP`",
        ),
        (
            "webhook url format",
            with(WEBHOOK, &["fullUrl: ftp://h/x"]),
            5,
            "absolute http:// or https:// url",
        ),
        (
            "logback size range",
            with(LOGBACK, &["maxFileSize: 0"]),
            6,
            "`maxFileSize` must be at least 1",
        ),
    ];
    for (name, text, line, fragment) in cases {
        assert_rejected(name, text.as_bytes(), line, fragment);
    }
}

#[test]
fn invalid_inputs_name_the_problem_and_line() {
    let cases: Vec<(&str, String, u64, &str)> = vec![
        ("unknown top-level key", "project: P\nconections: []\n".into(), 2, "did you mean `connections`"),
        ("missing project", "connections: []\n".into(), 1, "missing required key `project`"),
        ("wrong apiVersion", "apiVersion: v1\nproject: P\n".into(), 1, "`apiVersion` must be `apinizer-gitops/v1`"),
        ("empty project", "project: ''\n".into(), 1, "`project` must be a non-empty string"),
        ("prune not boolean", "project: P\nprune: 'yes'\n".into(), 2, "`prune` must be true or false"),
        ("connections not a list", "project: P\nconnections: {a: 1}\n".into(), 2, "`connections` must be a list"),
        ("connection not a mapping", "project: P\nconnections:\n  - just-a-name\n".into(), 3, "a connection must be a mapping"),
        ("null connection", "project: P\nconnections:\n  -\n  - type: graylog\n    name: g\n    hostname: h\n".into(), 3, "a connection must be a mapping"),
        ("top-level list", "- a\n- b\n".into(), 1, "not a desired-state document"),
        ("duplicate top-level key", "project: P\nproject: Q\n".into(), 2, "duplicate key `project`"),
        ("missing type", doc(&["name: x", "host: h"]), 3, "missing required field `type`"),
        ("unknown type", doc(&["type: emial", "name: x"]), 3, "did you mean `email`"),
        ("old activemq spelling", doc(&["type: activemq", "name: x"]), 3, "did you mean `activeMq`"),
        ("old linuxscript spelling", doc(&["type: linuxscript", "name: x"]), 3, "did you mean `linux-script`"),
        ("missing name", doc(&["type: graylog", "hostname: h"]), 3, "missing required field `name`"),
        ("name is a list", doc(&["type: graylog", "name: [a]", "hostname: h"]), 4, "`name` must be a non-empty string"),
        ("unknown field", with(EMAIL, &["prot: 25"]), 7, "did you mean `port`"),
        ("missing required field", doc(&EMAIL[..2]), 3, "missing required field `host`"),
        ("quoted integer", with(&EMAIL[..3], &["port: '587'"]), 6, "`port` must be an integer, not a string"),
        ("integer out of range", with(&EMAIL[..3], &["port: 70000"]), 6, "`port` must be between 1 and 65535"),
        ("float for integer", with(&EMAIL[..3], &["port: 58.5"]), 6, "must be an integer, not a number"),
        ("string for boolean", with(EMAIL, &["enableStartTls: 'yes'"]), 7, "`enableStartTls` must be a boolean"),
        ("list for string", with(EMAIL, &["from: [a, b]"]), 7, "`from` must be a string, not a list"),
        ("bad enum", with(&DATABASE[..2], &["dbType: POSTGRESQL", "jdbcUrl: j", "useCredentials: false"]), 5, "did you mean `POSTGRES`"),
        ("literal secret", with(EMAIL, &["password: hunter2"]), 7, "field `password` is a secret: use ${env:NAME}"),
        ("empty reference name", with(EMAIL, &["username: ${env:}"]), 7, "empty variable name"),
        ("unknown reference provider", with(EMAIL, &["username: ${vault:X}"]), 7, "unknown reference provider `vault`: the known references are ${env:NAME} and ${var:NAME}"),
        ("unclosed reference", with(EMAIL, &["username: pre-${env:X"]), 7, "unclosed reference"),
        ("bad variable name", with(EMAIL, &["password: ${env:1PW}"]), 7, "invalid variable name"),
        ("reference for secret must be whole", with(EMAIL, &["password: ${env:A}${env:B}"]), 7, "is a secret"),
        ("empty host list", doc(&["type: elasticsearch", "name: es", "elasticHostList: []"]), 5, "`elasticHostList` needs at least 1 item"),
        ("nested unknown field", with(&ES[..3], &["  - hostname: es.local"]), 6, "unknown field `elasticHostList[0].hostname`"),
        ("nested missing field", with(&ES[..3], &["  - port: 9200"]), 6, "missing required field `elasticHostList[0].host`"),
        ("nested type", with(ES, &["    port: high"]), 7, "`elasticHostList[0].port` must be an integer"),
        ("nested enum", with(ES, &["    scheme: ftp"]), 7, "`elasticHostList[0].scheme` has unknown value `ftp`"),
        ("elasticsearch second type key", with(ES, &["type: READ"]), 7, "use accessType for the access mode"),
        ("bad accessType", with(ES, &["accessType: WRITE"]), 7, "`accessType` has unknown value `WRITE`"),
        ("ilm needs a phase", with(ES, &["indexLifecyclePolicyCreated: true", "indexLifecyclePolicy:", "  policyName: p"]), 9, "one of `enableHotPhase`"),
        ("pem file required", with(ES, &["encryptCommunication: true", "encryptCommunicationType: CA_IN_PEM_FILE"]), 8, "`caInPemFile` is required when `encryptCommunicationType == CA_IN_PEM_FILE`"),
        ("kafka required key", doc(&KAFKA[..6]), 7, "lacks the required key `value.serializer`"),
        ("kafka map value enum", with(KAFKA, &["  acks: {value: all, valueType: STRNG}"]), 10, "did you mean `STRING`"),
        ("kafka map value missing value", with(KAFKA, &["  acks: {valueType: STRING}"]), 10, "missing required field `propertiesMap.acks.value`"),
        ("kafka protocol enum", with(KAFKA, &["protocolTypes: [TLS_1_4]"]), 10, "`protocolTypes[0]` has unknown value `TLS_1_4`"),
        ("webhook header not a mapping", with(WEBHOOK, &["fullUrl: https://h/x", "headerList:", "  - Authorization"]), 7, "`headerList[0]` must be a mapping"),
        ("graylog content not base64", with(GRAYLOG, &["tlsTrustCertChainFile: not base64!"]), 6, "must be base64-encoded file content"),
        ("ftp implicit and explicit", with(FTP, &["protocol: FTPS", "useImplicit: true", "useExplicit: true"]), 10, "only one of `useImplicit`, `useExplicit` may be true"),
        ("rabbit delivery mode range", with(RABBIT, &["basicPropertiesDeliveryMode: 3"]), 7, "between 1 and 2"),
        ("syslog facility enum", with(SYSLOG, &["syslogFacility: LOCAL8"]), 6, "`syslogFacility` has unknown value `LOCAL8`"),
        ("duplicate field", with(EMAIL, &["host: other"]), 7, "duplicate key `host` (first written at line 5)"),
        ("duplicate name ignoring case", "project: P\nconnections:\n  - {type: graylog, name: Logs, hostname: h}\n  - {type: graylog, name: logs, hostname: h}\n".into(), 4, "duplicate connection name `logs` in project `P`: also defined at"),
        ("ignoreFields not a pointer", with(EMAIL, &["ignoreFields: [port]"]), 7, "`ignoreFields` entry `port` is not a JSON Pointer"),
        ("ignoreFields unknown field", with(EMAIL, &["ignoreFields: [/prot]"]), 7, "did you mean `/port`"),
        ("document ignoreFields unknown field", "project: P\nignoreFields: [/nope]\n".into(), 2, "`ignoreFields` entry `/nope` names no known field"),
        ("renamedFrom not a string", with(EMAIL, &["renamedFrom: [a]"]), 7, "`renamedFrom` must be a string"),
        ("renamedFrom is the own name", "project: P\nconnections:\n  - type: graylog\n    name: logs\n    renamedFrom: LOGS\n    hostname: h\n".into(), 5, "`renamedFrom: LOGS` is the connection's own name"),
        ("pruned project without connection", "project: P\nprune: true\nconnections: []\n".into(), 2, "has `prune: true` but its files declare no connection"),
        ("invalid protect glob", "project: P\nprotect: ['[oops']\n".into(), 2, "invalid glob `[oops` in `protect`"),
        ("protect not a list", "project: P\nprotect: ledger-*\n".into(), 2, "`protect` must be a list"),
        ("protect disagrees", "project: P\nprotect: [a-*]\n---\nproject: P\nprotect: [b-*]\n".into(), 5, "disagrees with `protect:"),
        ("connection protect not a boolean", with(EMAIL, &["protect: yes"]), 7, "`protect` must be true or false"),
        ("invalid ignore glob", "project: P\nignore: ['[oops']\n".into(), 2, "invalid glob"),
        ("declared connection matches ignore", "project: P\nignore: [legacy-*]\nconnections:\n  - type: graylog\n    name: Legacy-Logs\n    hostname: h\n".into(), 4, "matches `ignore` glob `legacy-*`"),
        ("renamedFrom matches ignore", "project: P\nignore: [old-*]\nconnections:\n  - type: graylog\n    name: logs\n    renamedFrom: old-logs\n    hostname: h\n".into(), 4, "remove `old-*` from `ignore`"),
        ("email additionalProperties type", with(EMAIL, &["additionalProperties: x"]), 7, "`additionalProperties` must be a list"),
        ("yaml syntax", "project: [P\nconnections: []\n".into(), 2, "invalid YAML"),
        ("tab indentation", "project: P\nconnections:\n\t- type: email\n".into(), 3, "invalid YAML"),
        ("only comments", "# nothing here\n".into(), 1, "no document"),
        ("infinite number", with(&EMAIL[..3], &["port: .inf"]), 6, "non-finite float"),
        ("huge integer", with(&EMAIL[..3], &["port: 99999999999999999999999"]), 6, "`port` must be an integer"),
    ];
    assert!(cases.len() >= 40);
    for (name, text, line, fragment) in cases {
        assert_rejected(name, text.as_bytes(), line, fragment);
    }
}

#[test]
fn binary_problems_are_errors_not_panics() {
    assert_rejected(
        "non-UTF-8",
        b"project: P\nconnections:\n  - type: \xff\n",
        3,
        "not valid UTF-8",
    );
    assert_rejected("empty file", b"", 1, "no document");
}

#[test]
fn an_alias_bomb_fails_fast() {
    let mut text = String::from("project: P\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        let refs = vec![format!("*a{p}"); 10].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let start = std::time::Instant::now();
    let (code, report) = validate(text.as_bytes());
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(code, 1);
    let message = report["errors"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("invalid YAML"), "{message}");
}

/// Other tools' words get the Apinizer spelling; enum values match ignoring case and
/// common spellings.
#[test]
fn other_tools_words_lead_to_the_apinizer_spelling() {
    let cases: Vec<(&str, String, u64, &str)> = vec![
        (
            "kafka bootstrapServers",
            with(KAFKA, &["bootstrapServers: b:9092"]),
            10,
            "the `propertiesMap` key `bootstrap.servers`",
        ),
        (
            "kafka securityProtocol",
            with(KAFKA, &["securityProtocol: SSL"]),
            10,
            "the `propertiesMap` key `security.protocol`",
        ),
        (
            "database databaseType",
            with(
                &DATABASE[..2],
                &[
                    "databaseType: POSTGRES",
                    "jdbcUrl: j",
                    "useCredentials: false",
                ],
            ),
            5,
            "the Apinizer name is `dbType`: Database product",
        ),
        (
            "database url",
            with(DATABASE, &["url: jdbc:postgresql://h/db"]),
            9,
            "the Apinizer name is `jdbcUrl`",
        ),
        (
            "webhook url",
            with(WEBHOOK, &["url: https://h/x"]),
            5,
            "the Apinizer name is `fullUrl`",
        ),
        (
            "ldap url",
            with(LDAP, &["url: ldap://h"]),
            9,
            "the Apinizer name is `serverAddress`",
        ),
        (
            "activeMq url",
            with(ACTIVEMQ, &["url: tcp://h:61616"]),
            9,
            "the Apinizer name is `brokerURL`",
        ),
        (
            "ldap bindDn",
            with(LDAP, &["bindDn: cn=a"]),
            9,
            "the Apinizer name is `username`: Bind DN",
        ),
        (
            "ldap bind_dn spelling",
            with(LDAP, &["bind_dn: cn=a"]),
            9,
            "the Apinizer name is `username`",
        ),
        (
            "did you mean names the field's purpose",
            with(EMAIL, &["prot: 25"]),
            7,
            "did you mean `port`? SMTP port",
        ),
        (
            "enum other spelling",
            with(
                &DATABASE[..2],
                &["dbType: POSTGRESQL", "jdbcUrl: j", "useCredentials: false"],
            ),
            5,
            "Apinizer spells `POSTGRESQL` as `POSTGRES`",
        ),
        (
            "enum other case",
            with(
                &DATABASE[..2],
                &["dbType: postgres", "jdbcUrl: j", "useCredentials: false"],
            ),
            5,
            "did you mean `POSTGRES`? values are case-sensitive",
        ),
        (
            "enum java tls name",
            with(KAFKA, &["protocolTypes: [TLSv1.2]"]),
            10,
            "Apinizer spells `TLSv1.2` as `TLS_1_2`",
        ),
        (
            "enum sql server",
            with(
                &DATABASE[..2],
                &["dbType: MSSQL", "jdbcUrl: j", "useCredentials: false"],
            ),
            5,
            "did you mean `SQL_SERVER`",
        ),
    ];
    for (name, text, line, fragment) in cases {
        assert_rejected(name, text.as_bytes(), line, fragment);
    }
}

/// Each diagnostic points at the right place and names the real problem.
#[test]
fn exact_diagnostics() {
    let tab = "project: P\nconnections:\n  - type: email\n    name: m\n    host: h\n  \tport: 25\n";
    let cases: Vec<(&str, String, u64, &str)> = vec![
        (
            "tab at its own line",
            tab.to_string(),
            6,
            "indent with spaces",
        ),
        (
            "unknown provider in a secret",
            with(EMAIL, &["password: ${vault:secret/x}"]),
            7,
            "unknown reference provider `vault`: the known references are ${env:NAME} and ${var:NAME}",
        ),
        (
            "yaml 1.1 yes",
            with(EMAIL, &["auth: yes", "username: u", "password: ${env:P}"]),
            7,
            "YAML 1.2 booleans are `true` and `false` (not yes/no/on/off): write `true`",
        ),
        (
            "yaml 1.1 off",
            with(EMAIL, &["enableStartTls: off"]),
            7,
            "write `false`",
        ),
        (
            "yaml 1.1 in a nested object",
            with(
                ES,
                &[
                    "indexLifecyclePolicyCreated: true",
                    "indexLifecyclePolicy:",
                    "  enableHotPhase: on",
                ],
            ),
            9,
            "write `true`",
        ),
        (
            "unit in the hint",
            with(WEBHOOK, &["fullUrl: https://h/x", "timeout: 2s"]),
            6,
            "write an integer here, in s",
        ),
        (
            "yaml 1.1 at document level",
            "project: P\nprune: on\n".into(),
            2,
            "write `true`",
        ),
    ];
    for (name, text, line, fragment) in cases {
        assert_rejected(name, text.as_bytes(), line, fragment);
    }
    let (_, report) = validate(tab.as_bytes());
    assert_eq!(report["errors"][0]["column"], 3, "{report:#}");
    let (_, report) = validate(with(EMAIL, &["password: ${vault:secret/x}"]).as_bytes());
    let text = report.to_string();
    assert!(
        !text.contains("secret/x") && !text.contains("not a literal"),
        "{text}"
    );
    let (_, report) = validate(with(EMAIL, &["auth: yes"]).as_bytes());
    assert!(!report.to_string().contains("without quotes"), "{report:#}");
}
