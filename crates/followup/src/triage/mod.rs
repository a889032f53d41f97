//! Triage (HF-7): every value and answer is classified green, yellow or red.
//!
//! A [`RuleSet`] is built for one patient from the defaults of the patient's conditions
//! ([`defaults`]) and the clinician's adjustments for that patient ([`PatientSettings`]): a rule can
//! be replaced (same id, new threshold), switched off, or added, and a reference value (the
//! patient's usual SpO2, their dry weight) can be set. Logging who changed what and why is the app
//! layer's job; this crate only says what the resulting rules are.
//!
//! Rule kinds ([`Test`]):
//! - **absolute**: the value is below or above a limit;
//! - **change from baseline**: the value has fallen or risen by an amount (points or percent) from
//!   the patient's baseline — the reference value set by a clinician, else the median of the
//!   readings of the previous [`BaselinePolicy::days`] days;
//! - **trend**: the value has risen or fallen by an amount compared with the lowest (highest)
//!   reading since midnight, Norwegian time, `days` days before.
//!
//! Each rule raises one colour. A reading's colour is the worst colour of the rules that fired;
//! a submission's priority is the worst colour of its readings and answers
//! ([`Submission::priority`]). A reading that cannot be physiological or that the device flagged
//! gives [`Outcome::MeasureAgain`] and never an alert. Every rule evaluated comes back as an
//! [`Evaluation`] that can explain itself ([`Evaluation::explain`]).
//!
//! `history` is the patient's earlier observations of any kind, in any order; what is not of the
//! kind being triaged, not earlier than it, or not a real measurement is ignored.

pub mod defaults;
mod explain;
mod history;

pub use history::History;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::catalogue::{Implausible, Metric, Observation};
use crate::colour::{Colour, Direction, Interpretation};
use crate::questionnaire::{FlaggedAnswer, Questionnaire, ScoreBands, Scored};
use crate::time::local_midnight_days_before;

/// A condition the patient is followed up for; each has default rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    Copd,
    HeartFailure,
    Diabetes,
    Hypertension,
    MentalHealth,
}

impl Condition {
    pub const ALL: [Condition; 5] = [
        Condition::Copd,
        Condition::HeartFailure,
        Condition::Diabetes,
        Condition::Hypertension,
        Condition::MentalHealth,
    ];

    /// The condition's name in running text ("KOLS", "hjertesvikt").
    pub fn name(self) -> crate::text::Text {
        explain::condition_name(self)
    }
}

/// An amount of change: in the metric's own unit, or in percent of the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Amount {
    Units(f64),
    Percent(f64),
}

/// What a rule checks. Limits are strict (`Below { limit: 88 }` fires at 87, not at 88);
/// changes are inclusive (a fall of 4 fires a rule of 4).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Test {
    Below {
        limit: f64,
    },
    Above {
        limit: f64,
    },
    FallFromBaseline {
        amount: Amount,
    },
    RiseFromBaseline {
        amount: Amount,
    },
    /// The value is at least `amount` above the lowest reading since local midnight `days` days ago.
    RiseOverDays {
        amount: f64,
        days: u16,
    },
    /// The value is at least `amount` below the highest reading since local midnight `days` days ago.
    FallOverDays {
        amount: f64,
        days: u16,
    },
}

impl Test {
    /// Which way a value is off when this test fires.
    pub fn direction(&self) -> Direction {
        match self {
            Test::Below { .. } | Test::FallFromBaseline { .. } | Test::FallOverDays { .. } => {
                Direction::Low
            }
            Test::Above { .. } | Test::RiseFromBaseline { .. } | Test::RiseOverDays { .. } => {
                Direction::High
            }
        }
    }

