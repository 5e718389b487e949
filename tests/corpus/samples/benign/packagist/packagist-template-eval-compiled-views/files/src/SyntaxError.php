<?php

declare(strict_types=1);

namespace Inkwell;

final class SyntaxError extends \RuntimeException
{
}
