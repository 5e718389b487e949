module RuboCop
  module PerformanceExt
    VERSION = '1.19.2'.freeze
    CONFIG_DEFAULT = File.expand_path('../../../config/default.yml', __dir__)
  end
end
