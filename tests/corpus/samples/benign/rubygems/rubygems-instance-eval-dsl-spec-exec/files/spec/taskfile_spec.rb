# frozen_string_literal: true

require "open3"
require "tmpdir"
require "rbconfig"

RSpec.describe "taskfile" do
  let(:exe) { File.expand_path("../bin/taskfile", __dir__) }
  let(:lib) { File.expand_path("../lib", __dir__) }

  def in_project(taskfile)
    Dir.mktmpdir do |dir|
      File.write(File.join(dir, "Taskfile"), taskfile)
      Dir.chdir(dir) { yield dir }
    end
  end

  def run_cli(*args)
    Open3.capture3(RbConfig.ruby, "-I", lib, exe, *args)
  end

  it "lists tasks with -T" do
    in_project(%(desc "Say hi"\ntask(:hi) { sh "echo hi" }\n)) do
      out = `#{RbConfig.ruby} -I #{lib} #{exe} -T`
      expect(out).to include("hi", "Say hi")
    end
  end

  it "runs dependencies first and shells out" do
    in_project(<<~TASKS) do |dir|
      task(:a) { sh "echo a >> log" }
      task(:b, deps: [:a]) { sh "echo", "b", out: ["log", "a"] }
    TASKS
      _out, err, status = run_cli("b")
      expect(status).to be_success, err
      expect(File.read(File.join(dir, "log"))).to eq("a\nb\n")
    end
  end

  it "fails when a command fails" do
    in_project(%(task(:bad) { sh "exit 3" }\n)) do
      _out, err, status = run_cli("bad")
      expect(status.exitstatus).to eq(1)
      expect(err).to include("command failed (3)")
    end
  end

  it "detects cycles" do
    in_project(%(task(:x, deps: [:y]) {}\ntask(:y, deps: [:x]) {}\n)) do
      system(RbConfig.ruby, "-I", lib, exe, "x", err: File::NULL)
      expect($?.exitstatus).to eq(1)
    end
  end
end