    /// Whether `other` (a rule of the same id) would fire at least whenever `self` fires, i.e.
    /// is the more sensitive of the two. Tests that cannot be compared are not.
    fn is_less_sensitive_than(&self, other: &Test) -> bool {
        match (self, other) {
            (Test::Below { limit: a }, Test::Below { limit: b }) => b > a,
            (Test::Above { limit: a }, Test::Above { limit: b }) => b < a,
            (Test::FallFromBaseline { amount: a }, Test::FallFromBaseline { amount: b })
            | (Test::RiseFromBaseline { amount: a }, Test::RiseFromBaseline { amount: b }) => {
                match (a, b) {
                    (Amount::Units(a), Amount::Units(b))
                    | (Amount::Percent(a), Amount::Percent(b)) => b < a,
                    _ => false,
                }
            }
            (
                Test::RiseOverDays {
                    amount: a,
                    days: da,
                },
                Test::RiseOverDays {
                    amount: b,
                    days: db,
                },
            )
            | (
                Test::FallOverDays {
                    amount: a,
                    days: da,
                },
                Test::FallOverDays {
                    amount: b,
                    days: db,
                },
            ) => b <= a && db >= da && (b < a || db > da),
            _ => false,
        }
    }
}

/// One rule: on `metric`, if `test` fires, the reading is (at least) `colour`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// Stable id, e.g. `spo2.below.red`; a patient's adjustment names it.
    pub id: String,
    pub metric: Metric,
    pub colour: Colour,
    pub test: Test,
}

impl Rule {
    pub fn new(id: &str, metric: Metric, colour: Colour, test: Test) -> Self {
        Self {
            id: id.to_string(),
            metric,
            colour,
            test,
        }
    }
}

/// Where an active rule or band comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "from", content = "condition")]
pub enum Origin {
    /// The default for this condition.
    Default(Condition),
    /// Set for this patient by a clinician.
    Patient,
    /// The questionnaire's own bands.
    Questionnaire,
}

/// A rule in force for a patient, with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActiveRule {
    pub rule: Rule,
    pub origin: Origin,
}

/// A clinician's change to one patient's rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "op")]
pub enum Adjustment {
    /// Replace the rule with this id, or add it if there is none.
    Set { rule: Rule },
    /// Switch off the rule with this id.
    Disable { rule_id: String },
    /// The patient's own reference value for a metric (their usual SpO2, their dry weight).
    Reference { metric: Metric, value: f64 },
    /// Other colour bands for a questionnaire's score.
    Bands {
        questionnaire: String,
        bands: ScoreBands,
    },
}

/// A patient's adjustments, in the order they were made (a later one wins).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PatientSettings {
    pub adjustments: Vec<Adjustment>,
}

/// How a baseline is computed when no reference value is set: the median of at least
/// `min_readings` readings from the `days` calendar days before the reading's day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselinePolicy {
    pub days: u16,
    pub min_readings: usize,
}

impl Default for BaselinePolicy {
    fn default() -> Self {
        Self {
            days: 14,
            min_readings: 3,
        }
    }
}

/// The rules in force for one patient.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleSet {
    pub rules: Vec<ActiveRule>,
    /// Reference values set for the patient.
    pub references: Vec<(Metric, f64)>,
    /// Questionnaire bands set for the patient, by questionnaire id.
    pub bands: Vec<(String, ScoreBands)>,
    pub baseline: BaselinePolicy,
}

