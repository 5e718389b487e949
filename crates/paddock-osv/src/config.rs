//! What a deployment says about its reports: who found them, how to reach
//! them, where a reader sees the analysis, and which hosts never count as
//! indicators.

use serde::{Deserialize, Serialize};

/// The placeholders a report URL template may use.
pub const URL_PLACEHOLDERS: [&str; 3] = ["{ecosystem}", "{name}", "{version}"];

/// How reports are credited and referenced. Injected by the caller; no
/// default names a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OsvConfig {
    /// The source id in report ids and file names
    /// (`MAL-0000-<source>-<hex>`); the database wants `^[a-z0-9-]+$`.
    pub source: String,
    /// The name in `credits` (type FINDER).
    pub finder: String,
    /// Contacts in the credit: URLs or `mailto:` addresses.
    pub contact: Vec<String>,
    /// The page of one analysis, with `{ecosystem}`, `{name}` and
    /// `{version}` filled in (percent-encoded); a `REPORT` reference per
    /// reported version when set, none otherwise.
    pub report_url: Option<String>,
    /// Hosts that never count as indicators on their own, added to the
    /// built-in list (`data/generic-domains.txt`): typically the
    /// registries the deployment is configured with.
    pub ignore_domains: Vec<String>,
    /// The most entries each indicator list (domains, IPs, URLs, files)
    /// holds: reviewers reject inflated lists.
    pub max_iocs: usize,
}

impl Default for OsvConfig {
    fn default() -> Self {
        Self {
            source: "paddock".into(),
            finder: "Paddock".into(),
            contact: Vec::new(),
            report_url: None,
            ignore_domains: Vec::new(),
            max_iocs: 50,
        }
    }
}

/// A configuration that would write reports the database refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("osv source `{0}` must be lowercase letters, digits and `-` (the database's source id pattern)")]
    Source(String),
    #[error("osv finder name is empty: a report must say who found it")]
    Finder,
    #[error("osv report_url `{template}` is not an absolute http(s) URL once filled in: {reason}")]
    ReportUrl { template: String, reason: String },
    #[error("osv max_iocs must be between 1 and 1000, not {0}")]
    MaxIocs(usize),
}

impl OsvConfig {
    /// Checks what [`crate::report`] relies on; call it when the
    /// configuration is loaded.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.source.is_empty()
            || !self
                .source
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(ConfigError::Source(self.source.clone()));
        }
        if self.finder.trim().is_empty() {
            return Err(ConfigError::Finder);
        }
        if let Some(template) = &self.report_url {
            let filled = fill(template, "npm", "@scope/name", "1.0.0");
            match url::Url::parse(&filled) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
                Ok(u) => {
                    return Err(ConfigError::ReportUrl {
                        template: template.clone(),
                        reason: format!("scheme `{}` or no host", u.scheme()),
                    })
                }
                Err(e) => {
                    return Err(ConfigError::ReportUrl {
                        template: template.clone(),
                        reason: e.to_string(),
                    })
                }
            }
        }
        if !(1..=1000).contains(&self.max_iocs) {
            return Err(ConfigError::MaxIocs(self.max_iocs));
        }
        Ok(())
    }

    /// The report URL of one release, when the configuration has a
    /// template and the result is a valid URL.
    pub fn report_url(&self, ecosystem: &str, name: &str, version: &str) -> Option<String> {
        let filled = fill(self.report_url.as_deref()?, ecosystem, name, version);
        url::Url::parse(&filled).ok().map(|u| u.to_string())
    }
}

/// The template with its placeholders replaced by percent-encoded values.
fn fill(template: &str, ecosystem: &str, name: &str, version: &str) -> String {
    template
        .replace("{ecosystem}", &encode(ecosystem))
        .replace("{name}", &encode(name))
        .replace("{version}", &encode(version))
}

/// Percent-encodes everything but RFC 3986's unreserved characters and
/// `@` (npm scopes read better with it).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_valid_and_names_no_host() {
        let c = OsvConfig::default();
        c.validate().unwrap();
        assert_eq!(c.report_url("npm", "x", "1"), None);
    }

    #[test]
    fn report_urls_are_filled_and_encoded() {
        let c = OsvConfig {
            report_url: Some("https://paddock.example/r/{ecosystem}/{name}/{version}".into()),
            ..OsvConfig::default()
        };
        c.validate().unwrap();
        assert_eq!(
            c.report_url("npm", "@scope/na me", "1.0.0+b").unwrap(),
            "https://paddock.example/r/npm/@scope%2Fna%20me/1.0.0%2Bb"
        );
    }

    #[test]
    fn bad_configurations_are_refused_with_the_reason() {
        let bad = |f: fn(&mut OsvConfig)| {
            let mut c = OsvConfig::default();
            f(&mut c);
            c.validate().unwrap_err()
        };
        assert!(matches!(
            bad(|c| c.source = "Paddock".into()),
            ConfigError::Source(_)
        ));
        assert!(matches!(
            bad(|c| c.source = String::new()),
            ConfigError::Source(_)
        ));
        assert_eq!(bad(|c| c.finder = " ".into()), ConfigError::Finder);
        assert!(matches!(
            bad(|c| c.report_url = Some("/r/{name}".into())),
            ConfigError::ReportUrl { .. }
        ));
        assert!(matches!(
            bad(|c| c.report_url = Some("file:///r/{name}".into())),
            ConfigError::ReportUrl { .. }
        ));
        assert_eq!(bad(|c| c.max_iocs = 0), ConfigError::MaxIocs(0));
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = serde_json::from_str::<OsvConfig>(r#"{"sorce": "x"}"#).unwrap_err();
        assert!(err.to_string().contains("sorce"), "{err}");
    }
}
