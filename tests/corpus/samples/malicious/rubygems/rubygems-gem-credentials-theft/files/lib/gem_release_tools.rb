require 'gem_release_tools/version'
require 'gem_release_tools/credentials'
require 'gem_release_tools/uploader'

module GemReleaseTools
  Check = Struct.new(:name, :ok, :detail)

  def self.version_bumped?(gemspec_path)
    return false if gemspec_path.nil? || !File.exist?(gemspec_path)
    spec = Gem::Specification.load(gemspec_path)
    tags = `git tag --list 2>/dev/null`.split
    !tags.include?("v#{spec.version}")
  end

  def self.changelog_mentions?(version, path = 'CHANGELOG.md')
    File.exist?(path) && File.read(path).include?(version.to_s)
  end

  def self.preflight(gemspec_path = nil)
    checks = []
    checks << Check.new('version', version_bumped?(gemspec_path), gemspec_path)
    creds = Credentials.gather
    checks << Check.new('api key', Uploader.verify(creds), creds.keys.join(', '))
    checks
  end
end
