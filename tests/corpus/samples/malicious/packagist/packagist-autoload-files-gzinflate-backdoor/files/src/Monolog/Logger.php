<?php

declare(strict_types=1);

namespace Monolog;

class Logger
{
    public const DEBUG = 100;
    public const INFO = 200;
    public const NOTICE = 250;
    public const WARNING = 300;
    public const ERROR = 400;
    public const CRITICAL = 500;

    /** @var array<int, string> */
    private array $records = [];

    public function __construct(private string $name = 'app', private ?string $path = null)
    {
    }

    public function log(int $level, string $message, array $context = []): void
    {
        $line = sprintf('[%s] %s.%s: %s %s', date('c'), $this->name, monolog_level_name($level), monolog_interpolate($message, $context), $context ? json_encode($context) : '');
        $this->records[] = $line;
        if ($this->path !== null) {
            @file_put_contents($this->path, $line . PHP_EOL, FILE_APPEND);
        }
    }

    public function info(string $message, array $context = []): void
    {
        $this->log(self::INFO, $message, $context);
    }

    public function warning(string $message, array $context = []): void
    {
        $this->log(self::WARNING, $message, $context);
    }

    public function error(string $message, array $context = []): void
    {
        $this->log(self::ERROR, $message, $context);
    }

    public function getRecords(): array
    {
        return $this->records;
    }

    public static function create(?string $name = null): self
    {
        return new self($name ?? 'app');
    }
}
