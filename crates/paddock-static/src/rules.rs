//! Detection rules, as data.
//!
//! Each file's parse facts (calls, imports, string literals, identifiers —
//! never comments) are mapped to *capabilities* through the tables in
//! [`CAPABILITIES`]. A [`Rule`] fires when all of its clauses hold in one
//! file (each clause: any of its capabilities), optionally only in files
//! that run at install time. Capability rules report what a package can
//! do; threat rules report combinations characteristic of malware, written
//! for the technique rather than any one sample.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use paddock_proto::v1::{Evidence, FileFacts, Finding, FindingCategory, PackageMetadata, Severity};

static PIPE_TO_SHELL: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"(?i)\b(curl|wget|iwr|invoke-webrequest|fetch)\b[^\n]*\|\s*(sudo\s+)?(sh|bash|zsh|iex|python3?|node|perl|ruby)\b")
        .expect("valid regex")
});

/// The rule set's version, recorded on every finding.
pub const RULES_VERSION: &str = "1";

/// What code in a file can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cap {
    Network,
    ProcessSpawn,
    DynamicEval,
    EnvironmentRead,
    SensitiveFile,
    FileWrite,
    FileDelete,
    Base64Decode,
    Obfuscated,
    ReverseShell,
    PipeToShell,
    /// The whole environment is read at once (serialised, copied, listed).
    EnvironmentDump,
    /// A base64 decode within three lines of code evaluation or a spawn.
    DecodedExecution,
}

impl Cap {
    pub fn name(self) -> &'static str {
        match self {
            Cap::Network => "network",
            Cap::ProcessSpawn => "process-spawn",
            Cap::DynamicEval => "dynamic-eval",
            Cap::EnvironmentRead => "environment-read",
            Cap::SensitiveFile => "sensitive-file",
            Cap::FileWrite => "filesystem-write",
            Cap::FileDelete => "filesystem-delete",
            Cap::Base64Decode => "base64-decode",
            Cap::Obfuscated => "obfuscation",
            Cap::ReverseShell => "reverse-shell",
            Cap::PipeToShell => "download-pipe-to-shell",
            Cap::EnvironmentDump => "environment-dump",
            Cap::DecodedExecution => "decoded-execution",
        }
    }
}

/// How a capability shows in facts.
#[derive(Debug)]
pub struct Indicators {
    pub cap: Cap,
    /// Callees: qualified ones match at a segment boundary, bare ones only
    /// bare calls (see `callee_matches`).
    pub calls: &'static [&'static str],
    /// Imported modules, matched exactly or as a prefix before `.`/`/`/`::`.
    pub imports: &'static [&'static str],
    /// Substrings of string literals (case-insensitive).
    pub strings: &'static [&'static str],
    /// Identifiers (names of variables, members, constants).
    pub identifiers: &'static [&'static str],
}

