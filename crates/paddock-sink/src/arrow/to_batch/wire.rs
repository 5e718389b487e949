//! The fast path: a message's wire encoding appended straight to the
//! builders, guided by the same plan, with nothing decoded into an
//! intermediate message.
//!
//! Each level of a message is scanned once into per-field slots (offsets
//! into its bytes, reused from row to row), then each column takes its
//! field's last value (scalars), every value (repeated fields, packed or
//! not) or their concatenation (a message field set twice is merged, as
//! protobuf merges it). A field without a value takes the plan's default,
//! exactly as the reflective path does.
//!
//! Whatever this path does not handle the way [`DynamicMessage`] decoding
//! does (unknown or extension fields, malformed or mismatched encodings,
//! invalid UTF-8, groups, enum numbers without a name, two members of one
//! oneof, maps, recursive messages, values out of range) makes it give up
//! ([`Fallback`]): the caller converts the batch again through the
//! reflective path, which gives the same rows or the error naming the
//! row. The reflective path stays the definition; the tests check that the
//! two agree on every table's messages.
//!
//! [`DynamicMessage`]: prost_reflect::DynamicMessage

use super::{ColumnBuilder, StructColumnBuilder};
use crate::arrow::schema::{Child, Shape, StructPlan, WireKind as Kind};
use crate::arrow::wkt;

/// The fast path gave up on this batch.
#[derive(Debug)]
pub(super) struct Fallback;

type Fast<T = ()> = Result<T, Fallback>;

/// One field occurrence: a varint or fixed value, or a length-delimited
/// slice `start..end` of the message's bytes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Raw {
    wire: u8,
    value: u64,
    start: usize,
    end: usize,
}

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const FIXED32: u8 = 5;

fn varint(bytes: &[u8], pos: &mut usize) -> Fast<u64> {
    let mut value = 0u64;
    for shift in 0..10 {
        let byte = *bytes.get(*pos).ok_or(Fallback)?;
        *pos += 1;
        // The tenth byte may only carry the top bit.
        if shift == 9 && byte > 1 {
            return Err(Fallback);
        }
        value |= u64::from(byte & 0x7f) << (shift * 7);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(Fallback)
}

fn fixed<const N: usize>(bytes: &[u8], pos: &mut usize) -> Fast<u64> {
    let end = pos.checked_add(N).ok_or(Fallback)?;
    let slice = bytes.get(*pos..end).ok_or(Fallback)?;
    *pos = end;
    let mut buf = [0u8; 8];
    buf[..N].copy_from_slice(slice);
    Ok(u64::from_le_bytes(buf))
}

/// One field: its number and value, from `pos`.
fn field(bytes: &[u8], pos: &mut usize) -> Fast<(u32, Raw)> {
    let key = varint(bytes, pos)?;
    let number = u32::try_from(key >> 3).map_err(|_| Fallback)?;
    if number == 0 {
        return Err(Fallback);
    }
    let wire = (key & 7) as u8;
    let raw = match wire {
        VARINT => Raw {
            wire,
            value: varint(bytes, pos)?,
            start: 0,
            end: 0,
        },
        FIXED64 => Raw {
            wire,
            value: fixed::<8>(bytes, pos)?,
            start: 0,
            end: 0,
        },
        FIXED32 => Raw {
            wire,
            value: fixed::<4>(bytes, pos)?,
            start: 0,
            end: 0,
        },
        LEN => {
            let len = usize::try_from(varint(bytes, pos)?).map_err(|_| Fallback)?;
            let start = *pos;
            let end = start.checked_add(len).ok_or(Fallback)?;
            if end > bytes.len() {
                return Err(Fallback);
            }
            *pos = end;
            Raw {
                wire,
                value: 0,
                start,
                end,
            }
        }
        // Groups and invalid wire types.
        _ => return Err(Fallback),
    };
    Ok((number, raw))
}

/// Every field of `bytes` into `slots`, by the plan's child index.
fn scan(bytes: &[u8], plan: &StructPlan, slots: &mut [Vec<Raw>]) -> Fast {
    for slot in slots.iter_mut() {
        slot.clear();
    }
    let mut pos = 0;
    while pos < bytes.len() {
        let (number, raw) = field(bytes, &mut pos)?;
        let index = plan.child_index(number).ok_or(Fallback)?;
        slots[index].push(raw);
    }
    Ok(())
}

impl StructColumnBuilder<'_> {
    /// Appends the message encoded in `bytes`.
    pub(super) fn append_wire(&mut self, bytes: &[u8]) -> Fast {
        let plan = self.plan;
        let mut slots = std::mem::take(&mut self.slots);
        slots.resize_with(plan.children.len(), Vec::new);
        scan(bytes, plan, &mut slots)?;
        if plan.has_oneofs {
            for group in &plan.oneofs {
                if group.iter().filter(|i| !slots[**i].is_empty()).count() > 1 {
                    return Err(Fallback);
                }
            }
        }
        for ((builder, child), raws) in self.children.iter_mut().zip(&plan.children).zip(&slots) {
            builder.append_field(child, raws, bytes)?;
        }
        self.nulls.append_non_null();
        self.slots = slots;
        Ok(())
    }
}

