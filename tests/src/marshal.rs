//! Just enough of Ruby's `Marshal` format (4.8) to write what RubyGems
//! loads with `Marshal.load`: the quick-index gemspecs
//! (`quick/Marshal.4.8/<name>-<version>.gemspec.rz`).

use std::collections::HashMap;

/// A Ruby value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Nil,
    True,
    False,
    /// A Fixnum (`i`).
    Int(i32),
    /// A String with its encoding: UTF-8 (`E: true`) or US-ASCII
    /// (`E: false`).
    Str {
        text: String,
        utf8: bool,
    },
    Sym(String),
    Array(Vec<Value>),
    Hash(Vec<(Value, Value)>),
    /// A plain object (`o`): class name and instance variables (`@x`).
    Object(String, Vec<(String, Value)>),
    /// An object with `marshal_dump` (`U`): class name and the dumped value.
    UserMarshal(String, Box<Value>),
    /// An object with `_dump` (`u`): class name, its bytes and instance
    /// variables of those bytes (Time's `zone`).
    UserDef(String, Vec<u8>, Vec<(String, Value)>),
}

impl Value {
    /// A UTF-8 string.
    pub fn str(text: &str) -> Self {
        Value::Str {
            text: text.to_owned(),
            utf8: true,
        }
    }

    /// `klass` dumped with `marshal_dump` as `value`.
    pub fn user_marshal(klass: &str, value: Value) -> Self {
        Value::UserMarshal(klass.to_owned(), Box::new(value))
    }

    /// `Time.utc(year, month, day)`, as `Time#_dump` writes it.
    pub fn utc_date(date: chrono::NaiveDate) -> Self {
        use chrono::Datelike as _;
        let high: u32 = (1 << 31)
            | (1 << 30)
            | (((date.year() - 1900) as u32) << 14)
            | (date.month0() << 10)
            | (date.day() << 5);
        let mut bytes = high.to_le_bytes().to_vec();
        bytes.extend_from_slice(&0u32.to_le_bytes());
        Value::UserDef(
            "Time".into(),
            bytes,
            vec![(
                "zone".into(),
                Value::Str {
                    text: "UTC".into(),
                    utf8: false,
                },
            )],
        )
    }
}

/// `Marshal.dump(value)`.
pub fn dump(value: &Value) -> Vec<u8> {
    let mut w = Writer {
        out: vec![4, 8],
        symbols: HashMap::new(),
    };
    w.value(value);
    w.out
}

struct Writer {
    out: Vec<u8>,
    symbols: HashMap<String, usize>,
}

impl Writer {
    /// Ruby's `w_long`.
    fn long(&mut self, n: i64) {
        match n {
            0 => self.out.push(0),
            1..=122 => self.out.push((n + 5) as u8),
            -123..=-1 => self.out.push((n - 5) as u8),
            _ => {
                let mut rest = n;
                let mut bytes = Vec::new();
                loop {
                    bytes.push((rest & 0xff) as u8);
                    rest >>= 8;
                    if rest == 0 || rest == -1 {
                        break;
                    }
                }
                let len = bytes.len() as i8;
                self.out.push(if n < 0 { -len as u8 } else { len as u8 });
                self.out.extend(bytes);
            }
        }
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.long(bytes.len() as i64);
        self.out.extend_from_slice(bytes);
    }

    fn symbol(&mut self, name: &str) {
        if let Some(&index) = self.symbols.get(name) {
            self.out.push(b';');
            self.long(index as i64);
        } else {
            let index = self.symbols.len();
            self.symbols.insert(name.to_owned(), index);
            self.out.push(b':');
            self.bytes(name.as_bytes());
        }
    }

    fn ivars(&mut self, ivars: &[(String, Value)]) {
        self.long(ivars.len() as i64);
        for (name, value) in ivars {
            self.symbol(name);
            self.value(value);
        }
    }

    fn value(&mut self, value: &Value) {
        match value {
            Value::Nil => self.out.push(b'0'),
            Value::True => self.out.push(b'T'),
            Value::False => self.out.push(b'F'),
            Value::Int(n) => {
                self.out.push(b'i');
                self.long(i64::from(*n));
            }
            Value::Str { text, utf8 } => {
                self.out.extend_from_slice(b"I\"");
                self.bytes(text.as_bytes());
                self.long(1);
                self.symbol("E");
                self.out.push(if *utf8 { b'T' } else { b'F' });
            }
            Value::Sym(name) => self.symbol(name),
            Value::Array(items) => {
                self.out.push(b'[');
                self.long(items.len() as i64);
                for item in items {
                    self.value(item);
                }
            }
            Value::Hash(pairs) => {
                self.out.push(b'{');
                self.long(pairs.len() as i64);
                for (k, v) in pairs {
                    self.value(k);
                    self.value(v);
                }
            }
            Value::Object(klass, ivars) => {
                self.out.push(b'o');
                self.symbol(klass);
                self.ivars(ivars);
            }
            Value::UserMarshal(klass, inner) => {
                self.out.push(b'U');
                self.symbol(klass);
                self.value(inner);
            }
            Value::UserDef(klass, bytes, ivars) => {
                if !ivars.is_empty() {
                    self.out.push(b'I');
                }
                self.out.push(b'u');
                self.symbol(klass);
                self.bytes(bytes);
                if !ivars.is_empty() {
                    self.ivars(ivars);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_ruby_for_the_types_a_gemspec_uses() {
        // Each expected dump is Ruby 3.1's `Marshal.dump`.
        assert_eq!(
            dump(&Value::user_marshal(
                "Gem::Version",
                Value::Array(vec![Value::str("1.0")])
            )),
            b"\x04\x08U:\x11Gem::Version[\x06I\"\x081.0\x06:\x06ET"
        );
        assert_eq!(
            dump(&Value::utc_date(
                chrono::NaiveDate::from_ymd_opt(2026, 11, 10).unwrap()
            )),
            b"\x04\x08Iu:\x09Time\x0d@\xA9\x1F\xC0\x00\x00\x00\x00\x06:\x09zoneI\"\x08UTC\x06:\x06EF"
        );
        assert_eq!(dump(&Value::Int(4)), b"\x04\x08i\x09");
        assert_eq!(dump(&Value::Int(300)), b"\x04\x08i\x02\x2c\x01");
        assert_eq!(dump(&Value::Int(-300)), b"\x04\x08i\xfe\xd4\xfe");
        assert_eq!(
            dump(&Value::Array(vec![
                Value::Sym("a".into()),
                Value::Sym("a".into()),
                Value::Nil,
                Value::True,
                Value::Hash(Vec::new())
            ])),
            b"\x04\x08[\x0a:\x06a;\x000T{\x00"
        );
    }
}
