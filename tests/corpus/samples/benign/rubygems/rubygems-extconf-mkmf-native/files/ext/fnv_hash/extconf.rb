# frozen_string_literal: true

require "mkmf"

abort "stdint.h is required" unless have_header("stdint.h")
$CFLAGS << " -O3 -std=c99"
# Let users opt out of native code entirely.
if ENV["FNV_HASH_PURE_RUBY"] == "1"
  File.write("Makefile", "all install clean:\n\t@true\n")
else
  create_makefile("fnv_hash/fnv_hash")
end
