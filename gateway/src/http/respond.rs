//! Writing responses: JSON bodies, cache marks, and the single place an [`ApiError`] becomes HTTP.

use bytes::Bytes;
use docent_protocol::ErrorCode;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};
use serde::Serialize;

use crate::error::ApiError;

/// Every response body: whole (JSON, pages, files) or streamed (server-sent events).
pub type ResponseBody = BoxBody<Bytes, std::convert::Infallible>;
pub type HttpResponse = Response<ResponseBody>;

/// A body that is sent whole.
pub fn full_body(bytes: impl Into<Bytes>) -> ResponseBody {
    Full::new(bytes.into()).boxed()
}

pub(super) fn json<T: Serialize>(status: StatusCode, value: &T) -> HttpResponse {
    let body = serde_json::to_vec(value).unwrap_or_else(|err| {
        tracing::error!(%err, "cannot serialize a response");
        br#"{"error":{"code":"internal","message":"the gateway failed to handle this request"}}"#.to_vec()
    });
    let mut response = Response::new(full_body(body));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The single place where an [`ApiError`] becomes a response, with `Retry-After` when the
/// error says when to come back.
pub fn error_response(err: &ApiError) -> HttpResponse {
    let mut response = json(err.status(), &err.body());
    if err.code == ErrorCode::Unauthorized {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    if let Some(seconds) = err.retry_after_header() {
        response.headers_mut().insert(header::RETRY_AFTER, seconds);
    }
    response
}

/// 405 with the `Allow` header listing the route's methods, as RFC 9110 asks.
pub(super) fn method_not_allowed(method: &hyper::Method, allowed: &'static str) -> HttpResponse {
    let mut response =
        error_response(&ApiError::new(ErrorCode::MethodNotAllowed, format!("{method} is not used on this route")));
    response.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allowed));
    response
}

pub(super) fn no_store(response: &mut HttpResponse) {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}
