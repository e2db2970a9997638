//! Bearer-token authentication (SPEC §3): JWT verification with the keys the
//! deployment configures, the SailPoint claims, and the principal the domain
//! authorizes against.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

/// The claims SailPoint access tokens carry. Tokens issued for an API client
/// (client-credentials without a user) have no `identity_id` / `user_name`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub tenant_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(default)]
    pub authorities: Vec<String>,
    /// The token's scopes: a list (`["sp:scopes:all"]`) or one
    /// space-separated string (`"idn:nelm:read idn:nelm:manage"`), as OAuth
    /// token answers write them; both are accepted. Absent: no scope check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

/// Who is calling: the verified facts of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub tenant_id: String,
    /// Absent for API-only tokens.
    pub identity_id: Option<String>,
    pub user_name: Option<String>,
    pub client_id: Option<String>,
    pub authorities: Vec<String>,
    /// The token's scopes; `None` for a token without a `scope` claim,
    /// which is treated as `sp:scopes:all` (see `crate::scopes`).
    pub scopes: Option<Vec<String>>,
}

impl Principal {
    pub fn has_authority(&self, authority: &str) -> bool {
        self.authorities.iter().any(|a| a == authority)
    }

    pub fn is_org_admin(&self) -> bool {
        self.has_authority("ORG_ADMIN")
    }

    /// Whether `identity_id` is the caller's own identity.
    pub fn is(&self, identity_id: &str) -> bool {
        self.identity_id.as_deref() == Some(identity_id)
    }
}

impl Principal {
    /// The principal of verified claims; a `scope` claim that is neither a
    /// string nor a list of strings makes the token invalid.
    pub fn from_claims(c: Claims) -> Result<Self, AuthError> {
        let scopes = scopes_of(c.scope.as_ref())?;
        Ok(Self {
            tenant_id: c.tenant_id,
            identity_id: c.identity_id.filter(|s| !s.is_empty()),
            user_name: c.user_name,
            client_id: c.client_id,
            authorities: c.authorities,
            scopes,
        })
    }
}

/// The scopes of a `scope` claim: a space-separated string or a list of
/// strings; absent or `null`, none given.
fn scopes_of(claim: Option<&serde_json::Value>) -> Result<Option<Vec<String>>, AuthError> {
    let wrong = || {
        AuthError("JWT claim scope has the wrong format: give a list of strings or one space-separated string".into())
    };
    match claim {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => {
            Ok(Some(s.split_whitespace().map(str::to_string).collect()))
        }
        Some(serde_json::Value::Array(list)) => list
            .iter()
            .map(|s| s.as_str().map(str::to_string).ok_or_else(wrong))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(wrong()),
    }
}

/// Why a token was refused; `Display` completes "JWT validation failed: ".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AuthError(pub String);

/// A configuration that cannot verify anything (bad PEM, bad JWKS ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("JWT configuration: {0}")]
pub struct AuthConfigError(pub String);

/// Key material and checks, as the SAM template's parameters set them.
#[derive(Debug, Clone, Default)]
pub struct AuthConfig {
    /// HS256 shared secret (local use and tests).
    pub hs256_secret: Option<String>,
    /// PEM public key (RSA or EC) for RS256 / ES256 tokens.
    pub public_key_pem: Option<String>,
    /// A JWKS document (JSON) whose keys are selected by `kid`.
    pub jwks: Option<String>,
    pub issuer: Option<String>,
    pub audience: Option<String>,
}

impl AuthConfig {
    /// Reads `JWT_HS256_SECRET`, `JWT_PUBLIC_KEY_PEM`, `JWT_JWKS`, `JWT_ISSUER`,
    /// `JWT_AUDIENCE`. Empty values count as unset (SAM parameters default to "").
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self {
            hs256_secret: var("JWT_HS256_SECRET"),
            public_key_pem: var("JWT_PUBLIC_KEY_PEM"),
            jwks: var("JWT_JWKS"),
            issuer: var("JWT_ISSUER"),
            audience: var("JWT_AUDIENCE"),
        }
    }
}

/// One verification key and the algorithms it may verify.
struct VerificationKey {
    kid: Option<String>,
    algorithms: Vec<Algorithm>,
    key: DecodingKey,
}

/// Verifies bearer tokens.
pub struct Authenticator {
    keys: Vec<VerificationKey>,
    issuer: Option<String>,
    audience: Option<String>,
}

const RSA_ALGS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::RS384, Algorithm::RS512];
const EC_ALGS: [Algorithm; 2] = [Algorithm::ES256, Algorithm::ES384];

