//! A fast buffered logger with optional file output and log packing.

mod packer;
mod sink;

use std::fs::OpenOptions;
use std::io::Write;
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Error => "ERROR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Debug => "DEBUG",
            Level::Trace => "TRACE",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub level: Level,
    pub file: Option<String>,
    pub capacity: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config { level: Level::Info, file: None, capacity: 1024 }
    }
}

struct State {
    config: Config,
    buffer: Vec<String>,
}

static STATE: OnceLock<Mutex<State>> = OnceLock::new();

fn state() -> &'static Mutex<State> {
    STATE.get_or_init(|| Mutex::new(State { config: Config::default(), buffer: Vec::new() }))
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Initialise the logger with the default configuration.
pub fn init() -> bool {
    init_with(Config::default())
}

/// Initialise the logger with a configuration.
pub fn init_with(config: Config) -> bool {
    if let Ok(mut s) = state().lock() {
        s.config = config;
    }
    // Pack any rolled log files left over from the previous run.
    packer::pack();
    true
}

pub fn log(level: Level, msg: &str) {
    if let Ok(mut s) = state().lock() {
        if level > s.config.level {
            return;
        }
        let line = format!("{} [{}] {}", now_secs(), level.as_str(), msg);
        s.buffer.push(line);
        if s.buffer.len() >= s.config.capacity {
            drain(&mut s);
        }
    }
}

pub fn error(msg: &str) {
    log(Level::Error, msg)
}

pub fn warn(msg: &str) {
    log(Level::Warn, msg)
}

pub fn info(msg: &str) {
    log(Level::Info, msg)
}

pub fn debug(msg: &str) {
    log(Level::Debug, msg)
}

fn drain(s: &mut State) {
    let lines = std::mem::take(&mut s.buffer);
    match &s.config.file {
        Some(path) => {
            if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(path) {
                for l in &lines {
                    let _ = writeln!(f, "{}", l);
                }
            }
        }
        None => {
            for l in &lines {
                eprintln!("{}", l);
            }
        }
    }
}

/// Write out everything buffered and pack rolled files. Returns the number
/// of lines written.
pub fn flush() -> usize {
    let n = match state().lock() {
        Ok(mut s) => {
            let n = s.buffer.len();
            drain(&mut s);
            n
        }
        Err(_) => 0,
    };
    packer::pack();
    n
}
