require 'pg_native_ext/version'
require 'pg_native_ext/decoders'
