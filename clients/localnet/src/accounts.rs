//! Initial accounts from JSON files in the format `solana account ADDRESS
//! --output json` writes, so a demo can start from a prepared state.

use base64::Engine;
use serde::Deserialize;
use solana_sdk::{account::Account, pubkey::Pubkey};
use std::{path::Path, str::FromStr};

/// Why an account file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum AccountFileError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not the expected JSON.
    #[error("{path}: not a `solana account --output json` file: {reason}")]
    Format {
        /// The file.
        path: String,
        /// What was wrong.
        reason: String,
    },
}

#[derive(Deserialize)]
struct AccountFile {
    pubkey: String,
    account: AccountJson,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountJson {
    lamports: u64,
    data: (String, String),
    owner: String,
    executable: bool,
    #[serde(default)]
    rent_epoch: u64,
}

/// Reads one account file: its address and account.
pub fn load_account_file(path: &Path) -> Result<(Pubkey, Account), AccountFileError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| AccountFileError::Read {
        path: name.clone(),
        source,
    })?;
    let format = |reason: String| AccountFileError::Format {
        path: name.clone(),
        reason,
    };
    let file: AccountFile = serde_json::from_str(&text).map_err(|e| format(e.to_string()))?;
    let pubkey = Pubkey::from_str(&file.pubkey).map_err(|e| format(format!("pubkey: {e}")))?;
    let owner = Pubkey::from_str(&file.account.owner).map_err(|e| format(format!("owner: {e}")))?;
    let (encoded, encoding) = &file.account.data;
    let data = match encoding.as_str() {
        "base64" => base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| format(format!("data: {e}")))?,
        "base58" => bs58::decode(encoded)
            .into_vec()
            .map_err(|e| format(format!("data: {e}")))?,
        other => return Err(format(format!("unsupported data encoding {other:?}"))),
    };
    Ok((
        pubkey,
        Account {
            lamports: file.account.lamports,
            data,
            owner,
            executable: file.account.executable,
            rent_epoch: file.account.rent_epoch,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_cli_format_and_refuses_others() {
        let dir = std::env::temp_dir().join(format!("depinkit-accounts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = Pubkey::new_unique();
        let owner = Pubkey::new_unique();
        let good = dir.join("good.json");
        std::fs::write(
            &good,
            format!(
                r#"{{"pubkey":"{key}","account":{{"lamports":42,"data":["AQID","base64"],
                "owner":"{owner}","executable":false,"rentEpoch":18446744073709551615,"space":3}}}}"#
            ),
        )
        .unwrap();
        let (address, account) = load_account_file(&good).unwrap();
        assert_eq!(address, key);
        assert_eq!(account.data, vec![1, 2, 3]);
        assert_eq!(account.lamports, 42);
        assert_eq!(account.owner, owner);
        let bad = dir.join("bad.json");
        std::fs::write(&bad, r#"{"pubkey":"nope"}"#).unwrap();
        assert!(matches!(
            load_account_file(&bad),
            Err(AccountFileError::Format { .. })
        ));
        assert!(matches!(
            load_account_file(&dir.join("missing.json")),
            Err(AccountFileError::Read { .. })
        ));
    }
}