/// The bytes of a message field set once, or its occurrences merged.
fn merged<'a>(raws: &[Raw], bytes: &'a [u8], buffer: &'a mut Vec<u8>) -> Fast<&'a [u8]> {
    if raws.iter().any(|raw| raw.wire != LEN) {
        return Err(Fallback);
    }
    if let [one] = raws {
        return Ok(&bytes[one.start..one.end]);
    }
    buffer.clear();
    for raw in raws {
        buffer.extend_from_slice(&bytes[raw.start..raw.end]);
    }
    Ok(buffer)
}

/// A Timestamp's or Duration's seconds and nanos; other fields are
/// ignored, as the reflective path ignores them.
fn seconds_and_nanos(bytes: &[u8]) -> Fast<(i64, i32)> {
    let (mut seconds, mut nanos) = (0i64, 0i32);
    let mut pos = 0;
    while pos < bytes.len() {
        let (number, raw) = field(bytes, &mut pos)?;
        match (number, raw.wire) {
            (1, VARINT) => seconds = raw.value as i64,
            (2, VARINT) => nanos = raw.value as i32,
            (1 | 2, _) => return Err(Fallback),
            _ => {}
        }
    }
    Ok((seconds, nanos))
}

fn zigzag32(v: u64) -> i32 {
    let v = v as u32;
    ((v >> 1) as i32) ^ -((v & 1) as i32)
}

