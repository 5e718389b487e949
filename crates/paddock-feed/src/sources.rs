//! Each registry's new-release feed, read into [`FeedItem`]s.
//!
//! | ecosystem | feed | cursor |
//! |---|---|---|
//! | PyPI | `<api>/rss/updates.xml` (firehose, ~100 newest releases); per package `<api>/rss/project/<name>/releases.xml` | newest `pubDate` seen |
//! | npm | `<api>/registry/_changes?since=<seq>` (replication feed), then each changed packument's `time` | change sequence and newest publish time |
//! | RubyGems | `<url>/api/v1/timeframe_versions.json?from=&to=` (paginated, stable) | end of the last window |
//! | Packagist | `<api>/metadata/changes.json?since=<t>`, then each changed `p2` document | the feed's own `timestamp` |
//! | crates.io | `<api>/rss/updates.xml` (~100 newest versions) | newest `pubDate` seen |
//!
//! Every source returns items at or after its cursor: an item seen twice is
//! absorbed downstream by the release's message id. A firehose page whose
//! oldest item is newer than the cursor may have dropped items in between,
//! and says so.

use chrono::{DateTime, Utc};
use paddock_proto::v1::Ecosystem;
use paddock_registry::ecosystems::{npm, packagist};
use paddock_registry::http::Http;
use paddock_registry::RegistryError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One new release announced by a feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedItem {
    pub name: String,
    pub version: String,
    pub published: Option<DateTime<Utc>>,
}

/// A feed's position, stored in the `feed-cursors` bucket as JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Newest publish time seen; items older than this are done.
    pub time: Option<DateTime<Utc>>,
    /// A feed-specific position (npm change sequence, Packagist `since`).
    pub token: Option<String>,
}

/// The result of one poll.
#[derive(Debug, Clone, Default)]
pub struct Poll {
    pub items: Vec<FeedItem>,
    pub next: Cursor,
    /// The feed is a fixed-size window and its oldest item is newer than the
    /// cursor: releases between the two may have been missed.
    pub may_have_dropped: bool,
}

/// Where a source reads from.
#[derive(Debug, Clone)]
pub struct SourceUrls {
    /// The registry client's base URL.
    pub url: String,
    /// The registry's API or feed host.
    pub api_url: String,
}

/// Polls `eco`'s feed from `cursor`, or the watch list when non-empty.
///
/// Time positions are read back by `overlap`: a release the registry
/// listed late (its publish time was stamped before it became visible, or
/// another package's newer release moved the cursor past it, as npm's
/// changes feed and its packuments can) is announced on the next poll
/// instead of being lost. Releases announced twice are the same message and
/// are dropped downstream by their message id.
pub async fn poll(
    eco: Ecosystem,
    http: &Http,
    urls: &SourceUrls,
    cursor: &Cursor,
    watch: &[String],
    now: DateTime<Utc>,
    overlap: std::time::Duration,
) -> Result<Poll, RegistryError> {
    let overlap = chrono::Duration::from_std(overlap).unwrap_or_default();
    let stored = cursor;
    let read_from = Cursor {
        time: cursor.time.map(|t| t - overlap),
        token: cursor.token.clone(),
    };
    let cursor = &read_from;
    let mut poll = match (eco, watch.is_empty()) {
        (Ecosystem::Pypi, true) => {
            rss_poll(
                http,
                &format!("{}rss/updates.xml", urls.api_url),
                cursor,
                pypi_item,
            )
            .await?
        }
        (Ecosystem::Pypi, false) => {
            let mut all = Poll {
                next: cursor.clone(),
                ..Default::default()
            };
            for name in watch {
                let url = format!("{}rss/project/{name}/releases.xml", urls.api_url);
                let page = rss_poll(http, &url, cursor, |title, _| {
                    Some((name.clone(), title.trim().to_owned()))
                })
                .await?;
                merge(&mut all, page);
            }
            all.may_have_dropped = false;
            all
        }
        (Ecosystem::CratesIo, true) => {
            rss_poll(
                http,
                &format!("{}rss/updates.xml", urls.api_url),
                cursor,
                crates_item,
            )
            .await?
        }
        (Ecosystem::Npm, true) => npm_changes(http, urls, cursor).await?,
        (Ecosystem::Npm, false)
        | (Ecosystem::CratesIo, false)
        | (Ecosystem::Rubygems, false)
        | (Ecosystem::Packagist, false) => watched(eco, http, urls, cursor, watch).await?,
        (Ecosystem::Rubygems, true) => rubygems_timeframe(http, urls, cursor, now).await?,
        (Ecosystem::Packagist, true) => packagist_changes(http, urls, cursor, now, overlap).await?,
        (Ecosystem::Unspecified, _) => Poll::default(),
    };
    // The position never moves back because of the overlap, and a window
    // may have dropped releases only if it starts after the stored
    // position, not merely after the read-back one.
    if poll.next.time < stored.time {
        poll.next.time = stored.time;
    }
    if poll.may_have_dropped && eco != Ecosystem::Packagist {
        let oldest = poll.items.iter().filter_map(|i| i.published).min();
        poll.may_have_dropped = matches!((stored.time, oldest), (Some(c), Some(o)) if o > c);
    }
    Ok(poll)
}

