<?php

declare(strict_types=1);

use PHPUnit\Framework\TestCase;
use TinyCrypt\Aes;

final class AesTest extends TestCase
{
    /** FIPS-197 appendix C. */
    public static function fips197(): array
    {
        $pt = '00112233445566778899aabbccddeeff';
        return [
            'AES-128' => ['000102030405060708090a0b0c0d0e0f', $pt, '69c4e0d86a7b0430d8cdb78070b4c55a'],
            'AES-192' => ['000102030405060708090a0b0c0d0e0f1011121314151617', $pt, 'dda97ca4864cdfe06eaf70a0ec0d7191'],
            'AES-256' => ['000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', $pt, '8ea2b7ca516745bfeafc49904b496089'],
        ];
    }

    /** @dataProvider fips197 */
    public function testBlockVectors(string $key, string $pt, string $ct): void
    {
        $this->assertSame($ct, bin2hex((new Aes(hex2bin($key)))->encryptBlock(hex2bin($pt))));
    }

    /** SP 800-38A F.5.1 (CTR-AES128.Encrypt), first two blocks. */
    public function testCtrVector(): void
    {
        $aes = new Aes(hex2bin('2b7e151628aed2a6abf7158809cf4f3c'));
        $ctr = hex2bin('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff');
        $pt = hex2bin('6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51');
        $ct = $aes->ctr($ctr, $pt);
        $this->assertSame('874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff', bin2hex($ct));
        $this->assertSame($pt, $aes->ctr($ctr, $ct));
    }

    public function testMatchesOpenssl(): void
    {
        if (!function_exists('openssl_encrypt')) {
            $this->markTestSkipped('ext-openssl not available');
        }
        $key = random_bytes(32);
        $iv = random_bytes(16);
        $data = random_bytes(100);
        $this->assertSame(openssl_encrypt($data, 'aes-256-ctr', $key, OPENSSL_RAW_DATA, $iv), (new Aes($key))->ctr($iv, $data));
    }
}
