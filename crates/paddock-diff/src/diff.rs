//! The behavioural diff: which items a release has that its predecessor
//! did not (added), and the other way round (removed).
//!
//! Only parts both profiles have are compared: static items when both
//! have a static analysis, dynamic items when both have a dynamic one. A
//! release whose sandbox run is missing does not make every behaviour of
//! the other look new. When a profile had to cut items of a kind and
//! phase, items past the last one it kept are unknown for it and are not
//! reported either way.
//!
//! Removed items are reported for the record; scoring never escalates on
//! them.

use paddock_proto::v1::{BehaviorChange, Change, ChangeAction, Evidence, Severity};

use crate::profile::{ItemKey, Kind, Profile};

/// The changes from `previous` to `next`: added items, then removed ones,
/// each in item order.
pub fn diff(previous: &Profile, next: &Profile) -> Vec<Change> {
    let compare_static = previous.has_static && next.has_static;
    let compare_dynamic = previous.has_dynamic && next.has_dynamic;
    let comparable = |k: &ItemKey| {
        if k.phase.is_static() {
            compare_static
        } else {
            compare_dynamic
        }
    };
    let mut out = Vec::new();
    for (key, raw) in &next.items {
        if comparable(key) && !previous.items.contains_key(key) && known_to(previous, key) {
            out.push(change(key, raw, ChangeAction::Added));
        }
    }
    for (key, raw) in &previous.items {
        if comparable(key) && !next.items.contains_key(key) && known_to(next, key) {
            out.push(change(key, raw, ChangeAction::Removed));
        }
    }
    out
}

/// Whether `profile` would have kept `key` had it seen it: it cut nothing
/// of that kind and phase, or `key` sorts before its last kept item.
fn known_to(profile: &Profile, key: &ItemKey) -> bool {
    profile
        .horizon(key.kind, key.phase)
        .is_none_or(|last| key <= last)
}

/// One change for an item, with its raw example as evidence.
pub fn change(key: &ItemKey, raw: &str, action: ChangeAction) -> Change {
    let file_kind = matches!(
        key.kind,
        Kind::FileWrite | Kind::FileRead | Kind::FileDelete | Kind::BundledBinary
    );
    Change {
        kind: key.kind.to_proto().into(),
        action: action.into(),
        value: key.value.clone(),
        phase: key.phase.to_proto().into(),
        evidence_hash: key.evidence_hash(),
        evidence: vec![Evidence {
            file: if file_kind {
                raw.to_owned()
            } else {
                String::new()
            },
            phase: key.phase.to_proto().into(),
            detail: raw.to_owned(),
            ..Default::default()
        }],
    }
}

/// The item a change stands for, if its kind is known. The phase of a
/// static change and of a dynamic one of unknown phase are both
/// unspecified on the wire; the kind tells them apart for all but
/// dependencies, which are taken as static.
pub fn item_key(c: &Change) -> Option<ItemKey> {
    use crate::profile::PhaseLite;
    let kind = Kind::from_proto(c.kind())?;
    let phase = match c.phase() {
        paddock_proto::v1::Phase::Unspecified => match kind {
            Kind::Host
            | Kind::DnsName
            | Kind::Command
            | Kind::FileWrite
            | Kind::FileRead
            | Kind::FileDelete
            | Kind::Finding => PhaseLite::Dynamic,
            _ => PhaseLite::Static,
        },
        p => PhaseLite::from_dynamic(p),
    };
    Some(ItemKey::new(kind, phase, c.value.clone()))
}

