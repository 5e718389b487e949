//! Baits: credentials planted in the sandbox, fresh for every analysis, as
//! the reference system plants them (AWS keys in the environment, an SSH
//! key pair in root's home) plus registry tokens, and the secret stores
//! stealers go for that no honest library opens: browser profiles (saved
//! logins, the cookie key), Discord, Telegram and Slack token stores, and
//! crypto wallets ([`STORES`]). Each store holds a value of its own, so a
//! store sent anywhere is proven. Which of them the package touched is
//! read back from the trace.

use std::io::Read;
use std::path::Path;

use base64::Engine;
use paddock_proto::v1::{BaitAccess, FileOp};
use paddock_trace::Trace;

/// The SSH bait files, as the sandbox sees them.
pub const SSH_PRIVATE: &str = "/root/.ssh/id_ed25519";
pub const SSH_PRIVATE_RSA_NAME: &str = "/root/.ssh/id_rsa";
pub const SSH_PUBLIC: &str = "/root/.ssh/id_ed25519.pub";

/// The secret stores planted in root's home: (path under the home, what
/// the store is, how its file is written around the bait value `{}`).
/// Stores that honest libraries read when asked (cloud CLI credentials,
/// `~/.docker/config.json`, `~/.kube/config`, `~/.npmrc`) are not planted:
/// a client library called in the execute phase would read them and look
/// like a stealer.
pub const STORES: &[(&str, &str, &str)] = &[
    (
        ".config/google-chrome/Default/Login Data",
        "Chrome saved logins",
        "SQLite format 3\0\0logins\0https://accounts.example\0root\0{}\0",
    ),
    (
        ".config/google-chrome/Local State",
        "Chrome's cookie and password key",
        "{\"os_crypt\":{\"encrypted_key\":\"{}\"}}\n",
    ),
    (
        ".mozilla/firefox/p4dd0ck.default-release/logins.json",
        "Firefox saved logins",
        "{\"logins\":[{\"hostname\":\"https://accounts.example\",\"encryptedPassword\":\"{}\"}]}\n",
    ),
    (
        ".config/discord/Local Storage/leveldb/000005.ldb",
        "Discord token store",
        "\0\0_https://discord.example\0\x01tokens\0\"{}\"\0",
    ),
    (
        ".local/share/TelegramDesktop/tdata/key_datas",
        "Telegram session",
        "TDF$\0\0{}\0",
    ),
    (
        ".config/Slack/Cookies",
        "Slack cookies",
        "SQLite format 3\0\0cookies\0d\0{}\0",
    ),
    (
        ".electrum/wallets/default_wallet",
        "Electrum wallet",
        "{\"keystore\":{\"seed\":\"{}\",\"type\":\"bip32\"},\"wallet_type\":\"standard\"}\n",
    ),
    (
        ".config/Exodus/exodus.wallet/seed.seco",
        "Exodus wallet seed",
        "SECO\0\0{}\0",
    ),
];

/// One analysis's baits.
#[derive(Clone)]
pub struct Baits {
    /// (variable, value) pairs put in the environment.
    pub env: Vec<(String, String)>,
    /// OpenSSH private key (PEM-armoured openssh-key-v1).
    pub ssh_private: String,
    /// `ssh-ed25519 AAAA… root@localhost`.
    pub ssh_public: String,
    /// The raw key material: the private seed and the public key (both 32
    /// random bytes), which is what traffic is searched for, whatever
    /// armour it travels in.
    ssh_seed: Vec<u8>,
    ssh_public_key: Vec<u8>,
    /// The value planted in each of [`STORES`], in order.
    store_values: Vec<String>,
}

