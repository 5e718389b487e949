# frozen_string_literal: true

Gem::Specification.new do |spec|
  spec.name = "postbox-client"
  spec.version = "1.5.0"
  spec.authors = ["Postbox"]
  spec.email = ["sdk@postbox.example.com"]
  spec.summary = "Ruby client for the Postbox transactional email API"
  spec.homepage = "https://postbox.example.com/docs/ruby"
  spec.license = "MIT"
  spec.required_ruby_version = ">= 2.7"
  spec.files = Dir["lib/**/*.rb", "README.md"]
  spec.require_paths = ["lib"]
  spec.metadata["source_code_uri"] = "https://git.example.com/postbox/postbox-ruby"
end
