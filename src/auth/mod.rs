//! Authentication: AK/SK signatures and tokens, each bound to one project.

pub mod credentials;
pub mod signature;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::http::HeaderMap;
use serde::Serialize;

use crate::auth::credentials::{generate_access_key, generate_secret_key, generate_token, hash_token, MasterKey, TOKEN_PREFIX};
use crate::auth::signature::{Authorization, CanonicalInput, CONTENT_SHA256_HEADER, DATE_HEADER, UNSIGNED_PAYLOAD};
use crate::catalogue::fields::ProjectId;
use crate::clock::now_ms;
use crate::error::{Error, Result};
use crate::storage::{Store, StoredAccessKey, StoredToken};

/// How far `X-Sdk-Date` may be from the server clock, either way.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

/// A new access key, shown once to whoever created it.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedAccessKey {
    pub access: String,
    pub secret: String,
    pub project_id: String,
}

/// A new token, shown once to whoever created it.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedToken {
    pub token: String,
    pub project_id: String,
    /// UTC milliseconds since the epoch.
    pub expires_at: i64,
}

/// The parts of a request that authentication reads.
pub struct RequestParts<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Issues and verifies credentials.
#[derive(Clone)]
pub struct Authenticator {
    store: Arc<dyn Store>,
    master_key: MasterKey,
    tokens: Arc<TokenCache>,
}

/// A token found in the store: its project and expiry time (UTC milliseconds).
#[derive(Debug, Clone)]
struct VerifiedToken {
    project: ProjectId,
    expires_at: i64,
}

fn check_expiry(token: VerifiedToken, now: i64) -> Result<ProjectId> {
    if token.expires_at <= now {
        return Err(Error::TokenExpired);
    }
    Ok(token.project)
}

/// How long a verified token is served from memory before the store is read again.
const TOKEN_CACHE_TTL_MS: i64 = 60_000;

/// The maximum number of tokens kept in memory. A full cache starts over.
const TOKEN_CACHE_MAX_ENTRIES: usize = 10_000;

/// Recently verified tokens by hash, so that a request does not cost a
/// database read for its credential. Only tokens found in the store are kept,
/// so unknown tokens cannot fill it.
// NOTE: tokens cannot be revoked yet. A revocation command must clear this
// cache or accept that a revoked token works for up to TOKEN_CACHE_TTL_MS.
#[derive(Default)]
struct TokenCache {
    entries: Mutex<HashMap<String, (VerifiedToken, i64)>>,
}

impl TokenCache {
    fn get(&self, token_hash: &str, now: i64) -> Option<VerifiedToken> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(token_hash)
            .filter(|(_, cached_until)| now < *cached_until)
            .map(|(token, _)| token.clone())
    }

    fn insert(&self, token_hash: String, token: VerifiedToken, now: i64) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= TOKEN_CACHE_MAX_ENTRIES {
            entries.clear();
        }
        let cached_until = now.saturating_add(TOKEN_CACHE_TTL_MS);
        entries.insert(token_hash, (token, cached_until));
    }
}

