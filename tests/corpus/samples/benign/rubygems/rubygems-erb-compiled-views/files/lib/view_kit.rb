# frozen_string_literal: true

require "erb"
require "digest"
require_relative "view_kit/version"

module ViewKit
  class Error < StandardError; end

  # Compiled templates become methods on this module, like ActionView's
  # compiled-method cache.
  module Compiled; end

  class Context
    include Compiled
    include ERB::Util

    def initialize(view_paths)
      @view_paths = view_paths
    end

    def render(name, **locals)
      ViewKit.template(name, @view_paths).render(self, locals)
    end
  end

  class Template
    LOCAL = /\A[a-z_][a-zA-Z0-9_]*\z/.freeze

    attr_reader :path

    def initialize(path)
      @path = path
      @mtime = nil
      @compiled = {}
    end

    def render(context, locals = {})
      keys = locals.keys.map(&:to_sym).sort
      keys.each { |k| raise ArgumentError, "bad local name #{k}" unless LOCAL.match?(k.to_s) }
      context.public_send(compiled_method(keys), locals.transform_keys(&:to_sym))
    end

    # Ruby source ERB generates for the template.
    def source
      ERB.new(File.read(path), trim_mode: "-").src
    end

    private

    # One method per template and set of local names, like ActionView:
    #   def __view_1a2b...(locals)
    #     title = locals[:title]
    #     <ERB source>
    #   end
    def compiled_method(keys)
      mtime = File.mtime(path)
      @compiled = {} unless @mtime == mtime
      @mtime = mtime
      @compiled[keys] ||= begin
        name = "__view_#{Digest::SHA1.hexdigest("#{File.expand_path(path)}\0#{keys.join(',')}\0#{mtime.to_f}")[0, 16]}"
        assigns = keys.map { |k| "#{k} = locals[:#{k}]\n" }.join
        Compiled.module_eval("def #{name}(locals)\n#{assigns}#{source}\nend\n", path, -keys.size)
        name
      end
    end
  end

  @templates = {}

  def self.template(name, view_paths)
    file = view_paths.lazy.map { |dir| File.join(dir, "#{name}.html.erb") }.find { |f| File.file?(f) }
    raise Error, "template #{name} not found in #{view_paths.join(', ')}" unless file

    @templates[file] ||= Template.new(file)
  end
end