impl RuleSet {
    /// How many days back the rules look from a reading: the baseline period or the longest
    /// trend, whichever is longer, plus the day the reading is on and one for a DST shift. A
    /// history of this many days before the first reading triages exactly as the full one.
    pub fn lookback_days(&self) -> u16 {
        let longest_trend = self
            .rules
            .iter()
            .filter_map(|r| match r.rule.test {
                Test::RiseOverDays { days, .. } | Test::FallOverDays { days, .. } => Some(days),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        longest_trend.max(self.baseline.days).saturating_add(2)
    }

    /// An empty rule set: everything is green.
    pub fn empty() -> Self {
        Self {
            rules: Vec::new(),
            references: Vec::new(),
            bands: Vec::new(),
            baseline: BaselinePolicy::default(),
        }
    }

    /// The defaults of the conditions, merged (where two conditions define the same rule id the
    /// more sensitive threshold wins, so a combination never silences an alert that one condition
    /// alone would raise), then the patient's adjustments in order.
    pub fn for_patient(conditions: &[Condition], settings: &PatientSettings) -> Self {
        let mut set = Self::empty();
        for &condition in conditions {
            for rule in defaults::rules(condition) {
                match set.rules.iter_mut().find(|a| a.rule.id == rule.id) {
                    Some(existing) => {
                        if existing.rule.test.is_less_sensitive_than(&rule.test) {
                            *existing = ActiveRule {
                                rule,
                                origin: Origin::Default(condition),
                            };
                        }
                    }
                    None => set.rules.push(ActiveRule {
                        rule,
                        origin: Origin::Default(condition),
                    }),
                }
            }
        }
        set.apply(settings);
        set
    }

    /// Applies a patient's adjustments on top of this set.
    pub fn apply(&mut self, settings: &PatientSettings) {
        for adj in &settings.adjustments {
            match adj {
                Adjustment::Set { rule } => {
                    let active = ActiveRule {
                        rule: rule.clone(),
                        origin: Origin::Patient,
                    };
                    match self.rules.iter_mut().find(|a| a.rule.id == rule.id) {
                        Some(existing) => *existing = active,
                        None => self.rules.push(active),
                    }
                }
                Adjustment::Disable { rule_id } => self.rules.retain(|a| &a.rule.id != rule_id),
                Adjustment::Reference { metric, value } => {
                    self.references.retain(|(m, _)| m != metric);
                    self.references.push((*metric, *value));
                }
                Adjustment::Bands {
                    questionnaire,
                    bands,
                } => {
                    self.bands.retain(|(q, _)| q != questionnaire);
                    self.bands.push((questionnaire.clone(), *bands));
                }
            }
        }
    }

    pub fn rule(&self, id: &str) -> Option<&ActiveRule> {
        self.rules.iter().find(|a| a.rule.id == id)
    }

    pub fn reference(&self, metric: Metric) -> Option<f64> {
        self.references
            .iter()
            .find(|(m, _)| *m == metric)
            .map(|(_, v)| *v)
    }

    /// The bands in force for a questionnaire and where they come from.
    pub fn bands_for(&self, q: &Questionnaire) -> (ScoreBands, Origin) {
        self.bands
            .iter()
            .find(|(id, _)| id == q.id)
            .map_or((q.bands, Origin::Questionnaire), |(_, b)| {
                (*b, Origin::Patient)
            })
    }
}

/// How one rule came out for one reading.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Fired,
    NotFired,
    /// No baseline could be had (no reference value, too few readings).
    NoBaseline,
    /// No earlier reading in the trend's window.
    NoHistory,
}

/// Where a baseline came from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "source")]
pub enum BaselineSource {
    /// The clinician's reference value for the patient.
    Reference,
    /// The median of `readings` readings over `days` days.
    Median { readings: usize, days: u16 },
}

/// The numbers behind an evaluation, beyond the value and the rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Detail {
    Limit,
    Baseline {
        baseline: f64,
        source: BaselineSource,
        /// Size of the change in the rule's direction, in the amount's unit (units or percent).
        change: f64,
    },
    Trend {
        reference: f64,
        reference_at: Timestamp,
        /// Size of the change in the rule's direction.
        change: f64,
    },
    None,
}

/// One rule evaluated against one value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation<'r> {
    pub rule: &'r ActiveRule,
    pub value: f64,
    pub status: Status,
    pub detail: Detail,
}

impl Evaluation<'_> {
    pub fn fired(&self) -> bool {
        self.status == Status::Fired
    }
}

/// The triage of one reading.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Outcome<'r> {
    /// A real reading, with its colour and every rule's evaluation.
    Triaged(Triage<'r>),
    /// Not a real reading: ask the patient to measure again; no alert.
    MeasureAgain { reason: Implausible },
}

