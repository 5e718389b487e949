# frozen_string_literal: true

Gem::Specification.new do |spec|
  spec.name = "changelog_gen"
  spec.version = "2.2.0"
  spec.authors = ["Olu Adeyemi"]
  spec.email = ["olu@example.org"]
  spec.summary = "Changelogs from Conventional Commits in your git history"
  spec.homepage = "https://git.example.org/oadeyemi/changelog_gen"
  spec.license = "MIT"
  spec.files = Dir["lib/**/*.rb", "bin/*", "README.md"]
  spec.executables = ["changelog_gen"]
  spec.require_paths = ["lib"]
end
