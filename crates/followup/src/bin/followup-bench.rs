//! Benchmark of pure triage: how many observations per second the rules classify, each against
//! its patient's own history, with no storage.
//!
//! ```sh
//! cargo run --release -p helsebro-followup --bin followup-bench -- [OBSERVATIONS] [PATIENTS]
//! ```
//!
//! Synthetic patients (a deterministic generator, no randomness from outside) have one or two of
//! COPD, heart failure, hypertension and diabetes, a measurement plan that fits (SpO2, pulse,
//! temperature and peak flow for COPD; weight, pulse, blood pressure for heart failure; …), and 90
//! days of daily readings drifting around a personal normal with occasional bad days. The new
//! observations are the next day's readings, some of them red or impossible. Three figures:
//! triage against the full 90-day history, against the 15 days the ingestion path needs (the
//! longest window a default rule looks at is the 14-day baseline), and the what-if replay of 90
//! days under two rule sets (the SpO2 yellow limit moved to 92 %).

use std::time::Instant;

use helsebro_followup::catalogue::{MeasurementKind as K, Observation, Value};
use helsebro_followup::triage::{Adjustment, Condition, PatientSettings, Rule, RuleSet, Test};
use helsebro_followup::whatif::what_if;
use helsebro_followup::{Colour, Metric, Outcome, triage};
use jiff::{SignedDuration, Timestamp};

/// xorshift64*: deterministic, good enough for synthetic data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly normal (sum of uniforms), mean 0, sd ≈ 1.
    fn normal(&mut self) -> f64 {
        (0..6).map(|_| self.unit()).sum::<f64>() * 2.0 - 6.0
    }
}

struct Patient {
    rules: RuleSet,
    kinds: Vec<K>,
    history: Vec<Observation>,
}

fn reading(rng: &mut Rng, kind: K, at: Timestamp, bad_day: bool) -> Observation {
    let n = rng.normal();
    let b = if bad_day { 1.0 } else { 0.0 };
    let value = match kind {
        K::OxygenSaturation => Value::Single((94.0 + n - 4.0 * b).round().min(100.0)),
        K::Pulse => Value::Single((72.0 + 6.0 * n + 25.0 * b).round()),
        K::BodyWeight => Value::Single(((82.0 + 0.4 * n + 2.2 * b) * 10.0).round() / 10.0),
        K::BodyTemperature => Value::Single(((36.8 + 0.3 * n + 1.5 * b) * 10.0).round() / 10.0),
        K::PeakExpiratoryFlow => Value::Single((380.0 + 20.0 * n - 120.0 * b).round()),
        K::BloodGlucose => Value::Single(((6.5 + 1.2 * n + 9.0 * b) * 10.0).round() / 10.0),
        K::Steps => Value::Single((4000.0 + 1500.0 * n).max(0.0).round()),
        K::BloodPressure => Value::BloodPressure {
            systolic: (138.0 + 10.0 * n + 35.0 * b).round(),
            diastolic: (84.0 + 6.0 * n + 18.0 * b).round(),
        },
    };
    let mut o = Observation {
        kind,
        at,
        value,
        device_error: false,
        source: helsebro_followup::Source::Manual,
    };
    // One reading in 200 is a failed measurement.
    if rng.unit() < 0.005 {
        o.device_error = true;
    }
    o
}

fn patient(rng: &mut Rng, start: Timestamp, days: i64) -> Patient {
    let pick = [
        Condition::Copd,
        Condition::HeartFailure,
        Condition::Hypertension,
        Condition::Diabetes,
    ];
    let first = pick[(rng.next() % 4) as usize];
    let mut conditions = vec![first];
    if rng.unit() < 0.3 {
        let second = pick[(rng.next() % 4) as usize];
        if second != first {
            conditions.push(second);
        }
    }
    let mut kinds = Vec::new();
    for c in &conditions {
        let plan: &[K] = match c {
            Condition::Copd => &[
                K::OxygenSaturation,
                K::Pulse,
                K::BodyTemperature,
                K::PeakExpiratoryFlow,
            ],
            Condition::HeartFailure => &[
                K::BodyWeight,
                K::Pulse,
                K::BloodPressure,
                K::OxygenSaturation,
            ],
            Condition::Hypertension => &[K::BloodPressure, K::Pulse],
            Condition::Diabetes => &[K::BloodGlucose, K::BodyWeight, K::Steps],
            Condition::MentalHealth => &[],
        };
        for k in plan {
            if !kinds.contains(k) {
                kinds.push(*k);
            }
        }
    }
    let mut adjustments = Vec::new();
    if rng.unit() < 0.2 {
        adjustments.push(Adjustment::Reference {
            metric: Metric::OxygenSaturation,
            value: 93.0,
        });
    }
    let rules = RuleSet::for_patient(&conditions, &PatientSettings { adjustments });
    let mut history = Vec::new();
    for d in 0..days {
        let day = start + SignedDuration::from_hours(24 * d);
        let bad = rng.unit() < 0.05;
        for (i, k) in kinds.iter().enumerate() {
            let at =
                day + SignedDuration::from_mins(6 * 60 + 5 * i as i64 + (rng.next() % 30) as i64);
            history.push(reading(rng, *k, at, bad));
        }
    }
    Patient {
        rules,
        kinds,
        history,
    }
}

