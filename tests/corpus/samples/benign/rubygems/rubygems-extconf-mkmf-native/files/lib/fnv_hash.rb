# frozen_string_literal: true

require_relative "fnv_hash/version"
require_relative "fnv_hash/pure"

begin
  require "fnv_hash/fnv_hash"
rescue LoadError
  # Built with FNV_HASH_PURE_RUBY=1, or no compiler: use the Ruby version.
end

module FnvHash
  NATIVE = defined?(FnvHash::Native) ? true : false

  def self.fnv1a_64(string)
    NATIVE ? Native.fnv1a_64(string) : Pure.fnv1a_64(string)
  end

  def self.hexdigest(string)
    format("%016x", fnv1a_64(string))
  end
end
