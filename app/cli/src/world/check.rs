//! A scenario checked before anything runs: every name, class, model, tier
//! and ledger it uses, so that a malformed file fails with a message naming
//! the step or member instead of half-running.

use super::{tier, World};
use crate::report_args::{endpoint, ppm, service};
use crate::scenario::{MemberEntry, Op, Scenario, ScenarioError};

impl World {
    /// Check names, classes, models and ledgers (of the steps and of the
    /// `expect` block) before anything runs, so that a malformed scenario fails
    /// with a message instead of half-running.
    pub fn check(&self, scenario: &Scenario) -> Result<(), ScenarioError> {
        let mut known: Vec<&str> = Vec::new();
        let member_ok = |entry: &MemberEntry, known: &[&str], what: &str| -> Result<(), String> {
            if self.class_of(entry).is_none() {
                let classes: Vec<&str> = self
                    .preset
                    .classes
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect();
                return Err(match &entry.class {
                    Some(class) => format!(
                        "{what}: class {class:?} is not one of the {} classes",
                        self.preset.name
                    ),
                    None => format!(
                        "{what}: \"class\" is missing: the {} preset has classes {}",
                        self.preset.name,
                        classes.join(", ")
                    ),
                });
            }
            if known.contains(&entry.name.as_str()) {
                return Err(format!("{what}: member {:?} is declared twice", entry.name));
            }
            if let Some(referrer) = &entry.referrer {
                // Referring itself is left to the program to refuse.
                if referrer != &entry.name && !known.contains(&referrer.as_str()) {
                    return Err(format!(
                        "{what}: referrer {referrer:?} is not a member declared before it"
                    ));
                }
            }
            if let Some(t) = &entry.tier {
                tier(t)
                    .ok_or_else(|| format!("{what}: tier {t:?} is not standard, premium or vip"))?;
            }
            Ok(())
        };
        for entry in &scenario.members {
            member_ok(entry, &known, &format!("member {}", entry.name)).map_err(ScenarioError)?;
            known.push(&entry.name);
        }
        for (index, step) in scenario.steps.iter().enumerate() {
            let what = format!("step {index}");
            let need = |name: &str, known: &[&str]| -> Result<(), ScenarioError> {
                if known.contains(&name) {
                    Ok(())
                } else {
                    Err(ScenarioError(format!(
                        "{what}: {name:?} is not a member declared before this step"
                    )))
                }
            };
            let ledger = |name: &str| self.ledger_known(&what, name);
            match &step.op {
                Op::Join(entry) => {
                    member_ok(entry, &known, &what).map_err(ScenarioError)?;
                    known.push(&entry.name);
                }
                Op::SetReferrer(s) => {
                    need(&s.member, &known)?;
                    need(&s.referrer, &known)?;
                }
                Op::SetTier(s) => {
                    need(&s.member, &known)?;
                    tier(&s.tier).ok_or_else(|| {
                        ScenarioError(format!(
                            "{what}: tier {:?} is not standard, premium or vip",
                            s.tier
                        ))
                    })?;
                }
                Op::Promotion(p) => {
                    ppm(&p.rate, "rate").map_err(|e| ScenarioError(format!("{what}: {e}")))?;
                }
                Op::Fund(f) => ledger(&f.ledger)?,
                Op::Withdraw(w) => {
                    need(&w.member, &known)?;
                    ledger(&w.ledger)?;
                }
                Op::Compute(c) => {
                    need(&c.provider, &known)?;
                    service(&c.service).ok_or_else(|| {
                        ScenarioError(format!(
                            "{what}: service {:?} is not chat, tts, embeddings or scrape",
                            c.service
                        ))
                    })?;
                    self.preset.model_name(&c.model).ok_or_else(|| {
                        ScenarioError(format!(
                            "{what}: model {:?} is not in the {} registry",
                            c.model, self.preset.name
                        ))
                    })?;
                }
                Op::Usage(u) => {
                    need(&u.user, &known)?;
                    endpoint(&u.endpoint).ok_or_else(|| {
                        ScenarioError(format!(
                            "{what}: endpoint {:?} is not chat, embeddings, scrape or tts",
                            u.endpoint
                        ))
                    })?;
                }
                Op::Rental(r) => {
                    need(&r.renter, &known)?;
                    need(&r.host, &known)?;
                    ledger(&r.currency)?;
                }
                Op::Bandwidth(b) => {
                    need(&b.node, &known)?;
                    for (text, field) in [
                        (&b.quality, "quality"),
                        (&b.stability, "stability"),
                        (&b.demand, "demand"),
                    ] {
                        ppm(text, field).map_err(|e| ScenarioError(format!("{what}: {e}")))?;
                    }
                }
            }
        }
        let figures = scenario.expect.iter().flat_map(|e| &e.figures);
        for (index, figure) in figures.enumerate() {
            let what = format!("expect: figure {index} ({:?})", figure.label);
            if !known.contains(&figure.member.as_str()) {
                return Err(ScenarioError(format!(
                    "{what}: {:?} is not a member of the scenario",
                    figure.member
                )));
            }
            self.ledger_known(&what, &figure.ledger)?;
        }
        Ok(())
    }

    pub(super) fn ledger_known(&self, what: &str, name: &str) -> Result<(), ScenarioError> {
        match self.preset.ledger_index(name) {
            Some(_) => Ok(()),
            None => Err(ScenarioError(format!(
                "{what}: the {} network has no ledger {name:?}",
                self.preset.name
            ))),
        }
    }
}
