# frozen_string_literal: true

module SshHosts
  # Host blocks of an ssh_config(5) file. First obtained value wins.
  class Config
    DEFAULT_PATH = File.join(Dir.home, ".ssh", "config")
    MULTI = %w[identityfile localforward remoteforward sendenv].freeze

    def self.for(host, path: DEFAULT_PATH)
      File.file?(path) ? parse(File.read(path)).for(host) : { "hostname" => host }
    end

    def self.parse(text)
      new(text)
    end

    def initialize(text)
      @blocks = [[["*"], {}]]
      text.each_line do |raw|
        line = raw.strip
        next if line.empty? || line.start_with?("#")

        key, value = line.split(/\s*=\s*|\s+/, 2)
        key = key.downcase
        if key == "host"
          @blocks << [value.to_s.split, {}]
        else
          opts = @blocks.last[1]
          if MULTI.include?(key)
            (opts[key] ||= []) << value
          else
            opts[key] ||= value
          end
        end
      end
    end

    def for(host)
      result = {}
      @blocks.each do |patterns, opts|
        next unless matches?(host, patterns)

        opts.each do |k, v|
          if MULTI.include?(k)
            result[k] = (result[k] || []) | v
          else
            result[k] ||= v
          end
        end
      end
      result["hostname"] = (result["hostname"] || host).gsub("%h", host)
      result["identityfile"]&.map! { |f| File.expand_path(f.gsub("%h", host)) }
      result
    end

    private

    def matches?(host, patterns)
      negated, positive = patterns.partition { |p| p.start_with?("!") }
      return false if negated.any? { |p| File.fnmatch?(p[1..], host) }

      positive.any? { |p| File.fnmatch?(p, host) }
    end
  end
end