impl Authenticator {
    /// Builds the verifier; fails when no key is configured or a key is unusable.
    pub fn new(config: &AuthConfig) -> Result<Self, AuthConfigError> {
        let mut keys = Vec::new();
        if let Some(secret) = &config.hs256_secret {
            keys.push(VerificationKey {
                kid: None,
                algorithms: vec![Algorithm::HS256],
                key: DecodingKey::from_secret(secret.as_bytes()),
            });
        }
        if let Some(pem) = &config.public_key_pem {
            // SAM parameters cannot hold newlines comfortably: accept "\n" escapes.
            let pem = pem.replace("\\n", "\n");
            let key = if let Ok(k) = DecodingKey::from_rsa_pem(pem.as_bytes()) {
                VerificationKey {
                    kid: None,
                    algorithms: RSA_ALGS.to_vec(),
                    key: k,
                }
            } else if let Ok(k) = DecodingKey::from_ec_pem(pem.as_bytes()) {
                VerificationKey {
                    kid: None,
                    algorithms: EC_ALGS.to_vec(),
                    key: k,
                }
            } else {
                return Err(AuthConfigError(
                    "JWT_PUBLIC_KEY_PEM is neither an RSA nor an EC public key".into(),
                ));
            };
            keys.push(key);
        }
        if let Some(jwks) = &config.jwks {
            let set: JwkSet = serde_json::from_str(jwks)
                .map_err(|e| AuthConfigError(format!("JWT_JWKS is not a JWKS document: {e}")))?;
            for jwk in &set.keys {
                let key = DecodingKey::from_jwk(jwk)
                    .map_err(|e| AuthConfigError(format!("JWT_JWKS key unusable: {e}")))?;
                let algorithms = match jwk
                    .common
                    .key_algorithm
                    .and_then(|a| a.to_string().parse::<Algorithm>().ok())
                {
                    Some(alg) => vec![alg],
                    None => match &jwk.algorithm {
                        jsonwebtoken::jwk::AlgorithmParameters::RSA(_) => RSA_ALGS.to_vec(),
                        jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_) => {
                            EC_ALGS.to_vec()
                        }
                        _ => continue,
                    },
                };
                keys.push(VerificationKey {
                    kid: jwk.common.key_id.clone(),
                    algorithms,
                    key,
                });
            }
        }
        if keys.is_empty() {
            return Err(AuthConfigError(
                "no verification key: set JWT_HS256_SECRET, JWT_PUBLIC_KEY_PEM or JWT_JWKS".into(),
            ));
        }
        Ok(Self {
            keys,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
        })
    }

    /// An HS256-only verifier (local server, tests).
    pub fn hs256(secret: &str) -> Self {
        Self::new(&AuthConfig {
            hs256_secret: Some(secret.to_string()),
            ..Default::default()
        })
        .unwrap_or_else(|_| unreachable!("an HS256 secret is always a usable key"))
    }

    /// Verifies the value of an `Authorization` header.
    pub fn verify_header(&self, authorization: Option<&str>) -> Result<Principal, AuthError> {
        let value =
            authorization.ok_or_else(|| AuthError("missing Authorization header".into()))?;
        let value = value.trim();
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => {
                return Err(AuthError(
                    "Authorization header is not a Bearer token".into(),
                ))
            }
        };
        if token.is_empty() {
            return Err(AuthError("Bearer token is empty".into()));
        }
        self.verify(token)
    }

    /// Verifies a compact JWT.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let alg = header_algorithm(token)?;
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| AuthError(describe(e.kind())))?;
        let mut candidates = self
            .keys
            .iter()
            .filter(|k| k.algorithms.contains(&alg))
            .filter(|k| match (&k.kid, &header.kid) {
                (Some(key_kid), Some(token_kid)) => key_kid == token_kid,
                _ => true,
            })
            .peekable();
        if candidates.peek().is_none() {
            return Err(AuthError(format!("JWT algorithm {alg:?} is not accepted")));
        }
        let mut last = AuthError("JWT signature does not match".into());
        for key in candidates {
            match jsonwebtoken::decode::<Claims>(token, &key.key, &self.validation(alg)) {
                Ok(data) => return check_claims(data.claims),
                // Another key may still match; any other failure is final.
                Err(e) if matches!(e.kind(), ErrorKind::InvalidSignature) => {
                    last = AuthError(describe(e.kind()))
                }
                Err(e) => return Err(AuthError(describe(e.kind()))),
            }
        }
        Err(last)
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut v = Validation::new(alg);
        v.validate_nbf = true;
        v.leeway = 30;
        match &self.issuer {
            Some(iss) => {
                v.set_issuer(&[iss]);
                v.required_spec_claims.insert("iss".to_string());
            }
            None => v.iss = None,
        }
        match &self.audience {
            Some(aud) => {
                v.set_audience(&[aud]);
                v.required_spec_claims.insert("aud".to_string());
            }
            None => v.validate_aud = false,
        }
        v
    }
}

