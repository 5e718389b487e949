//! A test-only protobuf file with what the Paddock protos do not use (yet):
//! every scalar kind, `optional`, `oneof`, maps, an empty message and
//! self-referential messages. Compiled in memory with protox.

use std::sync::OnceLock;

use prost_reflect::{DescriptorPool, MessageDescriptor};
use protox::file::{ChainFileResolver, File, FileResolver, GoogleFileResolver};

const TEST_PROTO: &str = r#"
syntax = "proto3";
package test;
import "google/protobuf/timestamp.proto";
import "google/protobuf/duration.proto";

enum Color { COLOR_UNSPECIFIED = 0; COLOR_RED = 1; COLOR_GREEN = 2; }

message Scalars {
  double f_double = 1; float f_float = 2;
  int32 f_int32 = 3; int64 f_int64 = 4; uint32 f_uint32 = 5; uint64 f_uint64 = 6;
  sint32 f_sint32 = 7; sint64 f_sint64 = 8; fixed32 f_fixed32 = 9; fixed64 f_fixed64 = 10;
  sfixed32 f_sfixed32 = 11; sfixed64 f_sfixed64 = 12;
  bool f_bool = 13; string f_string = 14; bytes f_bytes = 15; Color f_enum = 16;
  google.protobuf.Timestamp f_timestamp = 17; google.protobuf.Duration f_duration = 18;
  optional int32 f_optional = 19;
}

message Nothing {}

message Containers {
  map<string, int64> labels = 1;
  map<int32, Scalars> by_id = 2;
  Nothing marker = 3;
  oneof choice { string choice_text = 4; Scalars choice_scalars = 5; }
  repeated Color colors = 6;
  repeated google.protobuf.Timestamp times = 7;
  repeated bytes blobs = 8;
}

message Node {
  string name = 1;
  Node child = 2;
  repeated Node children = 3;
  Other other = 4;
}

message Other { Node back = 1; Other again = 2; int32 n = 3; }
"#;

struct InMemory;

impl FileResolver for InMemory {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        if name == "test.proto" {
            File::from_source(name, TEST_PROTO)
        } else {
            Err(protox::Error::file_not_found(name))
        }
    }
}

pub(crate) fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        let mut resolver = ChainFileResolver::new();
        resolver.add(InMemory);
        resolver.add(GoogleFileResolver::new());
        let mut compiler = protox::Compiler::with_file_resolver(resolver);
        compiler.include_imports(true);
        compiler
            .open_file("test.proto")
            .expect("test.proto compiles");
        DescriptorPool::decode(compiler.encode_file_descriptor_set().as_slice())
            .expect("protox output decodes")
    })
}

pub(crate) fn message(name: &str) -> MessageDescriptor {
    pool()
        .get_message_by_name(name)
        .unwrap_or_else(|| panic!("test.proto defines {name}"))
}
