<?php

declare(strict_types=1);

namespace Inkwell;

/**
 * Compiles template source to PHP. Supported syntax:
 *   {{ user.name }}  {{ title|upper }}  {% if x %}...{% else %}...{% endif %}
 *   {% for item in items %}...{% endfor %}  {# comment #}
 */
final class Compiler
{
    private const FILTERS = ['upper' => 'strtoupper', 'lower' => 'strtolower', 'trim' => 'trim', 'length' => 'count', 'json' => 'json_encode'];

    public function compile(string $source, string $name): string
    {
        $php = '<?php /* ' . str_replace('*/', '', $name) . ' */ ?>';
        $stack = [];
        $parts = preg_split('/({{.*?}}|{%.*?%}|{#.*?#})/s', $source, -1, PREG_SPLIT_DELIM_CAPTURE | PREG_SPLIT_NO_EMPTY);
        foreach ($parts as $part) {
            if (str_starts_with($part, '{#')) {
                continue;
            }
            if (str_starts_with($part, '{{')) {
                $php .= '<?php echo \\htmlspecialchars((string) (' . $this->expression(trim(substr($part, 2, -2))) . "), ENT_QUOTES, 'UTF-8'); ?>";
            } elseif (str_starts_with($part, '{%')) {
                $php .= $this->tag(trim(substr($part, 2, -2)), $stack, $name);
            } else {
                // Literal text; "<?" must not start PHP code.
                $php .= str_replace('<?', "<?php echo '<?'; ?>", $part);
            }
        }
        if ($stack !== []) {
            throw new SyntaxError("$name: unclosed {% " . end($stack) . ' %}');
        }
        return $php;
    }

    private function tag(string $tag, array &$stack, string $name): string
    {
        if (preg_match('/^if\s+(.+)$/s', $tag, $m)) {
            $stack[] = 'if';
            return '<?php if (' . $this->expression($m[1]) . '): ?>';
        }
        if ($tag === 'else') {
            return '<?php else: ?>';
        }
        if ($tag === 'endif' || $tag === 'endfor') {
            if (array_pop($stack) !== substr($tag, 3)) {
                throw new SyntaxError("$name: unexpected {% $tag %}");
            }
            return $tag === 'endif' ? '<?php endif; ?>' : '<?php endforeach; $context = array_pop($__stack); ?>';
        }
        if (preg_match('/^for\s+([a-z_]\w*)\s+in\s+(.+)$/is', $tag, $m)) {
            $stack[] = 'for';
            return '<?php $__stack[] = $context; foreach ((array) (' . $this->expression($m[2]) . ') as $__v): $context[' . var_export($m[1], true) . '] = $__v; ?>';
        }
        throw new SyntaxError("$name: unknown tag {% $tag %}");
    }

    /** A variable path or literal, with filters. Anything else is refused. */
    private function expression(string $expr): string
    {
        $pieces = array_map('trim', explode('|', $expr));
        $base = array_shift($pieces);
        if (preg_match('/^-?\d+(\.\d+)?$/', $base) || preg_match('/^\'[^\'\\\\]*\'$/', $base)) {
            $code = $base;
        } elseif (preg_match('/^(not\s+)?([a-z_]\w*(?:\.[a-z_]\w*)*)$/i', $base, $m)) {
            $code = ($m[1] !== '' ? '!' : '') . '\\Inkwell\\Runtime::get($context, ' . var_export($m[2], true) . ')';
        } else {
            throw new SyntaxError("unsupported expression: $expr");
        }
        foreach ($pieces as $filter) {
            if (!isset(self::FILTERS[$filter])) {
                throw new SyntaxError("unknown filter: $filter");
            }
            $code = '\\' . self::FILTERS[$filter] . "($code)";
        }
        return $code;
    }
}
