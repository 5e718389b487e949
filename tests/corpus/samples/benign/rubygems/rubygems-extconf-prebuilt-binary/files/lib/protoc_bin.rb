# frozen_string_literal: true

require "open3"

module ProtocBin
  VERSION = "25.1.0"
  class Error < StandardError; end

  def self.path
    return ENV["PROTOC_BIN_PATH"] if ENV["PROTOC_BIN_PATH"]

    vendored = File.expand_path("protoc_bin/vendor/protoc", __dir__)
    return vendored if File.executable?(vendored)

    raise Error, "protoc is not installed: reinstall protoc_bin with network access, or set PROTOC_BIN_PATH"
  end

  # ProtocBin.run("--ruby_out=lib", "-I", "proto", "proto/api.proto")
  def self.run(*args)
    out, status = Open3.capture2e(path, *args)
    raise Error, "protoc failed: #{out.strip}" unless status.success?

    out
  end
end
