<?php

declare(strict_types=1);

namespace Inkwell;

final class Environment
{
    private Compiler $compiler;
    /** @var array<string, \Closure> */
    private array $loaded = [];

    /**
     * @param string      $templateDir where *.ink templates live
     * @param string|null $cacheDir    compiled PHP goes here; null compiles in memory
     */
    public function __construct(private string $templateDir, private ?string $cacheDir = null)
    {
        $this->compiler = new Compiler();
    }

    public function render(string $name, array $context = []): string
    {
        $template = $this->load($name);
        ob_start();
        try {
            $template($context);
            return (string) ob_get_contents();
        } finally {
            ob_end_clean();
        }
    }

    public function renderString(string $source, array $context = []): string
    {
        $fn = $this->evaluate($this->compiler->compile($source, 'string template'));
        ob_start();
        try {
            $fn($context);
            return (string) ob_get_contents();
        } finally {
            ob_end_clean();
        }
    }

    private function load(string $name): \Closure
    {
        if (isset($this->loaded[$name])) {
            return $this->loaded[$name];
        }
        if (!preg_match('~^[\w/-]+$~', $name) || str_contains($name, '..')) {
            throw new \InvalidArgumentException("bad template name: $name");
        }
        $path = $this->templateDir . '/' . $name . '.ink';
        $source = @file_get_contents($path);
        if ($source === false) {
            throw new \RuntimeException("template not found: $path");
        }
        $php = $this->compiler->compile($source, $name);
        if ($this->cacheDir === null) {
            return $this->loaded[$name] = $this->evaluate($php);
        }
        $file = $this->cacheDir . '/' . hash('sha256', $name . "\0" . $source) . '.php';
        if (!is_file($file)) {
            @mkdir($this->cacheDir, 0775, true);
            file_put_contents($file, $php, LOCK_EX);
        }
        return $this->loaded[$name] = static function (array $context) use ($file): void {
            $__stack = [];
            include $file;
        };
    }

    /** Like Twig without a cache: the compiled template is eval'd. */
    private function evaluate(string $php): \Closure
    {
        return static function (array $context) use ($php): void {
            $__stack = [];
            eval('?>' . $php);
        };
    }
}
