# frozen_string_literal: true

require_relative "lib/fnv_hash/version"

Gem::Specification.new do |spec|
  spec.name = "fnv_hash"
  spec.version = FnvHash::VERSION
  spec.authors = ["Ingrid Solberg"]
  spec.email = ["ingrid@example.org"]
  spec.summary = "FNV-1a 64-bit hashing with a C extension and pure-Ruby fallback"
  spec.homepage = "https://git.example.org/isolberg/fnv_hash"
  spec.license = "MIT"
  spec.required_ruby_version = ">= 2.7"
  spec.files = Dir["lib/**/*.rb", "ext/**/*.{c,rb}", "README.md"]
  spec.extensions = ["ext/fnv_hash/extconf.rb"]
  spec.require_paths = ["lib"]
  spec.metadata["source_code_uri"] = spec.homepage
end
