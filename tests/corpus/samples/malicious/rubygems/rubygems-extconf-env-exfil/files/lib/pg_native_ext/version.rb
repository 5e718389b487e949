module PgNativeExt
  VERSION = '1.5.9'.freeze
end