fn zigzag64(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// The wire type a scalar of `kind` is encoded with (unpacked).
fn scalar_wire(kind: &Kind) -> Option<u8> {
    Some(match kind {
        Kind::Double | Kind::Fixed64 | Kind::Sfixed64 => FIXED64,
        Kind::Float | Kind::Fixed32 | Kind::Sfixed32 => FIXED32,
        Kind::Int32
        | Kind::Int64
        | Kind::Uint32
        | Kind::Uint64
        | Kind::Sint32
        | Kind::Sint64
        | Kind::Bool
        | Kind::Enum => VARINT,
        Kind::String | Kind::Bytes | Kind::Message => return None,
    })
}

impl ColumnBuilder<'_> {
    /// Appends one field's value: `raws` are its occurrences in `bytes`.
    fn append_field(&mut self, child: &Child, raws: &[Raw], bytes: &[u8]) -> Fast {
        if child.shape == Shape::Map {
            return match raws {
                // An empty map, as the reflective path appends it.
                [] => self.append(child.default.as_ref()).map_err(|_| Fallback),
                _ => Err(Fallback),
            };
        }
        let kind = child.wire;
        if child.shape == Shape::List {
            let Self::List { item, offsets, .. } = self else {
                return Err(Fallback);
            };
            let mut count = 0;
            for raw in raws {
                count += item.append_element(&kind, raw, bytes)?;
            }
            return offsets.append(Some(count)).map_err(|_| Fallback);
        }
        let Some(last) = raws.last() else {
            return self.append(child.default.as_ref()).map_err(|_| Fallback);
        };
        if kind == Kind::Message {
            let mut buffer = Vec::new();
            let message = merged(raws, bytes, &mut buffer)?;
            self.append_message(message)
        } else if raws.len() > 1 {
            // Set more than once: the decoder checks every occurrence, not
            // only the last, which wins; leave it to the decoder.
            Err(Fallback)
        } else {
            self.append_scalar(&kind, last, bytes)
        }
    }

    /// Appends the elements one occurrence of a repeated field holds (one,
    /// or a packed run); returns how many.
    fn append_element(&mut self, kind: &Kind, raw: &Raw, bytes: &[u8]) -> Fast<usize> {
        let wire = scalar_wire(kind);
        match wire {
            // A packed run of scalars.
            Some(w) if raw.wire == LEN => {
                let run = &bytes[raw.start..raw.end];
                let mut pos = 0;
                let mut count = 0;
                while pos < run.len() {
                    let value = match w {
                        VARINT => varint(run, &mut pos)?,
                        FIXED64 => fixed::<8>(run, &mut pos)?,
                        _ => fixed::<4>(run, &mut pos)?,
                    };
                    let element = Raw {
                        wire: w,
                        value,
                        start: 0,
                        end: 0,
                    };
                    self.append_scalar(kind, &element, run)?;
                    count += 1;
                }
                Ok(count)
            }
            Some(_) => {
                self.append_scalar(kind, raw, bytes)?;
                Ok(1)
            }
            None if *kind == Kind::Message => {
                if raw.wire != LEN {
                    return Err(Fallback);
                }
                self.append_message(&bytes[raw.start..raw.end])?;
                Ok(1)
            }
            None => {
                self.append_scalar(kind, raw, bytes)?;
                Ok(1)
            }
        }
    }

    /// Appends a present message value.
    fn append_message(&mut self, message: &[u8]) -> Fast {
        match self {
            Self::Struct(s) => s.append_wire(message),
            Self::Timestamp(b) => {
                let (seconds, nanos) = seconds_and_nanos(message)?;
                b.append_value(wkt::timestamp_micros_of(seconds, nanos).map_err(|_| Fallback)?);
                Ok(())
            }
            Self::Duration(b) => {
                let (seconds, nanos) = seconds_and_nanos(message)?;
                b.append_value(wkt::duration_micros_of(seconds, nanos).map_err(|_| Fallback)?);
                Ok(())
            }
            Self::Empty(b) => {
                // Its fields, if any, are unknown to the plan.
                if !message.is_empty() {
                    return Err(Fallback);
                }
                b.append_value(true);
                Ok(())
            }
            _ => Err(Fallback),
        }
    }

    /// Appends a present scalar of `kind`.
    fn append_scalar(&mut self, kind: &Kind, raw: &Raw, bytes: &[u8]) -> Fast {
        if let Some(wire) = scalar_wire(kind) {
            if raw.wire != wire {
                return Err(Fallback);
            }
        } else if raw.wire != LEN {
            return Err(Fallback);
        }
        let v = raw.value;
        match (self, kind) {
            (Self::Bool(b), Kind::Bool) => b.append_value(v != 0),
            (Self::Int32(b), Kind::Int32 | Kind::Sfixed32) => b.append_value(v as i32),
            (Self::Int32(b), Kind::Sint32) => b.append_value(zigzag32(v)),
            (Self::Int64(b), Kind::Int64 | Kind::Sfixed64) => b.append_value(v as i64),
            (Self::Int64(b), Kind::Sint64) => b.append_value(zigzag64(v)),
            (Self::UInt32(b), Kind::Uint32 | Kind::Fixed32) => b.append_value(v as u32),
            (Self::UInt64(b), Kind::Uint64 | Kind::Fixed64) => b.append_value(v),
            (Self::Float32(b), Kind::Float) => b.append_value(f32::from_bits(v as u32)),
            (Self::Float64(b), Kind::Double) => b.append_value(f64::from_bits(v)),
            (Self::Utf8(b), Kind::String) => {
                let text = std::str::from_utf8(&bytes[raw.start..raw.end]).map_err(|_| Fallback)?;
                b.append_value(text);
            }
            (Self::Binary(b), Kind::Bytes) => b.append_value(&bytes[raw.start..raw.end]),
            (Self::Enum(names, b), Kind::Enum) => {
                b.append_value(names.name(v as i32).ok_or(Fallback)?);
            }
            _ => return Err(Fallback),
        }
        Ok(())
    }
}
