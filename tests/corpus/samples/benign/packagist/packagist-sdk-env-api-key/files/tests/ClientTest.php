<?php

declare(strict_types=1);

use Ledgerly\ApiError;
use Ledgerly\Client;
use PHPUnit\Framework\TestCase;

final class ClientTest extends TestCase
{
    public function testRequiresAnApiKey(): void
    {
        putenv('LEDGERLY_API_KEY');
        $this->expectException(ApiError::class);
        new Client();
    }

    public function testRefusesPlainHttp(): void
    {
        $this->expectException(ApiError::class);
        new Client('lk_test_123', 'http://api.ledgerly.example.com/v1');
    }

    public function testDebugOutputHidesTheKey(): void
    {
        $this->assertStringNotContainsString('lk_test_secret', print_r(new Client('lk_test_secret'), true));
    }

    public function testNetworkFailureThrows(): void
    {
        $client = new Client('lk_test_123', 'https://api.ledgerly.invalid/v1', 3);
        $this->expectException(ApiError::class);
        $client->payments(['limit' => 1]);
    }
}