/// Reads the header's `alg` before anything else so that `none` and unknown
/// algorithms get a precise reason rather than a parse error.
fn header_algorithm(token: &str) -> Result<Algorithm, AuthError> {
    use base64::Engine as _;
    let malformed = || AuthError("JWT is malformed".into());
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header.trim_end_matches('='))
        .map_err(|_| malformed())?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| malformed())?;
    let alg = value
        .get("alg")
        .and_then(|a| a.as_str())
        .ok_or_else(malformed)?;
    if alg.eq_ignore_ascii_case("none") {
        return Err(AuthError("JWT algorithm none is not accepted".into()));
    }
    alg.parse::<Algorithm>()
        .map_err(|_| AuthError(format!("JWT algorithm {alg} is not accepted")))
}

/// The claims the service keys records by, or names actors with, must
/// have the shape of ids (and a name's length): they become parts of
/// DynamoDB keys and of stored records.
fn check_claims(claims: Claims) -> Result<Principal, AuthError> {
    if claims.tenant_id.trim().is_empty() {
        return Err(AuthError("JWT tenant_id claim is empty".into()));
    }
    let ids = [
        ("tenant_id", Some(&claims.tenant_id)),
        (
            "identity_id",
            claims.identity_id.as_ref().filter(|s| !s.is_empty()),
        ),
        ("client_id", claims.client_id.as_ref()),
    ];
    for (claim, value) in ids {
        if let Some(value) = value {
            crate::limits::check_id(&format!("JWT claim {claim}"), value).map_err(AuthError)?;
        }
    }
    if let Some(name) = &claims.user_name {
        crate::limits::check_text("JWT claim user_name", name, crate::limits::MAX_NAME_CHARS)
            .map_err(AuthError)?;
    }
    Principal::from_claims(claims)
}

fn describe(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::ExpiredSignature => "JWT is expired".into(),
        ErrorKind::ImmatureSignature => "JWT is not yet valid".into(),
        ErrorKind::InvalidSignature => "JWT signature does not match".into(),
        ErrorKind::InvalidIssuer => "JWT issuer is not accepted".into(),
        ErrorKind::InvalidAudience => "JWT audience is not accepted".into(),
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            "JWT algorithm is not accepted".into()
        }
        ErrorKind::MissingRequiredClaim(c) => format!("JWT is missing the {c} claim"),
        ErrorKind::InvalidClaimFormat(c) => format!("JWT claim {c} has the wrong format"),
        ErrorKind::Json(e) => match e.classify() {
            serde_json::error::Category::Data => format!("JWT claims are invalid: {e}"),
            _ => "JWT is malformed".into(),
        },
        _ => "JWT is malformed".into(),
    }
}

/// Issues HS256 tokens shaped like SailPoint's (local token endpoint,
/// tests): `dev-tools` only, so no function can mint a token.
#[cfg(feature = "dev-tools")]
#[derive(Clone)]
pub struct TokenIssuer {
    key: jsonwebtoken::EncodingKey,
}

#[cfg(feature = "dev-tools")]
impl TokenIssuer {
    pub fn hs256(secret: &str) -> Self {
        Self {
            key: jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        }
    }

    pub fn issue(&self, claims: &Claims) -> String {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            claims,
            &self.key,
        )
        .unwrap_or_else(|_| unreachable!("HS256 signing with a secret cannot fail"))
    }
}

/// The claims of a token for `identity_id` in `tenant_id`, valid for `ttl_secs`.
#[cfg(feature = "dev-tools")]
pub fn claims_for(
    tenant_id: &str,
    identity_id: Option<&str>,
    user_name: Option<&str>,
    client_id: Option<&str>,
    authorities: &[&str],
    ttl_secs: i64,
) -> Claims {
    Claims {
        tenant_id: tenant_id.to_string(),
        identity_id: identity_id.map(str::to_string),
        user_name: user_name.map(str::to_string),
        authorities: authorities.iter().map(|a| a.to_string()).collect(),
        scope: Some(serde_json::json!(["sp:scopes:all"])),
        client_id: client_id.map(str::to_string),
        exp: chrono::Utc::now().timestamp() + ttl_secs,
        jti: Some(uuid::Uuid::new_v4().to_string()),
    }
}