/// The message published for a release that behaves differently from its
/// predecessor. `created_at` is left for the publisher to stamp.
pub fn behavior_change(
    previous: &Profile,
    next: &Profile,
    changes: Vec<Change>,
    severity: Severity,
) -> BehaviorChange {
    BehaviorChange {
        package: Some(next.package.to_proto()),
        previous_version: previous.package.version.clone(),
        created_at: None,
        changes,
        severity: severity.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{PackageRefLite, PhaseLite, MAX_ITEMS_PER_GROUP};

    fn profile(version: &str, items: &[(Kind, PhaseLite, &str)]) -> Profile {
        let mut p = Profile::new(PackageRefLite {
            ecosystem: "npm".into(),
            name: "x".into(),
            version: version.into(),
        });
        p.has_static = true;
        p.has_dynamic = true;
        for (k, ph, v) in items {
            p.insert(*k, *ph, *v, &format!("raw {v}"));
        }
        p
    }

    fn summary(changes: &[Change]) -> Vec<String> {
        changes
            .iter()
            .map(|c| {
                format!(
                    "{} {} {} {}",
                    if c.action() == ChangeAction::Added {
                        "+"
                    } else {
                        "-"
                    },
                    Kind::from_proto(c.kind()).unwrap().token(),
                    c.phase().as_str_name(),
                    c.value
                )
            })
            .collect()
    }

    #[test]
    fn added_and_removed_items_are_reported_with_evidence() {
        let a = profile(
            "1.0.0",
            &[
                (Kind::Host, PhaseLite::Install, "a.example:443"),
                (Kind::Dependency, PhaseLite::Static, "left"),
            ],
        );
        let b = profile(
            "1.0.1",
            &[
                (Kind::Host, PhaseLite::Install, "b.example:443"),
                (Kind::Dependency, PhaseLite::Static, "left"),
                (Kind::FileWrite, PhaseLite::Import, "/tmp/p.sh"),
            ],
        );
        let changes = diff(&a, &b);
        assert_eq!(
            summary(&changes),
            [
                "+ host PHASE_INSTALL b.example:443",
                "+ file_write PHASE_IMPORT /tmp/p.sh",
                "- host PHASE_INSTALL a.example:443",
            ]
        );
        let c = &changes[1];
        assert_eq!(c.evidence[0].file, "raw /tmp/p.sh");
        assert_eq!(c.evidence[0].detail, "raw /tmp/p.sh");
        assert_eq!(
            c.evidence_hash,
            ItemKey::new(Kind::FileWrite, PhaseLite::Import, "/tmp/p.sh").evidence_hash()
        );
        assert_eq!(
            item_key(c),
            Some(ItemKey::new(
                Kind::FileWrite,
                PhaseLite::Import,
                "/tmp/p.sh"
            ))
        );
        assert!(diff(&b, &b).is_empty());
    }

    #[test]
    fn a_part_one_side_lacks_is_not_compared() {
        let mut a = profile("1.0.0", &[(Kind::Dependency, PhaseLite::Static, "left")]);
        a.has_dynamic = false;
        let b = profile(
            "1.0.1",
            &[
                (Kind::Host, PhaseLite::Install, "b.example:443"),
                (Kind::Dependency, PhaseLite::Static, "right"),
            ],
        );
        assert_eq!(
            summary(&diff(&a, &b)),
            [
                "+ dependency PHASE_UNSPECIFIED right",
                "- dependency PHASE_UNSPECIFIED left"
            ]
        );
        let mut b_no_static = b.clone();
        b_no_static.has_static = false;
        assert!(diff(&a, &b_no_static).is_empty());
        // And the other way round.
        let mut c = b.clone();
        c.has_dynamic = false;
        assert!(summary(&diff(&b, &c))
            .iter()
            .all(|s| s.contains("dependency")));
    }

    #[test]
    fn items_past_a_cut_are_unknown_not_changed() {
        let mut a = profile("1.0.0", &[]);
        for i in 0..(MAX_ITEMS_PER_GROUP + 10) {
            a.insert(
                Kind::FileWrite,
                PhaseLite::Install,
                format!("/w/{i:04}"),
                "",
            );
        }
        a.enforce_limits();
        let mut b = profile("1.0.1", &[]);
        for i in 5..(MAX_ITEMS_PER_GROUP + 20) {
            b.insert(
                Kind::FileWrite,
                PhaseLite::Install,
                format!("/w/{i:04}"),
                "",
            );
        }
        b.enforce_limits();
        // b keeps 5..305, a keeps 0..300: only 0..5 are known to both as
        // changed; 300..305 are past a's cut.
        let changes = summary(&diff(&a, &b));
        assert_eq!(changes.len(), 5, "{changes:?}");
        assert!(changes.iter().all(|c| c.starts_with('-')));
    }

    #[test]
    fn wire_phases_map_back_to_items() {
        let static_change = change(
            &ItemKey::new(Kind::InstallHook, PhaseLite::Static, "h"),
            "",
            ChangeAction::Added,
        );
        assert_eq!(item_key(&static_change).unwrap().phase, PhaseLite::Static);
        let dynamic_change = change(
            &ItemKey::new(Kind::Finding, PhaseLite::Dynamic, "r"),
            "",
            ChangeAction::Added,
        );
        assert_eq!(item_key(&dynamic_change).unwrap().phase, PhaseLite::Dynamic);
        let bc = behavior_change(
            &profile("1.0.0", &[]),
            &profile("1.0.1", &[]),
            vec![static_change],
            Severity::Low,
        );
        assert_eq!(bc.previous_version, "1.0.0");
        assert_eq!(bc.package.unwrap().version, "1.0.1");
    }
}
