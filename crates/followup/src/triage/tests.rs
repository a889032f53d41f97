//! Tables of triage cases, one table per rule kind.

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::catalogue::{MeasurementKind as K, Source};
use crate::colour::Colour::{Green, Red, Yellow};
use crate::questionnaire::{COPD_SYMPTOMS, HEART_FAILURE_SYMPTOMS, MENTAL_HEALTH_CHECK_IN};
use crate::text::Lang;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn obs(kind: K, at: &str, v: f64) -> Observation {
    Observation::manual(kind, ts(at), v)
}

/// A daily reading at 07:00 UTC for `n` days ending the day before `end`, with values from `f`.
fn daily(kind: K, end: &str, n: i64, f: impl Fn(i64) -> f64) -> Vec<Observation> {
    let end = ts(end);
    (1..=n)
        .rev()
        .map(|d| Observation::manual(kind, end - SignedDuration::from_hours(24 * d), f(d)))
        .collect()
}

struct Case {
    name: &'static str,
    conditions: &'static [Condition],
    settings: Vec<Adjustment>,
    history: Vec<Observation>,
    obs: Observation,
    /// `None`: measure again.
    expect: Option<Colour>,
    /// Rule ids that must have fired (others must not).
    fired: &'static [&'static str],
}

fn run(cases: Vec<Case>) {
    for c in cases {
        let rules = RuleSet::for_patient(
            c.conditions,
            &PatientSettings {
                adjustments: c.settings,
            },
        );
        let out = triage(&c.obs, &c.history, &rules);
        assert_eq!(out.colour(), c.expect, "{}: {out:#?}", c.name);
        if let Outcome::Triaged(t) = &out {
            let mut fired: Vec<&str> = t
                .reasons()
                .iter()
                .map(|e| e.rule.rule.id.as_str())
                .collect();
            fired.sort_unstable();
            let mut want = c.fired.to_vec();
            want.sort_unstable();
            assert_eq!(fired, want, "{}", c.name);
            // Every evaluation explains itself in every language, naming its rule.
            for e in &t.evaluations {
                for lang in [Lang::Nb, Lang::Nn, Lang::En] {
                    let s = e.explain(lang);
                    assert!(s.starts_with(&format!("[{}]", e.rule.rule.id)), "{s}");
                }
            }
        } else {
            assert!(c.fired.is_empty(), "{}", c.name);
        }
    }
}

const COPD: &[Condition] = &[Condition::Copd];
const HF: &[Condition] = &[Condition::HeartFailure];
const AT: &str = "2026-03-10T07:00:00Z";

