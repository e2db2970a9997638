//! The local API: every route of the route table (`routes.toml`), under its
//! versions, served on 127.0.0.1 by calling the very handlers the Lambda
//! functions run, plus SailPoint's client-credentials token endpoint
//! `POST /oauth/token` for the seed's OAuth clients, so official SDKs can
//! authenticate.
//!
//! Store: the in-process one loaded with the seed (default), or DynamoDB when
//! `TABLE_NAME` is set (`AWS_ENDPOINT_URL_DYNAMODB` for a local server).
//! Tokens are verified as the functions verify them (`JWT_*`); the public
//! development secret serves only the in-process store: with `TABLE_NAME`
//! set and no key the server refuses to start. `/oauth/token` signs with
//! `JWT_HS256_SECRET` (or that development secret) and issues nothing when
//! only public keys are configured.
//! Response header names are written in title case (`X-Total-Count`), as
//! the real service spells them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{to_bytes, Body as AxumBody};
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, post, MethodFilter};
use axum::{Json, Router};
use clap::Parser;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use lambda_http::RequestExt;
use serde_json::json;
use shared::auth::{claims_for, AuthConfig, TokenIssuer};
use shared::error::ApiError;
use shared::http::{locale_origin, new_tracking_id, ApiResponse};
use shared::seed::{SeedFile, DEMO_SEED};
use shared::state::{
    authenticator_from_env, has_key, table_from_env, table_store_from_env, AppState,
    LOCAL_HS256_SECRET,
};
use shared::store::DynamoStore;

/// Tokens from `/oauth/token` live this long (seconds), like SailPoint's.
const TOKEN_TTL_SECS: i64 = 12 * 3600;
/// Read at most this much of a body; the handlers refuse more than 1 MiB
/// with a SailPoint 400, so they must see oversize bodies to do so.
const READ_LIMIT: usize = 8 * 1024 * 1024;
/// A token request is a few short fields; read at most this much of one.
const TOKEN_BODY_LIMIT: usize = 64 * 1024;

/// Serves the API on the in-process store, or on DynamoDB when TABLE_NAME is set.
#[derive(Parser, Debug)]
#[command(name = "local-api", version)]
struct Options {
    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 3000)]
    port: u16,
    /// Seed file (default: the demo seed, seed/demo.json).
    #[arg(long = "seed", env = "SEED_FILE")]
    seed_path: Option<String>,
    /// With TABLE_NAME: create that table and load the seed into it first.
    #[arg(long)]
    init_table: bool,
    /// How long a request's store calls may take, in milliseconds (Lambda
    /// bounds them by the invocation's deadline instead; the template's
    /// 10 s timeout less the margin to answer is the default).
    #[arg(long, env = "REQUEST_BUDGET_MS", default_value_t = 9_700)]
    request_budget_ms: u64,
}

#[derive(Clone)]
struct Local {
    app: AppState,
    seed: Arc<SeedFile>,
    /// Signs `/oauth/token`'s tokens; `None` when only public keys verify
    /// tokens (JWT_PUBLIC_KEY_PEM, JWT_JWKS): their issuer is elsewhere.
    issuer: Option<TokenIssuer>,
}

/// The HS256 secret `/oauth/token` signs with: `JWT_HS256_SECRET`, or,
/// with no key and no table configured, the public development secret (no
/// table: the in-process store's demo data). With a table, only a secret
/// the deployment chose: [`authenticator_from_env`] refuses to start without one.
fn token_secret(config: &AuthConfig) -> Option<String> {
    match &config.hs256_secret {
        Some(secret) => Some(secret.clone()),
        None if !has_key(config) && table_from_env().is_none() => {
            Some(LOCAL_HS256_SECRET.to_string())
        }
        None => None,
    }
}

#[tokio::main]
async fn main() {
    shared::heap::keep_freed_memory();
    shared::telemetry::init();
    if let Err(e) = run(Options::parse()).await {
        eprintln!("local-api: {e}");
        std::process::exit(1);
    }
}

