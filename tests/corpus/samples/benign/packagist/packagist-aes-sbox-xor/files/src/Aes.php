<?php

declare(strict_types=1);

namespace TinyCrypt;

/**
 * AES (FIPS-197) in pure PHP. This is not constant-time: prefer
 * openssl_encrypt() whenever ext-openssl is available.
 */
final class Aes
{
    private const SBOX = [
        0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5, 0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab, 0x76,
        0xca, 0x82, 0xc9, 0x7d, 0xfa, 0x59, 0x47, 0xf0, 0xad, 0xd4, 0xa2, 0xaf, 0x9c, 0xa4, 0x72, 0xc0,
        0xb7, 0xfd, 0x93, 0x26, 0x36, 0x3f, 0xf7, 0xcc, 0x34, 0xa5, 0xe5, 0xf1, 0x71, 0xd8, 0x31, 0x15,
        0x04, 0xc7, 0x23, 0xc3, 0x18, 0x96, 0x05, 0x9a, 0x07, 0x12, 0x80, 0xe2, 0xeb, 0x27, 0xb2, 0x75,
        0x09, 0x83, 0x2c, 0x1a, 0x1b, 0x6e, 0x5a, 0xa0, 0x52, 0x3b, 0xd6, 0xb3, 0x29, 0xe3, 0x2f, 0x84,
        0x53, 0xd1, 0x00, 0xed, 0x20, 0xfc, 0xb1, 0x5b, 0x6a, 0xcb, 0xbe, 0x39, 0x4a, 0x4c, 0x58, 0xcf,
        0xd0, 0xef, 0xaa, 0xfb, 0x43, 0x4d, 0x33, 0x85, 0x45, 0xf9, 0x02, 0x7f, 0x50, 0x3c, 0x9f, 0xa8,
        0x51, 0xa3, 0x40, 0x8f, 0x92, 0x9d, 0x38, 0xf5, 0xbc, 0xb6, 0xda, 0x21, 0x10, 0xff, 0xf3, 0xd2,
        0xcd, 0x0c, 0x13, 0xec, 0x5f, 0x97, 0x44, 0x17, 0xc4, 0xa7, 0x7e, 0x3d, 0x64, 0x5d, 0x19, 0x73,
        0x60, 0x81, 0x4f, 0xdc, 0x22, 0x2a, 0x90, 0x88, 0x46, 0xee, 0xb8, 0x14, 0xde, 0x5e, 0x0b, 0xdb,
        0xe0, 0x32, 0x3a, 0x0a, 0x49, 0x06, 0x24, 0x5c, 0xc2, 0xd3, 0xac, 0x62, 0x91, 0x95, 0xe4, 0x79,
        0xe7, 0xc8, 0x37, 0x6d, 0x8d, 0xd5, 0x4e, 0xa9, 0x6c, 0x56, 0xf4, 0xea, 0x65, 0x7a, 0xae, 0x08,
        0xba, 0x78, 0x25, 0x2e, 0x1c, 0xa6, 0xb4, 0xc6, 0xe8, 0xdd, 0x74, 0x1f, 0x4b, 0xbd, 0x8b, 0x8a,
        0x70, 0x3e, 0xb5, 0x66, 0x48, 0x03, 0xf6, 0x0e, 0x61, 0x35, 0x57, 0xb9, 0x86, 0xc1, 0x1d, 0x9e,
        0xe1, 0xf8, 0x98, 0x11, 0x69, 0xd9, 0x8e, 0x94, 0x9b, 0x1e, 0x87, 0xe9, 0xce, 0x55, 0x28, 0xdf,
        0x8c, 0xa1, 0x89, 0x0d, 0xbf, 0xe6, 0x42, 0x68, 0x41, 0x99, 0x2d, 0x0f, 0xb0, 0x54, 0xbb, 0x16,
    ];
    private const RCON = [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36];

    /** @var list<int> expanded key, 16 * (rounds + 1) bytes */
    private array $w;
    private int $rounds;

