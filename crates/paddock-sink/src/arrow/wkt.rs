//! `google.protobuf.Timestamp` and `Duration` to and from microseconds.
//!
//! Both are stored at microsecond precision, BigQuery's and most query
//! engines' precision; nanoseconds below a microsecond are dropped
//! (timestamps round toward the past, durations toward zero). Values outside
//! the ranges the protobuf definitions allow are refused rather than
//! clamped.

use prost_reflect::{DynamicMessage, MessageDescriptor, Value};

/// 0001-01-01T00:00:00Z, the earliest valid timestamp.
const MIN_TIMESTAMP_SECONDS: i64 = -62_135_596_800;
/// 9999-12-31T23:59:59Z, the latest valid timestamp (whole second).
const MAX_TIMESTAMP_SECONDS: i64 = 253_402_300_799;
/// About 10,000 years, the bound of a valid duration.
const MAX_DURATION_SECONDS: i64 = 315_576_000_000;
const NANOS_PER_SECOND: i32 = 1_000_000_000;
const MICROS_PER_SECOND: i64 = 1_000_000;

fn seconds_and_nanos(message: &DynamicMessage) -> (i64, i32) {
    let seconds = message
        .get_field_by_number(1)
        .and_then(|v| v.as_i64())
        .unwrap_or_default();
    let nanos = message
        .get_field_by_number(2)
        .and_then(|v| v.as_i32())
        .unwrap_or_default();
    (seconds, nanos)
}

pub(crate) fn timestamp_micros(message: &DynamicMessage) -> Result<i64, String> {
    let (seconds, nanos) = seconds_and_nanos(message);
    timestamp_micros_of(seconds, nanos)
}

/// A timestamp's seconds and nanos as microseconds since the epoch.
pub(crate) fn timestamp_micros_of(seconds: i64, nanos: i32) -> Result<i64, String> {
    if !(MIN_TIMESTAMP_SECONDS..=MAX_TIMESTAMP_SECONDS).contains(&seconds)
        || !(0..NANOS_PER_SECOND).contains(&nanos)
    {
        return Err(format!(
            "timestamp out of range (seconds {seconds}, nanos {nanos}): \
             it must lie in years 1 to 9999 with nanos in 0..1e9"
        ));
    }
    Ok(seconds * MICROS_PER_SECOND + i64::from(nanos / 1000))
}

pub(crate) fn duration_micros(message: &DynamicMessage) -> Result<i64, String> {
    let (seconds, nanos) = seconds_and_nanos(message);
    duration_micros_of(seconds, nanos)
}

/// A duration's seconds and nanos as microseconds.
pub(crate) fn duration_micros_of(seconds: i64, nanos: i32) -> Result<i64, String> {
    let same_sign = seconds == 0 || nanos == 0 || (seconds > 0) == (nanos > 0);
    if !(-MAX_DURATION_SECONDS..=MAX_DURATION_SECONDS).contains(&seconds)
        || nanos.unsigned_abs() >= NANOS_PER_SECOND.unsigned_abs()
        || !same_sign
    {
        return Err(format!(
            "duration out of range (seconds {seconds}, nanos {nanos}): \
             it must be within 10,000 years with nanos of the same sign below 1e9"
        ));
    }
    Ok(seconds * MICROS_PER_SECOND + i64::from(nanos / 1000))
}

fn message(descriptor: &MessageDescriptor, seconds: i64, nanos: i32) -> DynamicMessage {
    // Zeros stay unset, as a decoder leaves them.
    let mut message = DynamicMessage::new(descriptor.clone());
    if seconds != 0 {
        message.set_field_by_number(1, Value::I64(seconds));
    }
    if nanos != 0 {
        message.set_field_by_number(2, Value::I32(nanos));
    }
    message
}

fn sub_second_nanos(remainder_micros: i64) -> i32 {
    // |remainder| < 1e6, so the product fits an i32.
    i32::try_from(remainder_micros * 1000).unwrap_or_default()
}

pub(crate) fn timestamp_message(descriptor: &MessageDescriptor, micros: i64) -> DynamicMessage {
    let seconds = micros.div_euclid(MICROS_PER_SECOND);
    let nanos = sub_second_nanos(micros.rem_euclid(MICROS_PER_SECOND));
    message(descriptor, seconds, nanos)
}

pub(crate) fn duration_message(descriptor: &MessageDescriptor, micros: i64) -> DynamicMessage {
    let seconds = micros / MICROS_PER_SECOND;
    let nanos = sub_second_nanos(micros % MICROS_PER_SECOND);
    message(descriptor, seconds, nanos)
}
