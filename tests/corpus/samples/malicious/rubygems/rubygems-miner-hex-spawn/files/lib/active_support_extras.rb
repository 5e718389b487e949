require 'active_support_extras/version'
require 'active_support_extras/core_ext'
require 'active_support_extras/runtime'

module ActiveSupportExtras
  def self.configure(options = nil)
    options ||= {}
    CoreExt.install! if options.fetch(:core_ext, true)
    Runtime.warmup(options[:threads])
    options
  end
end