async fn run(options: Options) -> Result<(), String> {
    let seed_json = match options.seed_path.as_deref().filter(|p| !p.is_empty()) {
        Some(path) => {
            std::fs::read_to_string(path).map_err(|e| format!("reading seed {path}: {e}"))?
        }
        None => DEMO_SEED.to_string(),
    };
    let mut seed = SeedFile::from_json(&seed_json).map_err(|e| e.to_string())?;
    drop(seed_json);
    // Verifies as the functions do; refuses to start on a table without a key.
    let auth = authenticator_from_env().map_err(|e| e.to_string())?;
    let issuer = token_secret(&AuthConfig::from_env()).map(|s| TokenIssuer::hs256(&s));

    if let Some(table) = table_from_env() {
        if options.init_table {
            let dynamo = DynamoStore::from_env().await.map_err(|e| e.to_string())?;
            shared::store::dynamo::create_table(dynamo.client(), &table)
                .await
                .map_err(|e| e.to_string())?;
            let store = shared::store::Store::new(Arc::new(dynamo));
            seed.load_into(&store).await.map_err(|e| e.to_string())?;
        }
    }
    let store = match table_from_env() {
        Some(_) => table_store_from_env().await.map_err(|e| e.to_string())?,
        None => {
            let store = shared::store::Store::memory();
            seed.load_moving_requests(&store)
                .await
                .map_err(|e| e.to_string())?;
            // What the seed was read from is freed: give it back.
            shared::heap::release_free_memory();
            store
        }
    };
    let app = AppState::new(store, Arc::new(auth))
        .with_request_budget(std::time::Duration::from_millis(options.request_budget_ms));
    let local = Local {
        app,
        seed: Arc::new(seed),
        issuer,
    };

    let addr: SocketAddr = format!("{}:{}", options.host, options.port)
        .parse()
        .map_err(|e| format!("bad address {}:{}: {e}", options.host, options.port))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("binding {addr}: {e}"))?;
    // The bound address: with --port 0, the port the system chose.
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    print_banner(&local, addr);
    serve(listener, router(local)).await
}

/// Serves HTTP/1.1 with title-case header names.
async fn serve(listener: tokio::net::TcpListener, router: Router) -> Result<(), String> {
    let shutdown = tokio::signal::ctrl_c();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = accepted.map_err(|e| e.to_string())?;
                let service = TowerToHyperService::new(router.clone());
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .title_case_headers(true)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            _ = &mut shutdown => return Ok(()),
        }
    }
}

fn router(local: Local) -> Router {
    let mut router = Router::new().route("/oauth/token", post(token));
    for route in local_api::routes() {
        let function = route.function;
        let method = match route.method {
            "GET" => MethodFilter::GET,
            "DELETE" => MethodFilter::DELETE,
            _ => MethodFilter::POST,
        };
        for path in route.paths() {
            router = if path.contains('{') {
                router.route(
                    &path,
                    on(
                        method,
                        move |s,
                              params: Result<Path<HashMap<String, String>>, PathRejection>,
                              r| async move {
                            match params {
                                Ok(Path(params)) => invoke(s, function, params, r).await,
                                Err(rejection) => path_rejected(&rejection, &r),
                            }
                        },
                    ),
                )
            } else {
                router.route(
                    &path,
                    on(method, move |s, r| invoke(s, function, HashMap::new(), r)),
                )
            };
        }
    }
    router.fallback(not_found).with_state(local)
}

/// Hands an HTTP request to a function's handler as API Gateway would.
async fn invoke(
    State(local): State<Local>,
    function: &'static str,
    path_parameters: HashMap<String, String>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let origin = locale_origin(
        parts
            .headers
            .get("accept-language")
            .and_then(|v| v.to_str().ok()),
    );
    let bytes = match to_bytes(body, READ_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            let error = ApiError::bad_request(format!("request body exceeds {READ_LIMIT} bytes"));
            return to_axum(ApiResponse::error(&error, &new_tracking_id(), origin));
        }
    };
    let body = if bytes.is_empty() {
        lambda_http::Body::Empty
    } else {
        match String::from_utf8(bytes.to_vec()) {
            Ok(text) => lambda_http::Body::Text(text),
            Err(e) => lambda_http::Body::Binary(e.into_bytes()),
        }
    };
    // Query parameters are read from the URI by the handlers.
    let request =
        lambda_http::Request::from_parts(parts, body).with_path_parameters(path_parameters);
    match local_api::call(function, &local.app, request).await {
        Some(response) => to_axum(response),
        None => not_found_response(function),
    }
}

