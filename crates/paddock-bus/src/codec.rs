//! Protobuf bodies and the headers that describe them.
//!
//! Every message carries its protobuf type name and the schema's major
//! version. A consumer checks both, and the body's size, before decoding,
//! so that a message on the wrong subject, from an incompatible producer,
//! or crafted to exhaust memory is rejected with a precise reason.

use async_nats::HeaderMap;
use bytes::Bytes;
use paddock_proto::{WireMessage, SCHEMA_VERSION};

use crate::names::headers::{MESSAGE_TYPE, MSG_ID, SCHEMA_VERSION as SCHEMA_HEADER};

/// Encodes `message` with its type, schema version, id and trace context.
pub fn encode<M: WireMessage>(message: &M, msg_id: &str) -> (HeaderMap, Bytes) {
    let mut headers = HeaderMap::new();
    headers.insert(MESSAGE_TYPE, M::type_name().as_str());
    headers.insert(SCHEMA_HEADER, SCHEMA_VERSION);
    headers.insert(MSG_ID, msg_id);
    crate::trace::inject_current(&mut headers);
    (headers, Bytes::from(message.encode_to_vec()))
}

/// Why a message can never be processed. The text is the dead-letter reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("missing {MESSAGE_TYPE} header (expected {expected})")]
    MissingType { expected: String },
    #[error("wrong message type `{found}` (expected {expected})")]
    WrongType { expected: String, found: String },
    #[error("unsupported schema version `{found}` (this build reads {SCHEMA_VERSION})")]
    UnsupportedSchema { found: String },
    #[error("body of {size} bytes exceeds the limit of {max} bytes")]
    TooLarge { size: usize, max: usize },
    #[error("undecodable {expected} body: {reason}")]
    Undecodable { expected: String, reason: String },
}

/// Checks the headers and size, then decodes the body as `M`.
pub fn decode<M: WireMessage>(
    headers: Option<&HeaderMap>,
    payload: &[u8],
    max_bytes: usize,
) -> Result<M, Rejection> {
    decode_as::<M, M>(headers, payload, max_bytes)
}

/// Checks the headers and size as for an `M`, then decodes the body as
/// `V`: a view of `M` with only some of its fields (same field numbers),
/// for a reader that needs a few fields of a large message. The fields
/// left out are skipped, not checked, past their framing.
pub fn decode_as<M: WireMessage, V: prost::Message + Default>(
    headers: Option<&HeaderMap>,
    payload: &[u8],
    max_bytes: usize,
) -> Result<V, Rejection> {
    let expected = M::type_name();
    if payload.len() > max_bytes {
        return Err(Rejection::TooLarge {
            size: payload.len(),
            max: max_bytes,
        });
    }
    let found = headers
        .and_then(|h| h.get(MESSAGE_TYPE))
        .map(|v| v.as_str().to_owned());
    match found {
        None => return Err(Rejection::MissingType { expected }),
        Some(found) if found != expected => return Err(Rejection::WrongType { expected, found }),
        Some(_) => {}
    }
    // A missing schema header is read as the current version; a different
    // one is refused.
    if let Some(version) = headers.and_then(|h| h.get(SCHEMA_HEADER)) {
        if version.as_str() != SCHEMA_VERSION {
            return Err(Rejection::UnsupportedSchema {
                found: version.as_str().to_owned(),
            });
        }
    }
    V::decode(payload).map_err(|e| Rejection::Undecodable {
        expected,
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use paddock_proto::v1::{Alert, PackageRef, Release};

    use super::*;

    fn release() -> Release {
        Release {
            package: Some(PackageRef {
                ecosystem: 1,
                name: "requests".into(),
                version: "2.0".into(),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn encode_then_decode_round_trips() {
        let (headers, body) = encode(&release(), "id-1");
        assert_eq!(headers.get(MSG_ID).unwrap().as_str(), "id-1");
        let back: Release = decode(Some(&headers), &body, 1024).unwrap();
        assert_eq!(back, release());
    }

    #[test]
    fn wrong_missing_and_oversized_are_rejected_with_reasons() {
        let (headers, body) = encode(&release(), "id");
        let err = decode::<Alert>(Some(&headers), &body, 1024).unwrap_err();
        assert!(matches!(err, Rejection::WrongType { .. }), "{err}");
        assert!(err.to_string().contains("paddock.v1.Release"));

        let err = decode::<Release>(None, &body, 1024).unwrap_err();
        assert!(matches!(err, Rejection::MissingType { .. }));

        let err = decode::<Release>(Some(&headers), &body, 3).unwrap_err();
        assert!(matches!(err, Rejection::TooLarge { max: 3, .. }));

        let mut v2 = headers.clone();
        v2.insert(SCHEMA_HEADER, "2");
        assert!(matches!(
            decode::<Release>(Some(&v2), &body, 1024).unwrap_err(),
            Rejection::UnsupportedSchema { .. }
        ));
    }

    #[test]
    fn truncated_bodies_are_undecodable_not_panics() {
        let (headers, body) = encode(&release(), "id");
        for cut in 1..body.len() {
            // Every strict prefix either decodes to something or is refused;
            // none panics. Most are refused.
            let _ = decode::<Release>(Some(&headers), &body[..cut], 1024);
        }
        let err = decode::<Release>(Some(&headers), &body[..body.len() - 1], 1024).unwrap_err();
        assert!(matches!(err, Rejection::Undecodable { .. }), "{err}");
    }
}
