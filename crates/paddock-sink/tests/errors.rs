//! Bad messages give errors that name the table and the row, never a panic.

use paddock_proto::v1;
use paddock_sink::{to_record_batch, SinkError, Table};
use prost::Message as _;

fn release(name: &str) -> Vec<u8> {
    v1::Release {
        package: Some(v1::PackageRef {
            ecosystem: v1::Ecosystem::Pypi as i32,
            name: name.into(),
            version: "1.0".into(),
        }),
        feed_name: "pypi-rss".into(),
        ..Default::default()
    }
    .encode_to_vec()
}

/// Converts two good releases followed by `bad`, expecting an error at row 2.
fn convert_with_bad_third(bad: Vec<u8>) -> SinkError {
    let messages = vec![release("a"), release("b"), bad];
    let error = to_record_batch(Table::Releases, &messages).expect_err("the third row is bad");
    assert_eq!(error.table(), "releases");
    assert_eq!(error.row(), Some(2), "{error}");
    assert!(
        error.to_string().starts_with("table releases, row 2"),
        "{error}"
    );
    error
}

#[test]
fn a_truncated_message_is_a_decode_error() {
    let mut bytes = release("truncated");
    // The last field is feed_name: cut into its eight bytes of text.
    bytes.truncate(bytes.len() - 3);
    let error = convert_with_bad_third(bytes);
    assert!(matches!(error, SinkError::Decode { .. }), "{error}");
    assert!(
        error.to_string().contains("not a valid paddock.v1.Release"),
        "{error}"
    );
}

#[test]
fn trailing_garbage_is_a_decode_error() {
    let mut bytes = release("garbage");
    // Wire type 7 does not exist.
    bytes.extend_from_slice(&[0x0f, 0xff, 0xff]);
    let error = convert_with_bad_third(bytes);
    assert!(matches!(error, SinkError::Decode { .. }), "{error}");
}

#[test]
fn invalid_utf8_in_a_string_field_is_a_decode_error() {
    let mut bytes = release("utf8");
    // feed_name (field 5, length-delimited) again, with bytes that are not UTF-8.
    bytes.extend_from_slice(&[0x2a, 0x02, 0xff, 0xfe]);
    let error = convert_with_bad_third(bytes);
    assert!(matches!(error, SinkError::Decode { .. }), "{error}");
}

#[test]
fn an_unknown_top_level_field_is_refused_not_dropped() {
    let mut bytes = release("newer");
    // Field 999, varint 1: a field a newer producer might add.
    bytes.extend_from_slice(&[0xb8, 0x3e, 0x01]);
    let error = convert_with_bad_third(bytes);
    assert!(
        matches!(error, SinkError::UnknownField { number: 999, .. }),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "table releases, row 2: unknown field number 999 in paddock.v1.Release at the top level; \
         the producer's protos are newer than the sink's: upgrade the sink, then redeliver"
    );
}

#[test]
fn an_unknown_nested_field_names_its_path() {
    // artifacts[0] holds field 99 (length-delimited "x").
    let mut artifact = v1::Artifact {
        filename: "a.tar.gz".into(),
        ..Default::default()
    }
    .encode_to_vec();
    artifact.extend_from_slice(&[0x9a, 0x06, 0x01, b'x']);
    let mut bytes = release("nested");
    bytes.push(0x32); // field 6 (artifacts), length-delimited
    bytes.push(u8::try_from(artifact.len()).unwrap());
    bytes.extend_from_slice(&artifact);
    let error = convert_with_bad_third(bytes);
    let SinkError::UnknownField {
        path,
        message,
        number,
        ..
    } = &error
    else {
        panic!("{error}")
    };
    assert_eq!(
        (path.as_str(), message.as_str(), *number),
        ("artifacts[]", "paddock.v1.Artifact", 99)
    );
}

#[test]
fn a_timestamp_out_of_range_names_its_column() {
    let bad = v1::Release {
        discovered_at: Some(paddock_proto::well_known::Timestamp {
            seconds: i64::MAX,
            nanos: 0,
        }),
        ..Default::default()
    }
    .encode_to_vec();
    let error = convert_with_bad_third(bad);
    assert!(
        error
            .to_string()
            .starts_with("table releases, row 2, column discovered_at: timestamp out of range"),
        "{error}"
    );
}

#[test]
fn an_empty_batch_and_an_empty_message_are_fine() {
    let none: [&[u8]; 0] = [];
    let batch = to_record_batch(Table::Alerts, &none).unwrap();
    assert_eq!(batch.num_rows(), 0);
    assert_eq!(batch.schema(), Table::Alerts.schema());
    let empty: [&[u8]; 1] = [&[]];
    assert_eq!(
        to_record_batch(Table::Alerts, &empty).unwrap().num_rows(),
        1
    );
}
