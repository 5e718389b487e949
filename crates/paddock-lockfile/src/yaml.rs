//! YAML lockfiles (pnpm-lock.yaml, yarn berry's yarn.lock) read through
//! serde-saphyr with a budget derived from [`Limits`].
//!
//! No lockfile writer emits anchors or aliases (pnpm and yarn write plain
//! block YAML), so an alias is refused outright: a billion-laughs file
//! fails at its first `*alias`, before anything is expanded. Nesting is
//! bounded by [`Limits::max_depth`]; events and nodes by the input's size
//! (which [`Limits::max_bytes`] bounds), so a large real lockfile is never
//! refused for its size alone. A key said twice reaches the reader (the
//! [`crate::Entries`] it collects keeps both) instead of being merged away.

use serde::de::DeserializeOwned;
use serde_saphyr::options::DuplicateKeyPolicy;
use serde_saphyr::{Budget, Options};

use crate::Limits;

/// Every document of `text` (pnpm may write an environment lockfile as a
/// first document before the project's).
pub(crate) fn documents<T: DeserializeOwned>(
    text: &str,
    limits: &Limits,
) -> Result<Vec<T>, String> {
    serde_saphyr::from_multiple_with_options(text, options(text, limits))
        .map_err(|e| describe(&e, limits))
}

fn options(text: &str, limits: &Limits) -> Options {
    // A YAML event takes at least a byte of input, but for the few an
    // empty value or a document boundary adds.
    let events = text.len().saturating_mul(2).saturating_add(64);
    let mut budget = Budget::default();
    budget.max_depth = limits.max_depth;
    budget.max_events = events;
    budget.max_nodes = events;
    budget.max_aliases = 0;
    budget.max_merge_keys = 0;
    budget.max_documents = 16;
    let mut options = Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = 0;
    options.duplicate_keys = DuplicateKeyPolicy::PassThrough;
    options.with_snippet = false;
    options
}

/// The error in one line, with what a budget breach means.
fn describe(error: &serde_saphyr::Error, limits: &Limits) -> String {
    let text = error.to_string();
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.contains("Aliases {") {
        format!("{one_line}: YAML aliases are refused (no lockfile writer uses them, and nested aliases expand without bound)")
    } else if one_line.contains("Depth {") || one_line.contains("recursion limit") {
        format!(
            "{one_line}: the YAML nests deeper than {} levels, which no real lockfile does",
            limits.max_depth
        )
    } else {
        one_line
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::documents;
    use crate::{Entries, Limits};

    #[derive(Debug, Deserialize)]
    struct Doc {
        packages: Option<Entries<Entry, serde_saphyr::Spanned<String>>>,
    }

    #[derive(Debug, Deserialize)]
    struct Entry {
        version: Option<String>,
    }

    #[test]
    fn scalars_are_text_keys_have_lines_and_a_key_said_twice_is_kept() {
        let text = "packages:\n  a@1.10:\n    version: 1.10\n  b:\n    version: 8\n  a@1.10:\n    version: 6.6.6\n";
        let docs: Vec<Doc> = documents(text, &Limits::default()).unwrap();
        let packages = docs[0].packages.as_ref().unwrap();
        let got: Vec<(&str, u64, Option<&str>)> = packages
            .0
            .iter()
            .map(|(k, v)| (k.value.as_str(), k.referenced.line(), v.version.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("a@1.10", 2, Some("1.10")),
                ("b", 4, Some("8")),
                ("a@1.10", 6, Some("6.6.6"))
            ]
        );
    }

    #[test]
    fn a_billion_laughs_is_refused_at_its_first_alias_and_deep_nesting_is_bounded() {
        let mut bomb = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        for (name, before) in ["b", "c", "d", "e", "f", "g", "h", "i"]
            .iter()
            .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
        {
            bomb.push_str(&format!("{name}: &{name} [*{before},*{before},*{before},*{before},*{before},*{before},*{before},*{before},*{before}]\n"));
        }
        bomb.push_str("packages: *i\n");
        let error = documents::<Doc>(&bomb, &Limits::default()).unwrap_err();
        assert!(
            error.contains("line 2") && error.contains("YAML aliases are refused"),
            "{error}"
        );

        // In a field the reader skips, where only the budget stops it.
        let deep = format!(
            "packages:\n  x:\n    skipped: {}{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let error = documents::<Doc>(&deep, &Limits::default()).unwrap_err();
        assert!(error.contains("nests deeper than 64 levels"), "{error}");
        let mut block = String::from("packages:\n  x:\n");
        for depth in 2..200 {
            block.push_str(&" ".repeat(depth * 2));
            block.push_str("k:\n");
        }
        let error = documents::<Doc>(&block, &Limits::default()).unwrap_err();
        assert!(error.contains("nests deeper than 64 levels"), "{error}");
        let shallow = Limits {
            max_depth: 3,
            ..Limits::default()
        };
        let error = documents::<Doc>("packages:\n  x:\n    skipped: [1]\n", &shallow).unwrap_err();
        assert!(error.contains("nests deeper than 3 levels"), "{error}");
        // Three levels (the document, `packages`, `x`) are allowed.
        assert!(documents::<Doc>("packages:\n  x:\n    skipped: 1\n", &shallow).is_ok());
    }
}
