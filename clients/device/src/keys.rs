//! A device's key: the ed25519 key that signs its reports and proves its
//! identity at onboarding. Kept in the Solana keypair file format (a JSON
//! array of the 32 secret and 32 public bytes), so `depin device onboard
//! --device-keypair FILE` and a bulk-onboarding CSV take the same files. The
//! key never leaves the device side: oracles only ever see its signatures.

use depinkit_reports::Key;
use ed25519_dalek::SigningKey;
use std::path::Path;

/// Why a key file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file cannot be read or written.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    /// It is not a keypair file.
    #[error("{0} is not a keypair file (a JSON array of 64 bytes)")]
    Format(String),
    /// Its public half does not belong to its secret half.
    #[error("{0}: its public key does not match its secret key")]
    Mismatch(String),
}

/// A device's signing key.
#[derive(Clone)]
pub struct DeviceKey(SigningKey);

impl DeviceKey {
    /// A new random key (from the operating system's entropy).
    pub fn generate() -> Self {
        DeviceKey(SigningKey::generate(&mut rand_core::OsRng))
    }

    /// The key with this 32-byte secret seed (tests and reproducible fleets).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        DeviceKey(SigningKey::from_bytes(&seed))
    }

    /// The public key, as reports name the device.
    pub fn public(&self) -> Key {
        Key(self.0.verifying_key().to_bytes())
    }

    /// The public key in base58 (how Solana tools print it).
    pub fn address(&self) -> String {
        self.public().to_string()
    }

    /// The signing key, for report and onboarding signatures.
    pub fn signing(&self) -> &SigningKey {
        &self.0
    }

    /// Reads a keypair file.
    pub fn read(path: &Path) -> Result<Self, KeyError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| KeyError::Io(name.clone(), e))?;
        let bytes: Vec<u8> =
            serde_json::from_str(&text).map_err(|_| KeyError::Format(name.clone()))?;
        let bytes: [u8; 64] = bytes
            .try_into()
            .map_err(|_| KeyError::Format(name.clone()))?;
        let key = SigningKey::from_keypair_bytes(&bytes).map_err(|_| KeyError::Mismatch(name))?;
        Ok(DeviceKey(key))
    }

    /// Writes a new keypair file (owner-only permissions); an existing file
    /// is never overwritten.
    pub fn write(&self, path: &Path) -> Result<(), KeyError> {
        use std::io::Write;
        let name = path.display().to_string();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options
            .open(path)
            .map_err(|e| KeyError::Io(name.clone(), e))?;
        let text = serde_json::to_string(&self.0.to_keypair_bytes().to_vec()).expect("json");
        file.write_all(text.as_bytes())
            .map_err(|e| KeyError::Io(name, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_keypair_files_and_are_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.json");
        let key = DeviceKey::generate();
        key.write(&path).unwrap();
        assert_eq!(DeviceKey::read(&path).unwrap().public(), key.public());
        assert!(key.write(&path).is_err(), "never overwritten");
        std::fs::write(dir.path().join("bad.json"), "[1,2,3]").unwrap();
        assert!(matches!(
            DeviceKey::read(&dir.path().join("bad.json")),
            Err(KeyError::Format(_))
        ));
        assert_ne!(DeviceKey::generate().public(), key.public());
    }
}
