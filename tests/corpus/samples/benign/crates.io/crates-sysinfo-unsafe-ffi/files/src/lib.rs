//! Who and where am I?
//!
//! ```
//! println!("{}@{} ({})", sysident::username(), sysident::hostname(), sysident::distro());
//! ```

use std::env;
use std::ffi::CStr;
use std::fs;

#[cfg(unix)]
mod sys {
    use std::os::raw::{c_char, c_int};

    pub type UidT = u32;
    pub type GidT = u32;

    /// `struct passwd` as glibc and musl lay it out on Linux.
    #[cfg(target_os = "linux")]
    #[repr(C)]
    pub struct Passwd {
        pub pw_name: *mut c_char,
        pub pw_passwd: *mut c_char,
        pub pw_uid: UidT,
        pub pw_gid: GidT,
        pub pw_gecos: *mut c_char,
        pub pw_dir: *mut c_char,
        pub pw_shell: *mut c_char,
    }

    extern "C" {
        pub fn gethostname(name: *mut c_char, len: usize) -> c_int;
        pub fn geteuid() -> UidT;
        #[cfg(target_os = "linux")]
        pub fn getpwuid_r(
            uid: UidT,
            pwd: *mut Passwd,
            buf: *mut c_char,
            buflen: usize,
            result: *mut *mut Passwd,
        ) -> c_int;
    }
}

/// The machine's host name, or "localhost" when it cannot be read.
pub fn hostname() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for `buf.len()` bytes; we reserve one
        // byte so the result is always NUL-terminated.
        let rc = unsafe { sys::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
        if rc == 0 {
            if let Ok(name) = CStr::from_bytes_until_nul(&buf) {
                if let Ok(s) = name.to_str() {
                    if !s.is_empty() {
                        return s.to_owned();
                    }
                }
            }
        }
    }
    env::var("COMPUTERNAME")
        .or_else(|_| env::var("HOSTNAME"))
        .unwrap_or_else(|_| "localhost".to_owned())
}

/// The effective user's login name.
pub fn username() -> String {
    #[cfg(target_os = "linux")]
    {
        if let Some(name) = passwd_name() {
            return name;
        }
    }
    env::var("USER")
        .or_else(|_| env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".to_owned())
}

#[cfg(target_os = "linux")]
fn passwd_name() -> Option<String> {
    let mut pwd = std::mem::MaybeUninit::<sys::Passwd>::uninit();
    let mut result: *mut sys::Passwd = std::ptr::null_mut();
    let mut buf = vec![0u8; 4096];
    // SAFETY: all pointers are valid for the sizes given; on success
    // `result` points at `pwd`, whose strings live in `buf`.
    let rc = unsafe {
        sys::getpwuid_r(sys::geteuid(), pwd.as_mut_ptr(), buf.as_mut_ptr().cast(), buf.len(), &mut result)
    };
    if rc != 0 || result.is_null() {
        return None;
    }
    // SAFETY: getpwuid_r succeeded, so pwd is initialised and pw_name is a
    // NUL-terminated string inside `buf`, which is still alive here.
    let name = unsafe { CStr::from_ptr((*result).pw_name) };
    name.to_str().ok().map(str::to_owned)
}

/// PRETTY_NAME from /etc/os-release (or the OS family when unavailable).
pub fn distro() -> String {
    for path in ["/etc/os-release", "/usr/lib/os-release"] {
        if let Ok(text) = fs::read_to_string(path) {
            if let Some(name) = os_release_field(&text, "PRETTY_NAME") {
                return name;
            }
        }
    }
    env::consts::OS.to_owned()
}

/// A field of an os-release file, unquoted.
pub fn os_release_field(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches(|c| c == '"' || c == '\'').replace("\\\"", "\""))
    })
}

/// A User-Agent style summary: "linux/x86_64 (Debian GNU/Linux 12 (bookworm))".
pub fn platform_summary() -> String {
    format!("{}/{} ({})", env::consts::OS, env::consts::ARCH, distro())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_not_empty() {
        assert!(!hostname().is_empty());
        assert!(!username().is_empty());
        assert!(!distro().is_empty());
    }

    #[test]
    fn parses_os_release() {
        let text = "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n";
        assert_eq!(os_release_field(text, "PRETTY_NAME").as_deref(), Some("Debian GNU/Linux 12 (bookworm)"));
        assert_eq!(os_release_field(text, "ID").as_deref(), Some("debian"));
        assert_eq!(os_release_field(text, "VERSION"), None);
    }
}
