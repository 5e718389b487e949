//! PHP's `composer.lock`: `packages` and `packages-dev`, each with its
//! `dist` (and its `shasum`, a SHA-1 that Packagist mostly leaves empty).

use serde_json::Value;

use paddock_proto::v1::Ecosystem;

use crate::{Digest, Parsed};

pub(crate) fn composer_lock(text: &str, out: &mut Parsed) -> Result<(), String> {
    let root: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if !root.is_object() {
        return Err("the top level is not an object".into());
    }
    for section in ["packages", "packages-dev"] {
        for entry in root
            .get(section)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = entry
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let version = entry
                .get("version")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let dist = entry.get("dist");
            let dist_type = dist.and_then(|d| d.get("type")).and_then(Value::as_str);
            if name.is_empty()
                || version.is_empty()
                || version.starts_with("dev-")
                || dist_type == Some("path")
            {
                out.warnings.push(format!(
                    "{section}: {name} {version} is not a tagged registry release: not checked"
                ));
                continue;
            }
            let digests = dist
                .and_then(|d| d.get("shasum"))
                .and_then(Value::as_str)
                .and_then(|s| Digest::new("sha1", s))
                .into_iter()
                .collect();
            out.pin(
                Ecosystem::Packagist,
                &name.to_ascii_lowercase(),
                version,
                digests,
            );
        }
    }
    out.check_flat();
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::{parse, Format, Limits};

    #[test]
    fn packages_and_dev_packages_are_pinned_branches_are_not() {
        let text = r#"{"packages": [
            {"name": "Monolog/Monolog", "version": "3.5.0", "dist": {"type": "zip", "shasum": "0123456789abcdef0123456789abcdef01234567"}},
            {"name": "acme/wip", "version": "dev-main", "dist": {"type": "zip", "shasum": ""}}
        ], "packages-dev": [{"name": "phpunit/phpunit", "version": "10.5.0", "dist": {"shasum": ""}}]}"#;
        let (pins, warnings) = parse(text, Format::ComposerLock, &Limits::default()).unwrap();
        let got: Vec<(&str, &str, usize)> = pins
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.digests.len()))
            .collect();
        assert_eq!(
            got,
            [
                ("monolog/monolog", "3.5.0", 1),
                ("phpunit/phpunit", "10.5.0", 0)
            ]
        );
        assert!(warnings[0].contains("acme/wip dev-main"), "{warnings:?}");
        assert!(parse("[1, 2]", Format::ComposerLock, &Limits::default()).is_err());
    }
}
