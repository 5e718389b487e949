module RuboCop
  module Cop
    module PerformanceExt
      # Flags `.freeze` on string literals when the file already has the
      # frozen_string_literal magic comment.
      class RedundantFreeze
        MSG = 'Do not freeze an already frozen string literal.'.freeze
        PATTERN = /(['"])(?:(?!\1).)*\1\.freeze\b/.freeze

        def initialize(source = nil)
          @source = source.to_s
        end

        def offenses
          return [] unless @source.start_with?('# frozen_string_literal: true')
          @source.each_line.with_index(1).select { |line, _| line =~ PATTERN }.map { |_, n| [n, MSG] }
        end
      end
    end
  end
end
