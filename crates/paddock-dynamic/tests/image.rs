mod common;

/// Building (or finding) the image: the rootfs has every ecosystem's
/// client and Paddock's resolver, not the host's.
#[tokio::test]
async fn the_image_has_every_client_and_our_resolver() {
    let dir = tempfile::tempdir().unwrap();
    let a = common::analyzer(common::config(dir.path(), &common::worker("img"))).await;
    let root = a.rootfs();
    for bin in [
        "node", "npm", "python3", "ruby", "gem", "php", "composer", "cargo", "rustc", "make",
    ] {
        assert!(
            root.join("usr/bin").join(bin).symlink_metadata().is_ok(),
            "{bin} missing"
        );
    }
    let resolv = std::fs::read_to_string(root.join("etc/resolv.conf")).unwrap();
    assert_eq!(resolv, paddock_dynamic::image::resolv_conf());
}
