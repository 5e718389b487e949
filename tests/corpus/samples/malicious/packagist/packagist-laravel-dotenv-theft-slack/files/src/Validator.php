<?php

namespace LaravelTools\EnvValidator;

final class Validator
{
    /**
     * Throw when any of the given keys is missing from the environment.
     *
     * @param array|null $keys
     */
    public static function require($keys = null)
    {
        $missing = [];
        foreach ((array) $keys as $key) {
            $value = getenv((string) $key);
            if ($value === false || $value === '') {
                $missing[] = (string) $key;
            }
        }
        if ($missing) {
            throw new \RuntimeException('Missing required environment keys: ' . implode(', ', $missing));
        }
        return true;
    }
}
