//! Plain-language explanations of triage results, for the work list and the documentation note.
//!
//! Each sentence names the rule (its id), the value, the threshold, and where the threshold
//! comes from (a condition's default or the patient's own), so a nurse can see why a reading is
//! red and a clinician can see what to adjust.

use crate::text::{Lang, Text};
use crate::triage::{
    Amount, BaselineSource, Condition, Detail, Evaluation, Origin, ResponseTriage, Status, Test,
};

pub(crate) fn condition_name(c: Condition) -> Text {
    match c {
        Condition::Copd => Text::new("KOLS", "KOLS", "COPD"),
        Condition::HeartFailure => Text::new("hjertesvikt", "hjartesvikt", "heart failure"),
        Condition::Diabetes => Text::new("diabetes", "diabetes", "diabetes"),
        Condition::Hypertension => Text::new("høyt blodtrykk", "høgt blodtrykk", "hypertension"),
        Condition::MentalHealth => Text::new("psykisk helse", "psykisk helse", "mental health"),
    }
}

fn origin(o: Origin, lang: Lang) -> String {
    match (o, lang) {
        (Origin::Default(c), Lang::Nb) => format!("standard for {}", condition_name(c).nb),
        (Origin::Default(c), Lang::Nn) => format!("standard for {}", condition_name(c).nn),
        (Origin::Default(c), Lang::En) => format!("default for {}", condition_name(c).en),
        (Origin::Patient, _) => Text::new(
            "satt for pasienten",
            "sett for pasienten",
            "set for this patient",
        )
        .get(lang)
        .to_string(),
        (Origin::Questionnaire, _) => Text::new(
            "skjemaets grenser",
            "skjemaet sine grenser",
            "the questionnaire's bands",
        )
        .get(lang)
        .to_string(),
    }
}

fn fmt_num(v: f64, decimals: u8) -> String {
    format!("{:.*}", usize::from(decimals), v)
}

/// A formatted number as the language writes it: decimal comma in Norwegian.
fn loc(formatted: String, lang: Lang) -> String {
    match lang {
        Lang::En => formatted,
        Lang::Nb | Lang::Nn => formatted.replace('.', ","),
    }
}

