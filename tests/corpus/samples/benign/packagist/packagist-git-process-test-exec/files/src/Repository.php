<?php

declare(strict_types=1);

namespace Gitlet;

final class Repository
{
    public function __construct(private string $path, private string $git = 'git')
    {
        if (!is_dir($path)) {
            throw new GitException("not a directory: $path");
        }
    }

    public function currentBranch(): string
    {
        return trim($this->run(['rev-parse', '--abbrev-ref', 'HEAD']));
    }

    /** @return list<array{hash: string, author: string, date: string, subject: string}> */
    public function log(int $limit = 20): array
    {
        $out = $this->run(['log', '-n', (string) $limit, '--format=%H%x1f%an%x1f%aI%x1f%s']);
        $commits = [];
        foreach (array_filter(explode("\n", $out)) as $line) {
            [$hash, $author, $date, $subject] = explode("\x1f", $line, 4) + ['', '', '', ''];
            $commits[] = compact('hash', 'author', 'date', 'subject');
        }
        return $commits;
    }

    /** @return array<string, string> path => two-letter status (porcelain v1) */
    public function status(): array
    {
        $status = [];
        foreach (explode("\0", $this->run(['status', '--porcelain', '-z'])) as $entry) {
            if (strlen($entry) > 3) {
                $status[substr($entry, 3)] = substr($entry, 0, 2);
            }
        }
        return $status;
    }

    /** Runs git with an argument array: nothing passes through a shell. */
    public function run(array $args): string
    {
        $descriptors = [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']];
        $env = ['GIT_TERMINAL_PROMPT' => '0', 'LC_ALL' => 'C'] + (getenv() ?: []);
        $proc = proc_open([$this->git, ...$args], $descriptors, $pipes, $this->path, $env);
        if (!is_resource($proc)) {
            throw new GitException('could not start git');
        }
        fclose($pipes[0]);
        $stdout = stream_get_contents($pipes[1]);
        $stderr = stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        $code = proc_close($proc);
        if ($code !== 0) {
            throw new GitException(sprintf('git %s failed (%d): %s', $args[0] ?? '', $code, trim((string) $stderr)));
        }
        return (string) $stdout;
    }
}
