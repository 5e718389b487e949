//! EVM hard-fork versions, opcode availability and unit helpers.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EvmVersion {
    Homestead,
    Byzantium,
    Constantinople,
    Petersburg,
    Istanbul,
    Berlin,
    London,
    Paris,
    Shanghai,
    Cancun,
}

impl EvmVersion {
    pub const ALL: [EvmVersion; 10] = [
        EvmVersion::Homestead,
        EvmVersion::Byzantium,
        EvmVersion::Constantinople,
        EvmVersion::Petersburg,
        EvmVersion::Istanbul,
        EvmVersion::Berlin,
        EvmVersion::London,
        EvmVersion::Paris,
        EvmVersion::Shanghai,
        EvmVersion::Cancun,
    ];

    pub fn name(self) -> &'static str {
        match self {
            EvmVersion::Homestead => "homestead",
            EvmVersion::Byzantium => "byzantium",
            EvmVersion::Constantinople => "constantinople",
            EvmVersion::Petersburg => "petersburg",
            EvmVersion::Istanbul => "istanbul",
            EvmVersion::Berlin => "berlin",
            EvmVersion::London => "london",
            EvmVersion::Paris => "paris",
            EvmVersion::Shanghai => "shanghai",
            EvmVersion::Cancun => "cancun",
        }
    }

    pub fn from_name(name: &str) -> Option<EvmVersion> {
        EvmVersion::ALL.iter().copied().find(|v| v.name() == name.to_ascii_lowercase())
    }

    /// PUSH0 (EIP-3855) is available from Shanghai on.
    pub fn has_push0(self) -> bool {
        self >= EvmVersion::Shanghai
    }

    /// Transient storage and MCOPY arrived with Cancun.
    pub fn has_transient_storage(self) -> bool {
        self >= EvmVersion::Cancun
    }

    pub fn has_basefee(self) -> bool {
        self >= EvmVersion::London
    }
}

impl fmt::Display for EvmVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

pub const WEI_PER_GWEI: u128 = 1_000_000_000;
pub const WEI_PER_ETHER: u128 = 1_000_000_000_000_000_000;

pub fn gwei_to_wei(gwei: u128) -> u128 {
    gwei * WEI_PER_GWEI
}

pub fn format_ether(wei: u128) -> String {
    let int = wei / WEI_PER_ETHER;
    let frac = wei % WEI_PER_ETHER;
    if frac == 0 {
        return format!("{}.0", int);
    }
    let s = format!("{:018}", frac);
    format!("{}.{}", int, s.trim_end_matches('0'))
}

/// The EVM version targeted by default (the latest supported fork).
pub fn get_evm_version() -> EvmVersion {
    EvmVersion::Cancun
}

pub fn latest_version_name() -> &'static str {
    get_evm_version().name()
}
