//! One line of gVisor's `--strace` output, as written to the boot log:
//!
//! ```text
//! I1122 03:37:09.111793   30983 strace.go:608] [   2:   2] cat X openat(AT_FDCWD /, 0x7f57… /root/.ssh/id_rsa, O_RDONLY|0x0, 0o0) = 3 (0x3) (408.657µs)
//! ```
//!
//! A log prefix, `[pid: tid]`, the thread's command name, `E` (entry) or
//! `X` (exit), the syscall with its decoded arguments, and on exit the
//! return value, an optional `errno=N (text)` and the duration. Every part
//! is parsed without regular expressions and without trusting the line: a
//! line that does not fit returns `None`.

/// A parsed strace line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<'a> {
    /// `03:37:09.111793`, the log timestamp.
    pub time: &'a str,
    pub pid: u32,
    pub tid: u32,
    /// The thread's command name (`comm`).
    pub command: &'a str,
    pub exit: bool,
    pub syscall: &'a str,
    /// The arguments, split at top-level commas.
    pub args: Vec<&'a str>,
    /// The return value (exit lines).
    pub result: Option<i64>,
    /// `errno=N` and its description (exit lines of failed calls).
    pub errno: Option<(i64, &'a str)>,
}

/// Parses one line; `None` if it is not a complete strace line.
pub fn parse(line: &str) -> Option<Line<'_>> {
    let marker = line.find("strace.go:")?;
    let time = line
        .get(6..21)
        .filter(|t| t.as_bytes().get(2) == Some(&b':'))
        .unwrap_or("");
    let rest = &line[marker..];
    let rest = &rest[rest.find("] [")? + 2..];
    let close = rest.find(']')?;
    let ids = &rest[1..close];
    let (pid, tid) = ids.split_once(':')?;
    let (pid, tid) = (pid.trim().parse().ok()?, tid.trim().parse().ok()?);
    let rest = rest[close + 1..].trim_start();
    // `<command> E|X <syscall>(`: the command name may contain spaces, so
    // find the direction marker followed by a syscall and `(`.
    let (command, exit, after) = find_direction(rest)?;
    let open = after.find('(')?;
    let syscall = &after[..open];
    if syscall.is_empty()
        || !syscall
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return None;
    }
    let body = &after[open + 1..];
    let close = matching_paren(body)?;
    let args = split_args(&body[..close]);
    let tail = &body[close + 1..];
    let (result, errno) = if exit {
        parse_result(tail)
    } else {
        (None, None)
    };
    Some(Line {
        time,
        pid,
        tid,
        command,
        exit,
        syscall,
        args,
        result,
        errno,
    })
}

fn find_direction(rest: &str) -> Option<(&str, bool, &str)> {
    let mut search = 0;
    while let Some(i) = rest[search..].find([' ']) {
        let at = search + i;
        let after = &rest[at + 1..];
        let mut chars = after.chars();
        if let (Some(d @ ('E' | 'X')), Some(' ')) = (chars.next(), chars.next()) {
            let candidate = &after[2..];
            if candidate.find('(').is_some_and(|p| {
                p > 0
                    && candidate[..p]
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            }) {
                return Some((&rest[..at], d == 'X', candidate));
            }
        }
        search = at + 1;
    }
    None
}

