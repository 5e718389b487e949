<?php

declare(strict_types=1);

namespace PhpstanExtension\Installer;

final class ExtensionRegistry
{
    /**
     * Render the generated extension list as PHP source.
     *
     * @param array<string, array{install_path: string, relative_install_path: string}> $extensions
     */
    public static function render(?array $extensions = null): string
    {
        $extensions = $extensions ?? [];
        ksort($extensions);
        return "<?php declare(strict_types = 1);\n\nreturn " . var_export(['extensions' => $extensions], true) . ";\n";
    }
}
