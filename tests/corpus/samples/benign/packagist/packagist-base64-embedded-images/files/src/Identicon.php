<?php

declare(strict_types=1);

namespace Pixelmark;

/**
 * 5x5 symmetric identicons, like GitHub's, rendered without GD.
 *
 *   $icon = new Identicon('user@example.com');
 *   echo '<img src="' . $icon->dataUri() . '">';
 */
final class Identicon
{
    /** 32x32 grey silhouette shown when no seed is available. */
    public const DEFAULT_AVATAR_PNG = 'iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAIAAAD8GO2jAAAAVUlEQVR42u3UuREAIAgFUfovYruzD1MSrxHwGLaBl/CR4pwkkIAKlTFAIxuAbtcDTJSAL/D+FUUMLeJV5Ls+swMWWwDYaAywXQ/AqEMApoUDOPQLUAHTUowChkDKCgAAAABJRU5ErkJggg==';

    private string $hash;

    public function __construct(string $seed, private int $size = 5, private int $scale = 12)
    {
        $this->hash = md5(strtolower(trim($seed)));
    }

    public static function defaultAvatarDataUri(): string
    {
        return 'data:image/png;base64,' . self::DEFAULT_AVATAR_PNG;
    }

    /** @return array{int, int, int} */
    public function colour(): array
    {
        // Hue from the last 3 hex digits, fixed saturation/lightness, like GitHub.
        $hue = hexdec(substr($this->hash, -3)) / 4095 * 360;
        return self::hslToRgb($hue, 0.55, 0.55);
    }

    /** @return list<list<bool>> rows of cells, mirrored left to right */
    public function grid(): array
    {
        $half = intdiv($this->size + 1, 2);
        $grid = [];
        for ($y = 0; $y < $this->size; $y++) {
            $row = [];
            for ($x = 0; $x < $half; $x++) {
                $nibble = hexdec($this->hash[($y * $half + $x) % 32]);
                $row[] = $nibble % 2 === 0;
            }
            $grid[] = array_merge($row, array_reverse(array_slice($row, 0, $this->size - $half)));
        }
        return $grid;
    }

    public function svg(): string
    {
        [$r, $g, $b] = $this->colour();
        $px = $this->size * $this->scale;
        $out = sprintf('<svg xmlns="http://www.w3.org/2000/svg" width="%1$d" height="%1$d" viewBox="0 0 %1$d %1$d"><rect width="100%%" height="100%%" fill="#f0f0f0"/>', $px);
        foreach ($this->grid() as $y => $row) {
            foreach ($row as $x => $on) {
                if ($on) {
                    $out .= sprintf('<rect x="%d" y="%d" width="%d" height="%d" fill="#%02x%02x%02x"/>', $x * $this->scale, $y * $this->scale, $this->scale, $this->scale, $r, $g, $b);
                }
            }
        }
        return $out . '</svg>';
    }

    /** A truecolour PNG assembled chunk by chunk (PNG spec, section 5). */
    public function png(): string
    {
        [$r, $g, $b] = $this->colour();
        $on = chr($r) . chr($g) . chr($b);
        $off = "\xf0\xf0\xf0";
        $px = $this->size * $this->scale;
        $raw = '';
        foreach ($this->grid() as $row) {
            $line = "\x00"; // filter type: none
            foreach ($row as $cell) {
                $line .= str_repeat($cell ? $on : $off, $this->scale);
            }
            $raw .= str_repeat($line, $this->scale);
        }
        return "\x89PNG\r\n\x1a\n"
            . self::chunk('IHDR', pack('NNCCCCC', $px, $px, 8, 2, 0, 0, 0))
            . self::chunk('IDAT', gzcompress($raw, 9))
            . self::chunk('IEND', '');
    }

    public function dataUri(string $format = 'svg'): string
    {
        return $format === 'png'
            ? 'data:image/png;base64,' . base64_encode($this->png())
            : 'data:image/svg+xml;base64,' . base64_encode($this->svg());
    }

    private static function chunk(string $type, string $data): string
    {
        return pack('N', strlen($data)) . $type . $data . pack('N', crc32($type . $data));
    }

    /** @return array{int, int, int} */
    private static function hslToRgb(float $h, float $s, float $l): array
    {
        $c = (1 - abs(2 * $l - 1)) * $s;
        $x = $c * (1 - abs(fmod($h / 60, 2) - 1));
        $m = $l - $c / 2;
        [$r, $g, $b] = match (true) {
            $h < 60 => [$c, $x, 0],
            $h < 120 => [$x, $c, 0],
            $h < 180 => [0, $c, $x],
            $h < 240 => [0, $x, $c],
            $h < 300 => [$x, 0, $c],
            default => [$c, 0, $x],
        };
        return [(int) round(($r + $m) * 255), (int) round(($g + $m) * 255), (int) round(($b + $m) * 255)];
    }
}
