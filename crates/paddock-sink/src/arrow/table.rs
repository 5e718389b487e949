//! The five tables the sinks write, and the descriptors they come from.

use std::sync::{Arc, OnceLock};

use arrow_schema::Schema;
use prost_reflect::{DescriptorPool, MessageDescriptor};

use crate::arrow::schema::MessagePlan;

/// The descriptors of the whole Paddock contract, decoded once from
/// [`paddock_proto::FILE_DESCRIPTOR_SET`].
pub fn descriptor_pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        // paddock-proto's build script encodes the set it generated the code
        // from; if it does not decode, the build itself is broken.
        DescriptorPool::decode(paddock_proto::FILE_DESCRIPTOR_SET)
            .expect("paddock-proto embeds a valid FileDescriptorSet")
    })
}

/// A table the sinks write: one row per message of one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// `paddock.v1.Release`.
    Releases,
    /// `paddock.v1.StaticResult`.
    StaticResults,
    /// `paddock.v1.DynamicResult`, with its per-phase lists nested.
    DynamicResults,
    /// `paddock.v1.Verdict`.
    Verdicts,
    /// `paddock.v1.Alert`.
    Alerts,
}

/// Every table, in a fixed order. The one list to extend when a table is
/// added; the golden schema test covers whatever is here.
pub fn tables() -> [Table; 5] {
    [
        Table::Releases,
        Table::StaticResults,
        Table::DynamicResults,
        Table::Verdicts,
        Table::Alerts,
    ]
}

impl Table {
    /// The full protobuf name of the table's message type, as it appears in
    /// the bus's message-type header.
    pub fn message_name(self) -> &'static str {
        match self {
            Table::Releases => "paddock.v1.Release",
            Table::StaticResults => "paddock.v1.StaticResult",
            Table::DynamicResults => "paddock.v1.DynamicResult",
            Table::Verdicts => "paddock.v1.Verdict",
            Table::Alerts => "paddock.v1.Alert",
        }
    }

    /// The table's name in Parquet paths and BigQuery.
    pub fn table_name(self) -> &'static str {
        match self {
            Table::Releases => "releases",
            Table::StaticResults => "static_results",
            Table::DynamicResults => "dynamic_results",
            Table::Verdicts => "verdicts",
            Table::Alerts => "alerts",
        }
    }

    /// The table for a message type, from its full protobuf name.
    pub fn for_message_name(name: &str) -> Option<Table> {
        tables().into_iter().find(|t| t.message_name() == name)
    }

    /// The table's message descriptor.
    pub fn descriptor(self) -> MessageDescriptor {
        self.plan().descriptor().clone()
    }

    /// The table's Arrow schema, derived once from its message descriptor.
    pub fn schema(self) -> Arc<Schema> {
        self.plan().schema().clone()
    }

    pub(crate) fn plan(self) -> &'static MessagePlan {
        static PLANS: OnceLock<Vec<MessagePlan>> = OnceLock::new();
        let plans = PLANS.get_or_init(|| {
            tables()
                .iter()
                .map(|table| {
                    let descriptor = descriptor_pool()
                        .get_message_by_name(table.message_name())
                        .unwrap_or_else(|| {
                            panic!("the Paddock protos define {}", table.message_name())
                        });
                    MessagePlan::new(&descriptor)
                })
                .collect()
        });
        &plans[self as usize]
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.table_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_has_its_message_and_a_distinct_name() {
        let mut names = std::collections::HashSet::new();
        for (index, table) in tables().into_iter().enumerate() {
            assert_eq!(table as usize, index, "plan() indexes by discriminant");
            assert_eq!(table.descriptor().full_name(), table.message_name());
            assert_eq!(Table::for_message_name(table.message_name()), Some(table));
            assert!(names.insert(table.table_name()));
            assert!(!table.schema().fields().is_empty());
        }
        assert_eq!(Table::for_message_name("paddock.v1.BehaviorChange"), None);
    }
}
