#!/usr/bin/env ruby
# Paddock's RubyGems driver: install, import or execute one gem.
#
#     analyze-ruby.rb PHASE NAME VERSION ARTIFACT
#
# Runs inside the sandbox. Exit 0: the phase completed; anything else: the
# package failed it.
require 'timeout'

CALL_TIMEOUT = Integer(ENV.fetch('PADDOCK_CALL_TIMEOUT', '5'))

def install(name, version, artifact)
  args = ['gem', 'install', '--no-document']
  args += artifact.empty? ? ['-v', version, name] : [artifact]
  system(*args) ? 0 : 1
end

def load_all(name)
  spec = begin
    Gem::Specification.find_by_name(name)
  rescue Gem::MissingSpecError
    warn "paddock: #{name} is not installed"
    return nil
  end
  spec.require_paths.each do |rp|
    base = File.join(spec.full_gem_path, rp)
    $LOAD_PATH.unshift(base) unless $LOAD_PATH.include?(base)
  end
  loaded = 0
  spec.require_paths.each do |rp|
    base = File.join(spec.full_gem_path, rp)
    Dir.glob('**/*.rb', base: base).sort.each do |rel|
      begin
        require rel.delete_suffix('.rb')
        puts "paddock: required #{rel}"
        loaded += 1
      rescue Exception => e # the gem's errors are data
        warn "paddock: requiring #{rel} failed: #{e.class}: #{e.message}"
      end
    end
  end
  loaded
end

def call(label)
  Timeout.timeout(CALL_TIMEOUT) { yield }
  puts "paddock: called #{label}"
rescue Exception => e
  warn "paddock: calling #{label} failed: #{e.class}: #{e.message}"
end

def dummies(method)
  Array.new([method.arity, -method.arity - 1].max.clamp(0, 8)) { nil }
end

def defined_in?(meth, dir)
  loc = meth.source_location
  !loc.nil? && loc[0].start_with?(dir)
end

def execute(name)
  before = ObjectSpace.each_object(Module).to_a
  return 1 if load_all(name).nil?
  dir = Gem::Specification.find_by_name(name).full_gem_path
  (ObjectSpace.each_object(Module).to_a - before).each do |mod|
    next if mod.name.nil?
    # Only the gem's own code: what it required from the standard
    # library (sockets, say) is not called.
    mod.singleton_methods(false).each do |m|
      meth = mod.method(m)
      next unless defined_in?(meth, dir)
      call("#{mod.name}.#{m}") { meth.call(*dummies(meth)) }
    end
    next unless mod.is_a?(Class)
    own = mod.public_instance_methods(false).select { |m| defined_in?(mod.instance_method(m), dir) }
    next if own.empty?
    instance = nil
    call("#{mod.name}.new") do
      init = mod.instance_method(:initialize)
      instance = mod.new(*Array.new([init.arity, -init.arity - 1].max.clamp(0, 8)))
    end
    next if instance.nil?
    own.each do |m|
      meth = instance.method(m)
      call("#{mod.name}##{m}") { meth.call(*dummies(meth)) }
    end
  end
  0
end

if ARGV.length != 4
  warn 'usage: analyze-ruby.rb PHASE NAME VERSION ARTIFACT'
  exit 2
end
phase, name, version, artifact = ARGV
code = case phase
       when 'install' then install(name, version, artifact)
       when 'import' then load_all(name).nil? ? 1 : 0
       when 'execute' then execute(name)
       else
         warn "paddock: unknown phase #{phase}"
         2
       end
exit code