fn merge(into: &mut Poll, page: Poll) {
    into.items.extend(page.items);
    if page.next.time > into.next.time {
        into.next.time = page.next.time;
    }
}

fn at_or_after(cursor: &Cursor, published: Option<DateTime<Utc>>) -> bool {
    match (cursor.time, published) {
        (Some(c), Some(p)) => p >= c,
        _ => true,
    }
}

/// One `<item>` of an RSS document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RssItem {
    pub title: String,
    pub link: String,
    pub published: Option<DateTime<Utc>>,
}

/// Reads the `<item>`s of an RSS document.
pub fn rss_items(xml: &[u8]) -> Result<Vec<RssItem>, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    reader.config_mut().trim_text(true);
    let mut items = Vec::new();
    let mut saw_channel = false;
    let mut in_item = false;
    let mut field = String::new();
    let (mut title, mut link, mut date) = (String::new(), String::new(), String::new());
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                let name = e.local_name().as_ref().to_owned();
                saw_channel |= name == "channel";
                if name == "item" {
                    in_item = true;
                    title.clear();
                    link.clear();
                    date.clear();
                }
                field = name;
            }
            Ok(Event::End(e)) => {
                if e.local_name().as_ref() == "item" && in_item {
                    in_item = false;
                    let published = DateTime::parse_from_rfc2822(date.trim())
                        .ok()
                        .map(|d| d.with_timezone(&Utc));
                    items.push(RssItem {
                        title: title.trim().to_owned(),
                        link: link.trim().to_owned(),
                        published,
                    });
                }
                field.clear();
            }
            Ok(Event::Text(t)) if in_item => {
                append(&field, t.as_ref(), &mut title, &mut link, &mut date);
            }
            Ok(Event::CData(t)) if in_item => {
                append(&field, t.as_ref(), &mut title, &mut link, &mut date);
            }
            Ok(Event::GeneralRef(r)) if in_item => {
                let entity: &str = r.as_ref();
                let text = match entity {
                    "amp" => "&".to_owned(),
                    "lt" => "<".to_owned(),
                    "gt" => ">".to_owned(),
                    "quot" => "\"".to_owned(),
                    "apos" => "'".to_owned(),
                    other => other
                        .strip_prefix("#x")
                        .map(|h| u32::from_str_radix(h, 16))
                        .or_else(|| other.strip_prefix('#').map(str::parse))
                        .and_then(Result::ok)
                        .and_then(char::from_u32)
                        .map(String::from)
                        .unwrap_or_default(),
                };
                append(&field, &text, &mut title, &mut link, &mut date);
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => {
                return Err(format!(
                    "invalid RSS at byte {}: {e}",
                    reader.buffer_position()
                ))
            }
        }
        buf.clear();
    }
    if !saw_channel {
        return Err("not an RSS document (no <channel>)".into());
    }
    Ok(items)
}

fn append(field: &str, text: &str, title: &mut String, link: &mut String, date: &mut String) {
    match field {
        "title" => title.push_str(text),
        "link" => link.push_str(text),
        "pubDate" => date.push_str(text),
        _ => {}
    }
}

/// PyPI: the link is `…/project/<name>/<version>/`.
fn pypi_item(title: &str, link: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = link.trim_end_matches('/').rsplit('/').take(2).collect();
    if let [version, name] = parts.as_slice() {
        return Some(((*name).to_owned(), (*version).to_owned()));
    }
    let (name, version) = title.rsplit_once(' ')?;
    Some((name.to_owned(), version.to_owned()))
}

/// crates.io: the title is `<name> v<version>`.
fn crates_item(title: &str, _link: &str) -> Option<(String, String)> {
    let (name, version) = title.rsplit_once(' ')?;
    Some((name.to_owned(), version.trim_start_matches('v').to_owned()))
}