impl Outcome<'_> {
    /// The colour, or `None` for a reading to take again.
    pub fn colour(&self) -> Option<Colour> {
        match self {
            Outcome::Triaged(t) => Some(t.colour),
            Outcome::MeasureAgain { .. } => None,
        }
    }
}

/// A triaged reading.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Triage<'r> {
    pub colour: Colour,
    pub evaluations: Vec<Evaluation<'r>>,
}

impl Triage<'_> {
    /// The worst colour raised on one metric (for blood pressure's components).
    pub fn colour_of(&self, metric: Metric) -> Colour {
        self.evaluations
            .iter()
            .filter(|e| e.fired() && e.rule.rule.metric == metric)
            .map(|e| e.rule.rule.colour)
            .max()
            .unwrap_or(Colour::Green)
    }

    /// The FHIR interpretation of one metric, or of the whole reading with `None`: H/L (HH/LL)
    /// when the worst rules that fired agree on a direction, else A (AA).
    pub fn interpretation(&self, metric: Option<Metric>) -> Interpretation {
        let relevant = || {
            self.evaluations
                .iter()
                .filter(move |e| e.fired() && metric.is_none_or(|m| e.rule.rule.metric == m))
        };
        let colour = relevant()
            .map(|e| e.rule.rule.colour)
            .max()
            .unwrap_or(Colour::Green);
        let mut dirs = relevant()
            .filter(|e| e.rule.rule.colour == colour)
            .map(|e| e.rule.rule.test.direction());
        let first = dirs.next();
        let direction = if dirs.all(|d| Some(d) == first) {
            first
        } else {
            None
        };
        Interpretation::from_triage(colour, direction)
    }

    /// The evaluations that fired, worst first.
    pub fn reasons(&self) -> Vec<&Evaluation<'_>> {
        let mut v: Vec<_> = self.evaluations.iter().filter(|e| e.fired()).collect();
        v.sort_by_key(|e| std::cmp::Reverse(e.rule.rule.colour));
        v
    }
}

fn at_least(change: f64, amount: f64) -> bool {
    change >= amount - 1e-9
}

/// Triage of one reading against the patient's rules and history.
pub fn triage<'r>(obs: &Observation, history: &[Observation], rules: &'r RuleSet) -> Outcome<'r> {
    triage_with(obs, &History::new(history), rules)
}

/// [`triage`] against a prepared [`History`]: what ingestion and the what-if replay use, so
/// that each reading costs a binary search per rule rather than a pass over the history.
pub fn triage_with<'r>(obs: &Observation, history: &History, rules: &'r RuleSet) -> Outcome<'r> {
    if let Some(reason) = obs.implausibility() {
        return Outcome::MeasureAgain { reason };
    }
    let mut evaluations = Vec::new();
    let mut colour = Colour::Green;
    for active in &rules.rules {
        let Some(value) = obs.value_of(active.rule.metric) else {
            continue;
        };
        let (status, detail) = evaluate(&active.rule, value, obs.at, history, rules);
        if status == Status::Fired {
            colour = colour.max(active.rule.colour);
        }
        evaluations.push(Evaluation {
            rule: active,
            value,
            status,
            detail,
        });
    }
    Outcome::Triaged(Triage {
        colour,
        evaluations,
    })
}

/// The patient's baseline for a metric at a time.
pub fn baseline(
    metric: Metric,
    at: Timestamp,
    history: &History,
    rules: &RuleSet,
) -> Option<(f64, BaselineSource)> {
    if let Some(v) = rules.reference(metric) {
        return Some((v, BaselineSource::Reference));
    }
    let policy = rules.baseline;
    let from = local_midnight_days_before(at, policy.days);
    let to = local_midnight_days_before(at, 0);
    let window = history.window(metric, from, to);
    if window.len() < policy.min_readings.max(1) {
        return None;
    }
    let mut values: Vec<f64> = window.iter().map(|(_, v)| *v).collect();
    let n = values.len();
    let median = history::median(&mut values)?;
    Some((
        median,
        BaselineSource::Median {
            readings: n,
            days: policy.days,
        },
    ))
}

