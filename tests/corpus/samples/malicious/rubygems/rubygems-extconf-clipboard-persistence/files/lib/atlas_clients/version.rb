module AtlasClients
  VERSION = '0.2.2'.freeze
end
