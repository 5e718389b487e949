# frozen_string_literal: true

require_relative "ssh_hosts/version"
require_relative "ssh_hosts/config"
require_relative "ssh_hosts/known_hosts"
