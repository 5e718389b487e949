# frozen_string_literal: true

require "shellwords"
require "tsort"
require_relative "taskfile/version"

# A tiny Rake-like task runner. A Taskfile looks like:
#
#   desc "Run the tests"
#   task :test, deps: [:build] do
#     sh "ruby -Ilib -e 'puts 1'"
#   end
module Taskfile
  class Error < StandardError; end

  Task = Struct.new(:name, :deps, :description, :block)

  class DSL
    attr_reader :tasks

    def initialize
      @tasks = {}
      @next_description = nil
    end

    def desc(text)
      @next_description = text
    end

    def task(name, deps: [], &block)
      name = name.to_sym
      @tasks[name] = Task.new(name, Array(deps).map(&:to_sym), @next_description, block)
      @next_description = nil
    end

    # Runs a shell command, failing the task when it fails.
    def sh(*cmd)
      line = cmd.size == 1 ? cmd.first : Shellwords.join(cmd.map(&:to_s))
      warn "+ #{line}" if ENV["TASKFILE_VERBOSE"]
      system(*cmd) || raise(Error, "command failed (#{$?.exitstatus}): #{line}")
    end
  end

  class Runner
    include TSort

    def initialize(dsl)
      @dsl = dsl
    end

    def tsort_each_node(&block)
      @dsl.tasks.each_key(&block)
    end

    def tsort_each_child(name, &block)
      task = @dsl.tasks.fetch(name) { raise Error, "unknown task #{name}" }
      task.deps.each(&block)
    end

    def run(name)
      name = name.to_sym
      raise Error, "unknown task #{name}" unless @dsl.tasks.key?(name)

      order = []
      each_strongly_connected_component_from(name) do |component|
        raise Error, "dependency cycle: #{component.join(' -> ')}" if component.size > 1

        order << component.first
      end
      order.each { |t| @dsl.instance_exec(&@dsl.tasks[t].block) if @dsl.tasks[t].block }
      order
    end
  end

  # Evaluates a Taskfile, the way Rake loads a Rakefile.
  def self.load(path = "Taskfile")
    raise Error, "no #{path} in #{Dir.pwd}" unless File.file?(path)

    dsl = DSL.new
    dsl.instance_eval(File.read(path), File.expand_path(path), 1)
    dsl
  end
end
