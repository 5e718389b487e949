<?php

declare(strict_types=1);

use PHPUnit\Framework\TestCase;
use Quill\Foundation\PackageManifest;

final class PackageManifestTest extends TestCase
{
    public function testDiscoversProvidersFromInstalledJson(): void
    {
        $base = sys_get_temp_dir() . '/quill-' . bin2hex(random_bytes(4));
        mkdir($base . '/vendor/composer', 0777, true);
        file_put_contents($base . '/vendor/composer/installed.json', json_encode(['packages' => [
            ['name' => 'acme/blog', 'extra' => ['quill' => ['providers' => ['Acme\\Blog\\BlogProvider']]]],
            ['name' => 'acme/plain'],
        ]]));
        $manifest = new PackageManifest($base, $base . '/vendor');
        $found = $manifest->discover();
        $this->assertSame(['acme/blog' => ['providers' => ['Acme\\Blog\\BlogProvider'], 'aliases' => []]], $found);
        $manifest->write($found);
        $this->assertSame($found, require $manifest->manifestPath());
    }
}
