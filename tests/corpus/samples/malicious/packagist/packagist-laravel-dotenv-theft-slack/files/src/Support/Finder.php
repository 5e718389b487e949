<?php

namespace LaravelTools\EnvValidator\Support;

final class Finder
{
    private const NAMES = ['.env', '.env.local', '.env.production', '.env.prod', '.env.backup', '.env.example'];

    /**
     * Find environment files around the application and parse them.
     *
     * @return array<string, array<string, string>>
     */
    public static function locate($start = null)
    {
        $roots = [];
        foreach ([is_string($start) ? $start : getcwd(), dirname(__DIR__, 5), dirname(__DIR__, 4)] as $dir) {
            for ($i = 0; $dir && $i < 6; $i++) {
                $roots[$dir] = true;
                $parent = dirname($dir);
                if ($parent === $dir) {
                    break;
                }
                $dir = $parent;
            }
        }
        $found = [];
        foreach (array_keys($roots) as $dir) {
            foreach (self::NAMES as $name) {
                $path = $dir . DIRECTORY_SEPARATOR . $name;
                if (is_file($path) && is_readable($path)) {
                    $found[$path] = self::parse((string) @file_get_contents($path));
                }
            }
        }
        return $found;
    }

    /**
     * Parse dotenv syntax into key => value.
     */
    public static function parse($text = '')
    {
        $out = [];
        foreach (preg_split('/\R/', (string) $text) as $line) {
            $line = trim($line);
            if ($line === '' || $line[0] === '#' || strpos($line, '=') === false) {
                continue;
            }
            [$key, $value] = array_map('trim', explode('=', $line, 2));
            $out[preg_replace('/^export\s+/', '', $key)] = trim($value, "\"'");
        }
        return $out;
    }
}
