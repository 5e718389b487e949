//! The sandbox with Debian's real runsc, on a rootfs holding busybox-static
//! (installed by scripts/install-deps --test).

use std::path::{Path, PathBuf};
use std::time::Duration;

use paddock_proto::v1::{FileOp, SocketOp};
use paddock_sandbox::{Exit, RunSpec, Sandbox, SandboxConfig};

fn rootfs(dir: &Path) -> PathBuf {
    let root = dir.join("rootfs");
    for d in ["bin", "tmp", "etc", "root", "proc", "dev"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::copy("/bin/busybox", root.join("bin/busybox"))
        .expect("busybox-static is installed (scripts/install-deps --test)");
    for applet in ["sh", "cat", "echo", "rm", "sleep", "nc", "ls"] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
    }
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    root
}

fn spec(root: PathBuf, script: &str, id: &str, timeout: Duration) -> RunSpec {
    RunSpec {
        rootfs: root,
        args: vec!["/bin/sh".into(), "-c".into(), script.into()],
        env: vec![
            "PATH=/bin".into(),
            "HOME=/root".into(),
            "AWS_SECRET_ACCESS_KEY=bait".into(),
        ],
        cwd: "/".into(),
        tmpfs: vec!["/tmp".into()],
        read_only_binds: Vec::new(),
        read_write_binds: Vec::new(),
        timeout,
        id: id.into(),
        netns: None,
    }
}

async fn sandbox(state: &Path) -> Sandbox {
    Sandbox::new(SandboxConfig {
        state_dir: state.to_path_buf(),
        ..Default::default()
    })
    .await
    .expect("runsc is installed")
}

#[tokio::test]
async fn a_script_runs_and_its_behaviour_is_traced() {
    let dir = tempfile::tempdir().unwrap();
    let root = rootfs(dir.path());
    let bait = dir.path().join("ssh");
    std::fs::create_dir_all(&bait).unwrap();
    std::fs::write(bait.join("id_rsa"), "-----BEGIN FAKE KEY-----\n").unwrap();
    let mut s = spec(
        root,
        "cat /root/.ssh/id_rsa; echo data > /tmp/out; rm /tmp/out; nc -w 1 192.0.2.1 443 </dev/null; echo finished",
        "paddock-test-trace",
        Duration::from_secs(60),
    );
    s.read_only_binds.push((bait, "/root/.ssh".into()));
    let sb = sandbox(&dir.path().join("state")).await;
    let out = sb.run(&s, &dir.path().join("work")).await.unwrap();
    assert_eq!(
        out.exit,
        Exit::Code(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr_tail)
    );
    let stdout = String::from_utf8_lossy(&out.stdout_tail);
    assert!(
        stdout.contains("BEGIN FAKE KEY") && stdout.contains("finished"),
        "{stdout}"
    );

    let t = &out.trace;
    assert!(t.file_events.iter().any(|e| e.op == FileOp::OpenRead as i32
        && e.path == "/root/.ssh/id_rsa"
        && e.result >= 0));
    assert!(t
        .file_events
        .iter()
        .any(|e| e.op == FileOp::Create as i32 && e.path == "/tmp/out"));
    assert!(t
        .file_events
        .iter()
        .any(|e| e.op == FileOp::Delete as i32 && e.path == "/tmp/out"));
    let connect = t
        .sockets
        .iter()
        .find(|s| s.op == SocketOp::Connect as i32)
        .expect("the connect attempt is traced");
    assert_eq!((connect.address.as_str(), connect.port), ("192.0.2.1", 443));
    assert!(connect.result < 0, "no route: the attempt failed");
    assert!(
        t.commands
            .iter()
            .any(|c| c.env.iter().any(|e| e == "AWS_SECRET_ACCESS_KEY=bait")),
        "the environment is recorded"
    );
}

#[tokio::test]
async fn a_timeout_fires_and_leaves_no_container() {
    let dir = tempfile::tempdir().unwrap();
    let root = rootfs(dir.path());
    let sb = sandbox(&dir.path().join("state")).await;
    let s = spec(
        root,
        "sleep 600",
        "paddock-test-timeout",
        Duration::from_secs(3),
    );
    let out = sb.run(&s, &dir.path().join("work")).await.unwrap();
    assert_eq!(out.exit, Exit::Timeout);
    assert!(out.duration < Duration::from_secs(30), "{:?}", out.duration);
    let list = std::process::Command::new("runsc")
        .arg("--root")
        .arg(dir.path().join("state"))
        .args(["list", "--quiet"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&list.stdout).contains("paddock-test-timeout"),
        "the container was removed"
    );
}

#[tokio::test]
async fn the_host_filesystem_and_environment_stay_out() {
    let dir = tempfile::tempdir().unwrap();
    let root = rootfs(dir.path());
    let marker = dir.path().join("host-secret");
    std::fs::write(&marker, "host").unwrap();
    let script = format!(
        "cat {} ; cat /etc/shadow ; echo $HOSTNAME_SECRET ; echo ok > /bin/pwned ; echo end",
        marker.display()
    );
    let sb = sandbox(&dir.path().join("state")).await;
    let out = sb
        .run(
            &spec(
                root.clone(),
                &script,
                "paddock-test-contain",
                Duration::from_secs(60),
            ),
            &dir.path().join("work"),
        )
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout_tail);
    assert!(
        !stdout.contains("host\n"),
        "a host file was readable: {stdout}"
    );
    assert!(stdout.contains("end"));
    assert!(!root.join("bin/pwned").exists(), "the rootfs is read-only");
    assert!(
        out.trace
            .file_events
            .iter()
            .any(|e| e.path == marker.display().to_string() && e.result < 0),
        "the attempt is recorded as failed"
    );
}

