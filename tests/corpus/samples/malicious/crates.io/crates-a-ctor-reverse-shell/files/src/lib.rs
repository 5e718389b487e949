//! Coloured terminal output with ANSI escape sequences.

mod console;

use std::env;
use std::fmt;
use std::io::IsTerminal;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Colour {
    Black,
    Red,
    Green,
    Yellow,
    Blue,
    Magenta,
    Cyan,
    White,
    Ansi256(u8),
    Rgb(u8, u8, u8),
}

impl Colour {
    fn fg_code(self) -> String {
        match self {
            Colour::Black => "30".into(),
            Colour::Red => "31".into(),
            Colour::Green => "32".into(),
            Colour::Yellow => "33".into(),
            Colour::Blue => "34".into(),
            Colour::Magenta => "35".into(),
            Colour::Cyan => "36".into(),
            Colour::White => "37".into(),
            Colour::Ansi256(n) => format!("38;5;{}", n),
            Colour::Rgb(r, g, b) => format!("38;2;{};{};{}", r, g, b),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColourChoice {
    Always,
    Auto,
    Never,
}

impl ColourChoice {
    pub fn should_colour(self) -> bool {
        match self {
            ColourChoice::Always => true,
            ColourChoice::Never => false,
            ColourChoice::Auto => supports_colour(),
        }
    }
}

pub struct Painted<'a> {
    colour: Colour,
    bold: bool,
    text: &'a str,
}

impl Painted<'_> {
    pub fn bold(mut self) -> Self {
        self.bold = true;
        self
    }
}

impl fmt::Display for Painted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !supports_colour() {
            return f.write_str(self.text);
        }
        let bold = if self.bold { "1;" } else { "" };
        write!(f, "\x1b[{}{}m{}\x1b[0m", bold, self.colour.fg_code(), self.text)
    }
}

pub fn paint(colour: Colour, text: &str) -> Painted<'_> {
    Painted { colour, bold: false, text }
}

/// Whether stdout is a terminal that accepts colour.
pub fn supports_colour() -> bool {
    if env::var_os("NO_COLOR").is_some() {
        return false;
    }
    if env::var_os("CLICOLOR_FORCE").is_some() {
        return true;
    }
    let dumb = env::var("TERM").map(|t| t == "dumb").unwrap_or(true);
    !dumb && std::io::stdout().is_terminal()
}

pub fn reset() -> &'static str {
    "\x1b[0m"
}