#[test]
fn absolute_thresholds() {
    let c = |name, conditions, kind, v, expect, fired| Case {
        name,
        conditions,
        settings: vec![],
        history: vec![],
        obs: obs(kind, AT, v),
        expect: Some(expect),
        fired,
    };
    run(vec![
        c(
            "copd spo2 92 green",
            COPD,
            K::OxygenSaturation,
            92.0,
            Green,
            &[],
        ),
        c(
            "copd spo2 90 is not below 90",
            COPD,
            K::OxygenSaturation,
            90.0,
            Green,
            &[],
        ),
        c(
            "copd spo2 89 yellow",
            COPD,
            K::OxygenSaturation,
            89.0,
            Yellow,
            &["spo2.below.yellow"],
        ),
        c(
            "copd spo2 88 yellow",
            COPD,
            K::OxygenSaturation,
            88.0,
            Yellow,
            &["spo2.below.yellow"],
        ),
        c(
            "copd spo2 87 red",
            COPD,
            K::OxygenSaturation,
            87.0,
            Red,
            &["spo2.below.red", "spo2.below.yellow"],
        ),
        c(
            "hf spo2 93 yellow",
            HF,
            K::OxygenSaturation,
            93.0,
            Yellow,
            &["spo2.below.yellow"],
        ),
        c(
            "hf spo2 89 red",
            HF,
            K::OxygenSaturation,
            89.0,
            Red,
            &["spo2.below.red", "spo2.below.yellow"],
        ),
        c(
            "copd+hf: more sensitive wins",
            &[Condition::Copd, Condition::HeartFailure],
            K::OxygenSaturation,
            89.0,
            Red,
            &["spo2.below.red", "spo2.below.yellow"],
        ),
        c(
            "copd pulse 111 yellow",
            COPD,
            K::Pulse,
            111.0,
            Yellow,
            &["pulse.above.yellow"],
        ),
        c(
            "copd pulse 131 red",
            COPD,
            K::Pulse,
            131.0,
            Red,
            &["pulse.above.red", "pulse.above.yellow"],
        ),
        c(
            "copd pulse 45 yellow",
            COPD,
            K::Pulse,
            45.0,
            Yellow,
            &["pulse.below.yellow"],
        ),
        c(
            "copd temp 38.0 green",
            COPD,
            K::BodyTemperature,
            38.0,
            Green,
            &[],
        ),
        c(
            "copd temp 38.1 yellow",
            COPD,
            K::BodyTemperature,
            38.1,
            Yellow,
            &["temp.above.yellow"],
        ),
        c(
            "copd temp 39.6 red",
            COPD,
            K::BodyTemperature,
            39.6,
            Red,
            &["temp.above.red", "temp.above.yellow"],
        ),
        c(
            "diabetes glucose 3.5 yellow",
            &[Condition::Diabetes],
            K::BloodGlucose,
            3.5,
            Yellow,
            &["glucose.below.yellow"],
        ),
        c(
            "diabetes glucose 2.8 red",
            &[Condition::Diabetes],
            K::BloodGlucose,
            2.8,
            Red,
            &["glucose.below.red", "glucose.below.yellow"],
        ),
        c(
            "diabetes glucose 21 red",
            &[Condition::Diabetes],
            K::BloodGlucose,
            21.0,
            Red,
            &["glucose.above.red", "glucose.above.yellow"],
        ),
        c("no rules for steps", COPD, K::Steps, 120.0, Green, &[]),
        c(
            "no condition, no alerts",
            &[],
            K::OxygenSaturation,
            80.0,
            Green,
            &[],
        ),
    ]);
    let bp = |name, conditions, s, d, expect, fired| Case {
        name,
        conditions,
        settings: vec![],
        history: vec![],
        obs: Observation::blood_pressure(ts(AT), s, d),
        expect: Some(expect),
        fired,
    };
    let htn: &[Condition] = &[Condition::Hypertension];
    run(vec![
        bp("htn 140/90 green", htn, 140.0, 90.0, Green, &[]),
        bp(
            "htn 165/95 yellow",
            htn,
            165.0,
            95.0,
            Yellow,
            &["sys.above.yellow"],
        ),
        bp(
            "htn 150/112 red on diastolic",
            htn,
            150.0,
            112.0,
            Red,
            &["dia.above.red", "dia.above.yellow"],
        ),
        bp(
            "htn 95/60 yellow low",
            htn,
            95.0,
            60.0,
            Yellow,
            &["sys.below.yellow"],
        ),
        bp(
            "hf 78/50 red",
            HF,
            78.0,
            50.0,
            Red,
            &["sys.below.red", "sys.below.yellow"],
        ),
    ]);
}

