//! The self-care plan (HF-3): per colour, what the patient does and whom to contact. Versioned;
//! approved by the GP. The texts are written per patient by the care team; this type only holds
//! them so they can be shown beside the latest values and exported as a FHIR CarePlan.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::colour::Colour;
use crate::triage::Condition;

/// One patient's self-care plan, one version of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelfCarePlan {
    /// 1, 2, … — a change makes a new version; old ones are kept.
    pub version: u32,
    pub conditions: Vec<Condition>,
    pub steps: Vec<PlanStep>,
    /// In force from.
    pub valid_from: Timestamp,
    /// The GP's approval; a plan without one is a draft.
    pub approved: Option<Approval>,
}

/// What to do at one colour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanStep {
    pub colour: Colour,
    /// What the patient does (medication adjustments included), in the care team's words.
    pub what_to_do: String,
    /// Whom to contact and how.
    pub contact: String,
}

/// A GP's approval of a plan version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub by: String,
    pub at: Timestamp,
}

impl SelfCarePlan {
    /// The step for a colour.
    pub fn step(&self, colour: Colour) -> Option<&PlanStep> {
        self.steps.iter().find(|s| s.colour == colour)
    }

    /// A plan is complete when it says what to do at each of green, yellow and red.
    pub fn is_complete(&self) -> bool {
        [Colour::Green, Colour::Yellow, Colour::Red]
            .iter()
            .all(|c| {
                self.step(*c)
                    .is_some_and(|s| !s.what_to_do.trim().is_empty())
            })
    }
}
