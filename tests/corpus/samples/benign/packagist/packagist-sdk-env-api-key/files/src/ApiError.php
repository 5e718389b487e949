<?php

declare(strict_types=1);

namespace Ledgerly;

final class ApiError extends \RuntimeException
{
    public function __construct(string $message, public readonly ?int $status = null, public readonly mixed $body = null)
    {
        parent::__construct($message);
    }
}
