# frozen_string_literal: true

Gem::Specification.new do |spec|
  spec.name = "ssh_hosts"
  spec.version = "0.3.1"
  spec.authors = ["Wei Zhang"]
  spec.email = ["wei@example.com"]
  spec.summary = "Read ~/.ssh/config and known_hosts the way OpenSSH does"
  spec.homepage = "https://git.example.com/wzhang/ssh_hosts"
  spec.license = "MIT"
  spec.required_ruby_version = ">= 2.7"
  spec.files = Dir["lib/**/*.rb", "README.md"]
  spec.require_paths = ["lib"]
end