/// Walks `body` calling `visit(index, byte, depth)` for every byte outside
/// quoted strings (which gVisor escapes with `\`), with the nesting depth of
/// brackets, braces and parentheses before that byte. Stops when `visit`
/// returns true and gives that index.
fn scan(body: &str, mut visit: impl FnMut(usize, u8, i32) -> bool) -> Option<usize> {
    let mut depth = 0i32;
    let mut in_string = false;
    let mut escaped = false;
    for (i, b) in body.bytes().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        if b == b'"' {
            in_string = true;
            continue;
        }
        if visit(i, b, depth) {
            return Some(i);
        }
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// Index of the `)` closing the argument list.
fn matching_paren(body: &str) -> Option<usize> {
    scan(body, |_, b, depth| b == b')' && depth == 0)
}

/// Splits at commas outside brackets, braces and strings.
pub fn split_args(body: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    scan(body, |i, b, depth| {
        if b == b',' && depth == 0 {
            out.push(body[start..i].trim());
            start = i + 1;
        }
        false
    });
    let last = body[start..].trim();
    if !last.is_empty() || !out.is_empty() {
        out.push(last);
    }
    out
}

/// ` = 3 (0x3) errno=2 (no such file or directory) (408µs)`
fn parse_result(tail: &str) -> (Option<i64>, Option<(i64, &str)>) {
    let Some(rest) = tail.trim_start().strip_prefix("= ") else {
        return (None, None);
    };
    let value = rest
        .split_whitespace()
        .next()
        .and_then(|v| v.parse::<i64>().ok());
    let errno = rest.find("errno=").and_then(|i| {
        let e = &rest[i + 6..];
        let end = e.find(|c: char| !c.is_ascii_digit()).unwrap_or(e.len());
        let n = e[..end].parse().ok()?;
        let text = e[end..]
            .trim_start()
            .strip_prefix('(')
            .and_then(|t| t.split_once(')'))
            .map_or("", |(t, _)| t);
        Some((n, text))
    });
    (value, errno)
}

/// The path gVisor printed after a pointer or fd: `0x5ef048 /tmp/x` →
/// `/tmp/x`; `AT_FDCWD /` → `/`; `0x3 socket:[1]` → `socket:[1]`.
pub fn path_of(arg: &str) -> Option<&str> {
    let (_, path) = arg.split_once(' ')?;
    let path = path.trim();
    (!path.is_empty()).then_some(path)
}

/// Decodes a Go-quoted string as gVisor prints it (`"hello\n"`, possibly
/// followed by `...` when truncated) into bytes, and whether it was cut.
pub fn decode_string(arg: &str) -> Option<(Vec<u8>, bool)> {
    let arg = arg.trim();
    let start = arg.find('"')?;
    let body = &arg[start + 1..];
    let mut out = Vec::new();
    let mut bytes = body.bytes();
    let mut closed = false;
    while let Some(b) = bytes.next() {
        match b {
            b'"' => {
                closed = true;
                break;
            }
            b'\\' => match bytes.next()? {
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'r' => out.push(b'\r'),
                b'0' => out.push(0),
                b'a' => out.push(7),
                b'b' => out.push(8),
                b'f' => out.push(12),
                b'v' => out.push(11),
                b'x' => {
                    let hi = bytes.next()?;
                    let lo = bytes.next()?;
                    let hex = [hi, lo];
                    out.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
                }
                other => out.push(other),
            },
            other => out.push(other),
        }
    }
    if !closed {
        return None;
    }
    let truncated = arg[start..].ends_with("...");
    Some((out, truncated))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_lines_with_results_and_errno() {
        let l = parse(r#"I1122 03:37:09.111793   30983 strace.go:608] [   2:   2] cat X openat(AT_FDCWD /, 0x7f578c000f68 /root/.ssh/id_rsa, O_RDONLY|0x0, 0o0) = 3 (0x3) (408.657µs)"#).unwrap();
        assert_eq!(
            (l.pid, l.tid, l.command, l.exit, l.syscall),
            (2, 2, "cat", true, "openat")
        );
        assert_eq!(
            l.args,
            [
                "AT_FDCWD /",
                "0x7f578c000f68 /root/.ssh/id_rsa",
                "O_RDONLY|0x0",
                "0o0"
            ]
        );
        assert_eq!(l.result, Some(3));
        assert_eq!(l.errno, None);
        assert_eq!(l.time, "03:37:09.111793");

        let l = parse(r#"I1122 03:37:09.1 1 strace.go:608] [   2:   2] cat X openat(AT_FDCWD /, 0x7f4863e45f6d /nonexistent, O_RDONLY|0x0, 0o0) = 0 (0x0) errno=2 (no such file or directory) (170.343µs)"#).unwrap();
        assert_eq!(l.errno, Some((2, "no such file or directory")));
    }

    #[test]
    fn structs_arrays_and_strings_do_not_split_arguments() {
        let l = parse(r#"I1 03:37:09.108197 1 strace.go:567] [   2:   2] sh E execve(0x5ac272 /proc/self/exe, 0x5ef040 ["cat", "a, b"], 0x5ef058 ["HOME=/root"])"#).unwrap();
        assert_eq!(l.args.len(), 3);
        assert_eq!(l.args[1], r#"0x5ef040 ["cat", "a, b"]"#);
        let l = parse(r#"I1 0 1 strace.go:1] [ 5: 7] nc X connect(0x3 socket:[1], 0x5ed714 {Family: AF_INET, Addr: 192.0.2.1, Port: 4444}, 0x10) = 0 (0x0) errno=113 (no route to host) (14µs)"#).unwrap();
        assert_eq!(l.args.len(), 3);
        assert_eq!(path_of(l.args[0]), Some("socket:[1]"));
        assert_eq!(l.errno, Some((113, "no route to host")));
    }

    #[test]
    fn strings_decode_with_escapes_and_truncation() {
        assert_eq!(
            decode_string(r#"0x5ef200 "hello\n""#),
            Some((b"hello\n".to_vec(), false))
        );
        assert_eq!(
            decode_string(r#"0x1 "\x00\x01ab"..."#),
            Some((vec![0, 1, b'a', b'b'], true))
        );
        assert_eq!(decode_string("0x1"), None);
    }

    #[test]
    fn garbage_is_not_a_line() {
        for bad in [
            "",
            "strace.go:1]",
            "I1 strace.go:1] [x:y] sh E open(",
            "I1 strace.go:1] [1:1] sh Q open()",
            "D1122 other.go:1] hello",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
