<?php

declare(strict_types=1);

use EnvKit\Dotenv\Parser;
use PHPUnit\Framework\TestCase;

final class ParserTest extends TestCase
{
    public function testParsesQuotesCommentsAndInterpolation(): void
    {
        $values = (new Parser())->parse(implode("\n", [
            '# database',
            'export DB_HOST=db.internal.example',
            'DB_PORT=5432 # default',
            'DSN="pgsql:host=${DB_HOST};port=${DB_PORT}"',
            "LITERAL='\${NOT_EXPANDED}'",
            'NEWLINE="a\nb"',
            'DEFAULTED=${UNSET_VAR:-fallback}',
        ]));
        $this->assertSame('db.internal.example', $values['DB_HOST']);
        $this->assertSame('5432', $values['DB_PORT']);
        $this->assertSame('pgsql:host=db.internal.example;port=5432', $values['DSN']);
        $this->assertSame('${NOT_EXPANDED}', $values['LITERAL']);
        $this->assertSame("a\nb", $values['NEWLINE']);
        $this->assertSame('fallback', $values['DEFAULTED']);
    }

    public function testRejectsGarbage(): void
    {
        $this->expectException(UnexpectedValueException::class);
        (new Parser())->parse('this is not a pair');
    }
}
