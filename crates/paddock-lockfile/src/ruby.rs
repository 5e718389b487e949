//! Ruby's `Gemfile.lock`. Read by hand: no maintained crate parses it, and
//! the part needed is small: the gems under each `GEM` source's `specs:`
//! (four spaces, `name (version)` or `name (version-platform)`; their own
//! requirements are indented six), and Bundler's `CHECKSUMS` section
//! (`name (version) sha256=…`, Bundler 2.5 and later). `GIT` and `PATH`
//! sources are not releases.

use std::collections::HashMap;

use paddock_proto::v1::Ecosystem;

use crate::{Digest, Parsed};

pub(crate) fn gemfile_lock(text: &str, out: &mut Parsed) -> Result<(), String> {
    let mut section = "";
    let mut in_specs = false;
    let mut checksums: HashMap<(String, String), Digest> = HashMap::new();
    let mut gems: Vec<(String, String, usize)> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if !line.starts_with(' ') && !line.trim().is_empty() {
            section = line.trim();
            in_specs = false;
            continue;
        }
        if line.trim() == "specs:" {
            in_specs = true;
            continue;
        }
        let Some(spec) = line.strip_prefix("    ").filter(|s| !s.starts_with(' ')) else {
            if section == "CHECKSUMS" {
                if let Some(rest) = line.strip_prefix("  ").filter(|s| !s.starts_with(' ')) {
                    if let Some((gem, digest)) = rest.rsplit_once(' ') {
                        if let (Some((name, version)), Some(digest)) =
                            (name_version(gem), Digest::parse_prefixed(digest))
                        {
                            checksums.insert((name, version), digest);
                        }
                    }
                }
            }
            continue;
        };
        if !in_specs {
            continue;
        }
        let Some((name, version)) = name_version(spec) else {
            return Err(format!(
                "line {}: {spec:?} is not `name (version)`",
                index + 1
            ));
        };
        match section {
            "GEM" => gems.push((name, version, index + 1)),
            "GIT" | "PATH" => out.warnings.push(format!(
                "line {}: {name} {version} comes from a {} source, not a registry release: not checked",
                index + 1,
                section.to_lowercase()
            )),
            _ => {}
        }
    }
    for (name, version, line) in gems {
        let digests = checksums
            .get(&(name.clone(), version.clone()))
            .cloned()
            .into_iter()
            .collect();
        // `1.15.0-x86_64-linux`: the platform gem of release 1.15.0.
        let release = version.split('-').next().unwrap_or(&version);
        out.pin(Ecosystem::Rubygems, &name, release, digests);
        if let Some(pin) = out.pins.last_mut() {
            pin.line = u32::try_from(line).ok();
        }
    }
    Ok(())
}

/// `name (version)`.
fn name_version(text: &str) -> Option<(String, String)> {
    let (name, rest) = text.trim().split_once(" (")?;
    let version = rest.strip_suffix(')')?;
    (!name.is_empty() && !version.is_empty() && !version.contains(' '))
        .then(|| (name.to_owned(), version.to_owned()))
}

#[cfg(test)]
mod tests {
    use crate::{parse, Format, Limits};

    #[test]
    fn gems_with_their_checksums_and_git_gems_named() {
        let h = "e".repeat(64);
        let text = format!(
            "GIT\n  remote: https://example.invalid/x.git\n  revision: abc\n  specs:\n    forked (0.1.0)\n\nGEM\n  remote: http://127.0.0.1:1/\n  specs:\n    nokogiri (1.15.0-x86_64-linux)\n      racc (~> 1.4)\n    racc (1.7.3)\n\nPLATFORMS\n  x86_64-linux\n\nCHECKSUMS\n  racc (1.7.3) sha256={h}\n\nBUNDLED WITH\n   2.5.3\n"
        );
        let (pins, warnings) = parse(&text, Format::GemfileLock, &Limits::default()).unwrap();
        let got: Vec<(&str, &str, usize, Option<u32>)> = pins
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.digests.len(), p.line))
            .collect();
        assert_eq!(
            got,
            [
                ("nokogiri", "1.15.0", 0, Some(10)),
                ("racc", "1.7.3", 1, Some(12))
            ]
        );
        assert!(
            warnings[0].contains("forked 0.1.0 comes from a git source"),
            "{warnings:?}"
        );
        assert!(parse(
            "GEM\n  specs:\n    broken\n",
            Format::GemfileLock,
            &Limits::default()
        )
        .is_err());
    }
}
