//! `upline idl`: the program's Anchor IDL, built natively (no anchor CLI, no
//! SBF toolchain): the program's `idl-build` test prints the IDL pieces and
//! anchor-lang-idl merges them, as `anchor build` does.

use std::path::{Path, PathBuf};

/// The workspace root: the nearest folder upward from `start` holding `Anchor.toml`.
pub fn workspace_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join("Anchor.toml").is_file())
        .map(Path::to_path_buf)
}

/// Build the IDL of the program at `root/programs/upline` and write it to
/// `root/target/idl/upline.json`; returns the path and the instruction count.
pub fn write_idl(root: &Path) -> Result<(PathBuf, usize), String> {
    // The builder runs `cargo test` itself and passes on this process's
    // environment: a toolchain pinned by rustup would send it into
    // `rustup toolchain install`; its own `RUSTFLAGS="-A warnings"` would
    // rebuild every dependency (an empty CARGO_ENCODED_RUSTFLAGS wins over it);
    // an inherited CARGO_MANIFEST_DIR makes build scripts rebuild.
    // The command is single-threaded here: `idl` starts no runtime.
    std::env::remove_var("RUSTUP_TOOLCHAIN");
    std::env::remove_var("CARGO_MANIFEST_DIR");
    std::env::set_var("CARGO_ENCODED_RUSTFLAGS", "");
    let program = root.join("programs/upline");
    let mut idl = anchor_lang_idl::build::IdlBuilder::new()
        .program_path(program)
        .resolution(true)
        .build()
        .map_err(|e| format!("building the IDL: {e}"))?;
    crate::idl_seeds::add_seeds(&mut idl);
    let text = serde_json::to_string_pretty(&idl).map_err(|e| e.to_string())?;
    let dir = root.join("target/idl");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join("upline.json");
    std::fs::write(&path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((path, idl.instructions.len()))
}
