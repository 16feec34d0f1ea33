//! The `upline` command's library: scenarios on the sandbox, their §8 output,
//! the readable tables, and the seed demo.

pub mod demo;
pub mod output;
pub mod quiet;
pub mod scenario;
pub mod tables;
pub mod world;

use scenario::{Scenario, ScenarioError};
use serde_json::Value;

/// Run `scenario` on a fresh sandbox and return the DESIGN.md §8 result.
pub async fn simulate(scenario: &Scenario) -> Result<Value, ScenarioError> {
    let mut world = world::World::new(scenario).await?;
    world.run(scenario).await?;
    Ok(output::result(&mut world).await)
}
