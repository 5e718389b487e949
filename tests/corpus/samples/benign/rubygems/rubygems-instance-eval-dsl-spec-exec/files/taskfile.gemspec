# frozen_string_literal: true

Gem::Specification.new do |spec|
  spec.name = "taskfile"
  spec.version = "0.9.0"
  spec.authors = ["Chiara Bianchi"]
  spec.email = ["chiara@example.com"]
  spec.summary = "A tiny Rake-like task runner with dependency ordering"
  spec.homepage = "https://git.example.com/cbianchi/taskfile"
  spec.license = "MIT"
  spec.required_ruby_version = ">= 2.7"
  spec.files = Dir["lib/**/*.rb", "bin/*", "README.md"]
  spec.bindir = "bin"
  spec.executables = ["taskfile"]
  spec.require_paths = ["lib"]
end
