module ActiveSupportExtras
  module CoreExt
    module StringSquish
      def squish
        strip.gsub(/[[:space:]]+/, ' ')
      end
    end

    module HashDeep
      def deep_symbolize_keys
        each_with_object({}) do |(k, v), h|
          h[(k.to_sym rescue k)] = v.is_a?(Hash) ? v.deep_symbolize_keys : v
        end
      end
    end

    module ArrayGroups
      def in_groups_of(n, fill = nil)
        n = n.to_i
        return [self] if n <= 0
        each_slice(n).map { |g| g.size < n && !fill.nil? ? g + [fill] * (n - g.size) : g }
      end
    end

    def self.install!
      String.include(StringSquish)
      Hash.include(HashDeep)
      Array.include(ArrayGroups)
      true
    end
  end
end
