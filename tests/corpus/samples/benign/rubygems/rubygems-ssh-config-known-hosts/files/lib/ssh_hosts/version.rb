# frozen_string_literal: true

module SshHosts
  VERSION = "0.3.1"
end
