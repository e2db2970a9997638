//! The local server's signing secret, as the `local-api` binary starts: the
//! public development secret only serves the in-process store; with
//! `TABLE_NAME` set, it needs a key the deployment chose and refuses to start
//! without one; `/oauth/token` signs with `JWT_HS256_SECRET` when one is set
//! and issues nothing when only public keys are (their issuer is elsewhere).
//!
//! No DynamoDB needed: what is checked happens before any store call (the
//! table's endpoint is a closed port).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use shared::auth::{claims_for, Authenticator, TokenIssuer};
use shared::state::LOCAL_HS256_SECRET;

const CLIENT: &str = "acme-employee";
const CLIENT_SECRET: &str = "acme-employee-secret";
/// An EC P-256 public key (its private half was never kept).
const PUBLIC_KEY_PEM: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE89xDlnJgTfRCYABlMj+8L+ZJB7Gm
E2OIo984ouI7brMHcqsQYa8Ou/f2rjWkYeFwiaXzZ/ziENV3ncQ/wgvpAg==
-----END PUBLIC KEY-----";

/// A loopback port nothing listens on.
fn closed_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// A `local-api` process, stopped when dropped.
struct Server {
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `local-api --port 0` with only `vars` (and dummy AWS settings)
/// in its environment.
fn spawn(vars: &[(&str, &str)]) -> Server {
    let endpoint = closed_endpoint();
    let mut command = Command::new(env!("CARGO_BIN_EXE_local-api"));
    command
        .args(["--port", "0"])
        .env_clear()
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .env("AWS_ENDPOINT_URL_DYNAMODB", &endpoint)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("DYNAMODB_WARMUP", "false")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in vars {
        command.env(name, value);
    }
    Server {
        child: command.spawn().expect("local-api starts"),
    }
}

/// The address the server announces, or its exit status and stderr if it
/// stops first.
fn listening(server: &mut Server) -> Result<SocketAddr, (i32, String)> {
    let stdout = server.child.stdout.take().expect("piped stdout");
    let (sender, receiver) = mpsc::channel();
    // Reads to the end: a closed pipe would fail the server's next print.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let addr = rest.split_whitespace().next().unwrap_or_default();
                let _ = sender.send(addr.parse::<SocketAddr>().ok());
            }
        }
        let _ = sender.send(None);
    });
    match receiver.recv_timeout(Duration::from_secs(30)) {
        Ok(Some(addr)) => Ok(addr),
        _ => {
            let status = server.child.wait().expect("the server ended");
            let mut stderr = String::new();
            if let Some(mut pipe) = server.child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            Err((status.code().unwrap_or(-1), stderr))
        }
    }
}

/// One HTTP/1.1 request; the status and the JSON body.
fn send(addr: SocketAddr, head: &str, body: &str) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).expect("connects");
    let request = format!(
        "{head}\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("sent");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a head and a body");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn token_request(addr: SocketAddr) -> (u16, Value) {
    send(
        addr,
        "POST /oauth/token HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded",
        &format!("grant_type=client_credentials&client_id={CLIENT}&client_secret={CLIENT_SECRET}"),
    )
}

/// A submission with a body the handler refuses before any store call: a
/// 400 once the token is accepted, a 401 when it is not.
fn submit_with(addr: SocketAddr, token: &str) -> (u16, Value) {
    send(
        addr,
        &format!(
            "POST /v3/access-requests HTTP/1.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json"
        ),
        "not json",
    )
}

/// A token for the seed's Eve signed with the public development secret.
fn development_token() -> String {
    TokenIssuer::hs256(LOCAL_HS256_SECRET).issue(&claims_for(
        "3fa85f64-5717-4562-b3fc-2c963f66afa6",
        Some("2c9180835d191a86015d28455b4a0003"),
        Some("eve.employee"),
        Some(CLIENT),
        &["USER"],
        3600,
    ))
}

#[test]
fn with_a_table_and_no_key_the_server_refuses_to_start() {
    let mut server = spawn(&[("TABLE_NAME", "secret-test")]);
    let (code, stderr) = listening(&mut server).expect_err("it must not start");
    assert_ne!(code, 0, "{stderr}");
    for named in [
        "TABLE_NAME",
        "JWT_HS256_SECRET",
        "JWT_PUBLIC_KEY_PEM",
        "JWT_JWKS",
    ] {
        assert!(
            stderr.contains(named),
            "the message names {named}: {stderr}"
        );
    }

    // An empty secret (as SAM parameters default to) is no secret.
    let mut server = spawn(&[("TABLE_NAME", "secret-test"), ("JWT_HS256_SECRET", "")]);
    let (code, stderr) = listening(&mut server).expect_err("it must not start");
    assert_ne!(code, 0, "{stderr}");
}

#[test]
fn with_a_table_and_a_secret_tokens_are_signed_with_that_secret() {
    let mut server = spawn(&[
        ("TABLE_NAME", "secret-test"),
        ("JWT_HS256_SECRET", "a-secret-of-this-deployment"),
    ]);
    let addr = listening(&mut server).expect("it starts");

    let (status, answer) = token_request(addr);
    assert_eq!(status, 200, "{answer}");
    let token = answer["access_token"].as_str().expect("an access token");
    Authenticator::hs256("a-secret-of-this-deployment")
        .verify(token)
        .expect("signed with the configured secret");
    assert!(
        Authenticator::hs256(LOCAL_HS256_SECRET)
            .verify(token)
            .is_err(),
        "not with the public development secret"
    );

    let (status, body) = submit_with(addr, token);
    assert_eq!(status, 400, "its own token is accepted: {body}");
    let (status, body) = submit_with(addr, &development_token());
    assert_eq!(
        status, 401,
        "a token signed with the development secret is refused: {body}"
    );
}

#[test]
fn with_only_a_public_key_the_server_verifies_and_issues_nothing() {
    let mut server = spawn(&[
        ("TABLE_NAME", "secret-test"),
        ("JWT_PUBLIC_KEY_PEM", PUBLIC_KEY_PEM),
    ]);
    let addr = listening(&mut server).expect("it starts");

    let (status, answer) = token_request(addr);
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"], "unsupported_grant_type", "{answer}");
    assert!(answer.get("access_token").is_none(), "{answer}");
    let description = answer["error_description"].as_str().unwrap_or_default();
    assert!(description.contains("JWT_HS256_SECRET"), "{answer}");

    let (status, body) = submit_with(addr, &development_token());
    assert_eq!(status, 401, "{body}");
}

#[test]
fn without_a_table_the_development_secret_serves_the_demo_data() {
    let mut server = spawn(&[]);
    let addr = listening(&mut server).expect("it starts");

    let (status, answer) = token_request(addr);
    assert_eq!(status, 200, "{answer}");
    let token = answer["access_token"].as_str().expect("an access token");
    Authenticator::hs256(LOCAL_HS256_SECRET)
        .verify(token)
        .expect("signed with the development secret");
    let (status, body) = submit_with(addr, &development_token());
    assert_eq!(status, 400, "{body}");
}