    public function __construct(string $key)
    {
        $len = strlen($key);
        if (!in_array($len, [16, 24, 32], true)) {
            throw new \InvalidArgumentException('AES keys are 16, 24 or 32 bytes');
        }
        $nk = intdiv($len, 4);
        $this->rounds = $nk + 6;
        $w = array_values(unpack('C*', $key));
        for ($i = $len; $i < 16 * ($this->rounds + 1); $i += 4) {
            $t = array_slice($w, $i - 4, 4);
            $word = intdiv($i, 4);
            if ($word % $nk === 0) {
                $t = [self::SBOX[$t[1]], self::SBOX[$t[2]], self::SBOX[$t[3]], self::SBOX[$t[0]]];
                $t[0] ^= self::RCON[intdiv($word, $nk) - 1];
            } elseif ($nk > 6 && $word % $nk === 4) {
                $t = [self::SBOX[$t[0]], self::SBOX[$t[1]], self::SBOX[$t[2]], self::SBOX[$t[3]]];
            }
            for ($j = 0; $j < 4; $j++) {
                $w[] = $w[$i - $len + $j] ^ $t[$j];
            }
        }
        $this->w = $w;
    }

    public function encryptBlock(string $block): string
    {
        if (strlen($block) !== 16) {
            throw new \InvalidArgumentException('AES blocks are 16 bytes');
        }
        $s = array_values(unpack('C16', $block));
        $s = $this->addRoundKey($s, 0);
        for ($r = 1; $r <= $this->rounds; $r++) {
            foreach ($s as $i => $b) {
                $s[$i] = self::SBOX[$b];
            }
            $s = self::shiftRows($s);
            if ($r < $this->rounds) {
                $s = self::mixColumns($s);
            }
            $s = $this->addRoundKey($s, $r);
        }
        return pack('C*', ...$s);
    }

    /**
     * CTR mode (SP 800-38A): encrypting and decrypting are the same XOR.
     * $counter is the 16-byte initial counter block, incremented as a
     * 128-bit big-endian integer.
     */
    public function ctr(string $counter, string $data): string
    {
        if (strlen($counter) !== 16) {
            throw new \InvalidArgumentException('the counter block is 16 bytes');
        }
        $out = '';
        for ($off = 0, $n = strlen($data); $off < $n; $off += 16) {
            $chunk = substr($data, $off, 16);
            $keystream = substr($this->encryptBlock($counter), 0, strlen($chunk));
            $out .= $chunk ^ $keystream;
            $counter = self::increment($counter);
        }
        return $out;
    }

    private function addRoundKey(array $s, int $round): array
    {
        for ($i = 0; $i < 16; $i++) {
            $s[$i] ^= $this->w[16 * $round + $i];
        }
        return $s;
    }

    /** The state is column-major: byte i is row i % 4 of column intdiv(i, 4). */
    private static function shiftRows(array $s): array
    {
        $out = [];
        for ($i = 0; $i < 16; $i++) {
            $row = $i % 4;
            $col = intdiv($i, 4);
            $out[$i] = $s[$row + 4 * (($col + $row) % 4)];
        }
        return $out;
    }

    private static function xtime(int $b): int
    {
        return (($b << 1) ^ (($b & 0x80) ? 0x1b : 0)) & 0xff;
    }

    private static function mixColumns(array $s): array
    {
        $out = [];
        for ($c = 0; $c < 4; $c++) {
            [$a0, $a1, $a2, $a3] = [$s[4 * $c], $s[4 * $c + 1], $s[4 * $c + 2], $s[4 * $c + 3]];
            $out[] = self::xtime($a0) ^ self::xtime($a1) ^ $a1 ^ $a2 ^ $a3;
            $out[] = $a0 ^ self::xtime($a1) ^ self::xtime($a2) ^ $a2 ^ $a3;
            $out[] = $a0 ^ $a1 ^ self::xtime($a2) ^ self::xtime($a3) ^ $a3;
            $out[] = self::xtime($a0) ^ $a0 ^ $a1 ^ $a2 ^ self::xtime($a3);
        }
        return $out;
    }

    private static function increment(string $counter): string
    {
        for ($i = 15; $i >= 0; $i--) {
            $byte = (ord($counter[$i]) + 1) & 0xff;
            $counter[$i] = chr($byte);
            if ($byte !== 0) {
                break;
            }
        }
        return $counter;
    }
}
