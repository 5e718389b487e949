//! Golden file: the reference-compatible record of a fixture package.
//! Review a change with `cargo insta review`; it must stay readable by the
//! reference system's consumers (schema 1.0).

use paddock_proto::v1::{Ecosystem, PackageRef};
use paddock_static::{analyze_tree, StaticConfig};
use paddock_testkit::packages::{catalogue, sources};

#[test]
fn the_reference_record_of_the_npm_fixture_is_pinned() {
    let pkg = catalogue()
        .into_iter()
        .find(|p| p.eco == Ecosystem::Npm && p.name == "@paddock/hook")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (path, body) in sources(&pkg) {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    let package = PackageRef {
        ecosystem: Ecosystem::Npm as i32,
        name: pkg.name.clone(),
        version: pkg.version.clone(),
    };
    let result = analyze_tree(dir.path(), package, None, &StaticConfig::default());
    let record = paddock_sink::reference::static_record(&result, "2026-11-22T00:00:00Z");
    insta::assert_json_snapshot!("npm_hook_reference_record", record);
}
