//! Bearer-token verification: every way a token can be wrong is a 401 with
//! SailPoint's `{"error": "JWT validation failed: <reason>"}` body.

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use shared::auth::{claims_for, AuthConfig, Authenticator, Claims, TokenIssuer};
use shared::error::ApiError;
use shared::models::LocaleOrigin;

const SECRET: &str = "test-secret";
const TENANT: &str = "3fa85f64-5717-4562-b3fc-2c963f66afa6";

fn valid_claims() -> Claims {
    claims_for(
        TENANT,
        Some("2c9180835d191a86015d28455b4a0003"),
        Some("eve"),
        Some("c1"),
        &["USER"],
        3600,
    )
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn reason(auth: &Authenticator, header: Option<&str>) -> String {
    auth.verify_header(header)
        .expect_err("token must be refused")
        .0
}

/// The body a client sees for a refused token.
fn body_for(reason: String) -> serde_json::Value {
    let e = ApiError::Unauthorized(reason);
    assert_eq!(e.status(), 401);
    shared::http::error_body(&e, "unused", LocaleOrigin::Default)
}

#[test]
fn a_valid_token_yields_the_principal() {
    let auth = Authenticator::hs256(SECRET);
    let token = TokenIssuer::hs256(SECRET).issue(&valid_claims());
    let p = auth
        .verify_header(Some(&format!("Bearer {token}")))
        .unwrap();
    assert_eq!(p.tenant_id, TENANT);
    assert_eq!(
        p.identity_id.as_deref(),
        Some("2c9180835d191a86015d28455b4a0003")
    );
    assert_eq!(p.authorities, vec!["USER"]);
    // The scheme is case-insensitive, as HTTP says.
    assert!(auth.verify_header(Some(&format!("bearer {token}"))).is_ok());
}

#[test]
fn a_missing_header_is_refused() {
    let auth = Authenticator::hs256(SECRET);
    assert_eq!(
        body_for(reason(&auth, None)),
        serde_json::json!({"error": "JWT validation failed: missing Authorization header"})
    );
    assert!(reason(&auth, Some("Basic abc")).contains("not a Bearer token"));
    assert!(
        reason(&auth, Some("Bearer ")).contains("empty")
            || reason(&auth, Some("Bearer ")).contains("Bearer")
    );
}

#[test]
fn malformed_tokens_are_refused() {
    let auth = Authenticator::hs256(SECRET);
    for bad in [
        "abc",
        "a.b",
        "a.b.c.d",
        "!!!.???.###",
        &format!("{}.{}.sig", b64(b"{not json"), b64(b"{}")),
    ] {
        assert_eq!(
            reason(&auth, Some(&format!("Bearer {bad}"))),
            "JWT is malformed",
            "{bad}"
        );
    }
}

#[test]
fn an_expired_token_is_refused_as_the_service_words_it() {
    let auth = Authenticator::hs256(SECRET);
    let mut claims = valid_claims();
    claims.exp = chrono::Utc::now().timestamp() - 3600;
    let token = TokenIssuer::hs256(SECRET).issue(&claims);
    let r = reason(&auth, Some(&format!("Bearer {token}")));
    assert_eq!(
        body_for(r),
        serde_json::json!({"error": "JWT validation failed: JWT is expired"})
    );
}

#[test]
fn a_token_not_yet_valid_is_refused() {
    let auth = Authenticator::hs256(SECRET);
    let mut claims = serde_json::to_value(valid_claims()).unwrap();
    claims["nbf"] = serde_json::json!(chrono::Utc::now().timestamp() + 3600);
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    assert_eq!(
        reason(&auth, Some(&format!("Bearer {token}"))),
        "JWT is not yet valid"
    );
}

#[test]
fn a_bad_signature_is_refused() {
    let auth = Authenticator::hs256(SECRET);
    let token = TokenIssuer::hs256("another-secret").issue(&valid_claims());
    assert_eq!(
        reason(&auth, Some(&format!("Bearer {token}"))),
        "JWT signature does not match"
    );
    // A tampered payload with the original signature fails the same way.
    let good = TokenIssuer::hs256(SECRET).issue(&valid_claims());
    let parts: Vec<&str> = good.split('.').collect();
    let mut claims = valid_claims();
    claims.authorities = vec!["ORG_ADMIN".into()];
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(&serde_json::to_vec(&claims).unwrap()),
        parts[2]
    );
    assert_eq!(
        reason(&auth, Some(&format!("Bearer {forged}"))),
        "JWT signature does not match"
    );
}

#[test]
fn alg_none_is_refused() {
    let auth = Authenticator::hs256(SECRET);
    for alg in ["none", "None", "NONE"] {
        let header = b64(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes());
        let payload = b64(&serde_json::to_vec(&valid_claims()).unwrap());
        for token in [
            format!("{header}.{payload}."),
            format!("{header}.{payload}.c2ln"),
        ] {
            assert_eq!(
                reason(&auth, Some(&format!("Bearer {token}"))),
                "JWT algorithm none is not accepted"
            );
        }
    }
}