/// The capability tables, across the five languages.
pub const CAPABILITIES: &[Indicators] = &[
    Indicators {
        cap: Cap::Network,
        calls: &[
            "fetch",
            "http.get",
            "https.get",
            "http.request",
            "https.request",
            "net.connect",
            "net.createConnection",
            "XMLHttpRequest",
            "axios.get",
            "axios.post",
            "urlopen",
            "urllib.request.urlopen",
            "requests.get",
            "requests.post",
            "requests.put",
            "httpx.get",
            "httpx.post",
            "socket.connect",
            "Net::HTTP.get",
            "Net::HTTP.post",
            "Net::HTTP.start",
            "TCPSocket.new",
            "URI.open",
            "curl_exec",
            "fsockopen",
            "stream_socket_client",
            "TcpStream::connect",
            "UdpSocket::bind",
            "reqwest::get",
            "ureq::get",
            "ureq::post",
            "dns.resolve",
            "dns.lookup",
            "urlretrieve",
            "urllib.request.urlretrieve",
        ],
        imports: &[
            "http",
            "https",
            "net",
            "dgram",
            "tls",
            "axios",
            "node-fetch",
            "got",
            "request",
            "undici",
            "socket",
            "urllib.request",
            "requests",
            "httpx",
            "aiohttp",
            "http.client",
            "net/http",
            "open-uri",
            "socket",
            "reqwest",
            "ureq",
            "hyper",
        ],
        strings: &[],
        identifiers: &[],
    },
    Indicators {
        cap: Cap::ProcessSpawn,
        calls: &[
            "child_process.exec",
            "exec",
            "execSync",
            "spawn",
            "spawnSync",
            "execFile",
            "execFileSync",
            "fork",
            "os.system",
            "os.popen",
            "subprocess.run",
            "subprocess.call",
            "subprocess.Popen",
            "subprocess.check_call",
            "subprocess.check_output",
            "pty.spawn",
            "os.execv",
            "os.execve",
            "os.spawnv",
            "system",
            "Kernel.system",
            "Kernel.exec",
            "IO.popen",
            "Open3.popen3",
            "Open3.capture2",
            "spawn",
            "shell_exec",
            "passthru",
            "proc_open",
            "popen",
            "pcntl_exec",
            "Command::new",
        ],
        imports: &["child_process", "subprocess", "open3", "std::process"],
        strings: &[],
        identifiers: &[],
    },
    Indicators {
        cap: Cap::DynamicEval,
        calls: &[
            "eval",
            "Function",
            "vm.runInNewContext",
            "vm.runInThisContext",
            "vm.Script",
            "exec",
            "compile",
            "instance_eval",
            "class_eval",
            "module_eval",
            "create_function",
            "__import__",
        ],
        imports: &["vm"],
        strings: &[],
        identifiers: &[],
    },
    Indicators {
        cap: Cap::EnvironmentRead,
        calls: &[
            "os.getenv",
            "getenv",
            "os.environ.get",
            "env::var",
            "std::env::var",
            "env::vars",
            "std::env::vars",
            "ENV.fetch",
            "ENV.to_h",
        ],
        imports: &[],
        strings: &[],
        identifiers: &["environ", "ENV", "_ENV"],
    },
    Indicators {
        cap: Cap::SensitiveFile,
        calls: &[],
        imports: &[],
        strings: &[
            "/.ssh/",
            "id_rsa",
            "id_ed25519",
            ".aws/credentials",
            "/etc/passwd",
            "/etc/shadow",
            ".npmrc",
            ".pypirc",
            ".docker/config.json",
            ".kube/config",
            ".git-credentials",
            ".netrc",
            "login data",
            "cookies.sqlite",
            "wallet.dat",
            ".gnupg",
            "keychain",
            ".config/gcloud",
            ".azure/",
        ],
        identifiers: &[],
    },
    Indicators {
        cap: Cap::FileWrite,
        calls: &[
            "fs.writeFile",
            "writeFile",
            "writeFileSync",
            "appendFile",
            "appendFileSync",
            "createWriteStream",
            "File.write",
            "IO.write",
            "file_put_contents",
            "fwrite",
            "fs::write",
            "File::create",
            "urlretrieve",
            "urllib.request.urlretrieve",
            "write_bytes",
            "write_text",
            "os.write",
            "shutil.copyfileobj",
        ],
        imports: &[],
        strings: &[],
        identifiers: &[],
    },
    Indicators {
        cap: Cap::FileDelete,
        calls: &[
            "unlink",
            "fs.unlink",
            "fs.rm",
            "fs.rmdir",
            "unlinkSync",
            "rmSync",
            "rmdirSync",
            "rimraf",
            "os.remove",
            "os.unlink",
            "shutil.rmtree",
            "File.delete",
            "FileUtils.rm_rf",
            "fs::remove_file",
            "fs::remove_dir_all",
        ],
        imports: &[],
        strings: &[],
        identifiers: &[],
    },
    Indicators {
        cap: Cap::Base64Decode,
        calls: &[
            "atob",
            "b64decode",
            "base64.b64decode",
            "base64.decodebytes",
            "Base64.decode64",
            "Base64.strict_decode64",
            "base64_decode",
            "decode_base64",
            "base64::decode",
            "STANDARD.decode",
            "BASE64_STANDARD.decode",
            "URL_SAFE.decode",
        ],
        imports: &[],
        strings: &[],
        identifiers: &[],
    },
    Indicators {
        cap: Cap::ReverseShell,
        calls: &[],
        imports: &[],
        strings: &[
            "/dev/tcp/",
            "/bin/sh -i",
            "/bin/bash -i",
            "bash -i",
            "sh -i >&",
            "nc -e ",
            "ncat -e ",
            "nc -c ",
            "mkfifo /tmp/",
            "0<&196",
        ],
        identifiers: &[],
    },
];

