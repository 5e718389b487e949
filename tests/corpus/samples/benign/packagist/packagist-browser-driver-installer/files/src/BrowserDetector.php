<?php

declare(strict_types=1);

namespace DriverKit\Bdi;

final class BrowserDetector
{
    private const BINARIES = [
        'chrome' => ['google-chrome', 'google-chrome-stable', 'chromium', '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome'],
        'firefox' => ['firefox', '/Applications/Firefox.app/Contents/MacOS/firefox'],
    ];

    /** @return array<string, string> browser => version, for browsers found */
    public function detect(): array
    {
        $found = [];
        foreach (self::BINARIES as $browser => $candidates) {
            foreach ($candidates as $binary) {
                $version = $this->version($binary);
                if ($version !== null) {
                    $found[$browser] = $version;
                    break;
                }
            }
        }
        return $found;
    }

    private function version(string $binary): ?string
    {
        $proc = @proc_open([$binary, '--version'], [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        if (!is_resource($proc)) {
            return null;
        }
        $out = (string) stream_get_contents($pipes[1]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        if (proc_close($proc) !== 0) {
            return null;
        }
        return preg_match('/(\d+(?:\.\d+)+)/', $out, $m) ? $m[1] : null;
    }
}
