# frozen_string_literal: true

require "open3"
require_relative "changelog_gen/version"

module ChangelogGen
  class Error < StandardError; end

  SECTIONS = {
    "feat" => "Features",
    "fix" => "Bug fixes",
    "perf" => "Performance",
    "docs" => "Documentation",
  }.freeze
  SUBJECT = /\A(?<type>[a-z]+)(?:\((?<scope>[^)]+)\))?(?<breaking>!)?: (?<text>.+)\z/.freeze
  SEPARATOR = "\x1f"

  module_function

  def git(*args, dir: Dir.pwd)
    out, err, status = Open3.capture3("git", *args, chdir: dir)
    raise Error, "git #{args.first} failed: #{err.strip}" unless status.success?

    out
  rescue Errno::ENOENT
    raise Error, "git is not installed"
  end

  def last_tag(dir: Dir.pwd)
    git("describe", "--tags", "--abbrev=0", dir: dir).strip
  rescue Error
    nil
  end

  def commits(since: nil, dir: Dir.pwd)
    range = since ? "#{since}..HEAD" : "HEAD"
    git("log", "--no-merges", "--format=%h#{SEPARATOR}%s", range, dir: dir).lines.map do |line|
      sha, subject = line.chomp.split(SEPARATOR, 2)
      { sha: sha, subject: subject.to_s }
    end
  end

  def render(version, commits, date: Time.now.utc.strftime("%Y-%m-%d"))
    groups = Hash.new { |h, k| h[k] = [] }
    breaking = []
    commits.each do |c|
      m = SUBJECT.match(c[:subject])
      next unless m && SECTIONS.key?(m[:type])

      entry = "- #{m[:scope] ? "**#{m[:scope]}:** " : ''}#{m[:text]} (#{c[:sha]})"
      groups[SECTIONS[m[:type]]] << entry
      breaking << entry if m[:breaking]
    end
    out = +"## #{version} (#{date})\n"
    out << "\n### Breaking changes\n\n#{breaking.join("\n")}\n" unless breaking.empty?
    SECTIONS.each_value do |title|
      next if groups[title].empty?

      out << "\n### #{title}\n\n#{groups[title].join("\n")}\n"
    end
    out
  end

  def prepend_to(path, text)
    old = File.exist?(path) ? File.read(path) : "# Changelog\n"
    head, rest = old.split("\n", 2)
    File.write(path, "#{head}\n\n#{text}\n#{rest.to_s.sub(/\A\n+/, '')}")
  end
end
