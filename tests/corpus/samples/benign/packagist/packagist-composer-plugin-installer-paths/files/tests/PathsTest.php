<?php

declare(strict_types=1);

use Pathfinder\Paths;
use PHPUnit\Framework\TestCase;

final class PathsTest extends TestCase
{
    public function testDefaults(): void
    {
        $this->assertSame('wp-content/plugins/seo-tools/', Paths::resolve('wordpress-plugin', 'acme', 'wp-seo-tools'));
        $this->assertSame('modules/contrib/views_extra/', Paths::resolve('drupal-module', 'drupal', 'views_extra'));
    }

    public function testOverrides(): void
    {
        $overrides = ['web/app/plugins/{$name}/' => ['type:wordpress-plugin']];
        $this->assertSame('web/app/plugins/forms/', Paths::resolve('wordpress-plugin', 'acme', 'forms', $overrides));
    }

    public function testRefusesEscapes(): void
    {
        $this->expectException(InvalidArgumentException::class);
        Paths::resolve('wordpress-plugin', 'acme', 'x', ['../../{$name}/' => ['acme/x']]);
    }
}
