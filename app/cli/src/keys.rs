//! Keypair files in the Solana CLI's format: a JSON array of the 64 secret and
//! public key bytes, by default at `~/.config/solana/id.json`.

use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Where the Solana CLI keeps the default keypair.
pub fn default_keypair_path() -> PathBuf {
    let home = std::env::var_os("HOME").unwrap_or_default();
    Path::new(&home).join(".config/solana/id.json")
}

/// Read the keypair at `path`; the message names the path and what to do.
pub fn read_keypair(path: &Path) -> Result<Keypair, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!("--keypair {shown}: {e} (create one with `upline keygen --outfile {shown}`)")
    })?;
    let bytes: Vec<u8> = serde_json::from_str(&text)
        .map_err(|_| format!("--keypair {shown}: not a keypair file (a JSON array of 64 bytes)"))?;
    let keypair = Keypair::try_from(bytes.as_slice())
        .map_err(|e| format!("--keypair {shown}: not a valid keypair: {e}"))?;
    Ok(keypair)
}

/// Write `keypair` to `path` (owner-only permissions), refusing to replace a file.
pub fn write_keypair(path: &Path, keypair: &Keypair) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let shown = path.display();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("--outfile {shown}: {e}"))?;
    let bytes: Vec<u8> = keypair.to_bytes().to_vec();
    let text = serde_json::to_string(&bytes).map_err(|e| e.to_string())?;
    file.write_all(text.as_bytes())
        .map_err(|e| format!("--outfile {shown}: {e}"))
}

/// A wallet address given as `flag`: a base-58 public key or a keypair file.
pub fn parse_wallet(text: &str, flag: &str) -> Result<Pubkey, String> {
    if let Ok(key) = Pubkey::from_str(text.trim()) {
        return Ok(key);
    }
    let path = Path::new(text);
    if path.exists() {
        return read_keypair(path).map(|k| k.pubkey());
    }
    Err(format!(
        "{flag} {text:?}: not a base-58 address or a keypair file"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_keypair_reads_back_and_is_not_overwritten() {
        let dir = std::env::temp_dir().join(format!("upline-keys-{}", std::process::id()));
        let path = dir.join("id.json");
        let _ = std::fs::remove_file(&path);
        let keypair = Keypair::new();
        write_keypair(&path, &keypair).unwrap();
        assert_eq!(read_keypair(&path).unwrap().pubkey(), keypair.pubkey());
        let again = write_keypair(&path, &Keypair::new()).unwrap_err();
        assert!(again.contains("--outfile"), "{again}");
        assert_eq!(
            parse_wallet(path.to_str().unwrap(), "--wallet").unwrap(),
            keypair.pubkey()
        );
        std::fs::write(&path, "[1,2,3]").unwrap();
        let short = read_keypair(&path).unwrap_err();
        assert!(short.contains("not a valid keypair"), "{short}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_keypair_names_the_path_and_the_fix() {
        let err = read_keypair(Path::new("/nonexistent/id.json")).unwrap_err();
        assert!(err.starts_with("--keypair /nonexistent/id.json:"), "{err}");
        assert!(err.contains("upline keygen"), "{err}");
        let err = parse_wallet("not-a-key", "--referrer").unwrap_err();
        assert!(err.starts_with("--referrer \"not-a-key\""), "{err}");
    }
}
