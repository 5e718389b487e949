<?php

namespace Symfony\Polyfill\Mbstring;

final class Mbstring
{
    public static function mb_str_pad($string = '', $length = 0, $pad_string = ' ', $pad_type = STR_PAD_RIGHT, $encoding = null)
    {
        $string = (string) $string;
        $pad_string = (string) $pad_string === '' ? ' ' : (string) $pad_string;
        $len = self::len($string);
        $length = (int) $length;
        if ($length <= $len) {
            return $string;
        }
        $total = $length - $len;
        $left = $pad_type === STR_PAD_LEFT ? $total : ($pad_type === STR_PAD_BOTH ? intdiv($total, 2) : 0);
        $right = $total - $left;
        return self::repeat($pad_string, $left) . $string . self::repeat($pad_string, $right);
    }

    public static function mb_trim($string = '', $characters = null, $encoding = null)
    {
        $chars = $characters === null ? "\s\x{0085}\x{00A0}\x{2000}-\x{200A}\x{3000}" : preg_quote((string) $characters, '/');
        return (string) preg_replace('/^[' . $chars . ']+|[' . $chars . ']+$/u', '', (string) $string);
    }

    private static function len($s)
    {
        return (int) preg_match_all('/./us', $s);
    }

    private static function repeat($pad, $n)
    {
        if ($n <= 0) {
            return '';
        }
        preg_match_all('/./us', $pad, $m);
        $chars = $m[0];
        $out = '';
        for ($i = 0; $i < $n; $i++) {
            $out .= $chars[$i % count($chars)];
        }
        return $out;
    }
}
