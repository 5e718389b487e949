<?php

declare(strict_types=1);

namespace Quill\Foundation;

/**
 * Collects the service providers that installed packages declare in
 * composer.json's extra.quill.providers, and caches them as a PHP array.
 */
final class PackageManifest
{
    public function __construct(
        private string $basePath,
        private string $vendorPath,
    ) {
    }

    public function manifestPath(): string
    {
        return $this->basePath . '/bootstrap/cache/packages.php';
    }

    /** @return array<string, array{providers: list<string>, aliases: array<string, string>}> */
    public function discover(): array
    {
        $installed = $this->vendorPath . '/composer/installed.json';
        $packages = [];
        if (is_file($installed)) {
            $data = json_decode((string) file_get_contents($installed), true, 512, JSON_THROW_ON_ERROR);
            // Composer 2 wraps the list in {"packages": [...]}, Composer 1 does not.
            $packages = $data['packages'] ?? $data;
        }
        $ignore = $this->rootIgnoreList();
        $manifest = [];
        foreach ($packages as $package) {
            $name = $package['name'] ?? null;
            $extra = $package['extra']['quill'] ?? null;
            if ($name === null || $extra === null || in_array($name, $ignore, true)) {
                continue;
            }
            $manifest[$name] = [
                'providers' => array_values((array) ($extra['providers'] ?? [])),
                'aliases' => (array) ($extra['aliases'] ?? []),
            ];
        }
        ksort($manifest);
        return $manifest;
    }

    public function write(array $manifest): void
    {
        $dir = dirname($this->manifestPath());
        if (!is_dir($dir) && !mkdir($dir, 0775, true) && !is_dir($dir)) {
            throw new \RuntimeException("cannot create $dir");
        }
        $code = '<?php return ' . var_export($manifest, true) . ';' . PHP_EOL;
        $tmp = $this->manifestPath() . '.' . bin2hex(random_bytes(4));
        file_put_contents($tmp, $code);
        rename($tmp, $this->manifestPath());
    }

    /** @return list<string> */
    private function rootIgnoreList(): array
    {
        $root = $this->basePath . '/composer.json';
        if (!is_file($root)) {
            return [];
        }
        $json = json_decode((string) file_get_contents($root), true) ?: [];
        return array_values((array) ($json['extra']['quill']['dont-discover'] ?? []));
    }
}