async fn rss_poll(
    http: &Http,
    url: &str,
    cursor: &Cursor,
    parse: impl Fn(&str, &str) -> Option<(String, String)>,
) -> Result<Poll, RegistryError> {
    let fetched = http
        .get_metadata(url, "application/rss+xml, application/xml, text/xml")
        .await?
        .ok_or_else(|| RegistryError::NotFound {
            what: "the release feed".into(),
            url: url.to_owned(),
        })?;
    let items = rss_items(&fetched.body).map_err(|reason| RegistryError::Malformed {
        url: url.to_owned(),
        reason,
    })?;
    let mut poll = Poll {
        next: cursor.clone(),
        ..Default::default()
    };
    let oldest = items.iter().filter_map(|i| i.published).min();
    for RssItem {
        title,
        link,
        published,
    } in &items
    {
        let Some((name, version)) = parse(title, link) else {
            continue;
        };
        if at_or_after(cursor, *published) {
            poll.items.push(FeedItem {
                name,
                version,
                published: *published,
            });
        }
        if published.is_some() && *published > poll.next.time {
            poll.next.time = *published;
        }
    }
    poll.may_have_dropped =
        matches!((cursor.time, oldest), (Some(c), Some(o)) if o > c) && !items.is_empty();
    Ok(poll)
}

async fn npm_changes(
    http: &Http,
    urls: &SourceUrls,
    cursor: &Cursor,
) -> Result<Poll, RegistryError> {
    let since = cursor.token.clone().unwrap_or_else(|| "now".into());
    let url = format!("{}registry/_changes?since={since}&limit=500", urls.api_url);
    let doc: Value = http
        .get_json(&url)
        .await?
        .ok_or_else(|| RegistryError::NotFound {
            what: "the npm changes feed".into(),
            url: url.clone(),
        })?;
    let results = doc
        .get("results")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut poll = Poll {
        next: cursor.clone(),
        ..Default::default()
    };
    poll.next.token = doc.get("last_seq").map(|s| {
        s.as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| s.to_string())
    });
    for change in results {
        let Some(name) = change.get("id").and_then(Value::as_str) else {
            continue;
        };
        if change.get("deleted").and_then(Value::as_bool) == Some(true)
            || name.starts_with("_design/")
        {
            continue;
        }
        new_npm_versions(http, urls, name, cursor, &mut poll).await?;
    }
    Ok(poll)
}

async fn new_npm_versions(
    http: &Http,
    urls: &SourceUrls,
    name: &str,
    cursor: &Cursor,
    poll: &mut Poll,
) -> Result<(), RegistryError> {
    let url = npm::packument_url(&urls.url, name);
    let Some(doc) = http.get_json::<npm::Packument>(&url).await? else {
        return Ok(());
    };
    for (version, time) in &doc.time {
        if version == "created" || version == "modified" || !doc.versions.contains_key(version) {
            continue;
        }
        let published = time
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|d| d.with_timezone(&Utc));
        if at_or_after(cursor, published) && cursor.time.is_some()
            || cursor.time.is_none() && is_newest(&doc, version)
        {
            poll.items.push(FeedItem {
                name: name.to_owned(),
                version: version.clone(),
                published,
            });
        }
        if published > poll.next.time {
            poll.next.time = published;
        }
    }
    Ok(())
}

/// With no cursor yet, a changed package contributes its newest version
/// only, not its whole history.
fn is_newest(doc: &npm::Packument, version: &str) -> bool {
    doc.dist_tags.get("latest").map(String::as_str) == Some(version)
}

async fn watched(
    eco: Ecosystem,
    http: &Http,
    urls: &SourceUrls,
    cursor: &Cursor,
    watch: &[String],
) -> Result<Poll, RegistryError> {
    let client_config = |url: &str| {
        let mut config = paddock_registry::RegistriesConfig::default();
        config.endpoint_mut(eco).url = Some(url.to_owned());
        config.http = http.settings().clone();
        config
    };
    let client = paddock_registry::RegistryClient::new(eco, &client_config(&urls.url))?;
    let mut poll = Poll {
        next: cursor.clone(),
        ..Default::default()
    };
    for name in watch {
        // A watched package contributes its latest release when it is new.
        let release = match client.resolve(name, None).await {
            Ok(r) => r,
            Err(RegistryError::NotFound { .. }) => continue,
            Err(e) => return Err(e),
        };
        let package = release.package.unwrap_or_default();
        let published = release
            .published_at
            .and_then(|t| DateTime::from_timestamp(t.seconds, t.nanos as u32));
        if at_or_after(cursor, published) {
            poll.items.push(FeedItem {
                name: package.name,
                version: package.version,
                published,
            });
        }
        if published > poll.next.time {
            poll.next.time = published;
        }
    }
    Ok(poll)
}

