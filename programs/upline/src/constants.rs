//! Seeds and limits. Every PDA seed is a named constant so clients and tests
//! derive the same addresses the program checks.

/// Network PDA: `[NETWORK_SEED, creator, name]`, the name zero-padded to 32 bytes.
pub const NETWORK_SEED: &[u8] = b"network";
/// Ledger PDA: `[LEDGER_SEED, network, [index]]`.
pub const LEDGER_SEED: &[u8] = b"ledger";
/// Vault token account PDA: `[VAULT_SEED, ledger]`, owned by the ledger PDA.
pub const VAULT_SEED: &[u8] = b"vault";
/// Member PDA: `[MEMBER_SEED, network, wallet, [class]]`: one membership per
/// class of a network for a wallet (DESIGN.md §3 rule 6).
pub const MEMBER_SEED: &[u8] = b"member";
/// Reward tables PDA: `[REWARD_TABLES_SEED, network]`.
pub const REWARD_TABLES_SEED: &[u8] = b"rewards";
/// Oracle PDA: `[ORACLE_SEED, network, authority]`.
pub const ORACLE_SEED: &[u8] = b"oracle";
/// Model PDA: `[MODEL_SEED, network, name]`, the name zero-padded to 32 bytes.
pub const MODEL_SEED: &[u8] = b"model";
/// Device PDA: `[DEVICE_SEED, network, fingerprint hash]`.
pub const DEVICE_SEED: &[u8] = b"device";
/// Subnet PDA: `[SUBNET_SEED, network, subnet hash]`.
pub const SUBNET_SEED: &[u8] = b"subnet";

/// Longest network name in bytes (it is a PDA seed, so at most 32).
pub const MAX_NETWORK_NAME_LEN: usize = 32;
/// Longest ledger or class name in bytes.
pub const MAX_LABEL_LEN: usize = 16;
/// Member classes per network (user, provider, account, node...).
pub const MAX_CLASSES: usize = 4;
/// Ledgers per network; each member carries one slot per ledger.
pub const MAX_LEDGERS: usize = 4;
/// Levels of upline a commission schedule can pay (DESIGN.md §3).
pub const MAX_REFERRAL_DEPTH: usize = 3;
/// Days of rolling credit history kept per member and ledger.
pub const HISTORY_DAYS: usize = 30;
/// Seconds in a history day.
pub const SECONDS_PER_DAY: i64 = 86_400;
/// How far one report id may move past the member's last one: 2^48, room for
/// sequence numbers and millisecond-timestamp ids, while pushing an id to
/// `u64::MAX` (which would block the member's later reports) takes at least
/// 65,536 reports.
pub const MAX_REPORT_ID_STEP: u64 = 1 << 48;
/// Shortest activity epoch the tables accept (Aether counts active referrals
/// per epoch). With epochs of at least an hour the u32 epoch numbers a member
/// stores cannot overflow for hundreds of thousands of years.
pub const MIN_EPOCH_SECONDS: i64 = 3_600;

/// Default oldest work time a report may carry, relative to the clock: 7 days.
pub const DEFAULT_MAX_REPORT_AGE: i64 = 7 * SECONDS_PER_DAY;
