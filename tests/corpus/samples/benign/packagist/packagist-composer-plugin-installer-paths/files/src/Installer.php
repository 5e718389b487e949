<?php

declare(strict_types=1);

namespace Pathfinder;

use Composer\Installer\LibraryInstaller;
use Composer\Package\PackageInterface;

/** Chooses the install directory; Composer's LibraryInstaller does the rest. */
final class Installer extends LibraryInstaller
{
    public function supports($packageType): bool
    {
        return Paths::supports((string) $packageType);
    }

    public function getInstallPath(PackageInterface $package): string
    {
        $extra = $this->composer->getPackage()->getExtra();
        [$vendor, $name] = array_pad(explode('/', $package->getPrettyName(), 2), 2, '');
        return Paths::resolve($package->getType(), $vendor, $name, (array) ($extra['installer-paths'] ?? []), $package->getPrettyName());
    }
}