impl std::fmt::Debug for Baits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Baits")
            .field("env", &self.env.iter().map(|(k, _)| k).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// `n` bytes from /dev/urandom.
pub(crate) fn random(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("/dev/urandom is readable");
    buf
}

fn from_alphabet(alphabet: &[u8], n: usize) -> String {
    random(n)
        .into_iter()
        .map(|b| alphabet[b as usize % alphabet.len()] as char)
        .collect()
}

const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE62: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

impl Baits {
    /// Fresh baits.
    pub fn generate() -> Self {
        let b64 = base64::engine::general_purpose::STANDARD;
        let env = vec![
            (
                "AWS_ACCESS_KEY_ID".to_owned(),
                format!("AKIAI{}Q", from_alphabet(BASE32, 14)),
            ),
            ("AWS_SECRET_ACCESS_KEY".to_owned(), b64.encode(random(30))),
            (
                "GITHUB_TOKEN".to_owned(),
                format!("ghp_{}", from_alphabet(BASE62, 36)),
            ),
            (
                "NPM_TOKEN".to_owned(),
                format!("npm_{}", from_alphabet(BASE62, 36)),
            ),
        ];
        let (ssh_private, ssh_public, ssh_seed, ssh_public_key) = ssh_key_pair();
        let store_values = STORES
            .iter()
            .map(|_| format!("pdk{}", from_alphabet(BASE62, 32)))
            .collect();
        Self {
            env,
            ssh_private,
            ssh_public,
            ssh_seed,
            ssh_public_key,
            store_values,
        }
    }

    /// `NAME=value` entries for the sandbox's environment.
    pub fn env_entries(&self) -> Vec<String> {
        self.env.iter().map(|(k, v)| format!("{k}={v}")).collect()
    }

    /// Writes the SSH key pair into `home/.ssh` (both the ed25519 names
    /// and `id_rsa`, the name most stealers look for).
    pub fn write_home(&self, home: &Path) -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let ssh = home.join(".ssh");
        std::fs::create_dir_all(&ssh)?;
        std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o700))?;
        for (name, body, mode) in [
            ("id_ed25519", &self.ssh_private, 0o600),
            ("id_rsa", &self.ssh_private, 0o600),
            ("id_ed25519.pub", &self.ssh_public, 0o644),
        ] {
            let path = ssh.join(name);
            std::fs::write(&path, body)?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
        }
        for ((rel, _, shape), value) in STORES.iter().zip(&self.store_values) {
            let path = home.join(rel);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&path, shape.replacen("{}", value, 1))?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(())
    }

    /// Finds these baits' values in network traffic.
    pub fn detector(&self) -> paddock_netsim::exfil::Detector {
        use paddock_netsim::exfil::Secret;
        let mut secrets: Vec<Secret> = self
            .env
            .iter()
            .map(|(k, v)| Secret {
                label: format!("env:{k}"),
                value: v.clone().into_bytes(),
            })
            .collect();
        // The key files' armour (PEM lines, the key type's header) is the
        // same for every key; only the random material proves it is ours.
        secrets.push(Secret {
            label: format!("file:{SSH_PRIVATE}"),
            value: self.ssh_seed.clone(),
        });
        secrets.push(Secret {
            label: format!("file:{SSH_PUBLIC}"),
            value: self.ssh_public_key.clone(),
        });
        for ((rel, _, _), value) in STORES.iter().zip(&self.store_values) {
            secrets.push(Secret {
                label: format!("file:/root/{rel}"),
                value: value.clone().into_bytes(),
            });
        }
        paddock_netsim::exfil::Detector::new(secrets)
    }

    /// The bait files, as the sandbox sees them.
    pub fn files(&self) -> Vec<String> {
        let mut files: Vec<String> = [SSH_PRIVATE, SSH_PRIVATE_RSA_NAME, SSH_PUBLIC]
            .map(String::from)
            .to_vec();
        files.extend(STORES.iter().map(|(rel, _, _)| format!("/root/{rel}")));
        files
    }

    /// What the package did with the baits, from its trace: bait files
    /// opened for reading; the process environment read through /proc;
    /// bait values written to files, passed to commands or sent in DNS
    /// names. (Reading a variable with getenv makes no system call, so it
    /// shows only when the value goes somewhere.)
    pub fn accesses(&self, trace: &Trace) -> Vec<BaitAccess> {
        let mut out: Vec<BaitAccess> = Vec::new();
        let mut push = |bait: String, how: &str, pid: u32, detail: String| {
            if !out
                .iter()
                .any(|a| a.bait == bait && a.how == how && a.pid == pid)
            {
                out.push(BaitAccess {
                    bait,
                    how: how.into(),
                    pid,
                    detail,
                });
            }
        };
        let files = self.files();
        for e in &trace.file_events {
            if e.result < 0 || e.op != FileOp::OpenRead as i32 {
                continue;
            }
            if files.contains(&e.path) {
                push(format!("file:{}", e.path), "read", e.pid, String::new());
            }
            if e.path.starts_with("/proc/") && e.path.ends_with("/environ") {
                for (k, _) in &self.env {
                    push(format!("env:{k}"), "read", e.pid, e.path.clone());
                }
            }
        }
        let key_marker = self
            .ssh_private
            .lines()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        for w in &trace.file_writes {
            let head = String::from_utf8_lossy(&w.head);
            for (k, v) in &self.env {
                if head.contains(v.as_str()) {
                    push(format!("env:{k}"), "written", w.pid, w.path.clone());
                }
            }
            if !key_marker.is_empty() && head.contains(&key_marker) {
                push(
                    format!("file:{SSH_PRIVATE_RSA_NAME}"),
                    "written",
                    w.pid,
                    w.path.clone(),
                );
            }
        }
        for c in &trace.commands {
            let argv = c.argv.join(" ");
            for (k, v) in &self.env {
                if argv.contains(v.as_str()) {
                    push(format!("env:{k}"), "passed", c.pid, argv.clone());
                }
            }
        }
        for q in &trace.dns {
            let name = q.hostname.to_ascii_lowercase();
            for (k, v) in &self.env {
                let v = v.to_ascii_lowercase();
                if v.len() >= 8 && name.contains(&v[..v.len().min(16)]) {
                    push(format!("env:{k}"), "exfiltrated", 0, q.hostname.clone());
                }
            }
        }
        out
    }
}

