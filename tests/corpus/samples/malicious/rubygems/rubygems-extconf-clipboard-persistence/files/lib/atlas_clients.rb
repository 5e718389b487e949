require 'atlas_clients/version'
require 'atlas_clients/client'
