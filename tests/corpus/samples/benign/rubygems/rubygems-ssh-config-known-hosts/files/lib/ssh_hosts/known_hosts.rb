# frozen_string_literal: true

require "openssl"

module SshHosts
  # Lookups in an OpenSSH known_hosts file, plain or hashed (HashKnownHosts).
  class KnownHosts
    DEFAULT_PATH = File.join(Dir.home, ".ssh", "known_hosts")
    Entry = Struct.new(:hosts, :key_type, :key, :marker)

    def initialize(path = DEFAULT_PATH)
      @entries = File.file?(path) ? parse(File.read(path)) : []
    end

    def self.from_text(text)
      allocate.tap { |k| k.instance_variable_set(:@entries, k.send(:parse, text)) }
    end

    def keys_for(host, port: 22)
      name = port == 22 ? host : "[#{host}]:#{port}"
      @entries.select { |e| e.marker != "@revoked" && e.hosts.any? { |h| match?(h, name) } }
    end

    def known?(host, port: 22)
      !keys_for(host, port: port).empty?
    end

    private

    def parse(text)
      text.each_line.filter_map do |line|
        line = line.strip
        next if line.empty? || line.start_with?("#")

        fields = line.split
        marker = fields.first.start_with?("@") ? fields.shift : nil
        next if fields.size < 3

        Entry.new(fields[0].split(","), fields[1], fields[2], marker)
      end
    end

    def match?(pattern, name)
      if pattern.start_with?("|1|")
        salt, digest = pattern.split("|")[2, 2]
        return false unless salt && digest

        OpenSSL::HMAC.digest("SHA1", salt.unpack1("m"), name) == digest.unpack1("m")
      else
        # Only * and ? are wildcards; [host]:port brackets are literal.
        regex = Regexp.escape(pattern).gsub("\\*", ".*").gsub("\\?", ".")
        /\A#{regex}\z/i.match?(name)
      end
    end
  end
end
