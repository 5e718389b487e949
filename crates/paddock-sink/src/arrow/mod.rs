//! The Arrow side of the sinks, shared by every writer and by readers:
//! schemas derived from the proto descriptors, and messages to record
//! batches and back.
//!
//! - [`table`]: the five tables, their names and message types, and the
//!   descriptor pool.
//! - [`schema`]: the proto-to-Arrow type mapping (listed in the README).
//! - [`to_batch`]: encoded messages to a [`crate::RecordBatch`].
//! - [`from_batch`]: a record batch back to messages, to check what was
//!   written.
//! - [`error`]: the conversion error type, [`crate::SinkError`].

pub mod error;
pub mod from_batch;
pub mod schema;
pub mod table;
pub mod to_batch;
pub(crate) mod wkt;

#[cfg(test)]
pub(crate) mod test_proto;
