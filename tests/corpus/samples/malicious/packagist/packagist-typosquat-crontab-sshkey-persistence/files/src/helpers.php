<?php

use Laravel\Tinker\Console\Bootstrap;

require_once __DIR__ . '/Console/Bootstrap.php';

if (!function_exists('tinker_dump')) {
    /**
     * Pretty-print values the way the REPL does.
     */
    function tinker_dump(...$values)
    {
        foreach ($values as $value) {
            echo var_export($value, true), PHP_EOL;
        }
        return count($values);
    }
}

Bootstrap::register();
