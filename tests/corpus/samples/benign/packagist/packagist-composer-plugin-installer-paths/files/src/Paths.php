<?php

declare(strict_types=1);

namespace Pathfinder;

/** Pure path logic, testable without Composer. */
final class Paths
{
    public const DEFAULTS = [
        'wordpress-plugin' => 'wp-content/plugins/{$name}/',
        'wordpress-theme' => 'wp-content/themes/{$name}/',
        'wordpress-muplugin' => 'wp-content/mu-plugins/{$name}/',
        'drupal-module' => 'modules/contrib/{$name}/',
        'drupal-theme' => 'themes/contrib/{$name}/',
        'joomla-component' => 'components/{$name}/',
        'moodle-mod' => 'mod/{$name}/',
    ];

    public static function supports(string $type): bool
    {
        return isset(self::DEFAULTS[$type]);
    }

    /**
     * @param array<string, list<string>> $overrides extra.installer-paths: path => ["vendor/name" | "type:..."]
     */
    public static function resolve(string $type, string $vendor, string $name, array $overrides = [], ?string $prettyName = null): string
    {
        $template = self::DEFAULTS[$type] ?? throw new \InvalidArgumentException("unsupported package type $type");
        $prettyName ??= "$vendor/$name";
        foreach ($overrides as $path => $names) {
            if (in_array($prettyName, (array) $names, true) || in_array("type:$type", (array) $names, true)) {
                $template = $path;
                break;
            }
        }
        $name = preg_replace('/^(wp|drupal|joomla)-/', '', $name);
        if (!preg_match('/^[A-Za-z0-9._-]+$/', $name) || !preg_match('/^[A-Za-z0-9._-]*$/', $vendor)) {
            throw new \InvalidArgumentException("unsafe package name $vendor/$name");
        }
        $path = strtr($template, ['{$name}' => $name, '{$vendor}' => $vendor, '{$type}' => $type]);
        if (str_contains($path, '..') || str_starts_with($path, '/')) {
            throw new \InvalidArgumentException("installer path escapes the project: $path");
        }
        return $path;
    }
}
