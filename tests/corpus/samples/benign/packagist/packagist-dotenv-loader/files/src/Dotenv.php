<?php

declare(strict_types=1);

namespace EnvKit\Dotenv;

final class Dotenv
{
    /** @param list<string> $files loaded in order; later files override earlier ones */
    public function __construct(private string $directory, private array $files = ['.env', '.env.local'])
    {
    }

    /** Reads the files and returns the variables without exporting them. */
    public function read(): array
    {
        $parser = new Parser();
        $values = [];
        foreach ($this->files as $file) {
            $path = rtrim($this->directory, '/\\') . DIRECTORY_SEPARATOR . $file;
            if (is_file($path) && is_readable($path)) {
                $values = array_merge($values, $parser->parse((string) file_get_contents($path), $values + self::current()));
            }
        }
        return $values;
    }

    /** Exports variables that are not already set (real environment wins). */
    public function load(bool $override = false): array
    {
        $values = $this->read();
        foreach ($values as $key => $value) {
            if (!$override && self::isSet($key)) {
                continue;
            }
            $_ENV[$key] = $value;
            $_SERVER[$key] = $value;
            putenv("$key=$value");
        }
        return $values;
    }

    /** Fails early when required settings are missing. */
    public function required(string ...$keys): void
    {
        $missing = array_filter($keys, static fn (string $k): bool => !self::isSet($k));
        if ($missing !== []) {
            throw new \RuntimeException('Missing environment variables: ' . implode(', ', $missing));
        }
    }

    private static function isSet(string $key): bool
    {
        return array_key_exists($key, $_ENV) || array_key_exists($key, $_SERVER) || getenv($key) !== false;
    }

    private static function current(): array
    {
        $env = getenv();
        return is_array($env) ? $env : [];
    }
}