#[test]
fn an_algorithm_without_a_configured_key_is_refused() {
    // HS256 only: an HS512 token (even with the right secret) is refused.
    let auth = Authenticator::hs256(SECRET);
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &valid_claims(),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    assert!(reason(&auth, Some(&format!("Bearer {token}"))).contains("not accepted"));
}

#[test]
fn claims_of_the_wrong_shape_are_refused() {
    let auth = Authenticator::hs256(SECRET);
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    let header = Header::new(Algorithm::HS256);
    let no_tenant =
        serde_json::json!({"identity_id": "x", "exp": chrono::Utc::now().timestamp() + 60});
    let token = jsonwebtoken::encode(&header, &no_tenant, &key).unwrap();
    assert!(reason(&auth, Some(&format!("Bearer {token}"))).contains("tenant_id"));
    let no_exp = serde_json::json!({"tenant_id": TENANT});
    let token = jsonwebtoken::encode(&header, &no_exp, &key).unwrap();
    assert!(reason(&auth, Some(&format!("Bearer {token}"))).contains("exp"));
}

#[test]
fn issuer_and_audience_are_checked_when_configured() {
    let auth = Authenticator::new(&AuthConfig {
        hs256_secret: Some(SECRET.into()),
        issuer: Some("https://acme.api.identitynow.com".into()),
        audience: Some("access-api".into()),
        ..Default::default()
    })
    .unwrap();
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    let mut claims = serde_json::to_value(valid_claims()).unwrap();
    let sign = |c: &serde_json::Value| {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), c, &key).unwrap()
    };
    assert!(reason(&auth, Some(&format!("Bearer {}", sign(&claims)))).contains("iss"));
    claims["iss"] = "https://acme.api.identitynow.com".into();
    claims["aud"] = "someone-else".into();
    assert_eq!(
        reason(&auth, Some(&format!("Bearer {}", sign(&claims)))),
        "JWT audience is not accepted"
    );
    claims["aud"] = "access-api".into();
    assert!(auth
        .verify_header(Some(&format!("Bearer {}", sign(&claims))))
        .is_ok());
    claims["iss"] = "https://evil.example".into();
    assert_eq!(
        reason(&auth, Some(&format!("Bearer {}", sign(&claims)))),
        "JWT issuer is not accepted"
    );
}

const RSA_PRIVATE: &str = include_str!("fixtures/keys/rsa-private.pem");
const RSA_PUBLIC: &str = include_str!("fixtures/keys/rsa-public.pem");
const EC_PRIVATE: &str = include_str!("fixtures/keys/ec-private.pem");
const EC_PUBLIC: &str = include_str!("fixtures/keys/ec-public.pem");

#[test]
fn rs256_and_es256_verify_against_a_configured_public_key() {
    let rsa = Authenticator::new(&AuthConfig {
        public_key_pem: Some(RSA_PUBLIC.into()),
        ..Default::default()
    })
    .unwrap();
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &valid_claims(),
        &EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap(),
    )
    .unwrap();
    assert!(rsa.verify(&token).is_ok());
    // An HS256 token signed with the public key as secret (key confusion) is refused.
    let confused = TokenIssuer::hs256(RSA_PUBLIC).issue(&valid_claims());
    assert!(rsa.verify(&confused).is_err());

    let ec = Authenticator::new(&AuthConfig {
        public_key_pem: Some(EC_PUBLIC.into()),
        ..Default::default()
    })
    .unwrap();
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::ES256),
        &valid_claims(),
        &EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).unwrap(),
    )
    .unwrap();
    assert!(ec.verify(&token).is_ok());
    assert!(rsa.verify(&token).is_err());
}

#[test]
fn a_jwks_selects_its_key_by_kid() {
    let jwks = include_str!("fixtures/keys/jwks.json");
    let auth = Authenticator::new(&AuthConfig {
        jwks: Some(jwks.into()),
        ..Default::default()
    })
    .unwrap();
    let key = EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("acme-1".into());
    assert!(auth
        .verify(&jsonwebtoken::encode(&header, &valid_claims(), &key).unwrap())
        .is_ok());
    header.kid = Some("unknown-kid".into());
    assert!(auth
        .verify(&jsonwebtoken::encode(&header, &valid_claims(), &key).unwrap())
        .is_err());
}

#[test]
fn unusable_configuration_is_reported() {
    assert!(Authenticator::new(&AuthConfig::default()).is_err());
    assert!(Authenticator::new(&AuthConfig {
        public_key_pem: Some("not a key".into()),
        ..Default::default()
    })
    .is_err());
    assert!(Authenticator::new(&AuthConfig {
        jwks: Some("{}".into()),
        ..Default::default()
    })
    .is_err());
}