/// A path whose parameter axum cannot hand over — one that is not UTF-8
/// once percent-decoded (`/v3/non-employee-requests/%FF`) — answers a
/// SailPoint 400, as every other bad input does, not axum's plain text.
fn path_rejected(rejection: &PathRejection, req: &Request) -> Response {
    let origin = locale_origin(
        req.headers()
            .get("accept-language")
            .and_then(|v| v.to_str().ok()),
    );
    let cause = match rejection {
        PathRejection::FailedToDeserializePathParams(e) => match e.kind() {
            ErrorKind::InvalidUtf8InPathParam { key } => {
                format!("path parameter {key} is not valid UTF-8 once percent-decoded")
            }
            _ => format!("the path's parameters cannot be read: {}", e.body_text()),
        },
        _ => "the path's parameters cannot be read".to_string(),
    };
    to_axum(ApiResponse::error(
        &ApiError::bad_request(cause),
        &new_tracking_id(),
        origin,
    ))
}

fn to_axum(response: ApiResponse) -> Response {
    let mut builder = Response::builder().status(response.status);
    for (name, value) in &response.headers {
        builder = builder.header(*name, value);
    }
    builder
        .body(AxumBody::from(response.body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn not_found_response(what: &str) -> Response {
    let error = ApiError::NotFound(format!("no operation matches {what}"));
    to_axum(ApiResponse::error(
        &error,
        &new_tracking_id(),
        shared::models::LocaleOrigin::Default,
    ))
}

/// Unknown routes answer as the deployed API does: a SailPoint 404.
async fn not_found(headers: HeaderMap, req: Request) -> Response {
    let origin = locale_origin(headers.get("accept-language").and_then(|v| v.to_str().ok()));
    let error = ApiError::NotFound(format!(
        "no operation matches {} {}",
        req.method(),
        req.uri().path()
    ));
    to_axum(ApiResponse::error(&error, &new_tracking_id(), origin))
}

/// `POST /oauth/token`: the client-credentials grant, with the client id and
/// secret in the body (form-urlencoded as the Python SDK and curl send it,
/// multipart/form-data as the TypeScript SDK does, or JSON), the query
/// string, or HTTP Basic authentication.
async fn token(State(local): State<Local>, headers: HeaderMap, req: Request) -> Response {
    let oauth_error = |status: StatusCode, error: &str, description: &str| {
        (
            status,
            Json(json!({ "error": error, "error_description": description })),
        )
            .into_response()
    };
    let (parts, body) = req.into_parts();
    let query = parts.uri.query().unwrap_or("").to_string();
    let bytes = to_bytes(body, TOKEN_BODY_LIMIT).await.unwrap_or_default();
    let mut params: HashMap<String, String> =
        serde_urlencoded::from_str(&query).unwrap_or_default();
    let form: HashMap<String, String> = if is_multipart(&headers) {
        let request = Request::from_parts(parts, AxumBody::from(bytes));
        match multipart_fields(request).await {
            Ok(fields) => fields,
            Err(reason) => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    &format!("malformed multipart/form-data body: {reason}"),
                )
            }
        }
    } else {
        serde_urlencoded::from_bytes(&bytes)
            .ok()
            .or_else(|| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    };
    params.extend(form);
    if let Some((id, secret)) = basic_credentials(&headers) {
        params.entry("client_id".into()).or_insert(id);
        params.entry("client_secret".into()).or_insert(secret);
    }
    let Some(issuer) = &local.issuer else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "this server issues no tokens: it verifies tokens with JWT_PUBLIC_KEY_PEM or \
             JWT_JWKS, so get one from their issuer (or set JWT_HS256_SECRET for this \
             endpoint to sign tokens with it)",
        );
    };
    if params.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only grant_type=client_credentials is supported",
        );
    }
    let (Some(client_id), Some(client_secret)) =
        (params.get("client_id"), params.get("client_secret"))
    else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client_id and client_secret are required",
        );
    };
    let Some((tenant, client)) = local
        .seed
        .oauth_client(client_id)
        .filter(|(_, c)| &c.client_secret == client_secret)
    else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Bad client credentials",
        );
    };
    let scopes = match granted_scopes(params.get("scope").map(String::as_str)) {
        Ok(scopes) => scopes,
        Err(description) => {
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", &description)
        }
    };
    let authorities: Vec<&str> = client.authorities.iter().map(String::as_str).collect();
    let mut claims = claims_for(
        &tenant.tenant_id,
        client.identity_id.as_deref(),
        client.user_name.as_deref(),
        Some(&client.client_id),
        &authorities,
        TOKEN_TTL_SECS,
    );
    claims.scope = Some(json!(scopes));
    let access_token = issuer.issue(&claims);
    let mut body = json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": TOKEN_TTL_SECS - 1,
        "scope": scopes.join(" "),
        "tenant_id": tenant.tenant_id,
        "internal": false,
        "pod": "local",
        "org": tenant.name,
        "strong_auth_supported": false,
        "claims_supported": false,
        "strong_auth": false,
        "jti": claims.jti,
    });
    if let Some(identity) = &client.identity_id {
        body["identity_id"] = json!(identity);
        body["user_id"] = json!(identity);
    }
    (StatusCode::OK, Json(body)).into_response()
}

