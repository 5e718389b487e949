<?php

declare(strict_types=1);

namespace Gitlet;

final class GitException extends \RuntimeException
{
}