#[test]
fn change_from_baseline() {
    let stable94 = daily(K::OxygenSaturation, AT, 14, |_| 94.0);
    let c = |name, history: Vec<Observation>, settings, v, expect, fired| Case {
        name,
        conditions: COPD,
        settings,
        history,
        obs: obs(K::OxygenSaturation, AT, v),
        expect: Some(expect),
        fired,
    };
    run(vec![
        c(
            "median 94, 92: fall 2",
            stable94.clone(),
            vec![],
            92.0,
            Green,
            &[],
        ),
        c(
            "median 94, 91: fall 3 yellow",
            stable94.clone(),
            vec![],
            91.0,
            Yellow,
            &["spo2.fall.yellow"],
        ),
        c(
            "median 94, 90: fall 4 red",
            stable94.clone(),
            vec![],
            90.0,
            Red,
            &["spo2.fall.red", "spo2.fall.yellow"],
        ),
        c(
            "no history: change rules not evaluated",
            vec![],
            vec![],
            90.0,
            Green,
            &[],
        ),
        c(
            "two readings are too few",
            daily(K::OxygenSaturation, AT, 2, |_| 97.0),
            vec![],
            91.0,
            Green,
            &[],
        ),
        c(
            "reference value overrides the median",
            stable94.clone(),
            vec![Adjustment::Reference {
                metric: Metric::OxygenSaturation,
                value: 91.0,
            }],
            90.0,
            Green,
            &[],
        ),
        c(
            "reference 96 without history",
            vec![],
            vec![Adjustment::Reference {
                metric: Metric::OxygenSaturation,
                value: 96.0,
            }],
            92.0,
            Red,
            &["spo2.fall.red", "spo2.fall.yellow"],
        ),
        c(
            "median of 15 days: older readings ignored",
            {
                let mut h = daily(K::OxygenSaturation, AT, 14, |_| 94.0);
                h.extend(daily(
                    K::OxygenSaturation,
                    "2026-02-01T07:00:00Z",
                    10,
                    |_| 99.0,
                ));
                h
            },
            vec![],
            91.0,
            Yellow,
            &["spo2.fall.yellow"],
        ),
        c(
            "today's earlier readings are not the baseline",
            {
                let mut h = vec![obs(K::OxygenSaturation, "2026-03-10T06:00:00Z", 80.0)];
                h.extend(daily(K::OxygenSaturation, AT, 5, |_| 94.0));
                h
            },
            vec![],
            93.0,
            Green,
            &[],
        ),
    ]);
    // Peak flow in percent of the baseline.
    let pef = daily(K::PeakExpiratoryFlow, AT, 14, |_| 400.0);
    let p = |name, v, expect, fired| Case {
        name,
        conditions: COPD,
        settings: vec![],
        history: pef.clone(),
        obs: obs(K::PeakExpiratoryFlow, AT, v),
        expect: Some(expect),
        fired,
    };
    run(vec![
        p("pef 330 = -17.5 %", 330.0, Green, &[]),
        p("pef 320 = -20 %", 320.0, Yellow, &["pef.fall.yellow"]),
        p(
            "pef 200 = -50 %",
            200.0,
            Red,
            &["pef.fall.red", "pef.fall.yellow"],
        ),
    ]);
}

#[test]
fn trends() {
    let w = |at: &str, v: f64| obs(K::BodyWeight, at, v);
    let c = |name, history: Vec<Observation>, at: &str, v, expect, fired| Case {
        name,
        conditions: HF,
        settings: vec![],
        history,
        obs: w(at, v),
        expect: Some(expect),
        fired,
    };
    let steady = daily(K::BodyWeight, AT, 10, |_| 80.0);
    run(vec![
        c("steady", steady.clone(), AT, 80.4, Green, &[]),
        c(
            "+1.0 kg since yesterday: yellow",
            steady.clone(),
            AT,
            81.0,
            Yellow,
            &["weight.rise.yellow"],
        ),
        c(
            "+2.0 kg: red",
            steady.clone(),
            AT,
            82.0,
            Red,
            &["weight.rise.red", "weight.rise.yellow"],
        ),
        c("no earlier weight", vec![], AT, 95.0, Green, &[]),
        c(
            "+2.1 kg over 3 days but +0.7 since yesterday: red only",
            vec![
                w("2026-03-07T07:00:00Z", 80.0),
                w("2026-03-08T07:00:00Z", 80.8),
                w("2026-03-09T07:00:00Z", 81.4),
            ],
            AT,
            82.1,
            Red,
            &["weight.rise.red"],
        ),
        c(
            "gain spread over 4 days: not within 3",
            vec![
                w("2026-03-06T07:00:00Z", 80.0),
                w("2026-03-07T07:00:00Z", 80.6),
                w("2026-03-08T07:00:00Z", 81.2),
                w("2026-03-09T07:00:00Z", 81.6),
            ],
            AT,
            82.3,
            Green,
            &[],
        ),
        c(
            "window starts at local midnight: 3 days ago at 00:30 Oslo counts",
            vec![w("2026-03-06T23:30:00Z", 79.0)],
            AT,
            81.0,
            Red,
            &["weight.rise.red"],
        ),
        c(
            "… and 3 days ago at 23:30 Oslo the evening before does not",
            vec![w("2026-03-06T22:30:00Z", 79.0)],
            AT,
            81.0,
            Green,
            &[],
        ),
        c(
            "a later reading is not history",
            vec![w("2026-03-10T09:00:00Z", 70.0)],
            AT,
            81.0,
            Green,
            &[],
        ),
        c(
            "floating point: 80.4 → 82.4 is 2.0",
            vec![w("2026-03-09T07:00:00Z", 80.4)],
            AT,
            82.4,
            Red,
            &["weight.rise.red", "weight.rise.yellow"],
        ),
        c(
            "an implausible earlier reading is ignored",
            vec![
                w("2026-03-09T07:00:00Z", 8.0),
                w("2026-03-09T08:00:00Z", 81.0),
            ],
            AT,
            81.5,
            Green,
            &[],
        ),
    ]);
}

