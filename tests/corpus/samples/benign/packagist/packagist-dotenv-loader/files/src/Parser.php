<?php

declare(strict_types=1);

namespace EnvKit\Dotenv;

final class Parser
{
    private const LINE = '/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(\'[^\']*\'|"(?:\\\\.|[^"\\\\])*"|[^#\r\n]*?)\s*(?:#.*)?$/';

    /**
     * @param array<string, string> $existing variables visible to ${VAR} references
     * @return array<string, string>
     */
    public function parse(string $text, array $existing = []): array
    {
        $values = [];
        foreach (preg_split('/\r\n|\n|\r/', $text) as $i => $line) {
            if (trim($line) === '' || str_starts_with(ltrim($line), '#')) {
                continue;
            }
            if (!preg_match(self::LINE, $line, $m)) {
                throw new \UnexpectedValueException(sprintf('.env line %d is not KEY=value', $i + 1));
            }
            [$key, $raw] = [$m[1], $m[2]];
            if ($raw !== '' && $raw[0] === "'") {
                $values[$key] = substr($raw, 1, -1);
                continue;
            }
            if ($raw !== '' && $raw[0] === '"') {
                $raw = stripcslashes(substr($raw, 1, -1));
            }
            $values[$key] = preg_replace_callback(
                '/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/',
                static fn (array $v): string => $values[$v[1]] ?? $existing[$v[1]] ?? ($v[2] ?? ''),
                $raw
            );
        }
        return $values;
    }
}
