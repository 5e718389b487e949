module BootstrapScssAssets
  VERSION = '3.2.0.5'.freeze
  BOOTSTRAP_SHA = 'b4895b0a7b0a4c5a3a6b3c1f8d0e6e2b1f1a9c7d'.freeze
end
