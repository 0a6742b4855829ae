//! The gateway's HTTP API as seen from the browser: `fetch` calls that never send cookies.
//!
//! JSON is parsed and written by the browser (`Response.json()`, `JSON.stringify`) and read
//! field by field: a JSON library compiled into the wasm would cost more than the rest of the widget.

use docent_protocol::ErrorCode;
use js_sys::{JSON, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Headers, RequestCredentials, RequestInit, RequestMode, Response};

/// Why a call to the gateway did not produce the expected body.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// `fetch` rejected: the network is down, or the gateway refused CORS for this page.
    Network,
    /// The gateway answered with an error status. `code` is empty when the body
    /// was not a recognisable error body.
    Http { code: String, message: String },
}

impl Failure {
    /// Whether the gateway answered with the error `code`.
    pub(crate) fn is(&self, code: ErrorCode) -> bool {
        matches!(self, Failure::Http { code: sent, .. } if sent == code.as_str())
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

    /// The answer to `GET v1/bots/{bot}/config?locale=…&lang=…`, whose `fetch` promise `fetcher()`
    /// returns: bundle.js builds that URL, from the snippet and the page, and starts it early.
    pub(crate) async fn config(&self, fetcher: JsValue) -> Result<JsValue, Failure> {
        let fetcher: js_sys::Function = fetcher.dyn_into().map_err(|_| Failure::Network)?;
        let promise: js_sys::Promise =
            fetcher.call0(&JsValue::NULL).and_then(JsValue::dyn_into).map_err(|_| Failure::Network)?;
        let response = promise.await.map_err(|_| Failure::Network)?;
        read_json(response.dyn_into::<Response>().map_err(|_| Failure::Network)?).await
    }

    /// Whether `GET healthz` succeeds, i.e. the gateway itself is reachable from this page.
    pub(crate) async fn healthy(&self) -> bool {
        matches!(send(&self.health_url, None, None).await, Ok(response) if response.ok())
    }

    /// `POST v1/bots/{bot}/messages` with `{"text","conversation_id"?}`, with the bearer token of an internal bot.
    pub(crate) async fn message(
        &self,
        text: &str,
        conversation_id: Option<&str>,
        token: Option<&str>,
    ) -> Result<JsValue, Failure> {
        let body = object(&[("text", Some(text)), ("conversation_id", conversation_id)]);
        fetch_json(&self.endpoint("messages"), Some(&body), token).await
    }

    /// `POST v1/bots/{bot}/sessions`: trades a staff password (`{"password"}`) or a
    /// site-signed token (`{"site_token"}`) for a bearer token.
    pub(crate) async fn session(&self, field: &str, secret: &str) -> Result<String, Failure> {
        let grant = fetch_json(&self.endpoint("sessions"), Some(&object(&[(field, Some(secret))])), None).await?;
        Ok(string(&grant, "token"))
    }

    /// `POST v1/bots/{bot}/events`: analytics events, sent without waiting for the answer.
    pub(crate) fn events(&self, events: &JsValue) {
        let url = self.endpoint("events");
        let body = object_with(&[("events", events)]);
        js_sys::futures::spawn_local(async move {
            // Analytics are best effort: a lost event must never disturb the visitor.
            let _ = send(&url, Some(&body), None).await;
        });
    }

    fn endpoint(&self, name: &str) -> String {
        [self.bot_url.as_str(), name].concat()
    }
}

/// `obj[name]`, or `undefined`.
pub(crate) fn field(obj: &JsValue, name: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// `obj[name]` as a string; empty when it is missing or not a string.
pub(crate) fn string(obj: &JsValue, name: &str) -> String {
    field(obj, name).as_string().unwrap_or_default()
}

/// `obj[name]` as an array; empty when it is missing or not an array.
pub(crate) fn array(obj: &JsValue, name: &str) -> js_sys::Array {
    field(obj, name).dyn_into().unwrap_or_default()
}

/// A JSON object of the string fields that are present.
fn object(pairs: &[(&str, Option<&str>)]) -> JsValue {
    let obj = Object::new();
    for (name, value) in pairs {
        if let Some(value) = value {
            let _ = Reflect::set(&obj, &JsValue::from_str(name), &JsValue::from_str(value));
        }
    }
    obj.into()
}

/// A JSON object of the given values.
pub(crate) fn object_with(pairs: &[(&str, &JsValue)]) -> JsValue {
    let obj = Object::new();
    for (name, value) in pairs {
        let _ = Reflect::set(&obj, &JsValue::from_str(name), value);
    }
    obj.into()
}

/// Sends one request and returns a success body as parsed JSON, an error body as [`Failure::Http`].
async fn fetch_json(url: &str, body: Option<&JsValue>, token: Option<&str>) -> Result<JsValue, Failure> {
    read_json(send(url, body, token).await?).await
}

/// A success body as parsed JSON, an error body as [`Failure::Http`].
async fn read_json(response: Response) -> Result<JsValue, Failure> {
    let ok = response.ok();
    let json = match response.json() {
        Ok(promise) => promise.await.ok(),
        Err(_) => None,
    };
    match (ok, json) {
        (true, Some(json)) if json.is_object() => Ok(json),
        (true, _) => Err(Failure::Network),
        (false, json) => {
            let error = json.map(|json| field(&json, "error")).unwrap_or(JsValue::UNDEFINED);
            Err(Failure::Http { code: string(&error, "code"), message: string(&error, "message") })
        }
    }
}

/// One cross-origin `fetch` without credentials: a `POST` of JSON when there is
/// a body, a `GET` otherwise.
async fn send(url: &str, body: Option<&JsValue>, token: Option<&str>) -> Result<Response, Failure> {
    let window = web_sys::window().ok_or(Failure::Network)?;
    let init = RequestInit::new();
    init.set_mode(RequestMode::Cors);
    init.set_credentials(RequestCredentials::Omit);
    let headers = Headers::new().map_err(|_| Failure::Network)?;
    if let Some(body) = body {
        init.set_method("POST");
        init.set_body(&JSON::stringify(body).map_err(|_| Failure::Network)?.into());
        headers.set("Content-Type", "application/json").map_err(|_| Failure::Network)?;
    }
    if let Some(token) = token {
        headers.set("Authorization", &["Bearer ", token].concat()).map_err(|_| Failure::Network)?;
    }
    init.set_headers(&headers);
    let response = window.fetch_with_str_and_init(url, &init).await.map_err(|_| Failure::Network)?;
    response.dyn_into::<Response>().map_err(|_| Failure::Network)
}