#[test]
fn measure_again_not_an_alert() {
    let mut err = obs(K::OxygenSaturation, AT, 70.0);
    err.device_error = true;
    err.source = Source::Device("oximeter-1".into());
    let c = |name, o| Case {
        name,
        conditions: &[
            Condition::Copd,
            Condition::HeartFailure,
            Condition::Hypertension,
        ],
        settings: vec![],
        history: vec![],
        obs: o,
        expect: None,
        fired: &[],
    };
    run(vec![
        c("spo2 102", obs(K::OxygenSaturation, AT, 102.0)),
        c("spo2 12", obs(K::OxygenSaturation, AT, 12.0)),
        c("device error", err),
        c(
            "temperature typed without the decimal point",
            obs(K::BodyTemperature, AT, 372.0),
        ),
        c("weight 0", obs(K::BodyWeight, AT, 0.0)),
        c(
            "blood pressure swapped",
            Observation::blood_pressure(ts(AT), 70.0, 120.0),
        ),
        c("pulse 400", obs(K::Pulse, AT, 400.0)),
    ]);
}

#[test]
fn per_patient_overrides() {
    let set = |id: &str, metric, colour, test| Adjustment::Set {
        rule: Rule::new(id, metric, colour, test),
    };
    let c = |name, settings, kind, v, expect, fired| Case {
        name,
        conditions: COPD,
        settings,
        history: vec![],
        obs: obs(kind, AT, v),
        expect: Some(expect),
        fired,
    };
    run(vec![
        c(
            "patient's lower red limit: 87 yellow only",
            vec![set(
                "spo2.below.red",
                Metric::OxygenSaturation,
                Red,
                Test::Below { limit: 85.0 },
            )],
            K::OxygenSaturation,
            87.0,
            Yellow,
            &["spo2.below.yellow"],
        ),
        c(
            "patient's lower limits: 87 green",
            vec![
                set(
                    "spo2.below.red",
                    Metric::OxygenSaturation,
                    Red,
                    Test::Below { limit: 85.0 },
                ),
                set(
                    "spo2.below.yellow",
                    Metric::OxygenSaturation,
                    Yellow,
                    Test::Below { limit: 87.0 },
                ),
            ],
            K::OxygenSaturation,
            87.0,
            Green,
            &[],
        ),
        c(
            "disabled rule",
            vec![Adjustment::Disable {
                rule_id: "temp.above.yellow".into(),
            }],
            K::BodyTemperature,
            38.5,
            Green,
            &[],
        ),
        c(
            "added rule on steps",
            vec![set(
                "steps.below.yellow",
                Metric::Steps,
                Yellow,
                Test::Below { limit: 500.0 },
            )],
            K::Steps,
            300.0,
            Yellow,
            &["steps.below.yellow"],
        ),
        c(
            "later adjustment wins",
            vec![
                set(
                    "temp.above.yellow",
                    Metric::BodyTemperature,
                    Yellow,
                    Test::Above { limit: 37.5 },
                ),
                set(
                    "temp.above.yellow",
                    Metric::BodyTemperature,
                    Yellow,
                    Test::Above { limit: 38.5 },
                ),
            ],
            K::BodyTemperature,
            38.2,
            Green,
            &[],
        ),
    ]);
    // The origin is reported.
    let rules = RuleSet::for_patient(
        COPD,
        &PatientSettings {
            adjustments: vec![set(
                "spo2.below.red",
                Metric::OxygenSaturation,
                Red,
                Test::Below { limit: 85.0 },
            )],
        },
    );
    assert_eq!(
        rules.rule("spo2.below.red").unwrap().origin,
        Origin::Patient
    );
    assert_eq!(
        rules.rule("spo2.below.yellow").unwrap().origin,
        Origin::Default(Condition::Copd)
    );
    let Outcome::Triaged(t) = triage(&obs(K::OxygenSaturation, AT, 84.0), &[], &rules) else {
        panic!()
    };
    let why: Vec<String> = t.reasons().iter().map(|e| e.explain(Lang::Nb)).collect();
    assert_eq!(
        why[0],
        "[spo2.below.red] Oksygenmetning 84 %, grense: under 85 % → rød (satt for pasienten)"
    );
    assert_eq!(
        why[1],
        "[spo2.below.yellow] Oksygenmetning 84 %, grense: under 90 % → gul (standard for KOLS)"
    );
}