impl Evaluation<'_> {
    /// One sentence: `[rule id] what was compared → result (where the threshold comes from)`.
    pub fn explain(&self, lang: Lang) -> String {
        let rule = &self.rule.rule;
        let m = rule.metric;
        let d = m.decimals();
        let unit = m.unit_display();
        let name = m.name().get(lang);
        let value = loc(m.format(self.value), lang);
        let t = |nb: &str, nn: &str, en: &str| -> String {
            match lang {
                Lang::Nb => nb.to_string(),
                Lang::Nn => nn.to_string(),
                Lang::En => en.to_string(),
            }
        };
        let amount = |a: Amount| match a {
            Amount::Units(u) => format!("{} {unit}", loc(fmt_num(u, d), lang)),
            Amount::Percent(p) => format!("{} %", loc(fmt_num(p, 0), lang)),
        };
        let comparison = match (rule.test, self.detail) {
            (Test::Below { limit }, _) => t(
                &format!(
                    "{name} {value}, grense: under {}",
                    loc(m.format(limit), lang)
                ),
                &format!(
                    "{name} {value}, grense: under {}",
                    loc(m.format(limit), lang)
                ),
                &format!(
                    "{name} {value}, limit: below {}",
                    loc(m.format(limit), lang)
                ),
            ),
            (Test::Above { limit }, _) => t(
                &format!(
                    "{name} {value}, grense: over {}",
                    loc(m.format(limit), lang)
                ),
                &format!(
                    "{name} {value}, grense: over {}",
                    loc(m.format(limit), lang)
                ),
                &format!(
                    "{name} {value}, limit: above {}",
                    loc(m.format(limit), lang)
                ),
            ),
            (
                Test::FallFromBaseline { amount: a } | Test::RiseFromBaseline { amount: a },
                detail,
            ) => {
                let fall = matches!(rule.test, Test::FallFromBaseline { .. });
                let dir = if fall {
                    t("fall", "fall", "fall")
                } else {
                    t("økning", "auke", "rise")
                };
                match detail {
                    Detail::Baseline {
                        baseline,
                        source,
                        change,
                    } => {
                        let src = match source {
                            BaselineSource::Reference => {
                                t("referanseverdi", "referanseverdi", "reference value")
                            }
                            BaselineSource::Median { readings, days } => t(
                                &format!("median av {readings} målinger siste {days} dager"),
                                &format!("median av {readings} målingar siste {days} dagar"),
                                &format!("median of {readings} readings over {days} days"),
                            ),
                        };
                        let change = match a {
                            Amount::Units(_) => format!("{} {unit}", loc(fmt_num(change, d), lang)),
                            Amount::Percent(_) => format!("{} %", loc(fmt_num(change, 0), lang)),
                        };
                        t(
                            &format!(
                                "{name} {value}, utgangsverdi {} ({src}), {dir} {change}, grense: {dir} på minst {}",
                                loc(m.format(baseline), lang),
                                amount(a)
                            ),
                            &format!(
                                "{name} {value}, utgangsverdi {} ({src}), {dir} {change}, grense: {dir} på minst {}",
                                loc(m.format(baseline), lang),
                                amount(a)
                            ),
                            &format!(
                                "{name} {value}, baseline {} ({src}), {dir} {change}, limit: {dir} of at least {}",
                                loc(m.format(baseline), lang),
                                amount(a)
                            ),
                        )
                    }
                    _ => t(
                        &format!(
                            "{name} {value}, grense: {dir} på minst {} fra utgangsverdi",
                            amount(a)
                        ),
                        &format!(
                            "{name} {value}, grense: {dir} på minst {} frå utgangsverdi",
                            amount(a)
                        ),
                        &format!(
                            "{name} {value}, limit: {dir} of at least {} from baseline",
                            amount(a)
                        ),
                    ),
                }
            }
            (
                Test::RiseOverDays { amount: a, days } | Test::FallOverDays { amount: a, days },
                detail,
            ) => {
                let rise = matches!(rule.test, Test::RiseOverDays { .. });
                let dir = if rise {
                    t("økning", "auke", "rise")
                } else {
                    t("fall", "fall", "fall")
                };
                let a = format!("{} {unit}", loc(fmt_num(a, d), lang));
                match detail {
                    Detail::Trend {
                        reference,
                        reference_at,
                        change,
                    } => {
                        let when = crate::time::local_date(reference_at);
                        let which = if rise {
                            t("laveste", "lågaste", "lowest")
                        } else {
                            t("høyeste", "høgaste", "highest")
                        };
                        t(
                            &format!(
                                "{name} {value}, {which} siste {days} dager {} ({when}), {dir} {} {unit}, grense: {dir} på minst {a} over {days} dager",
                                loc(m.format(reference), lang),
                                loc(fmt_num(change, d), lang)
                            ),
                            &format!(
                                "{name} {value}, {which} siste {days} dagar {} ({when}), {dir} {} {unit}, grense: {dir} på minst {a} over {days} dagar",
                                loc(m.format(reference), lang),
                                loc(fmt_num(change, d), lang)
                            ),
                            &format!(
                                "{name} {value}, {which} of the last {days} days {} ({when}), {dir} {} {unit}, limit: {dir} of at least {a} over {days} days",
                                loc(m.format(reference), lang),
                                loc(fmt_num(change, d), lang)
                            ),
                        )
                    }
                    _ => t(
                        &format!("{name} {value}, grense: {dir} på minst {a} over {days} dager"),
                        &format!("{name} {value}, grense: {dir} på minst {a} over {days} dagar"),
                        &format!("{name} {value}, limit: {dir} of at least {a} over {days} days"),
                    ),
                }
            }
        };
        let colour = rule.colour.name().get(lang);
        let result = match self.status {
            Status::Fired => format!("→ {colour}"),
            Status::NotFired => t("→ ikke utløst", "→ ikkje utløyst", "→ not raised"),
            Status::NoBaseline => t(
                "→ ikke vurdert: ingen utgangsverdi",
                "→ ikkje vurdert: ingen utgangsverdi",
                "→ not evaluated: no baseline",
            ),
            Status::NoHistory => t(
                "→ ikke vurdert: ingen tidligere måling i perioden",
                "→ ikkje vurdert: inga tidlegare måling i perioden",
                "→ not evaluated: no earlier reading in the period",
            ),
        };
        let limit_colour = match self.status {
            Status::Fired => String::new(),
            _ => format!(" ({colour})"),
        };
        format!(
            "[{}] {comparison}{limit_colour} {result} ({})",
            rule.id,
            origin(self.rule.origin, lang)
        )
    }
}

impl ResponseTriage {
    /// One sentence on the score, the band and any answers that raise the colour on their own.
    pub fn explain(&self, lang: Lang) -> String {
        let b = self.bands;
        let band = self.band_colour.name().get(lang);
        let colour = self.colour.name().get(lang);
        let origin = origin(self.bands_origin, lang);
        let flagged: Vec<String> = self
            .flagged
            .iter()
            .map(|f| format!("{}={} ({})", f.link_id, f.option, f.colour.name().get(lang)))
            .collect();
        let flags = if flagged.is_empty() {
            String::new()
        } else {
            match lang {
                Lang::Nb => format!("; svar som alene gir farge: {}", flagged.join(", ")),
                Lang::Nn => format!("; svar som åleine gir farge: {}", flagged.join(", ")),
                Lang::En => format!(
                    "; answers that set a colour on their own: {}",
                    flagged.join(", ")
                ),
            }
        };
        match lang {
            Lang::Nb => format!(
                "[{}] poengsum {}, gul fra {}, rød fra {} ({origin}) → {band}{flags} → {colour}",
                self.questionnaire, self.score, b.yellow_from, b.red_from
            ),
            Lang::Nn => format!(
                "[{}] poengsum {}, gul frå {}, raud frå {} ({origin}) → {band}{flags} → {colour}",
                self.questionnaire, self.score, b.yellow_from, b.red_from
            ),
            Lang::En => format!(
                "[{}] score {}, yellow from {}, red from {} ({origin}) → {band}{flags} → {colour}",
                self.questionnaire, self.score, b.yellow_from, b.red_from
            ),
        }
    }
}
