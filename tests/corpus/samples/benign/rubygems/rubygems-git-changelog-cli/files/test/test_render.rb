# frozen_string_literal: true

require "minitest/autorun"
require "tmpdir"
require "changelog_gen"

class TestRender < Minitest::Test
  def test_groups_conventional_commits
    commits = [
      { sha: "a1b2c3d", subject: "feat(api): add pagination" },
      { sha: "b2c3d4e", subject: "fix: handle empty body" },
      { sha: "c3d4e5f", subject: "feat!: drop Ruby 2.6" },
      { sha: "d4e5f6a", subject: "chore: bump rubocop" },
    ]
    text = ChangelogGen.render("2.0.0", commits, date: "2024-01-01")
    assert_includes text, "## 2.0.0 (2024-01-01)"
    assert_includes text, "### Breaking changes\n\n- drop Ruby 2.6 (c3d4e5f)"
    assert_includes text, "- **api:** add pagination (a1b2c3d)"
    refute_includes text, "rubocop"
  end

  def test_reads_a_real_repository
    skip "git not available" unless system("git", "--version", out: File::NULL)
    Dir.mktmpdir do |dir|
      system("git", "init", "-q", dir) or skip "git init failed"
      File.write(File.join(dir, "a"), "1")
      system("git", "-C", dir, "add", "a")
      system("git", "-C", dir, "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-qm", "feat: first")
      assert_equal ["feat: first"], ChangelogGen.commits(dir: dir).map { |c| c[:subject] }
      assert_nil ChangelogGen.last_tag(dir: dir)
    end
  end
end
