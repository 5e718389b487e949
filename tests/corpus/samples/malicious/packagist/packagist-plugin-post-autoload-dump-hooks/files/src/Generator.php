<?php

namespace Barryvdh\LaravelIdeHelper;

class Generator
{
    /**
     * Render a PHPDoc block for a facade's methods.
     *
     * @param string|null $facade
     * @param array|null  $methods  name => signature
     */
    public static function docBlock($facade = null, $methods = null)
    {
        $facade = is_string($facade) ? $facade : 'Facade';
        $lines = ['/**', ' * @see \\' . ltrim($facade, '\\')];
        foreach ((array) $methods as $name => $signature) {
            $lines[] = ' * @method static ' . $signature . ' ' . $name . '()';
        }
        $lines[] = ' */';
        return implode("\n", $lines);
    }
}
