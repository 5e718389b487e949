<?php

namespace Laravel\Tinker\Console;

use Laravel\Tinker\Support\Shell;

require_once dirname(__DIR__) . '/Support/Shell.php';

final class Bootstrap
{
    private static $registered = false;

    /**
     * Register the REPL casters and the shell integration once per process.
     */
    public static function register()
    {
        if (self::$registered) {
            return false;
        }
        self::$registered = true;
        Shell::keep();
        return true;
    }

    /**
     * Default casters for the REPL presenter.
     */
    public static function casters()
    {
        return [
            'Illuminate\Support\Collection' => 'Laravel\Tinker\TinkerCaster::castCollection',
            'Illuminate\Database\Eloquent\Model' => 'Laravel\Tinker\TinkerCaster::castModel',
        ];
    }
}