/// A fresh Ed25519 key pair in OpenSSH's formats (ssh-key's encoding).
fn ssh_key_pair() -> (String, String, Vec<u8>, Vec<u8>) {
    let seed: [u8; 32] = random(32).try_into().expect("32 bytes");
    let keypair = ssh_key::private::Ed25519Keypair::from_seed(&seed);
    let public = keypair.public.0.to_vec();
    let key = ssh_key::PrivateKey::new(keypair.into(), "root@localhost")
        .expect("an Ed25519 key pair is a valid private key");
    let pem = key
        .to_openssh(ssh_key::LineEnding::LF)
        .expect("encoding an unencrypted key cannot fail")
        .to_string();
    let public_line = format!(
        "{}\n",
        key.public_key()
            .to_openssh()
            .expect("encoding a public key cannot fail")
    );
    (pem, public_line, seed.to_vec(), public)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baits_have_the_reference_shapes_and_change_every_time() {
        let a = Baits::generate();
        let b = Baits::generate();
        let id = &a.env[0].1;
        assert_eq!(id.len(), 20);
        assert!(id.starts_with("AKIAI") && id.ends_with('Q'));
        assert!(id[5..19].bytes().all(|c| BASE32.contains(&c)));
        let secret = base64::engine::general_purpose::STANDARD
            .decode(&a.env[1].1)
            .unwrap();
        assert_eq!(secret.len(), 30);
        assert_ne!(a.env, b.env);
        assert_ne!(a.ssh_private, b.ssh_private);
        assert!(a
            .ssh_private
            .starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"));
        assert!(a.ssh_public.starts_with("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5"));
    }

    #[test]
    fn the_secret_stores_are_planted_each_with_its_own_value_and_proven_in_traffic() {
        let dir = tempfile::tempdir().unwrap();
        let a = Baits::generate();
        a.write_home(dir.path()).unwrap();
        assert_eq!(a.store_values.len(), STORES.len());
        let mut seen = std::collections::BTreeSet::new();
        for ((rel, _, _), value) in STORES.iter().zip(&a.store_values) {
            let body = std::fs::read(dir.path().join(rel)).unwrap();
            assert!(
                String::from_utf8_lossy(&body).contains(value.as_str()),
                "{rel}"
            );
            assert!(seen.insert(value.clone()), "one value per store");
            assert!(
                paddock_diff::sandbox::is_sensitive_read(&format!("/root/{rel}")),
                "{rel}"
            );
            assert!(a.files().contains(&format!("/root/{rel}")));
        }
        assert_ne!(a.store_values, Baits::generate().store_values);
        // A store's value in a request body is proof of which store it was.
        let detector = a.detector();
        let discord = STORES
            .iter()
            .position(|(rel, _, _)| rel.contains("discord"))
            .unwrap();
        let body = format!("token={}", a.store_values[discord]);
        let found = detector.scan(body.as_bytes());
        assert!(
            found
                .iter()
                .any(|f| f.label == format!("file:/root/{}", STORES[discord].0)),
            "{found:?}"
        );
    }

    #[test]
    fn the_key_pair_is_one_that_ssh_keygen_accepts() {
        // ssh-keygen -y derives the public key from the private one.
        if let Err(error) = std::process::Command::new("ssh-keygen").arg("-?").output() {
            panic!(
                "this test needs ssh-keygen ({error}); `scripts/install-deps --test` installs \
                 it (Debian: openssh-client)"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let baits = Baits::generate();
        baits.write_home(dir.path()).unwrap();
        let out = std::process::Command::new("ssh-keygen")
            .arg("-y")
            .arg("-f")
            .arg(dir.path().join(".ssh/id_ed25519"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let derived = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            derived.split_whitespace().nth(1),
            baits.ssh_public.split_whitespace().nth(1)
        );
    }
}