#[test]
fn explanations_name_thresholds() {
    let rules = RuleSet::for_patient(HF, &PatientSettings::default());
    let history = vec![obs(K::BodyWeight, "2026-03-08T07:00:00Z", 80.1)];
    let Outcome::Triaged(t) = triage(&obs(K::BodyWeight, AT, 82.4), &history, &rules) else {
        panic!()
    };
    let red = t
        .evaluations
        .iter()
        .find(|e| e.rule.rule.id == "weight.rise.red")
        .unwrap();
    assert_eq!(
        red.explain(Lang::En),
        "[weight.rise.red] Weight 82.4 kg, lowest of the last 3 days 80.1 kg (2026-03-08), rise 2.3 kg, limit: rise of at least 2.0 kg over 3 days → red (default for heart failure)"
    );
    // Norwegian numbers have a decimal comma; rule ids and dates keep their own form.
    let nb = red.explain(Lang::Nb);
    assert!(nb.starts_with("[weight.rise.red] Vekt 82,4 kg"), "{nb}");
    assert!(
        nb.contains("80,1 kg (2026-03-08)") && nb.contains("2,0 kg"),
        "{nb}"
    );
    let yellow = t
        .evaluations
        .iter()
        .find(|e| e.rule.rule.id == "weight.rise.yellow")
        .unwrap();
    assert_eq!(yellow.status, Status::NoHistory);
    assert!(yellow.explain(Lang::Nb).contains("ikke vurdert"));
    let rules = RuleSet::for_patient(COPD, &PatientSettings::default());
    let history = daily(K::OxygenSaturation, AT, 5, |d| 93.0 + (d % 2) as f64);
    let Outcome::Triaged(t) = triage(&obs(K::OxygenSaturation, AT, 89.0), &history, &rules) else {
        panic!()
    };
    let fall = t
        .evaluations
        .iter()
        .find(|e| e.rule.rule.id == "spo2.fall.red")
        .unwrap();
    assert_eq!(
        fall.explain(Lang::Nb),
        "[spo2.fall.red] Oksygenmetning 89 %, utgangsverdi 94 % (median av 5 målinger siste 14 dager), fall 5 %, grense: fall på minst 4 % → rød (standard for KOLS)"
    );
}

#[test]
fn interpretations() {
    let rules = RuleSet::for_patient(&[Condition::Hypertension], &PatientSettings::default());
    let Outcome::Triaged(t) = triage(
        &Observation::blood_pressure(ts(AT), 150.0, 112.0),
        &[],
        &rules,
    ) else {
        panic!()
    };
    assert_eq!(t.interpretation(None).code(), "HH");
    assert_eq!(t.interpretation(Some(Metric::Systolic)).code(), "N");
    assert_eq!(t.interpretation(Some(Metric::Diastolic)).code(), "HH");
    let Outcome::Triaged(t) = triage(
        &Observation::blood_pressure(ts(AT), 95.0, 60.0),
        &[],
        &rules,
    ) else {
        panic!()
    };
    assert_eq!(t.interpretation(None).code(), "L");
    // Mixed directions at the same colour: no direction.
    let custom = RuleSet::for_patient(
        &[],
        &PatientSettings {
            adjustments: vec![
                Adjustment::Set {
                    rule: Rule::new(
                        "sys.high",
                        Metric::Systolic,
                        Yellow,
                        Test::Above { limit: 140.0 },
                    ),
                },
                Adjustment::Set {
                    rule: Rule::new(
                        "dia.low",
                        Metric::Diastolic,
                        Yellow,
                        Test::Below { limit: 60.0 },
                    ),
                },
            ],
        },
    );
    let Outcome::Triaged(t) = triage(
        &Observation::blood_pressure(ts(AT), 150.0, 55.0),
        &[],
        &custom,
    ) else {
        panic!()
    };
    assert_eq!(t.interpretation(None).code(), "A");
}

