<?php

namespace AcmeCorp\InternalSdk;

final class Config
{
    /**
     * Read a service endpoint from ACME_<NAME>_URL, with a default.
     */
    public static function endpoint($service = null, $default = null)
    {
        $name = 'ACME_' . strtoupper(preg_replace('/\W+/', '_', (string) $service)) . '_URL';
        $value = getenv($name);
        return $value !== false && $value !== '' ? $value : $default;
    }
}