/// Where a rule looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    AnyFile,
    /// Files that run at install time (setup.py, npm install scripts,
    /// extconf.rb, build.rs, Composer scripts).
    InstallFile,
}

/// One detection rule.
#[derive(Debug)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub category: FindingCategory,
    pub title: &'static str,
    /// Clauses that must all hold in one file; a clause holds when any of
    /// its capabilities does.
    pub requires: &'static [&'static [Cap]],
    pub scope: Scope,
}

/// Every rule, capability rules first.
pub const RULES: &[Rule] = &[
    Rule {
        id: "capability.network",
        severity: Severity::Info,
        category: FindingCategory::Capability,
        title: "makes network requests",
        requires: &[&[Cap::Network]],
        scope: Scope::AnyFile,
    },
    Rule {
        id: "capability.process-spawn",
        severity: Severity::Info,
        category: FindingCategory::Capability,
        title: "runs other programs",
        requires: &[&[Cap::ProcessSpawn]],
        scope: Scope::AnyFile,
    },
    Rule {
        id: "capability.dynamic-eval",
        severity: Severity::Low,
        category: FindingCategory::Capability,
        title: "evaluates code built at run time",
        requires: &[&[Cap::DynamicEval]],
        scope: Scope::AnyFile,
    },
    Rule {
        id: "capability.environment-read",
        severity: Severity::Info,
        category: FindingCategory::Capability,
        title: "reads environment variables",
        requires: &[&[Cap::EnvironmentRead]],
        scope: Scope::AnyFile,
    },
    Rule {
        id: "capability.sensitive-file",
        severity: Severity::Low,
        category: FindingCategory::Capability,
        title: "refers to credential or system files in code",
        requires: &[&[Cap::SensitiveFile]],
        scope: Scope::AnyFile,
    },
    Rule {
        id: "capability.filesystem-write",
        severity: Severity::Info,
        category: FindingCategory::Capability,
        title: "writes files",
        requires: &[&[Cap::FileWrite]],
        scope: Scope::AnyFile,
    },
    Rule {
        id: "capability.filesystem-delete",
        severity: Severity::Info,
        category: FindingCategory::Capability,
        title: "deletes files",
        requires: &[&[Cap::FileDelete]],
        scope: Scope::AnyFile,
    },
    Rule {
        id: "threat.exec-decoded-base64",
        severity: Severity::High,
        category: FindingCategory::Threat,
        title: "runs code or commands decoded from base64",
        requires: &[&[Cap::DecodedExecution]],
        scope: Scope::AnyFile,
    },
    Rule {
        id: "threat.obfuscated-eval",
        severity: Severity::High,
        category: FindingCategory::Threat,
        title: "evaluates code in an obfuscated file",
        requires: &[&[Cap::Obfuscated], &[Cap::DynamicEval]],
        scope: Scope::AnyFile,
    },
    Rule {
        id: "threat.reverse-shell",
        severity: Severity::Critical,
        category: FindingCategory::Threat,
        title: "opens a reverse shell",
        requires: &[
            &[Cap::ReverseShell],
            &[Cap::ProcessSpawn, Cap::Network, Cap::DynamicEval],
        ],
        scope: Scope::AnyFile,
    },
    Rule {
        id: "threat.download-and-execute",
        severity: Severity::High,
        category: FindingCategory::Threat,
        title: "downloads a payload and pipes it to a shell",
        requires: &[&[Cap::PipeToShell], &[Cap::ProcessSpawn]],
        scope: Scope::AnyFile,
    },
    Rule {
        id: "threat.install-download-and-execute",
        severity: Severity::Medium,
        category: FindingCategory::Threat,
        title: "downloads, writes and runs a program at install time (prebuilt-binary installers do this too)",
        requires: &[&[Cap::Network], &[Cap::FileWrite], &[Cap::ProcessSpawn]],
        scope: Scope::InstallFile,
    },
    Rule {
        id: "threat.environment-exfiltration",
        severity: Severity::High,
        category: FindingCategory::Threat,
        title: "reads the whole environment and uses the network",
        requires: &[&[Cap::EnvironmentDump], &[Cap::Network]],
        scope: Scope::AnyFile,
    },
    Rule {
        id: "threat.install-sensitive-file-read",
        severity: Severity::High,
        category: FindingCategory::Threat,
        title: "touches credential or system files at install time",
        requires: &[&[Cap::SensitiveFile]],
        scope: Scope::InstallFile,
    },
    Rule {
        id: "threat.install-network",
        severity: Severity::Medium,
        category: FindingCategory::Threat,
        title: "uses the network at install time",
        requires: &[&[Cap::Network]],
        scope: Scope::InstallFile,
    },
    Rule {
        id: "threat.install-process-spawn",
        severity: Severity::Low,
        category: FindingCategory::Threat,
        title: "runs programs at install time",
        requires: &[&[Cap::ProcessSpawn]],
        scope: Scope::InstallFile,
    },
];