fn rate(n: usize, secs: f64) -> String {
    let r = n as f64 / secs;
    let s = format!("{:.0}", r);
    // Thousands separators for reading.
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

fn main() {
    let mut args = std::env::args().skip(1);
    let observations: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let patients: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000)
        .max(1);
    let days = 90;
    let start: Timestamp = Timestamp::from_second(1_767_225_600).unwrap_or(Timestamp::UNIX_EPOCH); // 2026-01-01T00:00Z
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);

    let t0 = Instant::now();
    let population: Vec<Patient> = (0..patients)
        .map(|_| patient(&mut rng, start, days))
        .collect();
    let history_len: usize = population.iter().map(|p| p.history.len()).sum();
    let new_day = start + SignedDuration::from_hours(24 * days);
    // The next day's readings, cycling over patients and their plans.
    let incoming: Vec<(usize, Observation)> = (0..observations)
        .map(|i| {
            let pi = i % patients;
            let p = &population[pi];
            let k = p.kinds[(i / patients) % p.kinds.len()];
            let at = new_day + SignedDuration::from_mins(6 * 60 + (i / patients) as i64);
            let bad = rng.unit() < 0.05;
            (pi, reading(&mut rng, k, at, bad))
        })
        .collect();
    println!(
        "followup-bench: {patients} patients, {days} days of history ({:.0} readings each on average), {observations} observations to triage (setup {:.2} s)",
        history_len as f64 / patients as f64,
        t0.elapsed().as_secs_f64()
    );

    // 1. Against the whole 90-day history.
    let mut counts = [0usize; 4];
    let t = Instant::now();
    for (pi, o) in &incoming {
        let p = &population[*pi];
        match triage(o, &p.history, &p.rules) {
            Outcome::Triaged(tr) => counts[tr.colour as usize] += 1,
            Outcome::MeasureAgain { .. } => counts[3] += 1,
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "triage, 90-day history:  {} obs/s  ({observations} in {secs:.3} s; green {}, yellow {}, red {}, measure again {})",
        rate(observations, secs),
        counts[Colour::Green as usize],
        counts[Colour::Yellow as usize],
        counts[Colour::Red as usize],
        counts[3]
    );

    // 2. Against the last 15 days, what ingestion loads.
    let cut = new_day - SignedDuration::from_hours(24 * 15);
    let recent: Vec<Vec<Observation>> = population
        .iter()
        .map(|p| p.history.iter().filter(|o| o.at >= cut).cloned().collect())
        .collect();
    let mut red = 0usize;
    let t = Instant::now();
    for (pi, o) in &incoming {
        if triage(o, &recent[*pi], &population[*pi].rules).colour() == Some(Colour::Red) {
            red += 1;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "triage, 15-day history:  {} obs/s  ({observations} in {secs:.3} s; red {red})",
        rate(observations, secs)
    );

    // 3. What-if over 90 days with the SpO2 yellow limit moved to 92 %.
    let n = patients.min(200);
    let t = Instant::now();
    let mut alerts = (0usize, 0usize);
    let now = new_day;
    for p in population.iter().take(n) {
        let mut changed = p.rules.clone();
        changed.apply(&PatientSettings {
            adjustments: vec![Adjustment::Set {
                rule: Rule::new(
                    "spo2.below.yellow",
                    Metric::OxygenSaturation,
                    Colour::Yellow,
                    Test::Below { limit: 92.0 },
                ),
            }],
        });
        let w = what_if(&p.history, now, 90, &p.rules, &changed);
        alerts.0 += w.old.alerts();
        alerts.1 += w.new.alerts();
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "what-if, 90 days:        {} patients/s  ({n} patients in {secs:.3} s; alerts {} → {})",
        rate(n, secs),
        alerts.0,
        alerts.1
    );
}
