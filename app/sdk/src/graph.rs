//! The referral graph as clients and auditors see it: recounting what the
//! program stores.

use anchor_lang::prelude::Pubkey;
use std::collections::HashMap;
use upline::constants::MAX_REFERRAL_DEPTH;
use upline::state::Member;

/// Downline counts per level recounted from the members' stored referrers, for
/// comparison with the counts the program keeps. Fails if a referrer is not
/// among `members` or a member appears in its own upline.
pub fn recount_downline<'a>(
    members: impl IntoIterator<Item = &'a Member>,
) -> Result<HashMap<Pubkey, [u32; MAX_REFERRAL_DEPTH]>, String> {
    let by_wallet: HashMap<Pubkey, &Member> = members.into_iter().map(|m| (m.wallet, m)).collect();
    let mut counted: HashMap<Pubkey, [u32; MAX_REFERRAL_DEPTH]> = by_wallet
        .keys()
        .map(|w| (*w, [0; MAX_REFERRAL_DEPTH]))
        .collect();
    for member in by_wallet.values() {
        let mut above = member.referrer;
        for level in 0..MAX_REFERRAL_DEPTH {
            if above == Pubkey::default() {
                break;
            }
            if above == member.wallet {
                return Err(format!("{} is in its own upline", member.wallet));
            }
            let Some(next) = by_wallet.get(&above) else {
                return Err(format!(
                    "referrer {above} of {} is not a listed member",
                    member.wallet
                ));
            };
            if let Some(count) = counted.get_mut(&above) {
                count[level] += 1;
            }
            above = next.referrer;
        }
    }
    Ok(counted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use upline::state::MemberFlags;

    fn member(wallet: Pubkey, referrer: Pubkey) -> Member {
        let mut m = Member::new(Pubkey::default(), wallet, 255, 0, MemberFlags::default(), 1);
        m.referrer = referrer;
        m
    }

    #[test]
    fn counts_three_levels_and_refuses_broken_graphs() {
        let [a, b, c, d, e] = [(); 5].map(|_| Pubkey::new_unique());
        let none = Pubkey::default();
        let chain = [
            member(a, none),
            member(b, a),
            member(c, b),
            member(d, c),
            member(e, d),
        ];
        let counted = recount_downline(&chain).expect("a chain");
        assert_eq!(counted[&a], [1, 1, 1], "e is four levels below a");
        assert_eq!(counted[&d], [1, 0, 0]);
        assert_eq!(counted[&e], [0, 0, 0]);

        let orphan = [member(b, a)];
        assert!(recount_downline(&orphan)
            .expect_err("a is not listed")
            .contains("not a listed member"));
        let cycle = [member(a, b), member(b, a)];
        assert!(recount_downline(&cycle)
            .expect_err("a cycle")
            .contains("own upline"));
    }
}