/// Call patterns by their last segment, so that each call is compared with
/// the few patterns that can match it.
static CALLS_BY_LAST_SEGMENT: LazyLock<
    std::collections::HashMap<&'static str, Vec<(Cap, &'static str)>>,
> = LazyLock::new(|| {
    let mut index: std::collections::HashMap<&'static str, Vec<(Cap, &'static str)>> =
        std::collections::HashMap::new();
    for ind in CAPABILITIES {
        for pattern in ind.calls {
            index
                .entry(last_segment(pattern))
                .or_default()
                .push((ind.cap, pattern));
        }
    }
    index
});

fn last_segment(callee: &str) -> &str {
    let dot = callee.rfind('.').map(|i| i + 1).unwrap_or(0);
    let colons = callee.rfind("::").map(|i| i + 2).unwrap_or(0);
    &callee[dot.max(colons)..]
}

/// The capabilities found in one file, each with its first evidence.
pub fn capabilities(file: &FileFacts) -> BTreeMap<Cap, Evidence> {
    let mut found = BTreeMap::new();
    let Some(parse) = &file.parse else {
        return found;
    };
    let evidence = |line: u32, snippet: &str| Evidence {
        file: file.path.clone(),
        line,
        snippet: snippet.chars().take(200).collect(),
        ..Default::default()
    };
    let mut decode_lines = Vec::new();
    let mut run_lines = Vec::new();
    for call in &parse.calls {
        let callee = call.callee.trim_start_matches("new ").trim();
        if let Some(e) = environment_dump(callee, call) {
            found
                .entry(Cap::EnvironmentDump)
                .or_insert_with(|| evidence(call.line, e));
        }
        let Some(candidates) = CALLS_BY_LAST_SEGMENT.get(last_segment(callee)) else {
            continue;
        };
        for (cap, pattern) in candidates {
            if !callee_matches(callee, pattern) {
                continue;
            }
            match cap {
                Cap::Base64Decode => decode_lines.push((call.line, call.callee.as_str())),
                Cap::DynamicEval | Cap::ProcessSpawn => {
                    run_lines.push((call.line, call.callee.as_str()))
                }
                _ => {}
            }
            found
                .entry(*cap)
                .or_insert_with(|| evidence(call.line, &call.callee));
        }
    }
    // `Buffer.from(x, 'base64')`.
    let buffer_from = parse
        .calls
        .iter()
        .find(|c| c.callee.ends_with("Buffer.from") && c.arg_count >= 2);
    if let Some(call) =
        buffer_from.filter(|_| parse.string_literals.iter().any(|s| s.value == "base64"))
    {
        decode_lines.push((call.line, call.callee.as_str()));
        found
            .entry(Cap::Base64Decode)
            .or_insert_with(|| evidence(call.line, "Buffer.from(…, 'base64')"));
    }
    // Decoding close to running: the decoded value most likely flows in.
    'pairs: for (decode_line, decode) in &decode_lines {
        for (run_line, run) in &run_lines {
            if decode_line.abs_diff(*run_line) <= 3 {
                let e = evidence(*decode_line, &format!("{decode} … {run} (line {run_line})"));
                found.entry(Cap::DecodedExecution).or_insert(e);
                break 'pairs;
            }
        }
    }
    for import in &parse.imports {
        for ind in CAPABILITIES {
            if !found.contains_key(&ind.cap)
                && ind
                    .imports
                    .iter()
                    .any(|p| module_matches(&import.module, p))
            {
                found.insert(ind.cap, evidence(import.line, &import.module));
            }
        }
    }
    let string_indicators: Vec<&Indicators> = CAPABILITIES
        .iter()
        .filter(|i| !i.strings.is_empty())
        .collect();
    for lit in &parse.string_literals {
        if lit.value.len() < 4 {
            continue;
        }
        let lower = lit.value.to_lowercase();
        for ind in &string_indicators {
            if !found.contains_key(&ind.cap) && ind.strings.iter().any(|p| lower.contains(p)) {
                found.insert(ind.cap, evidence(lit.line, &lit.value));
            }
        }
    }
    for ind in CAPABILITIES.iter().filter(|i| !i.identifiers.is_empty()) {
        if found.contains_key(&ind.cap) {
            continue;
        }
        if let Some(i) = parse
            .identifiers
            .iter()
            .find(|i| ind.identifiers.contains(&i.name.as_str()))
        {
            found.insert(ind.cap, evidence(i.line, &i.name));
        }
    }
    // JavaScript's environment: `process.env`.
    let process = parse.identifiers.iter().any(|i| i.name == "process");
    if let Some(env) = parse
        .identifiers
        .iter()
        .find(|i| i.name == "env")
        .filter(|_| process)
    {
        found
            .entry(Cap::EnvironmentRead)
            .or_insert_with(|| evidence(env.line, "process.env"));
    }
    // `curl … | sh`, `wget -O- … | bash`, `iwr … | iex`.
    if let Some(s) = parse
        .string_literals
        .iter()
        .find(|s| PIPE_TO_SHELL.is_match(&s.value))
    {
        found.insert(Cap::PipeToShell, evidence(s.line, &s.value));
    }
    if file.signals.as_ref().is_some_and(|s| s.obfuscated) {
        found.insert(
            Cap::Obfuscated,
            evidence(0, "obfuscated identifiers or strings"),
        );
    }
    found
}