async fn rubygems_timeframe(
    http: &Http,
    urls: &SourceUrls,
    cursor: &Cursor,
    now: DateTime<Utc>,
) -> Result<Poll, RegistryError> {
    // The first poll looks back one hour.
    let from = cursor.time.unwrap_or(now - chrono::Duration::hours(1));
    let to = now;
    let mut poll = Poll {
        next: Cursor {
            time: Some(to),
            token: None,
        },
        ..Default::default()
    };
    for page in 1..=50 {
        let url = format!(
            "{}api/v1/timeframe_versions.json?from={}&to={}&page={page}",
            urls.url,
            from.format("%Y-%m-%dT%H:%M:%SZ"),
            to.format("%Y-%m-%dT%H:%M:%SZ")
        );
        let list: Vec<Value> = http.get_json(&url).await?.unwrap_or_default();
        if list.is_empty() {
            break;
        }
        for v in list {
            let (Some(name), Some(version)) = (
                v.get("name").and_then(Value::as_str),
                v.get("number").and_then(Value::as_str),
            ) else {
                continue;
            };
            let published = v
                .get("created_at")
                .and_then(Value::as_str)
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|d| d.with_timezone(&Utc));
            poll.items.push(FeedItem {
                name: name.to_owned(),
                version: version.to_owned(),
                published,
            });
        }
    }
    Ok(poll)
}

async fn packagist_changes(
    http: &Http,
    urls: &SourceUrls,
    cursor: &Cursor,
    now: DateTime<Utc>,
    overlap: chrono::Duration,
) -> Result<Poll, RegistryError> {
    let Some(since) = cursor.token.clone() else {
        // The first poll starts mirroring now (`since` is seconds × 10,000).
        let start = (now.timestamp() * 10_000).to_string();
        return Ok(Poll {
            next: Cursor {
                time: cursor.time,
                token: Some(start),
            },
            ..Default::default()
        });
    };
    // Asked again from `overlap` before the stored `since` (seconds ×
    // 10,000); the stored one moves on only with the feed's own timestamp.
    let since = match since.parse::<i64>() {
        Ok(s) => (s - overlap.num_seconds() * 10_000).max(0).to_string(),
        Err(_) => since,
    };
    let url = format!("{}metadata/changes.json?since={since}", urls.api_url);
    let doc: Value = http
        .get_json(&url)
        .await?
        .ok_or_else(|| RegistryError::NotFound {
            what: "the Packagist changes feed".into(),
            url: url.clone(),
        })?;
    let mut poll = Poll {
        next: cursor.clone(),
        ..Default::default()
    };
    if let Some(ts) = doc.get("timestamp") {
        poll.next.token = Some(
            ts.as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| ts.to_string()),
        );
    }
    // `since` is seconds × 10,000.
    let since_time = since
        .parse::<i64>()
        .ok()
        .and_then(|s| DateTime::from_timestamp(s / 10_000, 0));
    let mut changed = std::collections::BTreeSet::new();
    for action in doc
        .get("actions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        let kind = action
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(package) = action.get("package").and_then(Value::as_str) else {
            continue;
        };
        if kind == "update" && !package.ends_with("~dev") {
            changed.insert(package.to_owned());
        }
        if kind == "resync" {
            poll.may_have_dropped = true;
        }
    }
    for name in changed {
        let url = format!("{}p2/{name}.json", urls.url);
        let Some(doc) = http.get_json::<Value>(&url).await? else {
            continue;
        };
        let list = doc
            .get("packages")
            .and_then(|p| p.get(&name))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for entry in packagist::expand_minified(&list) {
            let Some(version) = entry.get("version").and_then(Value::as_str) else {
                continue;
            };
            let published = entry
                .get("time")
                .and_then(Value::as_str)
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|d| d.with_timezone(&Utc));
            let cutoff = Cursor {
                time: since_time,
                token: None,
            };
            if at_or_after(&cutoff, published) {
                poll.items.push(FeedItem {
                    name: name.clone(),
                    version: version.to_owned(),
                    published,
                });
            }
        }
    }
    Ok(poll)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_items_are_read_with_cdata_and_dates() {
        let xml = br#"<?xml version="1.0"?><rss><channel><title>x</title>
          <item><title><![CDATA[left-pad]]></title><pubDate>Mon, 22 Mar 2021 13:45:16 GMT</pubDate></item>
          <item><title>FooPackage 0.0.2</title><link>http://127.0.0.1:1/project/FooPackage/0.0.2/</link><pubDate>Fri, 19 Mar 2021 12:01:04 GMT</pubDate></item>
        </channel></rss>"#;
        let items = rss_items(xml).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].title, "left-pad");
        assert_eq!(
            pypi_item(&items[1].title, &items[1].link),
            Some(("FooPackage".into(), "0.0.2".into()))
        );
        assert_eq!(
            items[1].published.unwrap().to_rfc3339(),
            "2021-03-19T12:01:04+00:00"
        );
        assert_eq!(
            crates_item("tree-sitter-cpp v0.22.0", ""),
            Some(("tree-sitter-cpp".into(), "0.22.0".into()))
        );
    }

    #[test]
    fn broken_xml_is_an_error() {
        assert!(rss_items(b"<rss><channel><item><title>x</title></channel>").is_err());
        assert!(rss_items(b"<html>rate limited</html>").is_err());
    }
}
