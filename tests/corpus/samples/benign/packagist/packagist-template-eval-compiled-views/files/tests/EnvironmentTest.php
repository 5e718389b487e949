<?php

declare(strict_types=1);

namespace Inkwell\Tests;

use Inkwell\Environment;
use Inkwell\SyntaxError;
use PHPUnit\Framework\TestCase;

final class EnvironmentTest extends TestCase
{
    public function testRendersVariablesLoopsAndConditions(): void
    {
        $env = new Environment(__DIR__);
        $html = $env->renderString(
            '<h1>{{ title|upper }}</h1>{% for p in posts %}{% if p.draft %}-{% else %}<li>{{ p.name }}</li>{% endif %}{% endfor %}',
            ['title' => 'news & <views>', 'posts' => [['name' => 'a'], ['name' => 'b', 'draft' => true]]]
        );
        $this->assertSame('<h1>NEWS &amp; &lt;VIEWS&gt;</h1><li>a</li>-', $html);
    }

    public function testRefusesArbitraryPhpInExpressions(): void
    {
        $this->expectException(SyntaxError::class);
        (new Environment(__DIR__))->renderString('{{ system("id") }}');
    }

    public function testLiteralPhpTagsAreNotExecuted(): void
    {
        $out = (new Environment(__DIR__))->renderString('<?php echo 1; ?>');
        $this->assertSame('<?php echo 1; ?>', $out);
    }
}
