//! Passwords (argon2id, hashed off the async threads), bearer tokens (256
//! random bits, stored only as their SHA-256) and the role check.

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use rand::RngExt;
use sha2::{Digest, Sha256};

use super::app::AppState;
use super::error::ApiError;
use crate::domain::{Role, User};

pub async fn hash_password(password: String) -> String {
    tokio::task::spawn_blocking(move || {
        // Argon2id with the crate's recommended parameters and a random salt.
        let hash: PasswordHash = Argon2::default()
            .hash_password(password.as_bytes())
            .expect("argon2 hashes any password");
        hash.to_string()
    })
    .await
    .expect("hashing does not panic")
}

/// Checks a password against a stored hash; a malformed hash never matches.
pub async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// A new bearer token and the hash under which it is stored.
pub fn new_token() -> (String, Vec<u8>) {
    let bytes: [u8; 32] = rand::rng().random();
    let token = hex::encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The token of `Authorization: Bearer TOKEN`, if well formed (the
/// scheme's name in any case, as HTTP's authentication schemes are).
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let (scheme, token) = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .split_once(' ')?;
    Some(token.trim()).filter(|t| scheme.eq_ignore_ascii_case("bearer") && !t.is_empty())
}

/// The caller, from `Authorization: Bearer TOKEN`; 401 without a valid
/// one. With their session, which a live stream keeps renewing.
pub struct Caller(pub User, pub Session);

pub struct Session {
    pub token_hash: Vec<u8>,
    pub expires: DateTime<Utc>,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let token = bearer(&parts.headers).ok_or_else(ApiError::unauthorized)?;
        let hash = token_hash(token);
        let now = state.clock.now();
        let (user, expires) = state
            .store
            .session_user(&hash, now)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        let expires = renew_session(state, &hash, expires, now).await?;
        Ok(Caller(
            user,
            Session {
                token_hash: hash,
                expires,
            },
        ))
    }
}

/// A session ends `session_ttl` after its last use, not after the login: a
/// board on the wall all day stays signed in, a token left unused does not.
/// Renewed once half of it is spent, so a token in use costs one write
/// every 6 h rather than one a request. The session's end as it stands.
pub async fn renew_session(
    state: &AppState,
    hash: &[u8],
    expires: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, ApiError> {
    if expires - now >= state.session_ttl / 2 {
        return Ok(expires);
    }
    let until = now + state.session_ttl;
    state.store.extend_session(hash, until, now).await?;
    Ok(until)
}

/// A caller who is a supervisor or an admin; 403 for anyone else. An
/// extractor, so the role is checked before the body is read: an agent
/// learns they may not, not what was wrong with what they sent.
pub struct Supervisor(pub User);

impl FromRequestParts<AppState> for Supervisor {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Supervisor, ApiError> {
        let Caller(user, _) = Caller::from_request_parts(parts, state).await?;
        match user.role {
            Role::Supervisor | Role::Admin => Ok(Supervisor(user)),
            Role::Agent => Err(ApiError::forbidden("do this: supervisors and admins only")),
        }
    }
}
