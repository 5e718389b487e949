//! The simulated internet's records merged into a phase's result.

use paddock_netsim::Recorder;
use paddock_proto::v1::{DnsQuery, PhaseResult};

/// What the simulated internet recorded during the phase: DNS (merged with
/// the names seen in the trace, which may never have reached the server),
/// sockets labelled with the names their addresses were handed out for,
/// HTTP, TLS, datagrams, connections, the packages the install fetched,
/// and baits seen in traffic.
pub(crate) fn add_traffic(result: &mut PhaseResult, recorder: &Recorder) {
    let captured = recorder.take();
    let traced = std::mem::take(&mut result.dns);
    let mut dns = captured.dns;
    for t in traced {
        if !dns.iter().any(|d| d.hostname == t.hostname) {
            dns.push(DnsQuery {
                answered: false,
                ..t
            });
        }
    }
    result.dns = dns;
    for socket in &mut result.sockets {
        if let Ok(addr) = socket.address.parse() {
            if let Some(name) = recorder.name_of(addr) {
                if !socket.hostnames.contains(&name) {
                    socket.hostnames.push(name);
                }
            }
        }
    }
    result.http_requests = captured.http_requests;
    result.tls = captured.tls;
    result.datagrams = captured.datagrams;
    result.connections = captured.connections;
    result.fetched_packages = captured.fetched_packages;
    for e in captured.exfiltrations {
        result.bait_accesses.push(paddock_proto::v1::BaitAccess {
            bait: e.bait,
            how: "exfiltrated".into(),
            pid: 0,
            detail: format!("{} in {}: {}", e.encoding, e.channel, e.excerpt),
        });
    }
    if captured.dropped > 0 {
        tracing::warn!(
            dropped = captured.dropped,
            "the simulated internet recorded more than it keeps"
        );
    }
}
