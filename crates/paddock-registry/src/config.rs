//! Where the registries are. No registry's address is built in: each comes
//! from this configuration or, when unset, from the configuration of the
//! ecosystem's own client on this machine (see [`crate::discover`]).

use serde::{Deserialize, Serialize};

use crate::extract::ExtractLimits;
use crate::http::HttpSettings;

/// One registry's endpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Endpoint {
    /// The base URL the client reads releases from:
    /// PyPI: the Simple index (`https://host/simple/`);
    /// npm: the registry root; RubyGems: the gem server root;
    /// Packagist: the Composer repository serving `/p2/`;
    /// crates.io: the sparse index (`sparse+` prefix allowed).
    pub url: Option<String>,
    /// The registry's API host where it differs from `url`, for feeds:
    /// PyPI's RSS and JSON API, Packagist's `metadata/changes.json`,
    /// crates.io's RSS.
    pub api_url: Option<String>,
}

/// Every registry, and how Paddock talks to them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistriesConfig {
    pub pypi: Endpoint,
    pub npm: Endpoint,
    pub rubygems: Endpoint,
    pub packagist: Endpoint,
    pub crates_io: Endpoint,
    pub http: HttpSettings,
    pub extract: ExtractLimits,
}

impl RegistriesConfig {
    pub fn endpoint(&self, eco: paddock_proto::v1::Ecosystem) -> &Endpoint {
        use paddock_proto::v1::Ecosystem::*;
        match eco {
            Pypi | Unspecified => &self.pypi,
            Npm => &self.npm,
            Rubygems => &self.rubygems,
            Packagist => &self.packagist,
            CratesIo => &self.crates_io,
        }
    }

    pub fn endpoint_mut(&mut self, eco: paddock_proto::v1::Ecosystem) -> &mut Endpoint {
        use paddock_proto::v1::Ecosystem::*;
        match eco {
            Pypi | Unspecified => &mut self.pypi,
            Npm => &mut self.npm,
            Rubygems => &mut self.rubygems,
            Packagist => &mut self.packagist,
            CratesIo => &mut self.crates_io,
        }
    }
}
