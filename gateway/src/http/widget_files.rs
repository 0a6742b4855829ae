//! `/widget/{version}/{file}`: the widget build, cacheable by browsers and CDNs — immutable per
//! version, strong ETags with 304s, and the brotli or gzip copy the client prefers.

use docent_protocol::ErrorCode;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Response, StatusCode};

use super::HttpResponse;
use super::cors::allow_any_origin;
use super::respond::{error_response, full_body};
use crate::assets::{Asset, WIDGET_VERSION, WidgetAssets};
use crate::error::{ApiError, truncate};

/// A versioned URL's bytes never change: caches keep them for a year without asking again.
const VERSIONED_CACHE: &str = "public, max-age=31536000, immutable";
/// `latest` moves with each release: caches ask again after five minutes.
const LATEST_CACHE: &str = "public, max-age=300";

pub(super) fn widget_asset(assets: &WidgetAssets, version: &str, file: &str, headers: &HeaderMap) -> HttpResponse {
    let cache = if *version == *WIDGET_VERSION {
        VERSIONED_CACHE
    } else if version == "latest" {
        LATEST_CACHE
    } else {
        let mut response = error_response(&ApiError::new(
            ErrorCode::WidgetVersionNotFound,
            format!("this gateway serves widget {WIDGET_VERSION} (or `latest`), not {}", truncate(version, 32)),
        ));
        allow_any_origin(&mut response);
        return response;
    };
    let Some(asset) = assets.get(file) else {
        return error_response(&ApiError::not_found());
    };
    let encoding = choose_encoding(headers, asset.brotli.is_some());
    let etag = format!("\"{}{}\"", asset.etag_base, encoding.etag_suffix());
    let mut response = if matches_etag(headers, &etag) {
        let mut response = Response::new(full_body(""));
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else {
        let mut response = Response::new(full_body(encoding.bytes(asset)));
        if let Some(name) = encoding.name() {
            response.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static(name));
        }
        response
    };
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    out.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, value);
    }
    out.insert("cross-origin-resource-policy", HeaderValue::from_static("cross-origin"));
    allow_any_origin(&mut response);
    response
}

/// The copy of a file sent to a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

impl Encoding {
    fn name(self) -> Option<&'static str> {
        match self {
            Encoding::Brotli => Some("br"),
            Encoding::Gzip => Some("gzip"),
            Encoding::Identity => None,
        }
    }

    /// Each encoding is its own representation, so it gets its own strong ETag.
    fn etag_suffix(self) -> &'static str {
        match self {
            Encoding::Brotli => "-br",
            Encoding::Gzip => "-gz",
            Encoding::Identity => "",
        }
    }

    fn bytes(self, asset: &Asset) -> bytes::Bytes {
        match (self, &asset.brotli) {
            (Encoding::Brotli, Some(brotli)) => brotli.clone(),
            (Encoding::Gzip, _) => asset.gzip.clone(),
            _ => asset.plain.clone(),
        }
    }
}

/// The encoding with the highest `Accept-Encoding` quality (RFC 9110 §12.5.3): `*` stands for
/// codings not named, a missing header means identity, ties go to the smaller copy.
fn choose_encoding(headers: &HeaderMap, has_brotli: bool) -> Encoding {
    let mut named: Vec<(String, f32)> = Vec::new();
    for item in headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
    {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or_default().to_ascii_lowercase();
        if coding.is_empty() {
            continue;
        }
        let quality = parts
            .filter_map(|param| param.strip_prefix("q=").or_else(|| param.strip_prefix("Q=")))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .filter(|q| (0.0..=1.0).contains(q))
            .unwrap_or(1.0);
        named.push((coding, quality));
    }
    let quality = |coding: &str| {
        let find = |name: &str| named.iter().find(|(named, _)| named == name).map(|(_, q)| *q);
        find(coding).or_else(|| (coding != "identity").then(|| find("*")).flatten()).unwrap_or(0.0)
    };
    let candidates = [(Encoding::Brotli, quality("br")), (Encoding::Gzip, quality("gzip"))];
    candidates
        .into_iter()
        .filter(|(encoding, q)| *q > 0.0 && (*encoding != Encoding::Brotli || has_brotli))
        .fold((Encoding::Identity, 0.0), |best, (encoding, q)| if q > best.1 { (encoding, q) } else { best })
        .0
}

/// Whether `If-None-Match` names `etag` (or is `*`); weak tags compare by their opaque part.
fn matches_etag(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::http::headers;

    #[test]
    fn the_encoding_follows_the_accept_encoding_qualities() {
        for (accept, has_brotli, expect) in [
            ("gzip, deflate, br", true, Encoding::Brotli),
            ("gzip, deflate, br", false, Encoding::Gzip),
            ("br;q=0.5, GZIP;q=0.8", true, Encoding::Gzip),
            ("br;q=1.0, gzip;q=0.5", true, Encoding::Brotli),
            ("*", true, Encoding::Brotli),
            ("*;q=0.5, gzip", true, Encoding::Gzip),
            ("gzip;q=0", true, Encoding::Identity),
            ("br;q=0, *", true, Encoding::Gzip),
            ("deflate", true, Encoding::Identity),
            ("gzip;q=2", true, Encoding::Gzip),
            ("", true, Encoding::Identity),
        ] {
            let found = choose_encoding(&headers(&[("accept-encoding", accept)]), has_brotli);
            assert_eq!(found, expect, "{accept} (brotli built: {has_brotli})");
        }
        assert_eq!(choose_encoding(&headers(&[]), true), Encoding::Identity);
    }

    #[test]
    fn if_none_match_compares_etags() {
        let etag = "\"abc-gz\"";
        for (if_none_match, expect) in [
            ("\"abc-gz\"", true),
            ("W/\"abc-gz\"", true),
            ("\"x\", \"abc-gz\"", true),
            ("*", true),
            ("\"abc\"", false),
            ("\"abc-br\"", false),
            ("", false),
        ] {
            assert_eq!(matches_etag(&headers(&[("if-none-match", if_none_match)]), etag), expect, "{if_none_match}");
        }
    }
}