/// At most this many scopes in a token request, each at most this long.
const MAX_SCOPES: usize = 32;
const MAX_SCOPE_CHARS: usize = 128;

/// The scopes a token is issued with: `sp:scopes:all` (every client of the
/// seed has every right its authorities give), or, when the request names
/// some (`scope`, space-separated as OAuth clients send it), exactly those:
/// a narrower token. Each must be an RFC 6749 scope token.
fn granted_scopes(requested: Option<&str>) -> Result<Vec<String>, String> {
    let Some(requested) = requested.filter(|s| !s.trim().is_empty()) else {
        return Ok(vec![shared::scopes::ALL.to_string()]);
    };
    let mut scopes: Vec<String> = Vec::new();
    for scope in requested.split_whitespace() {
        let valid = scope.len() <= MAX_SCOPE_CHARS
            && scope
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
        if !valid {
            let shown: String = scope.chars().take(40).collect();
            return Err(format!(
                "scope {shown:?} is not a scope: at most {MAX_SCOPE_CHARS} printable ASCII characters, no quote or backslash"
            ));
        }
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_string());
        }
    }
    if scopes.len() > MAX_SCOPES {
        return Err(format!(
            "{} scopes requested; at most {MAX_SCOPES}",
            scopes.len()
        ));
    }
    Ok(scopes)
}

fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("multipart/form-data"))
}

/// The text fields of a multipart/form-data body, by name (the last of a
/// repeated name wins, as with a form-urlencoded body); file parts are ignored.
async fn multipart_fields(request: Request) -> Result<HashMap<String, String>, String> {
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|e| e.body_text())?;
    let mut fields = HashMap::new();
    while let Some(field) = multipart.next_field().await.map_err(|e| e.body_text())? {
        let (Some(name), None) = (field.name().map(str::to_string), field.file_name()) else {
            continue;
        };
        let value = field.text().await.map_err(|e| e.body_text())?;
        fields.insert(name, value);
    }
    Ok(fields)
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine as _;
    let value = headers.get("authorization")?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

fn print_banner(local: &Local, addr: SocketAddr) {
    let base = format!("http://{addr}");
    let store = match table_from_env() {
        Some(t) => format!("DynamoDB table {t}"),
        None => "in-process store (seed data)".to_string(),
    };
    println!("Access request API listening on {base}  ({store})");
    println!("Routes:");
    for route in local_api::routes() {
        let path = format!("/{}{}", route.versions.join("|"), route.path);
        println!("  {:<6} {path:<57} {}", route.method, route.operation);
    }
    println!("  POST   /oauth/token");
    println!("Get a token (client credentials of the seed's OAuth clients):");
    for tenant in &local.seed.tenants {
        for c in tenant.oauth_clients.iter().take(8) {
            println!(
                "  curl -s {base}/oauth/token -d grant_type=client_credentials -d client_id={} -d client_secret={}   # {} {}",
                c.client_id,
                c.client_secret,
                tenant.name,
                c.authorities.join(",")
            );
        }
    }
    println!("Then: curl -H \"Authorization: Bearer $TOKEN\" {base}/v3/access-request-status");
}

#[cfg(test)]
mod tests {
    //! The token endpoint over real HTTP on loopback, with each encoding the
    //! official clients send their client credentials in.

    use super::*;
    use std::io::{Read, Write};

    const CLIENT: &str = "acme-employee";
    const SECRET: &str = "acme-employee-secret";
    /// What the npm `form-data` package (the TypeScript SDK's) uses.
    const BOUNDARY: &str = "--------------------------727911348011256380184412";

