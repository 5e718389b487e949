module GemReleaseTools
  VERSION = '0.3.1'.freeze
end
