//! API errors and the one place where they become HTTP statuses and JSON bodies.

use std::time::Duration;

use docent_protocol::{ErrorBody, ErrorCode, ErrorDetail};
use hyper::StatusCode;
use hyper::header::HeaderValue;

/// What a 503 `store_unavailable` asks a client to wait before trying again: about how long
/// a restarting PostgreSQL takes to accept connections again.
pub const STORE_RETRY_AFTER: Duration = Duration::from_secs(2);

/// An error a client sees: a stable code and a message safe to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// For a 429 or 503: when the client may try again (sent as `Retry-After`).
    pub retry_after: Option<Duration>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError { code, message: message.into(), retry_after: None }
    }

    /// A refusal to do more now, with the wait until the client may try again.
    pub fn too_many(code: ErrorCode, message: impl Into<String>, retry_after: Duration) -> ApiError {
        ApiError { retry_after: Some(retry_after), ..ApiError::new(code, message) }
    }

    /// `Retry-After` in whole seconds, rounded up so a client that obeys it is let in.
    pub fn retry_after_header(&self) -> Option<HeaderValue> {
        let wait = self.retry_after?;
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        Some(HeaderValue::from(seconds.max(1)))
    }

    pub fn invalid_request(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::InvalidRequest, message)
    }

    pub fn bot_not_found(bot: &str) -> ApiError {
        ApiError::new(ErrorCode::BotNotFound, format!("no bot named \"{}\"", truncate(bot, 64)))
    }

    pub fn not_found() -> ApiError {
        ApiError::new(ErrorCode::NotFound, "no such route")
    }

    /// A failure inside the gateway. The cause is logged here and never sent.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(%cause, "internal error");
        ApiError::new(ErrorCode::Internal, "the gateway failed to handle this request")
    }

    /// The store cannot be reached: 503 with `Retry-After`. The cause is logged (at debug level,
    /// since every request during an outage has one) and never sent.
    pub fn store_unavailable(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::debug!(%cause, "store unavailable");
        ApiError {
            retry_after: Some(STORE_RETRY_AFTER),
            ..ApiError::new(ErrorCode::StoreUnavailable, "the gateway cannot reach its store; try again shortly")
        }
    }

    /// A lifecycle failure while serving a visitor, whose messages are for operators: the store
    /// being unreachable is said so (503), anything else is internal.
    pub fn serving(err: impl Into<docent_lifecycle::Error>) -> ApiError {
        match err.into() {
            docent_lifecycle::Error::Store(docent_store::Error::Unavailable(cause)) => {
                ApiError::store_unavailable(&cause)
            }
            other => ApiError::internal(&other),
        }
    }

    /// The HTTP status of each code: the only mapping there is.
    pub fn status(&self) -> StatusCode {
        match self.code {
            ErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::OriginNotAllowed => StatusCode::FORBIDDEN,
            ErrorCode::BotNotFound | ErrorCode::WidgetVersionNotFound | ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::Unauthorized | ErrorCode::InvalidCredentials => StatusCode::UNAUTHORIZED,
            ErrorCode::TooManyAttempts | ErrorCode::MessageLimitReached => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::BotOffline | ErrorCode::PlanExpired | ErrorCode::NotReady | ErrorCode::StoreUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::DeployInProgress | ErrorCode::CannotDeploy | ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The JSON body `{"error":{"code":"…","message":"…"}}`.
    pub fn body(&self) -> ErrorBody {
        ErrorBody { error: ErrorDetail { code: self.code, message: self.message.clone() } }
    }
}

/// Keeps client-supplied text short when it is echoed in an error message.
pub fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// How lifecycle failures reach an operator through the admin API and console. Their messages
/// are meant for operators (they name files and settings); store and disk failures stay in the log.
impl From<docent_lifecycle::Error> for ApiError {
    fn from(err: docent_lifecycle::Error) -> ApiError {
        use docent_lifecycle::Error;
        match err {
            Error::CannotDeploy { .. } | Error::TestsFailed { .. } | Error::Config(_) | Error::Knowledge { .. } => {
                ApiError::new(ErrorCode::CannotDeploy, err.to_string())
            }
            Error::Busy(_) => ApiError::new(ErrorCode::DeployInProgress, err.to_string()),
            Error::UnknownBot(_) => ApiError::new(ErrorCode::BotNotFound, err.to_string()),
            Error::Refused(_) => ApiError::invalid_request(err.to_string()),
            Error::NotFound(_) => ApiError::new(ErrorCode::NotFound, err.to_string()),
            Error::Conflict(_) => ApiError::new(ErrorCode::Conflict, err.to_string()),
            Error::Store(docent_store::Error::Conflict(_)) => ApiError::new(ErrorCode::Conflict, err.to_string()),
            Error::Store(docent_store::Error::Unavailable(cause)) => ApiError::store_unavailable(&cause),
            Error::Store(_) | Error::Io { .. } | Error::Artifact(_) => ApiError::internal(&err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let header = |wait| ApiError::too_many(ErrorCode::TooManyAttempts, "wait", wait).retry_after_header();
        assert_eq!(header(Duration::from_millis(1)), Some(HeaderValue::from(1)));
        assert_eq!(header(Duration::from_millis(59_001)), Some(HeaderValue::from(60)));
        assert_eq!(header(Duration::from_secs(60)), Some(HeaderValue::from(60)));
        assert_eq!(header(Duration::ZERO), Some(HeaderValue::from(1)), "never 0, which means now");
        assert_eq!(ApiError::invalid_request("x").retry_after_header(), None);
    }

    #[test]
    fn an_unreachable_store_is_a_503_with_retry_after_and_other_failures_are_internal() {
        let unavailable = docent_lifecycle::Error::Store(docent_store::Error::Unavailable("connection refused".into()));
        let refused = ApiError::serving(unavailable);
        assert_eq!((refused.code, refused.status()), (ErrorCode::StoreUnavailable, StatusCode::SERVICE_UNAVAILABLE));
        assert_eq!(refused.retry_after_header(), Some(HeaderValue::from(STORE_RETRY_AFTER.as_secs())));
        assert!(!refused.message.contains("refused"), "the cause stays in the log: {}", refused.message);
        let broken =
            ApiError::serving(docent_lifecycle::Error::Store(docent_store::Error::Backend("disk full".into())));
        assert_eq!((broken.code, broken.retry_after), (ErrorCode::Internal, None));
    }
}
