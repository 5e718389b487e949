<?php

declare(strict_types=1);

namespace DriverKit\Bdi;

final class DriverInstaller
{
    public const DEFAULT_MIRROR = 'https://drivers.example.com';
    private const DRIVERS = ['chrome' => 'chromedriver', 'firefox' => 'geckodriver'];
    private const FIREFOX_DRIVER = '0.34.0';

    private string $mirror;
    /** @var array<string, string> */
    private array $pinned;

    public function __construct(private string $targetDir = 'drivers', ?string $mirror = null)
    {
        $this->mirror = rtrim($mirror ?? (getenv('BDI_MIRROR') ?: self::DEFAULT_MIRROR), '/');
        if (!str_starts_with($this->mirror, 'https://')) {
            throw new \InvalidArgumentException('the driver mirror must use https');
        }
        $this->pinned = json_decode((string) file_get_contents(__DIR__ . '/../checksums.json'), true) ?: [];
    }

    public static function platform(): string
    {
        return match (PHP_OS_FAMILY) {
            'Darwin' => php_uname('m') === 'arm64' ? 'mac-arm64' : 'mac-x64',
            'Windows' => 'win64',
            default => 'linux64',
        };
    }

    public function install(string $browser, string $browserVersion): string
    {
        $driver = self::DRIVERS[$browser] ?? throw new \InvalidArgumentException("unknown browser $browser");
        $version = $browser === 'firefox' ? self::FIREFOX_DRIVER : $browserVersion;
        $file = sprintf('%s-%s-%s.zip', $driver, $version, self::platform());
        $url = "$this->mirror/$driver/$version/$file";

        $zip = $this->download($url);
        $published = trim(explode(' ', $this->download("$url.sha256"))[0]);
        $actual = hash('sha256', $zip);
        $expected = $this->pinned[$file] ?? $published;
        if (!hash_equals($expected, $actual) || !hash_equals($published, $actual)) {
            throw new \RuntimeException("checksum mismatch for $url: expected $expected, got $actual");
        }

        $tmp = tempnam(sys_get_temp_dir(), 'bdi');
        file_put_contents($tmp, $zip);
        $archive = new \ZipArchive();
        if ($archive->open($tmp) !== true) {
            unlink($tmp);
            throw new \RuntimeException("$url is not a zip archive");
        }
        $binaryName = $driver . (PHP_OS_FAMILY === 'Windows' ? '.exe' : '');
        $binary = $archive->getFromName($binaryName);
        $archive->close();
        unlink($tmp);
        if ($binary === false) {
            throw new \RuntimeException("$url does not contain $binaryName");
        }

        if (!is_dir($this->targetDir) && !mkdir($this->targetDir, 0775, true) && !is_dir($this->targetDir)) {
            throw new \RuntimeException("cannot create $this->targetDir");
        }
        $target = $this->targetDir . DIRECTORY_SEPARATOR . $binaryName;
        file_put_contents($target, $binary);
        chmod($target, 0755);

        $check = @proc_open([$target, '--version'], [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        $out = is_resource($check) ? (string) stream_get_contents($pipes[1]) : '';
        if (is_resource($check)) {
            fclose($pipes[1]);
            fclose($pipes[2]);
            proc_close($check);
        }
        if (!str_contains($out, $version)) {
            unlink($target);
            throw new \RuntimeException("$target does not report version $version");
        }
        return $target;
    }

    private function download(string $url): string
    {
        $context = stream_context_create([
            'http' => ['timeout' => 60, 'follow_location' => 1, 'max_redirects' => 5, 'header' => "User-Agent: driverkit-bdi\r\n"],
            'ssl' => ['verify_peer' => true, 'verify_peer_name' => true],
        ]);
        $body = @file_get_contents($url, false, $context);
        if ($body === false) {
            throw new \RuntimeException("could not download $url (set BDI_MIRROR to a reachable mirror)");
        }
        return $body;
    }
}
