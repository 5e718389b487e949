module DotenvRailsLoader
  module Parser
    LINE = /\A\s*(?:export\s+)?([\w.]+)\s*=\s*(?:'([^']*)'|"((?:\\.|[^"])*)"|([^#\n]*?))\s*(?:#.*)?\z/.freeze

    def self.parse(text)
      (text || '').each_line.each_with_object({}) do |line, env|
        m = LINE.match(line.chomp)
        next unless m
        env[m[1]] = m[2] || (m[3] && m[3].gsub('\n', "\n")) || m[4].to_s
      end
    end

    def self.load(files = nil, overwrite = false)
      files ||= %w[.env.local .env]
      files.each do |f|
        next unless File.file?(f)
        parse(File.read(f)).each { |k, v| ENV[k] = v if overwrite || !ENV.key?(k) }
      end
    end
  end
end
