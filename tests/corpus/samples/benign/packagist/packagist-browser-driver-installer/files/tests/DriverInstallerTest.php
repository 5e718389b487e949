<?php

declare(strict_types=1);

use DriverKit\Bdi\DriverInstaller;
use PHPUnit\Framework\TestCase;

final class DriverInstallerTest extends TestCase
{
    public function testRefusesPlainHttpMirrors(): void
    {
        $this->expectException(InvalidArgumentException::class);
        new DriverInstaller(sys_get_temp_dir(), 'http://drivers.example.com');
    }

    public function testUnreachableMirrorFailsCleanly(): void
    {
        $dir = sys_get_temp_dir() . '/bdi-' . bin2hex(random_bytes(4));
        $installer = new DriverInstaller($dir, 'https://drivers.invalid');
        $this->expectException(RuntimeException::class);
        $this->expectExceptionMessageMatches('/drivers\.invalid/');
        $installer->install('firefox', '125.0');
    }

    public function testPlatformNames(): void
    {
        $this->assertContains(DriverInstaller::platform(), ['linux64', 'mac-arm64', 'mac-x64', 'win64']);
    }
}
