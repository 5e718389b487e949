# frozen_string_literal: true

Gem::Specification.new do |spec|
  spec.name = "typed_attrs"
  spec.version = "0.4.0"
  spec.authors = ["Dmitri Volkov"]
  spec.email = ["dmitri@example.net"]
  spec.summary = "Declarative, type-checked attributes for plain Ruby objects"
  spec.homepage = "https://git.example.net/dvolkov/typed_attrs"
  spec.license = "MIT"
  spec.required_ruby_version = ">= 2.7"
  spec.files = Dir["lib/**/*.rb", "README.md"]
  spec.require_paths = ["lib"]
end