#[test]
fn questionnaire_scores_to_colours() {
    let rules = RuleSet::for_patient(&[Condition::Copd], &PatientSettings::default());
    type Answers = &'static [(&'static str, &'static str)];
    let table: &[(
        &'static crate::questionnaire::Questionnaire,
        Answers,
        u32,
        Colour,
    )] = &[
        (
            &COPD_SYMPTOMS,
            &[
                ("pust", "vanlig"),
                ("hoste", "nei"),
                ("slim", "vanlig"),
                ("medisin", "nei"),
                ("feber", "nei"),
            ],
            0,
            Green,
        ),
        (
            &COPD_SYMPTOMS,
            &[
                ("pust", "litt-tyngre"),
                ("hoste", "litt"),
                ("slim", "vanlig"),
                ("medisin", "nei"),
                ("feber", "nei"),
            ],
            2,
            Green,
        ),
        (
            &COPD_SYMPTOMS,
            &[
                ("pust", "litt-tyngre"),
                ("hoste", "litt"),
                ("slim", "mer"),
                ("medisin", "nei"),
                ("feber", "nei"),
            ],
            3,
            Yellow,
        ),
        (
            &COPD_SYMPTOMS,
            &[
                ("pust", "mye-tyngre"),
                ("hoste", "mye"),
                ("slim", "farget"),
                ("medisin", "nei"),
                ("feber", "nei"),
            ],
            6,
            Red,
        ),
        (
            &COPD_SYMPTOMS,
            &[
                ("pust", "vanlig"),
                ("hoste", "nei"),
                ("slim", "blod"),
                ("medisin", "nei"),
                ("feber", "nei"),
            ],
            3,
            Red,
        ),
        (
            &HEART_FAILURE_SYMPTOMS,
            &[
                ("andpusten", "nei"),
                ("hevelse", "litt"),
                ("natt", "vanlig"),
                ("svimmel", "nei"),
                ("bryst", "nei"),
                ("medisiner", "ja"),
            ],
            1,
            Green,
        ),
        (
            &HEART_FAILURE_SYMPTOMS,
            &[
                ("andpusten", "aktivitet"),
                ("hevelse", "litt"),
                ("natt", "vanlig"),
                ("svimmel", "nei"),
                ("bryst", "nei"),
                ("medisiner", "ja"),
            ],
            2,
            Yellow,
        ),
        (
            &HEART_FAILURE_SYMPTOMS,
            &[
                ("andpusten", "nei"),
                ("hevelse", "nei"),
                ("natt", "vanlig"),
                ("svimmel", "nei"),
                ("bryst", "ja"),
                ("medisiner", "ja"),
            ],
            3,
            Red,
        ),
        (
            &MENTAL_HEALTH_CHECK_IN,
            &[
                ("humor", "litt-ned"),
                ("glede", "mindre"),
                ("sovn", "litt-darlig"),
                ("uro", "nei"),
                ("noen-a-snakke-med", "ja"),
                ("tanker", "nei"),
            ],
            3,
            Green,
        ),
        (
            &MENTAL_HEALTH_CHECK_IN,
            &[
                ("humor", "ofte-ned"),
                ("glede", "mindre"),
                ("sovn", "litt-darlig"),
                ("uro", "nei"),
                ("noen-a-snakke-med", "ja"),
                ("tanker", "nei"),
            ],
            4,
            Yellow,
        ),
        (
            &MENTAL_HEALTH_CHECK_IN,
            &[
                ("humor", "godt"),
                ("glede", "ja"),
                ("sovn", "godt"),
                ("uro", "nei"),
                ("noen-a-snakke-med", "ja"),
                ("tanker", "ja"),
            ],
            3,
            Red,
        ),
        (
            &MENTAL_HEALTH_CHECK_IN,
            &[
                ("humor", "nesten-alltid"),
                ("glede", "nesten-ikke"),
                ("sovn", "svart-darlig"),
                ("uro", "ofte"),
                ("noen-a-snakke-med", "nei"),
                ("tanker", "nei"),
            ],
            10,
            Red,
        ),
    ];
    for (i, (q, answers, score, colour)) in table.iter().enumerate() {
        let scored = q.score(answers).unwrap();
        let r = triage_response(q, &scored, &rules);
        assert_eq!(
            (r.score, r.colour),
            (*score, *colour),
            "case {i}: {}",
            r.explain(Lang::En)
        );
    }
    // Per-patient bands.
    let rules = RuleSet::for_patient(
        &[Condition::Copd],
        &PatientSettings {
            adjustments: vec![Adjustment::Bands {
                questionnaire: COPD_SYMPTOMS.id.into(),
                bands: ScoreBands {
                    yellow_from: 4,
                    red_from: 8,
                },
            }],
        },
    );
    let scored = COPD_SYMPTOMS
        .score(&[
            ("pust", "litt-tyngre"),
            ("hoste", "litt"),
            ("slim", "mer"),
            ("medisin", "nei"),
            ("feber", "nei"),
        ])
        .unwrap();
    let r = triage_response(&COPD_SYMPTOMS, &scored, &rules);
    assert_eq!(r.colour, Green);
    assert_eq!(
        r.explain(Lang::Nb),
        "[helsebro-kols-symptomer] poengsum 3, gul fra 4, rød fra 8 (satt for pasienten) → grønn → grønn"
    );
}

