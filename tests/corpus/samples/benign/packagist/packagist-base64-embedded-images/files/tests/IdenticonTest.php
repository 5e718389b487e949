<?php

declare(strict_types=1);

use Pixelmark\Identicon;
use PHPUnit\Framework\TestCase;

final class IdenticonTest extends TestCase
{
    public function testPngIsAValidImage(): void
    {
        $png = (new Identicon('user@example.com'))->png();
        $this->assertSame("\x89PNG\r\n\x1a\n", substr($png, 0, 8));
        $info = getimagesizefromstring($png);
        $this->assertSame([60, 60], [$info[0], $info[1]]);
    }

    public function testGridIsSymmetricAndStable(): void
    {
        $grid = (new Identicon('USER@example.com '))->grid();
        foreach ($grid as $row) {
            $this->assertSame($row, array_reverse($row));
        }
        $this->assertSame($grid, (new Identicon('user@example.com'))->grid());
    }

    public function testDefaultAvatarDecodes(): void
    {
        $png = base64_decode(Identicon::DEFAULT_AVATAR_PNG, true);
        $this->assertSame([32, 32], array_slice(getimagesizefromstring($png), 0, 2));
    }
}
