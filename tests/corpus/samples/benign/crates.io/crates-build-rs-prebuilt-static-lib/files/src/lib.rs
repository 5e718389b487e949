//! Bindings to tinyjs, a small embeddable JavaScript engine.
//!
//! ```no_run
//! let mut rt = tinyjs_sys::Runtime::new().unwrap();
//! assert_eq!(rt.eval("[1, 2, 3].map(x => x * 2).join()").unwrap(), "2,4,6");
//! ```

use std::ffi::{CStr, CString};
use std::fmt;
use std::os::raw::{c_char, c_int};

#[derive(Debug, PartialEq, Eq)]
pub enum Error {
    /// The crate was built without the prebuilt library (see build.rs).
    Unavailable,
    /// The script threw; the message is the exception's string value.
    Exception(String),
    /// The source contained a NUL byte.
    Nul,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unavailable => f.write_str("tinyjs was not linked into this build"),
            Error::Exception(msg) => write!(f, "uncaught exception: {msg}"),
            Error::Nul => f.write_str("script contains a NUL byte"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(not(tinyjs_unavailable))]
mod ffi {
    use super::*;

    #[repr(C)]
    pub struct TjsRuntime {
        _private: [u8; 0],
    }

    extern "C" {
        pub fn tjs_version() -> *const c_char;
        pub fn tjs_runtime_new() -> *mut TjsRuntime;
        pub fn tjs_runtime_free(rt: *mut TjsRuntime);
        /// Returns 0 on success; `*out` is a string owned by tinyjs, freed with tjs_string_free.
        pub fn tjs_eval(rt: *mut TjsRuntime, source: *const c_char, out: *mut *mut c_char) -> c_int;
        pub fn tjs_string_free(s: *mut c_char);
    }
}

/// An isolated JavaScript runtime. Scripts see only the ECMAScript
/// built-ins: tinyjs has no file, network or process APIs.
pub struct Runtime {
    #[cfg(not(tinyjs_unavailable))]
    raw: *mut ffi::TjsRuntime,
}

impl Runtime {
    pub fn new() -> Result<Self, Error> {
        #[cfg(not(tinyjs_unavailable))]
        {
            // SAFETY: tjs_runtime_new has no preconditions; null means out of memory.
            let raw = unsafe { ffi::tjs_runtime_new() };
            if raw.is_null() {
                return Err(Error::Exception("out of memory".into()));
            }
            Ok(Runtime { raw })
        }
        #[cfg(tinyjs_unavailable)]
        {
            Err(Error::Unavailable)
        }
    }

    /// Evaluates `source` and returns the completion value as a string.
    pub fn eval(&mut self, source: &str) -> Result<String, Error> {
        let source = CString::new(source).map_err(|_| Error::Nul)?;
        #[cfg(not(tinyjs_unavailable))]
        {
            let mut out: *mut c_char = std::ptr::null_mut();
            // SAFETY: `raw` is a live runtime owned by self, `source` is
            // NUL-terminated, and `out` is a valid place for the result.
            let rc = unsafe { ffi::tjs_eval(self.raw, source.as_ptr(), &mut out) };
            let text = if out.is_null() {
                String::new()
            } else {
                // SAFETY: tinyjs returns a NUL-terminated UTF-8 string that we free once.
                let s = unsafe { CStr::from_ptr(out) }.to_string_lossy().into_owned();
                unsafe { ffi::tjs_string_free(out) };
                s
            };
            if rc == 0 {
                Ok(text)
            } else {
                Err(Error::Exception(text))
            }
        }
        #[cfg(tinyjs_unavailable)]
        {
            let _ = source;
            Err(Error::Unavailable)
        }
    }
}

#[cfg(not(tinyjs_unavailable))]
impl Drop for Runtime {
    fn drop(&mut self) {
        // SAFETY: `raw` came from tjs_runtime_new and is freed exactly once.
        unsafe { ffi::tjs_runtime_free(self.raw) }
    }
}

/// The linked engine's version, or None for a build without it.
pub fn version() -> Option<String> {
    #[cfg(not(tinyjs_unavailable))]
    {
        // SAFETY: returns a static NUL-terminated string.
        Some(unsafe { CStr::from_ptr(ffi::tjs_version()) }.to_string_lossy().into_owned())
    }
    #[cfg(tinyjs_unavailable)]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluates_or_reports_unavailable() {
        match Runtime::new() {
            Ok(mut rt) => {
                assert_eq!(rt.eval("1 + 2").unwrap(), "3");
                assert!(matches!(rt.eval("throw new Error('x')"), Err(Error::Exception(_))));
            }
            Err(e) => assert_eq!(e, Error::Unavailable),
        }
    }

    #[test]
    fn nul_bytes_are_refused() {
        if let Ok(mut rt) = Runtime::new() {
            assert_eq!(rt.eval("1\0"), Err(Error::Nul));
        }
    }
}