fn evaluate(
    rule: &Rule,
    value: f64,
    at: Timestamp,
    history: &History,
    rules: &RuleSet,
) -> (Status, Detail) {
    let fired = |b: bool| if b { Status::Fired } else { Status::NotFired };
    match rule.test {
        Test::Below { limit } => (fired(value < limit), Detail::Limit),
        Test::Above { limit } => (fired(value > limit), Detail::Limit),
        Test::FallFromBaseline { amount } | Test::RiseFromBaseline { amount } => {
            let Some((baseline, source)) = baseline(rule.metric, at, history, rules) else {
                return (Status::NoBaseline, Detail::None);
            };
            let signed = if matches!(rule.test, Test::FallFromBaseline { .. }) {
                baseline - value
            } else {
                value - baseline
            };
            let (change, threshold) = match amount {
                Amount::Units(a) => (signed, a),
                Amount::Percent(p) if baseline.abs() > f64::EPSILON => {
                    (signed / baseline * 100.0, p)
                }
                Amount::Percent(_) => return (Status::NoBaseline, Detail::None),
            };
            (
                fired(at_least(change, threshold)),
                Detail::Baseline {
                    baseline,
                    source,
                    change,
                },
            )
        }
        Test::RiseOverDays { amount, days } | Test::FallOverDays { amount, days } => {
            let rise = matches!(rule.test, Test::RiseOverDays { .. });
            let from = local_midnight_days_before(at, days);
            let reference = history
                .window(rule.metric, from, at)
                .iter()
                .copied()
                .reduce(|best, cur| {
                    let better = if rise { cur.1 < best.1 } else { cur.1 > best.1 };
                    if better { cur } else { best }
                });
            let Some((reference_at, reference)) = reference else {
                return (Status::NoHistory, Detail::None);
            };
            let change = if rise {
                value - reference
            } else {
                reference - value
            };
            (
                fired(at_least(change, amount)),
                Detail::Trend {
                    reference,
                    reference_at,
                    change,
                },
            )
        }
    }
}

/// The triage of a questionnaire response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResponseTriage {
    pub questionnaire: &'static str,
    pub score: u32,
    pub bands: ScoreBands,
    pub bands_origin: Origin,
    pub band_colour: Colour,
    pub flagged: Vec<FlaggedAnswer>,
    /// The worst of the band's colour and the flagged answers' colours.
    pub colour: Colour,
}

/// Maps a scored response to a colour with the patient's bands.
pub fn triage_response(
    q: &'static Questionnaire,
    scored: &Scored,
    rules: &RuleSet,
) -> ResponseTriage {
    let (bands, bands_origin) = rules.bands_for(q);
    let band_colour = bands.colour(scored.total);
    let colour = scored
        .flagged
        .iter()
        .map(|f| f.colour)
        .fold(band_colour, Colour::max);
    ResponseTriage {
        questionnaire: q.id,
        score: scored.total,
        bands,
        bands_origin,
        band_colour,
        flagged: scored.flagged.clone(),
        colour,
    }
}

/// What the patient sent in one go: some readings and some questionnaire answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Submission<'r> {
    pub readings: Vec<Outcome<'r>>,
    pub responses: Vec<ResponseTriage>,
}

/// A submission's priority on the work list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Priority {
    /// The worst colour of the submission (green if nothing could be triaged).
    pub colour: Colour,
    /// How many readings must be taken again.
    pub measure_again: usize,
}

impl Submission<'_> {
    /// The worst colour sets the priority (HF-7).
    pub fn priority(&self) -> Priority {
        let colour = self
            .readings
            .iter()
            .filter_map(Outcome::colour)
            .chain(self.responses.iter().map(|r| r.colour))
            .max()
            .unwrap_or(Colour::Green);
        let measure_again = self
            .readings
            .iter()
            .filter(|o| matches!(o, Outcome::MeasureAgain { .. }))
            .count();
        Priority {
            colour,
            measure_again,
        }
    }
}

#[cfg(test)]
mod tests;
