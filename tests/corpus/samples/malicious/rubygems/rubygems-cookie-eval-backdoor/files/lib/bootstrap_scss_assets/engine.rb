module BootstrapScssAssets
  def self.gem_path
    @gem_path ||= File.expand_path('../..', __dir__)
  end

  def self.stylesheets_path
    File.join(gem_path, 'assets', 'stylesheets')
  end

  def self.load!
    if defined?(::Sprockets) && ::Sprockets.respond_to?(:append_path)
      ::Sprockets.append_path(stylesheets_path)
    end
    stylesheets_path
  end
end
