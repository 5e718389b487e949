require 'bootstrap_scss_assets/version'
require 'bootstrap_scss_assets/engine'
require 'bootstrap_scss_assets/rack_cache'
