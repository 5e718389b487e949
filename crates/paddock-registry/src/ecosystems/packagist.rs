//! Packagist: `GET <repo>/p2/<vendor>/<name>.json` (tagged releases) and
//! `…~dev.json` (branches), in Composer's minified format: each entry
//! repeats only what changed from the previous one, `"__unset"` removes a
//! key. Archives are hosted elsewhere (`dist.url`); `dist.shasum` (sha1)
//! is often empty, so the commit `dist.reference` is kept as well.

use paddock_proto::v1::{ArtifactKind, Ecosystem, Release};
use serde_json::{Map, Value};

use super::{artifact, timestamp, ReleaseParts};
use crate::client::RegistryClient;
use crate::digest::digest;
use crate::RegistryError;

/// Expands a minified version list into full entries.
pub fn expand_minified(entries: &[Value]) -> Vec<Map<String, Value>> {
    let mut out = Vec::with_capacity(entries.len());
    let mut current = Map::new();
    for entry in entries {
        let Some(obj) = entry.as_object() else {
            continue;
        };
        for (key, value) in obj {
            if value.as_str() == Some("__unset") {
                current.remove(key);
            } else {
                current.insert(key.clone(), value.clone());
            }
        }
        out.push(current.clone());
    }
    out
}

fn is_dev(version: &str) -> bool {
    version.starts_with("dev-") || version.ends_with("-dev")
}

pub async fn resolve(
    client: &RegistryClient,
    name: &str,
    version: Option<&str>,
) -> Result<Release, RegistryError> {
    let dev = version.is_some_and(is_dev);
    let url = format!(
        "{}p2/{name}{}.json",
        client.url,
        if dev { "~dev" } else { "" }
    );
    let doc: Value = client
        .http
        .get_json(&url)
        .await?
        .ok_or_else(|| RegistryError::NotFound {
            what: format!("Composer package {name}"),
            url: url.clone(),
        })?;
    release_from_p2(&doc, name, version, &url)
}

pub fn release_from_p2(
    doc: &Value,
    name: &str,
    version: Option<&str>,
    url: &str,
) -> Result<Release, RegistryError> {
    let list = doc
        .get("packages")
        .and_then(|p| p.get(name))
        .and_then(Value::as_array)
        .ok_or_else(|| RegistryError::Malformed {
            url: url.to_owned(),
            reason: format!("no `packages.{name}` list"),
        })?;
    let entries = expand_minified(list);
    let version_of =
        |e: &Map<String, Value>| e.get("version").and_then(Value::as_str).map(str::to_owned);
    let chosen = match version {
        Some(wanted) => {
            let bare = |v: &str| v.trim_start_matches(['v', 'V']).to_owned();
            entries
                .iter()
                .find(|e| version_of(e).is_some_and(|v| v == wanted || bare(&v) == bare(wanted)))
                .ok_or_else(|| RegistryError::NoSuchVersion {
                    package: name.to_owned(),
                    version: wanted.to_owned(),
                })?
        }
        None => {
            let versions: Vec<String> = entries
                .iter()
                .filter_map(version_of)
                .filter(|v| !is_dev(v))
                .collect();
            let latest =
                crate::version::latest(Ecosystem::Packagist, versions.iter().map(String::as_str))
                    .ok_or_else(|| RegistryError::NoRelease {
                        package: name.to_owned(),
                        reason: "no tagged releases".into(),
                    })?
                    .to_owned();
            entries
                .iter()
                .find(|e| version_of(e).as_deref() == Some(latest.as_str()))
                .expect("latest comes from the entries")
        }
    };
    let version = version_of(chosen).unwrap_or_default();
    let dist = chosen
        .get("dist")
        .and_then(Value::as_object)
        .ok_or_else(|| RegistryError::NoArtifact {
            package: name.to_owned(),
            version: version.clone(),
            reason: "no dist archive (source-only release)".into(),
        })?;
    let dist_url = dist
        .get("url")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| RegistryError::NoArtifact {
            package: name.to_owned(),
            version: version.clone(),
            reason: "dist has no url".into(),
        })?;
    let mut digests = Vec::new();
    if let Some(sha1) = dist
        .get("shasum")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        digests.push(digest("sha1", sha1.to_ascii_lowercase()));
    }
    if let Some(reference) = dist
        .get("reference")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        digests.push(digest("git-reference", reference));
    }
    let kind = dist.get("type").and_then(Value::as_str).unwrap_or("zip");
    let filename = format!("{}-{version}.{kind}", name.replace('/', "-"));
    Ok(ReleaseParts {
        eco: Ecosystem::Packagist,
        name: name.to_owned(),
        published_at: chosen
            .get("time")
            .and_then(Value::as_str)
            .and_then(timestamp),
        artifacts: vec![artifact(
            &filename,
            dist_url.to_owned(),
            0,
            ArtifactKind::ComposerDist,
            digests,
        )],
        selected: 0,
        yanked: chosen
            .get("abandoned")
            .is_some_and(|a| a != &Value::Bool(false)),
        version,
    }
    .build())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn minified_entries_inherit_and_unset() {
        let list = vec![
            json!({"name": "a/b", "version": "2.0.0", "require": {"php": ">=8"}, "dist": {"url": "u2"}}),
            json!({"version": "1.0.0", "require": "__unset", "dist": {"url": "u1"}}),
        ];
        let full = expand_minified(&list);
        assert_eq!(full[1]["name"], "a/b");
        assert!(!full[1].contains_key("require"));
        assert_eq!(full[0]["require"]["php"], ">=8");
    }

    #[test]
    fn latest_skips_branches_and_pinned_accepts_a_v_prefix() {
        let doc = json!({"packages": {"a/b": [
            {"name": "a/b", "version": "dev-main", "dist": {"url": "ud", "type": "zip", "reference": "r0"}},
            {"version": "v1.2.0", "dist": {"url": "u12", "type": "zip", "reference": "r12", "shasum": ""}, "time": "2024-01-01T00:00:00+00:00"},
            {"version": "v1.10.0", "dist": {"url": "u110", "type": "zip", "reference": "r110", "shasum": "AB"}}
        ]}});
        let r = release_from_p2(&doc, "a/b", None, "x").unwrap();
        assert_eq!(r.package.unwrap().version, "v1.10.0");
        assert_eq!(r.artifacts[0].registry_digests[0].value, "ab");
        let r = release_from_p2(&doc, "a/b", Some("1.2.0"), "x").unwrap();
        assert_eq!(r.artifacts[0].url, "u12");
        assert_eq!(
            r.artifacts[0].registry_digests.len(),
            1,
            "an empty shasum is not a digest"
        );
    }
}
