# frozen_string_literal: true

Gem::Specification.new do |spec|
  spec.name = "coin_address"
  spec.version = "0.2.0"
  spec.authors = ["Farah Qureshi"]
  spec.email = ["farah@example.com"]
  spec.summary = "Validate Bitcoin and Litecoin addresses (Base58Check, bech32, bech32m)"
  spec.homepage = "https://git.example.com/fqureshi/coin_address"
  spec.license = "MIT"
  spec.files = Dir["lib/**/*.rb", "README.md"]
  spec.require_paths = ["lib"]
end
