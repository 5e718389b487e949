<?php

declare(strict_types=1);

namespace Quill\Foundation;

/**
 * Composer event callbacks. Composer passes a Composer\Script\Event; only
 * its getComposer()->getConfig()->get('vendor-dir') is used, so the type
 * is left open to keep Composer out of the runtime dependencies.
 */
final class ComposerScripts
{
    /** Cache files that must be rebuilt after the autoloader changes. */
    private const CACHES = ['config.php', 'routes.php', 'services.php', 'packages.php'];

    public static function postAutoloadDump($event): void
    {
        $vendorDir = $event->getComposer()->getConfig()->get('vendor-dir');
        require_once $vendorDir . '/autoload.php';
        self::clearCompiled(dirname($vendorDir));
    }

    public static function clearCompiled(string $basePath): array
    {
        $removed = [];
        foreach (self::CACHES as $file) {
            $path = $basePath . '/bootstrap/cache/' . $file;
            if (is_file($path) && @unlink($path)) {
                $removed[] = $path;
            }
        }
        return $removed;
    }
}