#[tokio::test]
async fn host_mode_runs_in_a_namespace_of_its_own_and_nothing_gets_out() {
    use paddock_sandbox::netns::{self, Blackhole, Netns, NetworkHook};
    let dir = tempfile::tempdir().unwrap();
    let root = rootfs(dir.path());
    std::fs::write(
        root.join("etc/resolv.conf"),
        format!("nameserver {}\n", netns::RESOLVER_ADDR),
    )
    .unwrap();
    for applet in ["nslookup", "ifconfig"] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
    }
    let sb = Sandbox::new(SandboxConfig {
        state_dir: dir.path().join("state"),
        network: paddock_sandbox::NetworkMode::Host,
        ..Default::default()
    })
    .await
    .unwrap();
    let mut s = spec(
        root,
        "nc -w 2 192.0.2.1 443 </dev/null; echo nc=$?; timeout 3 nslookup exfil.paddock-probe.example; ifconfig -a; echo done",
        "paddock-test-hostns",
        Duration::from_secs(60),
    );
    // Without a namespace, host mode is refused rather than given the
    // host's network.
    assert!(matches!(
        sb.run(&s, &dir.path().join("work0")).await,
        Err(paddock_sandbox::SandboxError::HostNetworkWithoutNamespace)
    ));

    let ns = Netns::create("paddock-test-hostns").await.unwrap();
    Blackhole.attach(&ns).await.unwrap();
    assert!(netns::list().await.contains(&ns.name().to_owned()));
    s.netns = Some(ns.path());
    let out = sb.run(&s, &dir.path().join("work")).await.unwrap();
    let name = ns.name().to_owned();
    ns.remove().await;
    assert!(
        !netns::list().await.contains(&name),
        "the namespace is gone"
    );

    let stdout = String::from_utf8_lossy(&out.stdout_tail);
    assert!(
        stdout.contains("nc=1") && stdout.contains("done"),
        "{stdout}"
    );
    // The sandbox sees the namespace's link, not the host's interfaces.
    assert!(
        stdout.contains("eth0") && stdout.contains("void0"),
        "{stdout}"
    );
    let t = &out.trace;
    let connect = t
        .sockets
        .iter()
        .find(|s| s.op == SocketOp::Connect as i32 && s.address == "192.0.2.1")
        .expect("the connect attempt is traced");
    assert!(connect.result < 0, "no route: {connect:?}");
    assert!(
        t.dns
            .iter()
            .any(|q| q.hostname == "exfil.paddock-probe.example"),
        "the lookup is recorded with its name: {:?}",
        t.dns
    );
}

/// The phases of an analysis run in one sandbox in turn: each command sees
/// what the one before left, gets its own exit, output, usage and part of
/// the trace (the command runsc started named, with its environment); a
/// command past its timeout ends the session, later ones say so, and
/// stopping it leaves no container.
#[tokio::test]
async fn commands_in_one_session_share_the_sandbox_but_not_their_traces() {
    let dir = tempfile::tempdir().unwrap();
    let root = rootfs(dir.path());
    let state = dir.path().join("state");
    let sb = sandbox(&state).await;
    let mut base = spec(root, "unused", "paddock-test-session", Duration::MAX);
    base.args = vec!["/bin/sleep".into(), "100000".into()];
    let mut session = sb.start(&base, &dir.path().join("work")).await.unwrap();
    let sh = |script: &str| vec!["/bin/sh".to_owned(), "-c".to_owned(), script.to_owned()];
    let env = |value: &str| vec!["PATH=/bin".to_owned(), format!("PHASE={value}")];

    let first = session
        .exec(
            &sh("echo one > /tmp/first; echo installed"),
            &env("install"),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(first.exit, Exit::Code(0));
    assert_eq!(
        String::from_utf8_lossy(&first.stdout_tail).trim(),
        "installed"
    );
    assert!(first
        .trace
        .file_events
        .iter()
        .any(|e| e.op == FileOp::Create as i32 && e.path == "/tmp/first"));
    let named = first
        .trace
        .commands
        .first()
        .expect("the command runsc started is recorded");
    assert_eq!(named.argv, sh("echo one > /tmp/first; echo installed"));
    assert!(named.env.iter().any(|e| e == "PHASE=install"));

    let second = session
        .exec(
            &sh("cat /tmp/first; echo two > /tmp/second; exit 3"),
            &env("import"),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(second.exit, Exit::Code(3));
    assert_eq!(
        String::from_utf8_lossy(&second.stdout_tail).trim(),
        "one",
        "the second command sees what the first left"
    );
    let paths: Vec<&str> = second
        .trace
        .file_events
        .iter()
        .map(|e| e.path.as_str())
        .collect();
    assert!(paths.contains(&"/tmp/second"), "{paths:?}");
    assert!(
        !second
            .trace
            .file_events
            .iter()
            .any(|e| e.op == FileOp::Create as i32 && e.path == "/tmp/first"),
        "the first command's events stay in its own trace: {paths:?}"
    );
    assert!(second.usage.cpu_seconds >= 0.0);

    let stuck = session
        .exec(&sh("sleep 600"), &env("execute"), Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(stuck.exit, Exit::Timeout);
    assert!(
        stuck.duration < Duration::from_secs(20),
        "{:?}",
        stuck.duration
    );
    let after = session
        .exec(&sh("echo late"), &env("late"), Duration::from_secs(60))
        .await
        .expect_err("a session past a timeout runs nothing more");
    assert!(after.to_string().contains("timeout"), "{after}");
    session.stop().await;
    let list = std::process::Command::new("runsc")
        .arg("--root")
        .arg(&state)
        .args(["list", "--quiet"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&list.stdout).contains("paddock-test-session"),
        "the container was removed"
    );
}
