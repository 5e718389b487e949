# frozen_string_literal: true

# Downloads the prebuilt protoc for this platform into the gem, the way
# sass-embedded downloads Dart Sass. No C code is compiled: the Makefile
# written at the end does nothing.

require "digest"
require "fileutils"
require "net/http"
require "open3"
require "rubygems/package"
require "stringio"
require "uri"
require "zlib"

PROTOC_VERSION = "25.1"
MIRROR = ENV.fetch("PROTOC_BIN_MIRROR", "https://downloads.example.com/protobuf").chomp("/")
SHA256 = {
  "linux-x86_64" => "ed8fca87a11c888fed329d6a59c34c7d436165f662a2c875246ddb1ac2b6dd50",
  "linux-aarch_64" => "99975a8c11b83cd65c3e1151ae1714bf959abc0521acb659bf720524276ab0c8",
  "osx-x86_64" => "72c6d6b2bc855ff8688c3b7fb31288ccafd0ab55256ff8382d5711ecfcc11f4f",
  "osx-aarch_64" => "320308ce18c359564948754f51748de41cf02a4e7edf0cf47a805b9d38610f16",
}.freeze
VENDOR = File.expand_path("../../lib/protoc_bin/vendor", __dir__)

def write_makefile
  File.write("Makefile", "all:\n\t@:\ninstall:\n\t@:\nclean:\n\t@:\n")
end

def platform
  cpu = RbConfig::CONFIG["host_cpu"]
  cpu = "aarch_64" if %w[arm64 aarch64].include?(cpu)
  cpu = "x86_64" if %w[x64 amd64].include?(cpu)
  os = case RbConfig::CONFIG["host_os"]
       when /darwin/ then "osx"
       when /linux/ then "linux"
       end
  os && "#{os}-#{cpu}"
end

def fetch(url, limit = 5)
  uri = URI(url)
  raise "refusing non-HTTPS URL #{url}" unless uri.scheme == "https"

  res = Net::HTTP.start(uri.host, uri.port, use_ssl: true, open_timeout: 15, read_timeout: 60) do |http|
    http.request(Net::HTTP::Get.new(uri))
  end
  case res
  when Net::HTTPSuccess then res.body
  when Net::HTTPRedirection
    raise "too many redirects" if limit.zero?

    fetch(URI.join(url, res["location"]).to_s, limit - 1)
  else
    raise "#{url}: HTTP #{res.code}"
  end
end

def install_protoc
  return puts("protoc_bin: using PROTOC_BIN_PATH=#{ENV['PROTOC_BIN_PATH']}") if ENV["PROTOC_BIN_PATH"]

  key = platform
  expected = SHA256[key]
  raise "no prebuilt protoc for #{RbConfig::CONFIG['host']}; set PROTOC_BIN_PATH" unless expected

  url = "#{MIRROR}/v#{PROTOC_VERSION}/protoc-#{PROTOC_VERSION}-#{key}.tar.gz"
  archive = fetch(url)
  actual = Digest::SHA256.hexdigest(archive)
  raise "checksum mismatch for #{url}: expected #{expected}, got #{actual}" unless actual == expected

  binary = nil
  Gem::Package::TarReader.new(Zlib::GzipReader.new(StringIO.new(archive))) do |tar|
    tar.each { |entry| binary = entry.read if entry.full_name == "bin/protoc" }
  end
  raise "bin/protoc not found in #{url}" unless binary

  FileUtils.mkdir_p(VENDOR)
  target = File.join(VENDOR, "protoc")
  File.binwrite(target, binary)
  File.chmod(0o755, target)
  out, status = Open3.capture2e(target, "--version")
  unless status.success? && out.include?(PROTOC_VERSION)
    FileUtils.rm_f(target)
    raise "downloaded protoc does not run: #{out.strip}"
  end
  puts "protoc_bin: installed #{out.strip} for #{key}"
end

begin
  install_protoc
rescue StandardError => e
  warn "protoc_bin: could not install the prebuilt protoc: #{e.message}"
  warn "protoc_bin: set PROTOC_BIN_MIRROR to a reachable mirror, or PROTOC_BIN_PATH to your own protoc."
ensure
  write_makefile
end
