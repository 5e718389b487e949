//! `.netrc` parsing.
//!
//! ```
//! let netrc = dotnetrc::Netrc::parse("machine api.example.com login bot password s3cret").unwrap();
//! let entry = netrc.lookup("api.example.com").unwrap();
//! assert_eq!((entry.login.as_deref(), entry.password.as_deref()), (Some("bot"), Some("s3cret")));
//! ```

use std::env;
use std::fmt;
use std::fs;
use std::io;
use std::path::PathBuf;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    pub login: Option<String>,
    pub password: Option<String>,
    pub account: Option<String>,
}

#[derive(Debug, Default)]
pub struct Netrc {
    machines: Vec<(String, Entry)>,
    default: Option<Entry>,
}

#[derive(Debug)]
pub enum Error {
    Io(io::Error),
    /// The file is readable by other users (curl and ftp refuse it too).
    InsecurePermissions(PathBuf),
    Parse(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "reading .netrc: {e}"),
            Error::InsecurePermissions(p) => write!(f, "{} is readable by other users; chmod 600 it", p.display()),
            Error::Parse(msg) => write!(f, "parsing .netrc: {msg}"),
        }
    }
}

impl std::error::Error for Error {}

impl Netrc {
    /// `$NETRC`, else `~/.netrc` (`~/_netrc` on Windows).
    pub fn default_path() -> Option<PathBuf> {
        if let Some(path) = env::var_os("NETRC") {
            return Some(PathBuf::from(path));
        }
        let home = env::var_os("HOME").or_else(|| env::var_os("USERPROFILE"))?;
        let name = if cfg!(windows) { "_netrc" } else { ".netrc" };
        Some(PathBuf::from(home).join(name))
    }

    /// Loads the default file; a missing file is an empty Netrc.
    pub fn load() -> Result<Netrc, Error> {
        match Netrc::default_path() {
            Some(path) => Netrc::from_file(path),
            None => Ok(Netrc::default()),
        }
    }

    pub fn from_file(path: PathBuf) -> Result<Netrc, Error> {
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Netrc::default()),
            Err(e) => return Err(Error::Io(e)),
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).map_err(Error::Io)?.permissions().mode();
            if mode & 0o077 != 0 && text.contains("password") {
                return Err(Error::InsecurePermissions(path));
            }
        }
        Netrc::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Netrc, Error> {
        let mut netrc = Netrc::default();
        let mut tokens = Tokens::new(text);
        // Which entry the following login/password tokens belong to.
        enum Current {
            None,
            Machine,
            Default,
        }
        let mut current = Current::None;
        while let Some(token) = tokens.next() {
            match token.as_str() {
                "machine" => {
                    let name = tokens.next().ok_or_else(|| Error::Parse("machine without a name".into()))?;
                    netrc.machines.push((name.to_ascii_lowercase(), Entry::default()));
                    current = Current::Machine;
                }
                "default" => {
                    netrc.default = Some(Entry::default());
                    current = Current::Default;
                }
                "macdef" => {
                    // Macro definitions run to the next blank line; skip them.
                    tokens.skip_macro();
                    current = Current::None;
                }
                key @ ("login" | "password" | "account") => {
                    let value = tokens.next().ok_or_else(|| Error::Parse(format!("{key} without a value")))?;
                    let entry = match current {
                        Current::Machine => &mut netrc.machines.last_mut().unwrap().1,
                        Current::Default => netrc.default.as_mut().unwrap(),
                        Current::None => return Err(Error::Parse(format!("{key} outside a machine entry"))),
                    };
                    let slot = match key {
                        "login" => &mut entry.login,
                        "password" => &mut entry.password,
                        _ => &mut entry.account,
                    };
                    *slot = Some(value);
                }
                other => return Err(Error::Parse(format!("unexpected token {other:?}"))),
            }
        }
        Ok(netrc)
    }

    /// The entry for `host` (case-insensitive), else the default entry.
    pub fn lookup(&self, host: &str) -> Option<&Entry> {
        let host = host.to_ascii_lowercase();
        self.machines
            .iter()
            .find(|(name, _)| *name == host)
            .map(|(_, e)| e)
            .or(self.default.as_ref())
    }

    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        self.machines.iter().map(|(name, _)| name.as_str())
    }
}

/// Whitespace-separated tokens; double quotes group, `#` starts a comment.
struct Tokens<'a> {
    rest: &'a str,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str) -> Self {
        Tokens { rest: text }
    }

    fn skip_macro(&mut self) {
        match self.rest.find("\n\n") {
            Some(i) => self.rest = &self.rest[i + 2..],
            None => self.rest = "",
        }
    }

    fn next(&mut self) -> Option<String> {
        loop {
            self.rest = self.rest.trim_start();
            if self.rest.starts_with('#') {
                let end = self.rest.find('\n').unwrap_or(self.rest.len());
                self.rest = &self.rest[end..];
                continue;
            }
            break;
        }
        if self.rest.is_empty() {
            return None;
        }
        if let Some(body) = self.rest.strip_prefix('"') {
            let mut out = String::new();
            let mut chars = body.char_indices();
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' => {
                        self.rest = &body[i + 1..];
                        return Some(out);
                    }
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            out.push(escaped);
                        }
                    }
                    c => out.push(c),
                }
            }
            self.rest = "";
            return Some(out);
        }
        let end = self.rest.find(char::is_whitespace).unwrap_or(self.rest.len());
        let token = self.rest[..end].to_owned();
        self.rest = &self.rest[end..];
        Some(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
# CI credentials
machine git.example.com login ci-bot password "pa ss\"word"
machine FILES.example.org
    login anonymous
    password guest@example.org
macdef init
cd /pub
binary

default login fallback password fallback-pass
"#;

    #[test]
    fn lookups() {
        let n = Netrc::parse(SAMPLE).unwrap();
        let e = n.lookup("git.example.com").unwrap();
        assert_eq!(e.login.as_deref(), Some("ci-bot"));
        assert_eq!(e.password.as_deref(), Some("pa ss\"word"));
        assert_eq!(n.lookup("files.example.org").unwrap().login.as_deref(), Some("anonymous"));
        assert_eq!(n.lookup("other.example.net").unwrap().login.as_deref(), Some("fallback"));
        assert_eq!(n.hosts().collect::<Vec<_>>(), ["git.example.com", "files.example.org"]);
    }

    #[test]
    fn errors() {
        assert!(Netrc::parse("login x").is_err());
        assert!(Netrc::parse("machine").is_err());
        assert!(Netrc::parse("machine a bogus").is_err());
    }
}
