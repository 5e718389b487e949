module SshkitHelpers
  VERSION = '1.21.3'.freeze
end
