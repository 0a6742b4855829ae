//! Reading requests: bounded JSON bodies (in size and in time) with precise errors, and bearer tokens.

use bytes::Bytes;
use docent_protocol::ErrorCode;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::Request;
use hyper::body::Body;
use hyper::header::{self, HeaderMap};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::server::BodyReadTimeout;

/// The largest request body the API reads.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

pub(super) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Reads a bounded JSON body, with errors that say what is wrong and where.
pub(super) async fn read_json<B, T>(request: Request<B>) -> Result<T, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    T: DeserializeOwned,
{
    let is_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::new(ErrorCode::UnsupportedMediaType, "send the body as application/json"));
    }
    let body = Limited::new(request.into_body(), MAX_BODY_BYTES).collect().await.map_err(|err| {
        if err.downcast_ref::<BodyReadTimeout>().is_some() {
            ApiError::new(ErrorCode::RequestTimeout, BodyReadTimeout.to_string())
        } else if err.downcast_ref::<LengthLimitError>().is_some() {
            ApiError::new(ErrorCode::PayloadTooLarge, format!("the body is larger than {MAX_BODY_BYTES} bytes"))
        } else {
            ApiError::invalid_request("cannot read the request body")
        }
    })?;
    serde_json::from_slice(&body.to_bytes())
        .map_err(|err| ApiError::invalid_request(format!("invalid JSON body: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::http::headers;

    #[test]
    fn bearer_tokens_are_read_from_the_authorization_header() {
        assert_eq!(bearer_token(&headers(&[("authorization", "Bearer abc")])), Some("abc"));
        assert_eq!(bearer_token(&headers(&[("authorization", "bearer  abc ")])), Some("abc"));
        assert_eq!(bearer_token(&headers(&[("authorization", "Basic abc")])), None);
        assert_eq!(bearer_token(&headers(&[("authorization", "Bearer ")])), None);
        assert_eq!(bearer_token(&headers(&[])), None);
    }
}
