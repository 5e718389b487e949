//! What an analysis may leave behind on the host, for tests that check it
//! left nothing: network namespaces, mounts and processes whose names hold
//! a test's unique worker name.

/// The network namespaces (`ip netns list`) whose name contains `needle`.
///
/// # Panics
///
/// When `ip` cannot be run (install iproute2).
pub fn namespaces_with(needle: &str) -> Vec<String> {
    let out = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("running `ip netns list` (install iproute2: apt-get install iproute2)");
    assert!(
        out.status.success(),
        "ip netns list: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| name.contains(needle))
        .map(str::to_owned)
        .collect()
}

/// This process's mount points (`/proc/self/mountinfo`) that contain
/// `needle`.
pub fn mounts_with(needle: &str) -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .expect("reading /proc/self/mountinfo")
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4))
        .filter(|point| point.contains(needle))
        .map(str::to_owned)
        .collect()
}

/// The command lines of running processes that contain `needle`, except
/// those that also contain `except` (the test's own).
pub fn processes_with(needle: &str, except: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("reading /proc").flatten() {
        if let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(needle) && !cmd.contains(except) {
                found.push(cmd);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_found_by_its_own_name_and_excluded_by_it_too() {
        let me = std::env::args().next().unwrap();
        let name = me.rsplit('/').next().unwrap();
        assert!(!processes_with(name, "\u{1}never").is_empty());
        assert!(processes_with(name, name).is_empty());
        assert!(!mounts_with("/").is_empty());
        assert!(mounts_with("\u{1}never").is_empty());
    }
}