/// Whether a call serialises the whole environment — the step before
/// sending it somewhere: `JSON.stringify(process.env)`,
/// `json.dumps(dict(os.environ))`, `str(os.environ)`,
/// `json_encode(getenv())`, `ENV.to_h.to_s`, Rust's `env::vars()`. Copying
/// the environment for a child process (`os.environ.copy()`) is not.
fn environment_dump<'a>(callee: &str, call: &'a paddock_proto::v1::Call) -> Option<&'a str> {
    const WHOLE: [&str; 7] = [
        "process.env",
        "os.environ",
        "ENV",
        "getenv()",
        "$_ENV",
        "$_SERVER",
        "env::vars()",
    ];
    const SERIALISERS: [&str; 18] = [
        "JSON.stringify",
        "querystring.stringify",
        "btoa",
        "encodeURIComponent",
        "json.dumps",
        "str",
        "repr",
        "urlencode",
        "urllib.parse.urlencode",
        "base64.b64encode",
        "pickle.dumps",
        "json_encode",
        "http_build_query",
        "serialize",
        "var_export",
        "print_r",
        "to_json",
        "Marshal.dump",
    ];
    let arg = call.first_argument.trim();
    let whole_arg = WHOLE
        .iter()
        .any(|w| arg == *w || arg == format!("dict({w})") || arg.starts_with(&format!("{w}.to_")));
    let serialises = SERIALISERS
        .iter()
        .any(|s| callee == *s || callee.ends_with(&format!(".{s}")));
    let dumps = (serialises && whole_arg)
        || matches!(
            callee,
            "ENV.to_h.to_s"
                | "ENV.to_h.to_json"
                | "ENV.to_a.to_s"
                | "ENV.inspect"
                | "ENV.to_s"
                | "env::vars"
                | "std::env::vars"
        );
    dumps.then_some(call.callee.as_str())
}