fn reject(reason: impl Into<String>) -> Error {
    Error::SignatureRejected(reason.into())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

impl Authenticator {
    pub fn new(store: Arc<dyn Store>, master_key: MasterKey) -> Self {
        Authenticator { store, master_key, tokens: Arc::default() }
    }

    /// Creates an access key for a project; the secret key is stored encrypted.
    pub async fn issue_access_key(&self, project_id: &ProjectId) -> Result<IssuedAccessKey> {
        let access = generate_access_key();
        let secret = generate_secret_key();
        self.store
            .insert_access_key(&StoredAccessKey {
                access_key: access.clone(),
                project_id: project_id.to_string(),
                secret_ciphertext: self.master_key.encrypt(&secret),
                create_at: now_ms(),
            })
            .await?;
        Ok(IssuedAccessKey { access, secret, project_id: project_id.to_string() })
    }

    /// Creates a token for a project, valid for `ttl`; only its hash is stored.
    pub async fn issue_token(&self, project_id: &ProjectId, ttl: Duration) -> Result<IssuedToken> {
        let token = generate_token();
        let now = now_ms();
        let expires_at = now.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX));
        self.store
            .insert_token(&StoredToken {
                token_hash: hash_token(&token),
                project_id: project_id.to_string(),
                expires_at,
                create_at: now,
            })
            .await?;
        Ok(IssuedToken { token, project_id: project_id.to_string(), expires_at })
    }

    /// Tells whether any project has an access key.
    pub async fn has_access_keys(&self) -> Result<bool> {
        Ok(self.store.oldest_access_key().await?.is_some())
    }

    /// Authenticates a request by its `X-Auth-Token` or its AK/SK signature.
    /// Returns the project the credential belongs to.
    pub async fn authenticate(&self, request: &RequestParts<'_>) -> Result<ProjectId> {
        if let Some(token) = request.headers.get("x-auth-token") {
            let token = token.to_str().map_err(|_| Error::TokenInvalid)?;
            return self.verify_token(token).await;
        }
        if let Some(authorization) = request.headers.get("authorization") {
            let authorization = authorization
                .to_str()
                .map_err(|_| reject("The Authorization header is not valid ASCII."))?;
            return self.verify_signature(authorization, request).await;
        }
        Err(Error::MissingCredentials)
    }

    async fn verify_token(&self, token: &str) -> Result<ProjectId> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Err(Error::TokenInvalid);
        }
        let token_hash = hash_token(token);
        let now = now_ms();
        if let Some(cached) = self.tokens.get(&token_hash, now) {
            return check_expiry(cached, now);
        }

        let stored = self.store.find_token(&token_hash).await?.ok_or(Error::TokenInvalid)?;
        let project = ProjectId::parse(&stored.project_id).map_err(|_| Error::TokenInvalid)?;
        let verified = VerifiedToken { project, expires_at: stored.expires_at };
        self.tokens.insert(token_hash, verified.clone(), now);
        check_expiry(verified, now)
    }

    async fn verify_signature(&self, authorization: &str, request: &RequestParts<'_>) -> Result<ProjectId> {
        let authorization = Authorization::parse(authorization).map_err(|reason| reject(format!("{reason}.")))?;

        let sdk_date = header(request.headers, DATE_HEADER).ok_or_else(|| reject("The X-Sdk-Date header is missing."))?;
        let signed_at = signature::parse_sdk_date(sdk_date)
            .ok_or_else(|| reject(format!("X-Sdk-Date '{sdk_date}' is not in the form YYYYMMDDTHHMMSSZ.")))?;
        let skew = (time::OffsetDateTime::now_utc() - signed_at).unsigned_abs();
        if skew > MAX_CLOCK_SKEW {
            return Err(reject(format!(
                "X-Sdk-Date '{sdk_date}' is more than 15 minutes from the server clock; check the client's clock."
            )));
        }
        if !authorization.signed_headers.iter().any(|name| name == DATE_HEADER) {
            return Err(reject("SignedHeaders must include x-sdk-date."));
        }

        let mut signed = Vec::with_capacity(authorization.signed_headers.len());
        for name in &authorization.signed_headers {
            let value = header(request.headers, name)
                .ok_or_else(|| reject(format!("The signed header '{name}' is missing from the request.")))?;
            signed.push((name.clone(), value.to_owned()));
        }
        let payload_hash = if !request.body.is_empty() && header(request.headers, CONTENT_SHA256_HEADER) == Some(UNSIGNED_PAYLOAD) {
            UNSIGNED_PAYLOAD.to_owned()
        } else {
            signature::sha256_hex(request.body)
        };
        let canonical = signature::canonical_request(&CanonicalInput {
            method: request.method,
            path: request.path,
            query: request.query,
            headers: &signed,
            signed_headers_raw: &authorization.signed_headers_raw,
            payload_hash: &payload_hash,
        });

        let stored = self
            .store
            .find_access_key(&authorization.access)
            .await?
            .ok_or_else(|| reject(format!("The access key '{}' is unknown.", authorization.access)))?;
        let secret = self.master_key.decrypt(&stored.secret_ciphertext).map_err(Error::Internal)?;
        if !signature::verify(&secret, &signature::string_to_sign(sdk_date, &canonical), &authorization.signature) {
            return Err(reject("The signature does not match the request; sign it again with the right secret key."));
        }
        ProjectId::parse(&stored.project_id).map_err(|_| reject("The access key belongs to no valid project."))
    }
}