    async fn serve() -> SocketAddr {
        let seed = SeedFile::from_json(DEMO_SEED).expect("the demo seed parses");
        let local = Local {
            app: AppState::local(DEMO_SEED)
                .await
                .expect("the demo seed loads"),
            seed: Arc::new(seed),
            issuer: Some(TokenIssuer::hs256(LOCAL_HS256_SECRET)),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let addr = listener.local_addr().expect("bound");
        tokio::spawn(async move { axum::serve(listener, router(local)).await });
        addr
    }

    /// Sends one request (`Connection: close`) and returns the status and the body.
    async fn send(
        addr: SocketAddr,
        method: &str,
        target: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> (u16, serde_json::Value) {
        let mut head =
            format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut request = head.into_bytes();
        request.extend(body);
        let raw = tokio::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(addr).expect("connects");
            stream.write_all(&request).expect("request sent");
            let mut raw = Vec::new();
            stream.read_to_end(&mut raw).expect("response read");
            raw
        })
        .await
        .expect("the client thread finishes");
        let text = String::from_utf8(raw).expect("a UTF-8 response");
        let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status line");
        let body = serde_json::from_str(body).unwrap_or(serde_json::Value::Null);
        (status, body)
    }

    /// A multipart/form-data body laid out as the `form-data` package writes it.
    fn multipart(fields: &[(&str, &str)]) -> Vec<u8> {
        let mut body = String::new();
        for (name, value) in fields {
            body.push_str(&format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!("--{BOUNDARY}--\r\n"));
        body.into_bytes()
    }

    /// The client-credentials grant of [`CLIENT`] as the TypeScript SDK posts it.
    fn multipart_credentials(secret: &str) -> Vec<u8> {
        multipart(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", secret),
        ])
    }

