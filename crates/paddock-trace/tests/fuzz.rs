//! A bounded fuzz run in every test run: random mutations of real strace
//! lines (byte flips, cuts, splices, repeated brackets and quotes) must be
//! parsed or counted, never panic. Deterministic (seeded), so a failure
//! reproduces.

use paddock_testkit::rng::XorShift;
use paddock_trace::{line, parse_log, TraceLimits};

#[test]
fn random_mutations_of_real_lines_never_panic() {
    let log = include_str!("fixtures/busybox-script.boot.log");
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("strace.go:")).collect();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let specials = [
        b'(', b')', b'[', b']', b'{', b'}', b'"', b'\\', b',', b' ', b'=', 0xff, 0,
    ];
    let mut batch = Vec::new();
    for _ in 0..20_000 {
        let mut bytes = lines[rng.below(lines.len())].as_bytes().to_vec();
        for _ in 0..=rng.below(6) {
            match rng.below(4) {
                0 if !bytes.is_empty() => {
                    let i = rng.below(bytes.len());
                    bytes[i] = specials[rng.below(specials.len())];
                }
                1 if !bytes.is_empty() => bytes.truncate(rng.below(bytes.len())),
                2 => {
                    let other = lines[rng.below(lines.len())].as_bytes();
                    let at = rng.below(bytes.len() + 1);
                    let from = rng.below(other.len());
                    bytes.splice(at..at, other[from..].iter().copied());
                }
                _ => {
                    let at = rng.below(bytes.len() + 1);
                    let c = specials[rng.below(6)];
                    bytes.splice(at..at, std::iter::repeat_n(c, rng.below(64)));
                }
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        let _ = line::parse(&text);
        batch.extend_from_slice(&bytes);
        batch.push(b'\n');
    }
    let trace = parse_log(&batch[..], TraceLimits::default());
    assert_eq!(trace.stats.lines, 20_000);
    assert!(trace.stats.events + trace.stats.unparsed_lines <= 20_000);
}
