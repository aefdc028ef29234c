//! Access keys and tokens: how they are generated and how they are kept.
//! Tokens are stored as SHA-256 hashes. Secret keys must be recoverable to
//! verify HMAC signatures, so they are stored encrypted with AES-256-GCM under
//! a master key that lives in a file only the service reads.

use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::{bail, Context};
use base64::Engine;
use rand::distributions::{Alphanumeric, DistString};
use rand::RngCore;

use crate::auth::signature::sha256_hex;

const NONCE_BYTES: usize = 12;
const MASTER_KEY_BYTES: usize = 32;
/// Prefix of every token, so that a leaked token is easy to recognise in a scan.
pub const TOKEN_PREFIX: &str = "easel_";

/// The key that encrypts stored secret keys.
#[derive(Clone)]
pub struct MasterKey(Aes256Gcm);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// Reads the master key from `path`, creating the file with a random key
    /// and owner-only permissions when it does not exist.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("Failed to create the directory of the master key file {}", parent.display()))?;
        }

        match std::fs::read(path) {
            Ok(contents) => Self::from_file_contents(&contents)
                .with_context(|| format!("Failed to read the master key file {}", path.display())),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                Self::create(path).with_context(|| format!("Failed to create the master key file {}", path.display()))
            }
            Err(err) => Err(err).with_context(|| format!("Failed to read the master key file {}", path.display())),
        }
    }

    fn from_file_contents(contents: &[u8]) -> anyhow::Result<Self> {
        let text = std::str::from_utf8(contents).context("the master key file is not text")?;
        let bytes = hex::decode(text.trim()).context("the master key file is not hexadecimal")?;
        if bytes.len() != MASTER_KEY_BYTES {
            bail!("the master key is {} bytes long; expected {MASTER_KEY_BYTES}", bytes.len());
        }
        Ok(MasterKey(Aes256Gcm::new_from_slice(&bytes)?))
    }

    fn create(path: &Path) -> anyhow::Result<Self> {
        let mut bytes = [0u8; MASTER_KEY_BYTES];
        rand::thread_rng().fill_bytes(&mut bytes);

        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                file.write_all(hex::encode(bytes).as_bytes())?;
                file.sync_all()?;
                Ok(MasterKey(Aes256Gcm::new_from_slice(&bytes)?))
            }
            // Another process created it first: use theirs.
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                Self::from_file_contents(&std::fs::read(path)?)
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Encrypts a secret key; the output is the nonce followed by the ciphertext.
    pub fn encrypt(&self, secret: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .0
            .encrypt(Nonce::from_slice(&nonce), secret.as_bytes())
            .expect("AES-GCM encryption of a short secret does not fail");
        [nonce.as_slice(), &ciphertext].concat()
    }

    /// Decrypts what [`MasterKey::encrypt`] produced.
    pub fn decrypt(&self, stored: &[u8]) -> anyhow::Result<String> {
        if stored.len() <= NONCE_BYTES {
            bail!("the stored secret key is too short to be a ciphertext");
        }
        let (nonce, ciphertext) = stored.split_at(NONCE_BYTES);
        let plaintext = self
            .0
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| anyhow::anyhow!("the stored secret key does not decrypt with this master key"))?;
        Ok(String::from_utf8(plaintext)?)
    }
}

/// Creates an access key id: 20 upper-case letters and digits, as the cloud issues them.
pub fn generate_access_key() -> String {
    Alphanumeric.sample_string(&mut rand::thread_rng(), 20).to_ascii_uppercase()
}

/// Creates a secret key: 40 letters and digits.
pub fn generate_secret_key() -> String {
    Alphanumeric.sample_string(&mut rand::thread_rng(), 40)
}

/// Creates a token: the prefix and 32 random bytes in URL-safe base64.
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Returns the hash under which a token is stored and looked up.
pub fn hash_token(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_key_encrypts_and_decrypts_and_persists() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/master.key");
        let key = MasterKey::load_or_create(&path).unwrap();
        let stored = key.encrypt("s3cret");
        assert_ne!(stored, b"s3cret");

        let reloaded = MasterKey::load_or_create(&path).unwrap();
        assert_eq!(reloaded.decrypt(&stored).unwrap(), "s3cret");
    }

    #[cfg(unix)]
    #[test]
    fn master_key_file_is_readable_only_by_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        MasterKey::load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn tokens_are_unique_and_hashed() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), hash_token(&b));
    }
}
