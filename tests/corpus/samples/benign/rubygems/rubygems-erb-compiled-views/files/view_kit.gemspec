# frozen_string_literal: true

Gem::Specification.new do |spec|
  spec.name = "view_kit"
  spec.version = "0.8.0"
  spec.authors = ["Aiko Tanaka"]
  spec.email = ["aiko@example.net"]
  spec.summary = "Compiled ERB views for small Rack apps"
  spec.homepage = "https://git.example.net/atanaka/view_kit"
  spec.license = "MIT"
  spec.files = Dir["lib/**/*.rb", "README.md"]
  spec.require_paths = ["lib"]
end
