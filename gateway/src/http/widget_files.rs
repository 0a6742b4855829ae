//! `/widget/{version}/{file}`: the widget build, gzipped when the browser accepts it, cacheable by CDNs.

use docent_protocol::ErrorCode;
use hyper::Response;
use hyper::header::{self, HeaderMap, HeaderValue};

use super::HttpResponse;
use super::cors::allow_any_origin;
use super::respond::{error_response, full_body};
use crate::assets::{Asset, WIDGET_VERSION, WidgetAssets};
use crate::error::{ApiError, truncate};

pub(super) fn widget_asset(assets: &WidgetAssets, version: &str, file: &str, headers: &HeaderMap) -> HttpResponse {
    let cache = if *version == *WIDGET_VERSION {
        "public, max-age=86400"
    } else if version == "latest" {
        "public, max-age=300"
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
    let Asset { content_type, plain, gzip } = asset;
    let gzipped = accepts_gzip(headers);
    let mut response = Response::new(full_body(if gzipped { gzip.clone() } else { plain.clone() }));
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    out.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    out.insert("cross-origin-resource-policy", HeaderValue::from_static("cross-origin"));
    if gzipped {
        out.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    allow_any_origin(&mut response);
    response
}

/// Whether `Accept-Encoding` lists gzip with a non-zero quality.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or_default();
            let refused = parts
                .any(|param| param.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()).is_some_and(|q| q <= 0.0));
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::http::headers;

    #[test]
    fn gzip_is_served_only_when_accepted() {
        for (accept, expect) in [
            ("gzip, deflate, br", true),
            ("br;q=1.0, GZIP;q=0.5", true),
            ("*", true),
            ("gzip;q=0", false),
            ("br", false),
            ("", false),
        ] {
            assert_eq!(accepts_gzip(&headers(&[("accept-encoding", accept)])), expect, "{accept}");
        }
    }
}