/// A qualified pattern (`os.system`, `Command::new`) matches the callee or
/// its suffix at a segment boundary. A short bare one (`eval`, `exec`,
/// `compile`) matches only a bare call, so `re.compile` and a RegExp's
/// `exec` are not code evaluation; a distinctive bare name of 8 or more
/// characters (`writeFileSync`, `b64decode`) matches as a method too.
fn callee_matches(callee: &str, pattern: &str) -> bool {
    let callee = callee.trim_start_matches("new ").trim();
    if callee == pattern {
        return true;
    }
    if !pattern.contains(['.', ':']) && pattern.len() < 8 {
        return false;
    }
    match callee.strip_suffix(pattern) {
        Some(head) => head.ends_with('.') || head.ends_with("::"),
        None => false,
    }
}

fn module_matches(module: &str, pattern: &str) -> bool {
    let module = module.trim_start_matches("node:");
    module == pattern
        || module.strip_prefix(pattern).is_some_and(|rest| {
            rest.starts_with('.') || rest.starts_with('/') || rest.starts_with("::")
        })
}

/// Evaluates every rule over the package's files.
pub fn evaluate(
    files: &[FileFacts],
    meta: &PackageMetadata,
    install_files: &[String],
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for hook in &meta.install_hooks {
        let preinstall = hook.name == "preinstall";
        findings.push(Finding {
            rule_id: if preinstall {
                "threat.npm-preinstall-script"
            } else {
                "capability.install-hook"
            }
            .into(),
            rule_version: RULES_VERSION.into(),
            severity: if preinstall {
                Severity::Medium
            } else {
                Severity::Low
            } as i32,
            confidence: 1.0,
            category: if preinstall {
                FindingCategory::Threat
            } else {
                FindingCategory::Capability
            } as i32,
            title: format!(
                "runs code at install time ({}: {})",
                hook.name,
                truncate(&hook.command, 80)
            ),
            evidence: vec![Evidence {
                file: hook.file.clone(),
                snippet: truncate(&hook.command, 200),
                ..Default::default()
            }],
            ..Default::default()
        });
    }
    for bin in &meta.bundled_binaries {
        findings.push(Finding {
            rule_id: "signal.bundled-binary".into(),
            rule_version: RULES_VERSION.into(),
            severity: Severity::Low as i32,
            confidence: 1.0,
            category: FindingCategory::Signal as i32,
            title: "ships a compiled executable or library".into(),
            evidence: vec![Evidence {
                file: bin.clone(),
                ..Default::default()
            }],
            ..Default::default()
        });
    }
    for file in files {
        let caps = capabilities(file);
        if caps.is_empty() {
            continue;
        }
        let install = install_files.contains(&file.path);
        for rule in RULES {
            if rule.scope == Scope::InstallFile && !install {
                continue;
            }
            let mut evidence = Vec::new();
            let holds =
                rule.requires
                    .iter()
                    .all(|clause| match clause.iter().find_map(|c| caps.get(c)) {
                        Some(e) => {
                            evidence.push(e.clone());
                            true
                        }
                        None => false,
                    });
            if holds {
                findings.push(Finding {
                    rule_id: rule.id.into(),
                    rule_version: RULES_VERSION.into(),
                    severity: rule.severity as i32,
                    confidence: if rule.category == FindingCategory::Threat {
                        0.8
                    } else {
                        1.0
                    },
                    category: rule.category as i32,
                    title: rule.title.into(),
                    evidence,
                    ..Default::default()
                });
            }
        }
    }
    // Most severe first.
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.rule_id.cmp(&b.rule_id))
    });
    findings
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}
