# frozen_string_literal: true

Gem::Specification.new do |spec|
  spec.name = "protoc_bin"
  spec.version = "25.1.0"
  spec.authors = ["Lars Becker"]
  spec.email = ["lars@example.org"]
  spec.summary = "The protobuf compiler (protoc) as a gem, downloaded for your platform at install"
  spec.homepage = "https://git.example.org/lbecker/protoc_bin"
  spec.license = "BSD-3-Clause"
  spec.files = Dir["lib/**/*.rb", "ext/**/*.rb", "bin/*", "README.md"]
  spec.extensions = ["ext/protoc_bin/extconf.rb"]
  spec.executables = ["protoc"]
  spec.require_paths = ["lib"]
end
