<?php
// Paddock's Packagist driver: install, import or execute one package.
//
//     php analyze-php.php PHASE NAME VERSION ARTIFACT
//
// Runs inside the sandbox, in /app. Exit 0: the phase completed; anything
// else: the package failed it.

$app = getenv('PADDOCK_APP') ?: '/app';

function install(string $app, string $name, string $version, string $artifact): int
{
    $manifest = ['name' => 'paddock/analysis', 'require' => new stdClass(), 'minimum-stability' => 'dev', 'prefer-stable' => true,
        // Plugins are how a Composer package runs code at install time:
        // allow them all, so that what they do is seen.
        'config' => ['allow-plugins' => true]];
    if ($artifact !== '') {
        // A dist zip carries no version (it comes from the registry's
        // metadata), so the package is unpacked and offered as a path
        // repository with the version set; its composer.json (and so its
        // dependencies, fetched from the configured repository) is read.
        $root = unpack_dist($artifact, "$app/dist");
        if ($root === null) {
            return 1;
        }
        $manifest['repositories'] = [['type' => 'path', 'url' => $root,
            'options' => ['symlink' => false, 'versions' => [$name => $version]]]];
    }
    file_put_contents("$app/composer.json", json_encode($manifest, JSON_UNESCAPED_SLASHES | JSON_PRETTY_PRINT));
    $cmd = 'composer require --no-interaction --no-progress ' . escapeshellarg("$name:$version");
    passthru($cmd, $code);
    return $code;
}

function unpack_dist(string $artifact, string $dest): ?string
{
    $zip = new ZipArchive();
    if ($zip->open($artifact) !== true) {
        fwrite(STDERR, "paddock: $artifact is not a zip archive\n");
        return null;
    }
    @mkdir($dest, 0755, true);
    $ok = $zip->extractTo($dest);
    $zip->close();
    if (!$ok) {
        fwrite(STDERR, "paddock: could not unpack $artifact\n");
        return null;
    }
    if (is_file("$dest/composer.json")) {
        return $dest;
    }
    // GitHub-style dists hold one top-level directory.
    foreach (glob("$dest/*/composer.json") ?: [] as $manifest) {
        return dirname($manifest);
    }
    fwrite(STDERR, "paddock: $artifact holds no composer.json\n");
    return null;
}

function load_all(string $app, string $name): ?array
{
    $dir = "$app/vendor/$name";
    if (!is_dir($dir) || !is_file("$app/vendor/autoload.php")) {
        fwrite(STDERR, "paddock: $name is not installed\n");
        return null;
    }
    $before = get_defined_functions()['user'];
    $classes = get_declared_classes();
    try {
        require "$app/vendor/autoload.php";
    } catch (Throwable $e) {
        fwrite(STDERR, "paddock: the autoloader failed: " . get_class($e) . ': ' . $e->getMessage() . "\n");
    }
    $files = [];
    $it = new RecursiveIteratorIterator(new RecursiveDirectoryIterator($dir, FilesystemIterator::SKIP_DOTS));
    foreach ($it as $f) {
        if ($f->isFile() && str_ends_with($f->getFilename(), '.php')) {
            $files[] = $f->getPathname();
        }
    }
    sort($files);
    foreach ($files as $path) {
        try {
            include_once $path;
            echo "paddock: included $path\n";
        } catch (Throwable $e) {
            fwrite(STDERR, "paddock: including $path failed: " . get_class($e) . ': ' . $e->getMessage() . "\n");
        }
    }
    return [array_diff(get_defined_functions()['user'], $before), array_diff(get_declared_classes(), $classes)];
}

function call_dummy(string $label, mixed $fn, int $required): void
{
    if (!is_callable($fn)) {
        return;
    }
    try {
        $fn(...array_fill(0, $required, null));
        echo "paddock: called $label\n";
    } catch (Throwable $e) {
        fwrite(STDERR, "paddock: calling $label failed: " . get_class($e) . ': ' . $e->getMessage() . "\n");
    }
}

function execute(string $app, string $name): int
{
    $loaded = load_all($app, $name);
    if ($loaded === null) {
        return 1;
    }
    [$functions, $classes] = $loaded;
    foreach ($functions as $f) {
        $r = new ReflectionFunction($f);
        call_dummy($f, $f, $r->getNumberOfRequiredParameters());
    }
    foreach ($classes as $c) {
        $rc = new ReflectionClass($c);
        if ($rc->isAbstract() || $rc->isInterface()) {
            continue;
        }
        foreach ($rc->getMethods(ReflectionMethod::IS_PUBLIC | ReflectionMethod::IS_STATIC) as $m) {
            if ($m->isPublic() && $m->isStatic() && $m->class === $c) {
                call_dummy("$c::{$m->name}", [$c, $m->name], $m->getNumberOfRequiredParameters());
            }
        }
    }
    return 0;
}

if ($argc !== 5) {
    fwrite(STDERR, "usage: analyze-php.php PHASE NAME VERSION ARTIFACT\n");
    exit(2);
}
[, $phase, $name, $version, $artifact] = $argv;
set_time_limit((int) (getenv('PADDOCK_PHASE_TIMEOUT') ?: 0));
switch ($phase) {
    case 'install':
        exit(install($app, $name, $version, $artifact));
    case 'import':
        exit(load_all($app, $name) === null ? 1 : 0);
    case 'execute':
        exit(execute($app, $name));
    default:
        fwrite(STDERR, "paddock: unknown phase $phase\n");
        exit(2);
}