    fn multipart_type() -> (&'static str, String) {
        (
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
    }

    async fn token_request(
        addr: SocketAddr,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> (u16, serde_json::Value) {
        send(addr, "POST", "/oauth/token", headers, body).await
    }

    /// The token works: the client's identity lists its own requests with it.
    async fn assert_token_works(addr: SocketAddr, answer: &serde_json::Value) {
        assert_eq!(answer["token_type"], "bearer", "{answer}");
        let token = answer["access_token"].as_str().expect("an access_token");
        let (status, body) = send(
            addr,
            "GET",
            "/v3/access-request-status?requested-for=me",
            &[("Authorization", format!("Bearer {token}"))],
            Vec::new(),
        )
        .await;
        assert_eq!(status, 200, "status listing with the token: {body}");
        assert!(body.is_array(), "{body}");
    }

    /// A token request of [`CLIENT`], form-urlencoded, with `extra` fields.
    async fn form_token(addr: SocketAddr, extra: &str) -> (u16, serde_json::Value) {
        token_request(
            addr,
            &[(
                "Content-Type",
                "application/x-www-form-urlencoded".to_string(),
            )],
            format!(
                "grant_type=client_credentials&client_id={CLIENT}&client_secret={SECRET}{extra}"
            )
            .into_bytes(),
        )
        .await
    }

    /// The `scope` claim of a token.
    fn scope_claim(answer: &serde_json::Value) -> serde_json::Value {
        use base64::Engine as _;
        let token = answer["access_token"].as_str().expect("an access_token");
        let payload = token.split('.').nth(1).expect("a JWT");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64url");
        serde_json::from_slice::<serde_json::Value>(&bytes).expect("JSON claims")["scope"].clone()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tokens_carry_all_scopes_unless_the_request_narrows_them() {
        let addr = serve().await;
        let (status, answer) = form_token(addr, "").await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["scope"], "sp:scopes:all");
        assert_eq!(scope_claim(&answer), json!(["sp:scopes:all"]));

        // Narrowed to reading status: the status list answers, a submit is 403.
        let (status, answer) = form_token(
            addr,
            "&scope=idn%3Aaccess-request-status%3Aread+idn%3Anelm%3Aread",
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            answer["scope"],
            "idn:access-request-status:read idn:nelm:read"
        );
        assert_eq!(
            scope_claim(&answer),
            json!(["idn:access-request-status:read", "idn:nelm:read"])
        );
        assert_token_works(addr, &answer).await;
        let token = answer["access_token"].as_str().unwrap();
        let (status, body) = send(
            addr,
            "POST",
            "/v3/access-requests",
            &[
                ("Authorization", format!("Bearer {token}")),
                ("Content-Type", "application/json".to_string()),
            ],
            br#"{"requestedFor":["2c9180835d191a86015d28455b4a0003"],"requestedItems":[{"type":"ROLE","id":"2c918086771c86df0177401efcdf0001"}]}"#.to_vec(),
        )
        .await;
        assert_eq!(status, 403, "{body}");
        let cause = body["causes"][0]["text"].as_str().unwrap_or_default();
        assert!(cause.contains("idn:access-request:manage"), "{body}");

        let (status, answer) = form_token(addr, "&scope=%22quoted%22").await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error"], "invalid_scope");
    }

    /// Every route with a path parameter, with each parameter percent-encoding
    /// bytes that are not UTF-8, answers a SailPoint 400 naming it (axum's
    /// own answer would be plain text).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_path_parameter_that_is_not_utf8_gets_the_error_envelope() {
        let addr = serve().await;
        let mut checked = 0;
        for route in local_api::routes().iter().filter(|r| r.path.contains('{')) {
            for encoded in ["%FF", "abc%C3%28def"] {
                let mut target = format!("/{}{}", route.versions[0], route.path);
                let mut names = Vec::new();
                while let Some(start) = target.find('{') {
                    let end = target[start..].find('}').expect("a closed parameter") + start;
                    names.push(target[start + 1..end].to_string());
                    target.replace_range(start..=end, encoded);
                }
                let (status, body) = send(addr, route.method, &target, &[], Vec::new()).await;
                assert_eq!(status, 400, "{} {target}: {body}", route.method);
                assert_eq!(body["detailCode"], "400.1 Bad Request Content", "{body}");
                assert!(body["trackingId"].is_string(), "{body}");
                assert!(body["messages"].is_array(), "{body}");
                let cause = body["causes"][0]["text"].as_str().unwrap_or_default();
                assert!(
                    names
                        .iter()
                        .any(|n| cause.contains(&format!("path parameter {n} "))),
                    "the cause names the parameter: {body}"
                );
                checked += 1;
            }
        }
        assert!(checked >= 10, "{checked} routes with a path parameter");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn token_from_multipart_form_data() {
        let addr = serve().await;
        let (status, answer) =
            token_request(addr, &[multipart_type()], multipart_credentials(SECRET)).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["identity_id"], "2c9180835d191a86015d28455b4a0003");
        assert_token_works(addr, &answer).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn multipart_with_a_wrong_secret_is_an_invalid_client() {
        let addr = serve().await;
        let (status, answer) = token_request(
            addr,
            &[multipart_type()],
            multipart_credentials("not-the-secret"),
        )
        .await;
        assert_eq!(status, 401, "{answer}");
        assert_eq!(answer["error"], "invalid_client");
        assert!(answer.get("access_token").is_none(), "{answer}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn multipart_without_a_grant_type_is_refused() {
        let addr = serve().await;
        let (status, answer) = token_request(
            addr,
            &[multipart_type()],
            multipart(&[("client_id", CLIENT), ("client_secret", SECRET)]),
        )
        .await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error"], "unsupported_grant_type");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn malformed_multipart_is_an_invalid_request() {
        let addr = serve().await;
        // Declares a boundary the body never closes.
        let mut body = multipart(&[("grant_type", "client_credentials")]);
        body.truncate(body.len() - format!("--{BOUNDARY}--\r\n").len());
        body.extend(b"--unrelated--\r\n");
        let (status, answer) = token_request(addr, &[multipart_type()], body).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error"], "invalid_request");
        let description = answer["error_description"].as_str().unwrap_or_default();
        assert!(description.contains("multipart/form-data"), "{answer}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn form_urlencoded_and_basic_credentials_still_work() {
        let addr = serve().await;
        let (status, answer) = token_request(
            addr,
            &[(
                "Content-Type",
                "application/x-www-form-urlencoded".to_string(),
            )],
            format!("grant_type=client_credentials&client_id={CLIENT}&client_secret={SECRET}")
                .into_bytes(),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        assert_token_works(addr, &answer).await;

        use base64::Engine as _;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT}:{SECRET}"));
        let (status, answer) = token_request(
            addr,
            &[
                ("Authorization", format!("Basic {basic}")),
                (
                    "Content-Type",
                    "application/x-www-form-urlencoded".to_string(),
                ),
            ],
            b"grant_type=client_credentials".to_vec(),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        assert_token_works(addr, &answer).await;
    }
}
