//! The fast path (wire bytes straight into the builders) against the
//! reflective path (each message decoded as a `DynamicMessage`), which is
//! the definition: on every table's fully populated, sparse and empty
//! messages and on realistic dynamic results the fast path takes the batch
//! and builds the same rows; on mutated and hostile encodings it never
//! accepts what the reflective path refuses or builds different rows, and
//! `to_record_batch` always answers as the reflective path does.

mod common;

use paddock_sink::batch::both_paths;
use paddock_sink::{tables, to_record_batch, Table};
use prost::Message as _;

fn encoded(table: Table) -> Vec<Vec<u8>> {
    common::samples(table)
        .iter()
        .map(|m| m.encode_to_vec())
        .collect()
}

#[test]
fn every_table_converts_on_the_fast_path_to_the_same_rows() {
    for table in tables() {
        let messages = encoded(table);
        let (fast, reflective) = both_paths(table, &messages);
        let reflective = reflective.unwrap();
        let fast = fast.unwrap_or_else(|| panic!("{table:?}: the fast path gave up"));
        assert_eq!(fast, reflective, "{table:?}");
        assert_eq!(to_record_batch(table, &messages).unwrap(), reflective);
    }
    let realistic: Vec<Vec<u8>> = (0..50)
        .map(|i| common::realistic_dynamic_result(i).encode_to_vec())
        .collect();
    let (fast, reflective) = both_paths(Table::DynamicResults, &realistic);
    assert_eq!(
        fast.expect("realistic results take the fast path"),
        reflective.unwrap()
    );
}

/// A message field sent in two pieces is merged, as protobuf merges it,
/// on the fast path; a scalar set twice (the last wins) is left to the
/// decoder, and either way the rows are the decoder's.
#[test]
fn repeated_occurrences_merge_as_protobuf_merges_them() {
    use paddock_proto::v1::{DynamicResult, PackageRef};
    let piece = |package: PackageRef| {
        DynamicResult {
            package: Some(package),
            ..Default::default()
        }
        .encode_to_vec()
    };
    let mut split = piece(PackageRef {
        name: "left-pad".into(),
        ..Default::default()
    });
    split.extend(piece(PackageRef {
        version: "1.3.0".into(),
        ..Default::default()
    }));
    let (fast, reflective) = both_paths(Table::DynamicResults, &[split]);
    assert_eq!(
        fast.expect("a message field in two pieces takes the fast path"),
        reflective.unwrap()
    );

    let samples = common::samples(Table::DynamicResults);
    let mut twice = samples[0].encode_to_vec();
    twice.extend_from_slice(&samples[1].encode_to_vec());
    let (_, reflective) = both_paths(Table::DynamicResults, &[twice.clone()]);
    assert_eq!(
        to_record_batch(Table::DynamicResults, &[twice]).unwrap(),
        reflective.unwrap()
    );
}

/// A tiny deterministic generator: no dependency, same cases every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() as usize) % n.max(1)
    }
}

#[test]
fn mutated_encodings_never_make_the_paths_disagree() {
    let mut rng = Lcg(19);
    let mut fast_taken = 0;
    let mut refused = 0;
    for table in tables() {
        for original in encoded(table) {
            if original.is_empty() {
                continue;
            }
            for _ in 0..300 {
                let mut bytes = original.clone();
                match rng.below(4) {
                    0 => {
                        let i = rng.below(bytes.len());
                        bytes[i] = rng.next() as u8;
                    }
                    1 => bytes.truncate(rng.below(bytes.len())),
                    2 => {
                        let i = rng.below(bytes.len());
                        bytes.insert(i, rng.next() as u8);
                    }
                    _ => {
                        // An unknown field, or one of another wire type.
                        let number = 1 + rng.below(120) as u64;
                        bytes.push(((number << 3) | rng.below(6) as u64) as u8);
                        bytes.push(rng.next() as u8 & 0x7f);
                    }
                }
                let messages = [bytes];
                let (fast, reflective) = both_paths(table, &messages);
                match (&fast, &reflective) {
                    (Some(f), Ok(r)) => {
                        assert_eq!(f, r, "{table:?}: the paths built different rows");
                        fast_taken += 1;
                    }
                    (Some(_), Err(e)) => {
                        panic!("{table:?}: the fast path accepted what the decoder refuses: {e}")
                    }
                    (None, Err(_)) => refused += 1,
                    (None, Ok(_)) => {}
                }
                let answer = to_record_batch(table, &messages);
                match (answer, reflective) {
                    (Ok(a), Ok(r)) => assert_eq!(a, r),
                    (Err(a), Err(r)) => assert_eq!(a.to_string(), r.to_string()),
                    (a, r) => panic!("{table:?}: to_record_batch {a:?} but the decoder {r:?}"),
                }
            }
        }
    }
    assert!(
        fast_taken > 100 && refused > 100,
        "the mutations exercise both outcomes ({fast_taken} fast, {refused} refused)"
    );
}
