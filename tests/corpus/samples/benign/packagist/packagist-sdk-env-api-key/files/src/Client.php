<?php

declare(strict_types=1);

namespace Ledgerly;

final class Client
{
    public const VERSION = '7.2.0';
    public const DEFAULT_BASE = 'https://api.ledgerly.example.com/v1/';

    private string $apiKey;
    private string $base;

    public function __construct(?string $apiKey = null, string $base = self::DEFAULT_BASE, private int $timeout = 30)
    {
        $apiKey ??= getenv('LEDGERLY_API_KEY') ?: null;
        if ($apiKey === null || $apiKey === '') {
            throw new ApiError('No API key: pass one to Ledgerly\\Client or set LEDGERLY_API_KEY');
        }
        if (!str_starts_with($base, 'https://')) {
            throw new ApiError('The API base URL must use https');
        }
        $this->apiKey = $apiKey;
        $this->base = rtrim($base, '/') . '/';
    }

    public function createInvoice(string $customerId, array $lines, string $currency = 'EUR'): array
    {
        return $this->request('POST', 'invoices', ['customer' => $customerId, 'lines' => $lines, 'currency' => $currency]);
    }

    public function payments(array $filters = []): array
    {
        return $this->request('GET', 'payments' . ($filters ? '?' . http_build_query($filters) : ''));
    }

    public function __debugInfo(): array
    {
        return ['base' => $this->base, 'apiKey' => substr($this->apiKey, 0, 7) . '…'];
    }

    private function request(string $method, string $path, ?array $body = null): array
    {
        $ch = curl_init($this->base . ltrim($path, '/'));
        $headers = [
            'Authorization: Bearer ' . $this->apiKey,
            'Accept: application/json',
            'User-Agent: ledgerly-php/' . self::VERSION . ' php/' . PHP_VERSION,
        ];
        if ($body !== null) {
            $headers[] = 'Content-Type: application/json';
            curl_setopt($ch, CURLOPT_POSTFIELDS, json_encode($body, JSON_THROW_ON_ERROR));
        }
        curl_setopt_array($ch, [
            CURLOPT_CUSTOMREQUEST => $method,
            CURLOPT_HTTPHEADER => $headers,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_CONNECTTIMEOUT => 10,
            CURLOPT_TIMEOUT => $this->timeout,
            CURLOPT_SSL_VERIFYPEER => true,
            CURLOPT_SSL_VERIFYHOST => 2,
            CURLOPT_PROTOCOLS => CURLPROTO_HTTPS,
        ]);
        $response = curl_exec($ch);
        if ($response === false) {
            $error = curl_error($ch);
            curl_close($ch);
            throw new ApiError("$method $path failed: $error");
        }
        $status = (int) curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
        curl_close($ch);
        $decoded = $response === '' ? [] : json_decode((string) $response, true);
        if ($status < 200 || $status >= 300) {
            throw new ApiError("$method $path: HTTP $status", $status, $decoded);
        }
        if (!is_array($decoded)) {
            throw new ApiError("$method $path: invalid JSON response", $status);
        }
        return $decoded;
    }
}
