//! Per-analysis network namespaces.
//!
//! In [`NetworkMode::Host`](crate::NetworkMode::Host) runsc uses the
//! interfaces of the namespace it starts in, so Paddock starts it (through
//! `nsenter`, which unlike `ip netns exec` leaves /sys and cgroups alone) in
//! a namespace it made for that one analysis and removes afterwards. What
//! the namespace is connected to is a [`NetworkHook`]'s business:
//! [`Blackhole`] (this default) routes the resolver's address to a
//! link that leads nowhere and everything else to "unreachable"; the
//! simulated internet plugs in as another hook.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use tokio::process::Command;

use crate::SandboxError;

/// Every namespace Paddock makes has this prefix (and only those are
/// removed as leftovers).
pub const NETNS_PREFIX: &str = "paddock-";

/// The resolver the rootfs's resolv.conf names; on the blackhole link
/// queries go out (and are traced) but nothing answers.
pub use paddock_proto::sandbox::HOST_ADDR as RESOLVER_ADDR;
/// The sandbox's own address inside its namespace, and its link's prefix
/// length (the sandbox facts every crate shares).
pub use paddock_proto::sandbox::{LINK_PREFIX_LEN, SANDBOX_ADDR};

/// A network namespace made by Paddock.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates `paddock-<id>` with loopback up.
    pub async fn create(id: &str) -> Result<Self, SandboxError> {
        let name = format!("{NETNS_PREFIX}{}", short(id));
        // A namespace of the same name left by a killed worker goes first.
        let _ = ip(&["netns", "del", &name]).await;
        ip(&["netns", "add", &name]).await?;
        let ns = Self { name };
        if let Err(e) = ns.ip(&["link", "set", "lo", "up"]).await {
            ns.remove().await;
            return Err(e);
        }
        Ok(ns)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The namespace file that `nsenter --net=` takes.
    pub fn path(&self) -> PathBuf {
        PathBuf::from("/run/netns").join(&self.name)
    }

    /// Runs `ip -n <ns> <args>`.
    pub async fn ip(&self, args: &[&str]) -> Result<(), SandboxError> {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        ip(&all).await
    }

    /// Removes the namespace (and with it every interface inside).
    pub async fn remove(self) {
        let _ = ip(&["netns", "del", &self.name]).await;
    }
}

/// The id as a namespace name: letters, digits and dashes only (it
/// becomes a file name under /run/netns).
fn short(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

/// Paddock's namespaces that exist now (left by a killed worker, or in
/// use).
pub async fn list() -> Vec<String> {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output().await else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(NETNS_PREFIX))
        .map(str::to_owned)
        .collect()
}

/// Deletes a namespace by name.
pub async fn delete(name: &str) {
    let _ = ip(&["netns", "del", name]).await;
}

async fn ip(args: &[&str]) -> Result<(), SandboxError> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .await
        .map_err(|source| SandboxError::Io {
            what: "running `ip` (Debian package iproute2)".into(),
            source,
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(SandboxError::Network(format!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// A boxed future, so that hooks can be trait objects.
pub type HookFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SandboxError>> + Send + 'a>>;

/// Connects a fresh namespace to whatever the sandbox may reach.
pub trait NetworkHook: Send + Sync + std::fmt::Debug {
    /// Sets up links, addresses and routes in `ns`.
    fn attach<'a>(&'a self, ns: &'a Netns) -> HookFuture<'a>;
}

/// No route anywhere. The sandbox has an address on a veth pair whose
/// both ends sit inside its own namespace, so a query to the resolver is
/// sent (and traced, name and all) and lost; every other destination is
/// unreachable, so a connection to a hard-coded address fails at once and
/// is still traced. No packet can leave the namespace.
#[derive(Debug, Clone, Copy, Default)]
pub struct Blackhole;

impl NetworkHook for Blackhole {
    fn attach<'a>(&'a self, ns: &'a Netns) -> HookFuture<'a> {
        Box::pin(async move {
            ns.ip(&[
                "link", "add", "eth0", "type", "veth", "peer", "name", "void0",
            ])
            .await?;
            ns.ip(&[
                "addr",
                "add",
                &format!("{SANDBOX_ADDR}/{LINK_PREFIX_LEN}"),
                "dev",
                "eth0",
            ])
            .await?;
            ns.ip(&["link", "set", "eth0", "up"]).await?;
            ns.ip(&["link", "set", "void0", "up"]).await?;
            ns.ip(&["route", "add", "unreachable", "default"]).await?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_the_id_made_safe() {
        assert_eq!(super::short("pdk-worker-abc"), "pdk-worker-abc");
        assert_eq!(super::short("../x y"), "xy");
    }
}
