//! The Solana CLI's configuration, `~/.config/solana/cli/config.yml`: the
//! default URL, keypair and commitment of every cluster command, as the
//! `solana` command reads them (flags override it; no file, no defaults).

use std::path::{Path, PathBuf};

/// What config.yml sets (the keys `upline` uses; others are ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SolanaConfig {
    pub json_rpc_url: Option<String>,
    pub keypair_path: Option<PathBuf>,
    pub commitment: Option<String>,
}

/// Where the Solana CLI keeps its configuration.
pub fn default_path() -> PathBuf {
    let home = std::env::var_os("HOME").unwrap_or_default();
    Path::new(&home).join(".config/solana/cli/config.yml")
}

/// The configuration at [`default_path`]: `None` if there is no file, an
/// error naming the file if it cannot be read or is malformed.
pub fn load() -> Result<Option<SolanaConfig>, String> {
    load_from(&default_path())
}

/// The configuration at `path` (see [`load`]).
pub fn load_from(path: &Path) -> Result<Option<SolanaConfig>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    parse(&text).map(Some).map_err(|e| {
        format!(
            "{}: {e} (the Solana CLI's config; fix or remove it, or pass --url and --keypair)",
            path.display()
        )
    })
}

/// Parse config.yml: a YAML mapping of `key: value` lines. Nested mappings
/// (`address_labels`) are skipped.
pub fn parse(text: &str) -> Result<SolanaConfig, String> {
    let mut config = SolanaConfig::default();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim_end();
        if trimmed.trim().is_empty()
            || trimmed.trim_start().starts_with('#')
            || trimmed == "---"
            || trimmed == "..."
        {
            continue;
        }
        let nested = raw.starts_with(' ') || raw.starts_with('\t');
        let Some((key, value)) = trimmed.split_once(':') else {
            return Err(format!(
                "line {line}: expected `key: value`, found {trimmed:?}"
            ));
        };
        if nested {
            continue;
        }
        let key = key.trim();
        if key.is_empty() || key.contains(' ') {
            return Err(format!(
                "line {line}: expected `key: value`, found {trimmed:?}"
            ));
        }
        let value = unquote(value.trim()).map_err(|e| format!("line {line}: {e}"))?;
        let value = (!value.is_empty()).then_some(value);
        match key {
            "json_rpc_url" => config.json_rpc_url = value,
            "keypair_path" => config.keypair_path = value.map(PathBuf::from),
            "commitment" => {
                if let Some(c) = &value {
                    if !["processed", "confirmed", "finalized"].contains(&c.as_str()) {
                        return Err(format!(
                            "line {line}: commitment {c:?} is not processed, confirmed or finalized"
                        ));
                    }
                }
                config.commitment = value;
            }
            _ => {}
        }
    }
    Ok(config)
}

fn unquote(value: &str) -> Result<String, String> {
    for quote in ['"', '\''] {
        if let Some(rest) = value.strip_prefix(quote) {
            return rest
                .strip_suffix(quote)
                .map(str::to_string)
                .ok_or_else(|| format!("unterminated quote in {value:?}"));
        }
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_solana_cli_format() {
        let text = "---\njson_rpc_url: \"https://api.devnet.solana.com\"\nwebsocket_url: \"\"\nkeypair_path: /home/me/.config/solana/id.json\naddress_labels:\n  \"11111111111111111111111111111111\": System Program\ncommitment: finalized\n";
        let config = parse(text).unwrap();
        assert_eq!(
            config.json_rpc_url.as_deref(),
            Some("https://api.devnet.solana.com")
        );
        assert_eq!(
            config.keypair_path,
            Some(PathBuf::from("/home/me/.config/solana/id.json"))
        );
        assert_eq!(config.commitment.as_deref(), Some("finalized"));
    }

    #[test]
    fn malformed_lines_are_named() {
        let err = parse("json_rpc_url: 'http://x\n").unwrap_err();
        assert!(err.starts_with("line 1: unterminated quote"), "{err}");
        let err = parse("---\nnot yaml at all\n").unwrap_err();
        assert!(err.starts_with("line 2: expected `key: value`"), "{err}");
        let err = parse("commitment: max\n").unwrap_err();
        assert!(
            err.contains("not processed, confirmed or finalized"),
            "{err}"
        );
    }
}