#[test]
fn submission_worst_colour_sets_priority() {
    let rules = RuleSet::for_patient(&[Condition::Copd], &PatientSettings::default());
    let green = triage(&obs(K::OxygenSaturation, AT, 95.0), &[], &rules);
    let yellow = triage(&obs(K::BodyTemperature, AT, 38.4), &[], &rules);
    let again = triage(&obs(K::Pulse, AT, 0.0), &[], &rules);
    let s = Submission {
        readings: vec![green.clone(), yellow, again.clone()],
        responses: vec![],
    };
    assert_eq!(
        s.priority(),
        Priority {
            colour: Yellow,
            measure_again: 1
        }
    );
    let scored = COPD_SYMPTOMS
        .score(&[
            ("pust", "klarer-ikke"),
            ("hoste", "nei"),
            ("slim", "vanlig"),
            ("medisin", "nei"),
            ("feber", "nei"),
        ])
        .unwrap();
    let s = Submission {
        readings: vec![green, again],
        responses: vec![triage_response(&COPD_SYMPTOMS, &scored, &rules)],
    };
    assert_eq!(
        s.priority(),
        Priority {
            colour: Red,
            measure_again: 1
        }
    );
    assert_eq!(Submission::default().priority().colour, Green);
}

/// Ingestion loads only `lookback_days` of history; the triage must be the same as against
/// everything, for every condition's defaults, a per-patient trend longer than the baseline,
/// and readings of every kind on dates around a DST change.
#[test]
fn lookback_days_cover_every_window() {
    let conditions = [
        Condition::Copd,
        Condition::HeartFailure,
        Condition::Hypertension,
        Condition::Diabetes,
    ];
    let long_trend = Adjustment::Set {
        rule: Rule {
            id: "weight-21d".into(),
            metric: Metric::BodyWeight,
            test: Test::RiseOverDays {
                amount: 3.0,
                days: 21,
            },
            colour: Yellow,
        },
    };
    for adjustments in [vec![], vec![long_trend]] {
        let rules = RuleSet::for_patient(&conditions, &PatientSettings { adjustments });
        let days = i64::from(rules.lookback_days());
        let kinds = [
            K::OxygenSaturation,
            K::Pulse,
            K::BodyWeight,
            K::BloodGlucose,
        ];
        let start = ts("2026-02-01T06:00:00Z");
        let mut history = Vec::new();
        for i in 0..(24 * 70) {
            let at = start + SignedDuration::from_hours(i * 3);
            let k = kinds[(i as usize) % kinds.len()];
            let v = match k {
                K::OxygenSaturation => 90.0 + (i % 9) as f64,
                K::Pulse => 60.0 + (i % 50) as f64,
                K::BodyWeight => 80.0 + (i % 40) as f64 / 10.0,
                _ => 5.0 + (i % 11) as f64,
            };
            history.push(Observation::manual(k, at, v));
        }
        // The last 20 readings (over the March DST change), each against what came before.
        for n in history.len() - 20..history.len() {
            let (before, obs) = (&history[..n], &history[n]);
            let cut = obs.at - SignedDuration::from_hours(24 * days);
            let recent: Vec<Observation> = before.iter().filter(|o| o.at >= cut).cloned().collect();
            assert!(recent.len() < before.len());
            let full = triage(obs, before, &rules);
            let short = triage(obs, &recent, &rules);
            assert_eq!(full, short, "{:?} at {}", obs.kind, obs.at);
        }
    }
}
