//! Runtime configuration helpers for async services.

use std::env;
use std::thread;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeConfig {
    pub workers: usize,
    pub thread_name: String,
    pub stack_size: usize,
    pub enable_io: bool,
    pub enable_time: bool,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            workers: default_workers(),
            thread_name: "rt-worker".to_string(),
            stack_size: 2 * 1024 * 1024,
            enable_io: true,
            enable_time: true,
        }
    }
}

impl RuntimeConfig {
    /// Read `RT_WORKERS`, `RT_THREAD_NAME` and `RT_STACK_SIZE`.
    pub fn from_env() -> Self {
        let mut cfg = RuntimeConfig::default();
        if let Some(n) = env::var("RT_WORKERS").ok().and_then(|v| v.parse().ok()) {
            cfg.workers = n;
        }
        if let Ok(name) = env::var("RT_THREAD_NAME") {
            cfg.thread_name = name;
        }
        if let Some(n) = env::var("RT_STACK_SIZE").ok().and_then(|v| v.parse().ok()) {
            cfg.stack_size = n;
        }
        cfg
    }

    pub fn worker_name(&self, index: usize) -> String {
        format!("{}-{}", self.thread_name, index)
    }
}

pub fn default_workers() -> usize {
    thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

pub fn current_thread_name() -> String {
    thread::current().name().unwrap_or("unnamed").to_string()
}
