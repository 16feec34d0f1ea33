//! The referral graph as clients and auditors see it: recounting what the
//! program stores.

use anchor_lang::prelude::Pubkey;
use std::collections::HashMap;
use upline::constants::MAX_REFERRAL_DEPTH;
use upline::state::Member;

/// Downline counts per level recounted from the members' stored referrers
/// (member accounts), keyed by member account, for comparison with the counts
/// the program keeps. Fails if a referrer is not among `members` or a member
/// appears in its own upline.
pub fn recount_downline<'a>(
    members: impl IntoIterator<Item = (&'a Pubkey, &'a Member)>,
) -> Result<HashMap<Pubkey, [u32; MAX_REFERRAL_DEPTH]>, String> {
    let by_address: HashMap<Pubkey, &Member> = members.into_iter().map(|(a, m)| (*a, m)).collect();
    let mut counted: HashMap<Pubkey, [u32; MAX_REFERRAL_DEPTH]> = by_address
        .keys()
        .map(|a| (*a, [0; MAX_REFERRAL_DEPTH]))
        .collect();
    for (address, member) in &by_address {
        let mut above = member.referrer;
        for level in 0..MAX_REFERRAL_DEPTH {
            if above == Pubkey::default() {
                break;
            }
            if above == *address {
                return Err(format!("{address} is in its own upline"));
            }
            let Some(next) = by_address.get(&above) else {
                return Err(format!(
                    "referrer {above} of {address} is not a listed member"
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
        let keyed = |list: &[Member]| -> Vec<(Pubkey, Member)> {
            list.iter().map(|m| (m.wallet, m.clone())).collect()
        };
        let chain = keyed(&chain);
        let counted = recount_downline(chain.iter().map(|(a, m)| (a, m))).expect("a chain");
        assert_eq!(counted[&a], [1, 1, 1], "e is four levels below a");
        assert_eq!(counted[&d], [1, 0, 0]);
        assert_eq!(counted[&e], [0, 0, 0]);

        let orphan = keyed(&[member(b, a)]);
        assert!(recount_downline(orphan.iter().map(|(a, m)| (a, m)))
            .expect_err("a is not listed")
            .contains("not a listed member"));
        let cycle = keyed(&[member(a, b), member(b, a)]);
        assert!(recount_downline(cycle.iter().map(|(a, m)| (a, m)))
            .expect_err("a cycle")
            .contains("own upline"));
    }
}
