//! The gateway's HTTP API as seen from the browser: `fetch` calls that never send cookies.

use docent_protocol::{ErrorBody, ErrorCode, MessageReply, MessageRequest, SessionGrant, SessionRequest, WidgetConfig};
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Headers, RequestCredentials, RequestInit, RequestMode, Response};

/// Why a call to the gateway did not produce the expected body.
#[derive(Debug)]
pub(crate) enum Failure {
    /// `fetch` rejected: the network is down, or the gateway refused CORS for this page.
    Network,
    /// The gateway answered with an error status. `code` is `None` when the
    /// body was not a recognisable [`ErrorBody`].
    Http { code: Option<ErrorCode>, message: String },
    /// A success status whose body is not the expected JSON.
    Malformed,
}

impl Failure {
    /// The gateway's error code, when it sent one.
    pub(crate) fn code(&self) -> Option<ErrorCode> {
        match self {
            Failure::Http { code, .. } => *code,
            Failure::Network | Failure::Malformed => None,
        }
    }
}

/// The endpoints of one bot on one gateway.
pub(crate) struct Api {
    /// `{gateway}v1/bots/{bot}/`
    bot_url: String,
    /// `{gateway}healthz`
    health_url: String,
}

impl Api {
    /// Endpoints for `bot` under the gateway base URL `gateway`.
    pub(crate) fn new(gateway: &str, bot: &str) -> Api {
        let mut base = gateway.to_owned();
        if !base.ends_with('/') {
            base.push('/');
        }
        let bot_segment = String::from(js_sys::encode_uri_component(bot));
        Api {
            bot_url: [base.as_str(), "v1/bots/", &bot_segment, "/"].concat(),
            health_url: [base.as_str(), "healthz"].concat(),
        }
    }

    /// `GET v1/bots/{bot}/config`.
    pub(crate) async fn config(&self) -> Result<WidgetConfig, Failure> {
        fetch_json(&self.endpoint("config"), None, None).await
    }

    /// Whether `GET healthz` succeeds, i.e. the gateway itself is reachable from this page.
    pub(crate) async fn healthy(&self) -> bool {
        matches!(send(&self.health_url, None, None).await, Ok(response) if response.ok())
    }

    /// `POST v1/bots/{bot}/messages`, with the bearer token of an internal bot.
    pub(crate) async fn message(&self, request: &MessageRequest, token: Option<&str>) -> Result<MessageReply, Failure> {
        let body = serde_json::to_string(request).map_err(|_| Failure::Malformed)?;
        fetch_json(&self.endpoint("messages"), Some(&body), token).await
    }

    /// `POST v1/bots/{bot}/sessions`: trades a staff password for a bearer token.
    pub(crate) async fn session(&self, password: &str) -> Result<SessionGrant, Failure> {
        let request = SessionRequest { password: password.to_owned() };
        let body = serde_json::to_string(&request).map_err(|_| Failure::Malformed)?;
        fetch_json(&self.endpoint("sessions"), Some(&body), None).await
    }

    fn endpoint(&self, name: &str) -> String {
        [self.bot_url.as_str(), name].concat()
    }
}

/// Sends one request and decodes a success body as `T`, an error body as [`Failure::Http`].
async fn fetch_json<T: DeserializeOwned>(url: &str, body: Option<&str>, token: Option<&str>) -> Result<T, Failure> {
    let response = send(url, body, token).await?;
    let text = match response.text() {
        Ok(promise) => promise.await.ok().and_then(|value| value.as_string()),
        Err(_) => None,
    }
    .ok_or(Failure::Network)?;
    if response.ok() {
        return serde_json::from_str(&text).map_err(|_| Failure::Malformed);
    }
    Err(match serde_json::from_str::<ErrorBody>(&text) {
        Ok(error) => Failure::Http { code: Some(error.error.code), message: error.error.message },
        Err(_) => Failure::Http { code: None, message: String::new() },
    })
}

/// One cross-origin `fetch` without credentials: a `POST` of JSON when there is
/// a body, a `GET` otherwise.
async fn send(url: &str, body: Option<&str>, token: Option<&str>) -> Result<Response, Failure> {
    let window = web_sys::window().ok_or(Failure::Network)?;
    let init = RequestInit::new();
    init.set_mode(RequestMode::Cors);
    init.set_credentials(RequestCredentials::Omit);
    if body.is_some() || token.is_some() {
        let headers = Headers::new().map_err(|_| Failure::Malformed)?;
        if let Some(body) = body {
            init.set_method("POST");
            init.set_body(&JsValue::from_str(body));
            headers.set("Content-Type", "application/json").map_err(|_| Failure::Malformed)?;
        }
        if let Some(token) = token {
            let value = ["Bearer ", token].concat();
            headers.set("Authorization", &value).map_err(|_| Failure::Malformed)?;
        }
        init.set_headers(&headers);
    }
    let response = window.fetch_with_str_and_init(url, &init).await.map_err(|_| Failure::Network)?;
    response.dyn_into::<Response>().map_err(|_| Failure::Network)
}
