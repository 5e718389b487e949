require_relative 'rubocop/performance_ext/version'
require_relative 'rubocop/performance_ext/inject'
require_relative 'rubocop/cop/performance_ext/redundant_freeze'
