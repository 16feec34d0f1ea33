//! Aether's bandwidth reports (DESIGN.md §4.4): the node's reward, its stable
//! streak, the referrer's active referrals by epoch, the effective rate and the
//! subnet weight, all in work time.
//!
//! "Active referrals: referees with a valid report in the current or the
//! previous epoch": "current" is the epoch of the report's own work time (all
//! times in §4.4 are work times), also for a report whose work falls in an
//! epoch its referrer's other referees already left. Where reading it against
//! the newest epoch instead would give a different growth bonus, the report is
//! counted in `epoch_ambiguities`, so the generator can show it covers them.

use super::graph::Refusal;
use super::num::{dec, q_int, wad_floor, wad_q, Q};
use super::reports::{text, uint};
use super::state::{Model, Source};
use serde_json::Value;

fn step_bonus<T: PartialOrd + Copy>(value: T, steps: &[(T, Q)]) -> Q {
    steps
        .iter()
        .filter(|(at_least, _)| value >= *at_least)
        .map(|(_, bonus)| bonus.clone())
        .max()
        .unwrap_or_default()
}

impl Model {
    /// §8's bandwidth order: InvalidCoefficient, InvalidDemandMultiplier,
    /// UnknownMember, WrongClass, UnattestedNode, the stamp.
    pub fn bandwidth(&mut self, step: &Value) -> Result<(), Refusal> {
        let tables = self.tables.clone();
        let b = tables.bandwidth.as_ref().expect("bandwidth tables");
        let coefficient = |key: &str| dec(text(step, key)).expect("a decimal coefficient");
        let (q, s, ddm) = (
            coefficient("quality"),
            coefficient("stability"),
            coefficient("demand"),
        );
        let (zero, one) = (q_int(0), q_int(1));
        if !(zero <= q && q <= one && zero <= s && s <= one) {
            return Err("InvalidCoefficient");
        }
        if !(one <= ddm && ddm <= Q::new(3.into(), 2.into())) {
            return Err("InvalidDemandMultiplier");
        }
        let node = self.member(text(step, "node"))?;
        if self.members[node].class != b.class {
            return Err("WrongClass");
        }
        let Some(subnet) = self.members[node].subnet.clone() else {
            return Err("UnattestedNode");
        };
        let (id, time) = (uint(step, "id"), self.work_time(step));
        self.check_stamp(node, id, time)?;
        // A suppressed report is recorded (its id and work time) and pays nobody.
        self.record_stamp(node, id, time);
        if step.get("suppressed").and_then(Value::as_bool) == Some(true) {
            self.count("bandwidth suppressed");
            return Ok(());
        }

        // The node's streak, this report included.
        let streak_start = match self.members[node].streak {
            Some((start, last)) if time - last <= b.max_gap => start,
            Some(_) => {
                self.count("bandwidth streak restarted");
                time
            }
            None => time,
        };
        self.members[node].streak = Some((streak_start, time));
        let bytes = q_int(uint(step, "bytes") as i64);
        let gb = q_int(1_000_000_000);
        let reward = wad_floor(&(bytes / gb * &q * &s * &ddm * &b.reward_per_gb));
        self.credit(node, b.ledger, Source::Own, &reward);

        let Some(referrer) = self.members[node].referrer else {
            self.count("bandwidth without referrer");
            return Ok(());
        };
        // The referrer's active referrals, this report included.
        let epoch = time.div_euclid(b.epoch);
        let active = &mut self.members[referrer].active;
        active.entry(epoch).or_default().insert(node);
        let count = |e: i64| active.get(&e).map_or(0, |set| set.len() as u64);
        let literal = count(epoch).max(count(epoch - 1));
        let newest = *active.keys().next_back().expect("this epoch");
        let alternative = count(newest).max(count(newest - 1));
        let growth = step_bonus(literal, &b.growth);
        if growth != step_bonus(alternative, &b.growth) {
            self.epoch_ambiguities += 1;
        }
        let stability = step_bonus(time - streak_start, &b.stability);
        let early_node = if self.members[node].early_node {
            b.early_node.clone()
        } else {
            Q::default()
        };
        let early_member = if self.members[referrer].early_member {
            b.early_member.clone()
        } else {
            Q::default()
        };
        for (what, bonus) in [
            ("stability", &stability),
            ("growth", &growth),
            ("early node", &early_node),
            ("early member", &early_member),
        ] {
            if *bonus > Q::default() {
                self.count(format!("bandwidth {what} +{}%", bonus * q_int(100)));
            }
        }
        let rate =
            (&b.base_rate + &stability + &growth).min(b.cap.clone()) + early_node + early_member;
        let nodes = self.subnets[&subnet];
        let weight = if nodes <= 1 {
            q_int(1)
        } else if nodes <= b.subnet_limit {
            Q::new(1.into(), nodes.into())
        } else {
            q_int(0)
        };
        self.count(format!("bandwidth subnet weight {weight}"));
        let referral = wad_floor(&(wad_q(&reward) * rate * weight));
        self.credit(referrer, b.ledger, Source::Level(0), &referral);
        Ok(())
    }
}
