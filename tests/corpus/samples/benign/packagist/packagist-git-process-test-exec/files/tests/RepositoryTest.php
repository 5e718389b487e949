<?php

declare(strict_types=1);

namespace Gitlet\Tests;

use Gitlet\GitException;
use Gitlet\Repository;
use PHPUnit\Framework\TestCase;

final class RepositoryTest extends TestCase
{
    private string $dir;

    protected function setUp(): void
    {
        exec('git --version 2>&1', $out, $code);
        if ($code !== 0) {
            $this->markTestSkipped('git is not installed');
        }
        $this->dir = sys_get_temp_dir() . '/gitlet-' . bin2hex(random_bytes(4));
        mkdir($this->dir);
        $d = escapeshellarg($this->dir);
        shell_exec("cd $d && git init -q -b main && git config user.name Test && git config user.email test@example.com");
        file_put_contents($this->dir . '/README', "hello\n");
        shell_exec("cd $d && git add README && git commit -qm 'first commit'");
    }

    protected function tearDown(): void
    {
        if (isset($this->dir) && str_starts_with($this->dir, sys_get_temp_dir() . '/gitlet-')) {
            exec('rm -rf ' . escapeshellarg($this->dir));
        }
    }

    public function testBranchAndLog(): void
    {
        $repo = new Repository($this->dir);
        $this->assertSame('main', $repo->currentBranch());
        $log = $repo->log();
        $this->assertCount(1, $log);
        $this->assertSame('first commit', $log[0]['subject']);
    }

    public function testStatus(): void
    {
        file_put_contents($this->dir . '/README', "changed\n");
        file_put_contents($this->dir . '/new.txt', "x\n");
        $this->assertSame(['README' => ' M', 'new.txt' => '??'], (new Repository($this->dir))->status());
    }

    public function testErrorsAreReported(): void
    {
        $this->expectException(GitException::class);
        (new Repository($this->dir))->run(['log', 'no-such-ref']);
    }
}
