<?php

declare(strict_types=1);

namespace Inkwell;

final class Runtime
{
    /** Resolves "user.name" against arrays, ArrayAccess and public properties. */
    public static function get(array $context, string $path): mixed
    {
        $value = $context;
        foreach (explode('.', $path) as $key) {
            if (is_array($value) || $value instanceof \ArrayAccess) {
                $value = $value[$key] ?? null;
            } elseif (is_object($value) && isset($value->$key)) {
                $value = $value->$key;
            } else {
                return null;
            }
        }
        return $value;
    }
}
