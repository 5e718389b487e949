module ActiveSupportExtras
  VERSION = '7.1.4'.freeze
end
