//! Our own questionnaires (HF-4, HF-7): a COPD symptom check, a heart-failure symptom check and a
//! mental-health check-in, with their scoring and score → colour mapping.
//!
//! **These are written by Helsebro, not copies of licensed or published instruments** (not CAT,
//! CCQ, KCCQ, MLHFQ, PHQ-9, GAD-7 or others). They ask, in plain Norwegian, what a follow-up nurse
//! asks on the phone, and their cut-offs are starting points for the clinical lead of each service
//! to review; a service can change the colour bands per patient (see
//! [`crate::triage::PatientSettings`]). Each questionnaire is versioned: its wording and scores never
//! change under a given version, so an old answer can always be re-read as it was given.
//!
//! A score is the sum of the chosen options' scores. The colour is the band the sum falls in,
//! raised by any option that carries a flag of its own (chest pain is red whatever the sum).

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::colour::Colour;
use crate::text::Text;

/// One answer option: its code (stable), its text and its score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AnswerOption {
    pub code: &'static str,
    pub text: Text,
    pub score: u32,
    /// This answer alone makes the response at least this colour.
    pub flag: Option<Colour>,
}

/// One question with single-choice options.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Item {
    /// FHIR `linkId`.
    pub link_id: &'static str,
    pub text: Text,
    pub options: &'static [AnswerOption],
}

/// Score bands: from `yellow_from` the response is yellow, from `red_from` red.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreBands {
    pub yellow_from: u32,
    pub red_from: u32,
}

impl ScoreBands {
    pub fn colour(&self, score: u32) -> Colour {
        if score >= self.red_from {
            Colour::Red
        } else if score >= self.yellow_from {
            Colour::Yellow
        } else {
            Colour::Green
        }
    }
}

/// A questionnaire, kept as data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Questionnaire {
    /// Stable identifier (FHIR `Questionnaire.id` and the tail of its canonical URL).
    pub id: &'static str,
    pub version: &'static str,
    pub title: Text,
    /// Shown before the first question.
    pub intro: Text,
    pub items: &'static [Item],
    pub bands: ScoreBands,
}

impl Questionnaire {
    /// The highest score possible.
    pub fn max_score(&self) -> u32 {
        self.items
            .iter()
            .map(|i| i.options.iter().map(|o| o.score).max().unwrap_or(0))
            .sum()
    }

    pub fn item(&self, link_id: &str) -> Option<&'static Item> {
        self.items.iter().find(|i| i.link_id == link_id)
    }

    /// Scores a set of answers `(link_id, option code)`: every question must be answered once.
    pub fn score(&self, answers: &[(&str, &str)]) -> Result<Scored, AnswerError> {
        for (link_id, _) in answers {
            if self.item(link_id).is_none() {
                return Err(AnswerError::UnknownQuestion(link_id.to_string()));
            }
            if answers.iter().filter(|(l, _)| l == link_id).count() > 1 {
                return Err(AnswerError::AnsweredTwice(link_id.to_string()));
            }
        }
        let mut total = 0;
        let mut flagged = Vec::new();
        for item in self.items {
            let Some((_, code)) = answers.iter().find(|(l, _)| *l == item.link_id) else {
                return Err(AnswerError::Unanswered(item.link_id.to_string()));
            };
            let Some(option) = item.options.iter().find(|o| o.code == *code) else {
                return Err(AnswerError::UnknownOption {
                    question: item.link_id.to_string(),
                    option: code.to_string(),
                });
            };
            total += option.score;
            if let Some(c) = option.flag {
                flagged.push(FlaggedAnswer {
                    link_id: item.link_id,
                    option: option.code,
                    colour: c,
                });
            }
        }
        Ok(Scored { total, flagged })
    }
}

/// The result of scoring a response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scored {
    pub total: u32,
    pub flagged: Vec<FlaggedAnswer>,
}

/// An answer whose option carries a colour of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FlaggedAnswer {
    pub link_id: &'static str,
    pub option: &'static str,
    pub colour: Colour,
}

/// What is wrong with a set of answers (a 4xx, never stored).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AnswerError {
    #[error("question {0} is not in this questionnaire")]
    UnknownQuestion(String),
    #[error("question {0} is answered more than once")]
    AnsweredTwice(String),
    #[error("question {0} is not answered")]
    Unanswered(String),
    #[error("question {question} has no option {option}")]
    UnknownOption { question: String, option: String },
}

/// All questionnaires Helsebro ships.
pub const ALL: [&Questionnaire; 3] = [
    &COPD_SYMPTOMS,
    &HEART_FAILURE_SYMPTOMS,
    &MENTAL_HEALTH_CHECK_IN,
];

/// Finds a questionnaire by id.
pub fn by_id(id: &str) -> Option<&'static Questionnaire> {
    ALL.into_iter().find(|q| q.id == id)
}

const fn opt(code: &'static str, score: u32, text: Text) -> AnswerOption {
    AnswerOption {
        code,
        text,
        score,
        flag: None,
    }
}

const fn red(code: &'static str, score: u32, text: Text) -> AnswerOption {
    AnswerOption {
        code,
        text,
        score,
        flag: Some(Colour::Red),
    }
}

const NO: Text = Text::new("Nei", "Nei", "No");

/// COPD (KOLS) symptom check, daily. Written by Helsebro.
pub static COPD_SYMPTOMS: Questionnaire = Questionnaire {
    id: "helsebro-kols-symptomer",
    version: "1",
    title: Text::new(
        "Hvordan er KOLS-en i dag?",
        "Korleis er KOLS-en i dag?",
        "How is your COPD today?",
    ),
    intro: Text::new(
        "Svar på hvordan du har det i dag, sammenlignet med en vanlig dag for deg.",
        "Svar på korleis du har det i dag, samanlikna med ein vanleg dag for deg.",
        "Answer how you are today, compared with a usual day for you.",
    ),
    items: &[
        Item {
            link_id: "pust",
            text: Text::new(
                "Hvordan er pusten din i dag?",
                "Korleis er pusten din i dag?",
                "How is your breathing today?",
            ),
            options: &[
                opt(
                    "vanlig",
                    0,
                    Text::new("Som vanlig", "Som vanleg", "As usual"),
                ),
                opt(
                    "litt-tyngre",
                    1,
                    Text::new(
                        "Litt tyngre enn vanlig",
                        "Litt tyngre enn vanleg",
                        "A little heavier than usual",
                    ),
                ),
                opt(
                    "mye-tyngre",
                    2,
                    Text::new(
                        "Mye tyngre enn vanlig",
                        "Mykje tyngre enn vanleg",
                        "Much heavier than usual",
                    ),
                ),
                red(
                    "klarer-ikke",
                    3,
                    Text::new(
                        "Så tung at jeg ikke klarer vanlige ting",
                        "Så tung at eg ikkje klarar vanlege ting",
                        "So heavy that I cannot do ordinary things",
                    ),
                ),
            ],
        },
        Item {
            link_id: "hoste",
            text: Text::new(
                "Hoster du mer enn vanlig?",
                "Hostar du meir enn vanleg?",
                "Are you coughing more than usual?",
            ),
            options: &[
                opt("nei", 0, NO),
                opt(
                    "litt",
                    1,
                    Text::new("Litt mer", "Litt meir", "A little more"),
                ),
                opt("mye", 2, Text::new("Mye mer", "Mykje meir", "Much more")),
            ],
        },
        Item {
            link_id: "slim",
            text: Text::new(
                "Hvordan er slimet du hoster opp?",
                "Korleis er slimet du hostar opp?",
                "What is the phlegm you cough up like?",
            ),
            options: &[
                opt(
                    "vanlig",
                    0,
                    Text::new(
                        "Lite, eller som vanlig",
                        "Lite, eller som vanleg",
                        "Little, or as usual",
                    ),
                ),
                opt(
                    "mer",
                    1,
                    Text::new("Mer enn vanlig", "Meir enn vanleg", "More than usual"),
                ),
                opt(
                    "farget",
                    2,
                    Text::new(
                        "Gult, grønt eller brunt",
                        "Gult, grønt eller brunt",
                        "Yellow, green or brown",
                    ),
                ),
                red(
                    "blod",
                    3,
                    Text::new(
                        "Det er blod i slimet",
                        "Det er blod i slimet",
                        "There is blood in it",
                    ),
                ),
            ],
        },
        Item {
            link_id: "medisin",
            text: Text::new(
                "Har du brukt mer anfallsmedisin enn vanlig?",
                "Har du brukt meir anfallsmedisin enn vanleg?",
                "Have you used more reliever medicine than usual?",
            ),
            options: &[
                opt("nei", 0, NO),
                opt(
                    "litt",
                    1,
                    Text::new("Litt mer", "Litt meir", "A little more"),
                ),
                opt("mye", 2, Text::new("Mye mer", "Mykje meir", "Much more")),
            ],
        },
        Item {
            link_id: "feber",
            text: Text::new(
                "Har du feber eller føler deg syk?",
                "Har du feber eller kjenner deg sjuk?",
                "Do you have a fever or feel ill?",
            ),
            options: &[
                opt("nei", 0, NO),
                opt("litt", 1, Text::new("Litt", "Litt", "A little")),
                opt(
                    "ja",
                    2,
                    Text::new("Ja, tydelig", "Ja, tydeleg", "Yes, clearly"),
                ),
            ],
        },
    ],
    bands: ScoreBands {
        yellow_from: 3,
        red_from: 6,
    },
};

/// Heart-failure symptom check, daily. Written by Helsebro.
pub static HEART_FAILURE_SYMPTOMS: Questionnaire = Questionnaire {
    id: "helsebro-hjertesvikt-symptomer",
    version: "1",
    title: Text::new(
        "Hvordan har hjertet det i dag?",
        "Korleis har hjartet det i dag?",
        "How is your heart today?",
    ),
    intro: Text::new(
        "Svar på hvordan du har hatt det siste døgnet.",
        "Svar på korleis du har hatt det siste døgnet.",
        "Answer how you have been over the last day.",
    ),
    items: &[
        Item {
            link_id: "andpusten",
            text: Text::new(
                "Er du mer andpusten enn vanlig?",
                "Er du meir andpusten enn vanleg?",
                "Are you more short of breath than usual?",
            ),
            options: &[
                opt("nei", 0, NO),
                opt(
                    "aktivitet",
                    1,
                    Text::new(
                        "Litt mer når jeg er i aktivitet",
                        "Litt meir når eg er i aktivitet",
                        "A little more when I am active",
                    ),
                ),
                red(
                    "hvile",
                    3,
                    Text::new(
                        "Ja, også når jeg sitter stille",
                        "Ja, også når eg sit stille",
                        "Yes, even when I sit still",
                    ),
                ),
            ],
        },
        Item {
            link_id: "hevelse",
            text: Text::new(
                "Er beina eller anklene dine mer hovne enn vanlig?",
                "Er beina eller anklane dine meir hovne enn vanleg?",
                "Are your legs or ankles more swollen than usual?",
            ),
            options: &[
                opt("nei", 0, NO),
                opt(
                    "litt",
                    1,
                    Text::new("Litt mer", "Litt meir", "A little more"),
                ),
                opt("mye", 2, Text::new("Mye mer", "Mykje meir", "Much more")),
            ],
        },
        Item {
            link_id: "natt",
            text: Text::new(
                "Hvordan sov du i natt?",
                "Korleis sov du i natt?",
                "How did you sleep last night?",
            ),
            options: &[
                opt(
                    "vanlig",
                    0,
                    Text::new("Som vanlig", "Som vanleg", "As usual"),
                ),
                opt(
                    "puter",
                    1,
                    Text::new(
                        "Jeg trengte flere puter enn vanlig",
                        "Eg trong fleire puter enn vanleg",
                        "I needed more pillows than usual",
                    ),
                ),
                opt(
                    "sitte",
                    2,
                    Text::new(
                        "Jeg måtte sitte oppe for å få puste",
                        "Eg måtte sitje oppe for å få puste",
                        "I had to sit up to breathe",
                    ),
                ),
            ],
        },
        Item {
            link_id: "svimmel",
            text: Text::new(
                "Har du vært svimmel eller besvimt?",
                "Har du vore svimmel eller besvimt?",
                "Have you been dizzy or fainted?",
            ),
            options: &[
                opt("nei", 0, NO),
                opt(
                    "svimmel",
                    1,
                    Text::new(
                        "Jeg har vært svimmel",
                        "Eg har vore svimmel",
                        "I have been dizzy",
                    ),
                ),
                red(
                    "besvimt",
                    3,
                    Text::new("Jeg har besvimt", "Eg har besvimt", "I have fainted"),
                ),
            ],
        },
        Item {
            link_id: "bryst",
            text: Text::new(
                "Har du smerter eller trykk i brystet?",
                "Har du smerter eller trykk i brystet?",
                "Do you have pain or pressure in your chest?",
            ),
            options: &[
                opt("nei", 0, NO),
                red("ja", 3, Text::new("Ja", "Ja", "Yes")),
            ],
        },
        Item {
            link_id: "medisiner",
            text: Text::new(
                "Har du tatt medisinene dine som avtalt?",
                "Har du teke medisinane dine som avtalt?",
                "Have you taken your medicines as agreed?",
            ),
            options: &[
                opt("ja", 0, Text::new("Ja", "Ja", "Yes")),
                opt(
                    "nei",
                    1,
                    Text::new("Nei, ikke alle", "Nei, ikkje alle", "No, not all of them"),
                ),
            ],
        },
    ],
    bands: ScoreBands {
        yellow_from: 2,
        red_from: 4,
    },
};

/// Mental-health check-in, weekly. Written by Helsebro.
pub static MENTAL_HEALTH_CHECK_IN: Questionnaire = Questionnaire {
    id: "helsebro-psykisk-helse",
    version: "1",
    title: Text::new("Hvordan har du det?", "Korleis har du det?", "How are you?"),
    intro: Text::new(
        "Tenk på den siste uken. Det finnes ingen riktige eller gale svar.",
        "Tenk på den siste veka. Det finst ingen rette eller gale svar.",
        "Think of the last week. There are no right or wrong answers.",
    ),
    items: &[
        Item {
            link_id: "humor",
            text: Text::new(
                "Hvordan har humøret ditt vært?",
                "Korleis har humøret ditt vore?",
                "How has your mood been?",
            ),
            options: &[
                opt(
                    "godt",
                    0,
                    Text::new("Stort sett godt", "Stort sett godt", "Mostly good"),
                ),
                opt(
                    "litt-ned",
                    1,
                    Text::new(
                        "Litt nedfor av og til",
                        "Litt nedfor av og til",
                        "A little low now and then",
                    ),
                ),
                opt(
                    "ofte-ned",
                    2,
                    Text::new("Ofte nedfor", "Ofte nedfor", "Often low"),
                ),
                opt(
                    "nesten-alltid",
                    3,
                    Text::new(
                        "Nedfor nesten hele tiden",
                        "Nedfor nesten heile tida",
                        "Low nearly all the time",
                    ),
                ),
            ],
        },
        Item {
            link_id: "glede",
            text: Text::new(
                "Har du kjent glede over ting du liker å gjøre?",
                "Har du kjent glede over ting du likar å gjere?",
                "Have you enjoyed things you like doing?",
            ),
            options: &[
                opt(
                    "ja",
                    0,
                    Text::new("Ja, som før", "Ja, som før", "Yes, as before"),
                ),
                opt(
                    "mindre",
                    1,
                    Text::new("Mindre enn før", "Mindre enn før", "Less than before"),
                ),
                opt(
                    "nesten-ikke",
                    2,
                    Text::new("Nesten ikke", "Nesten ikkje", "Hardly at all"),
                ),
            ],
        },
        Item {
            link_id: "sovn",
            text: Text::new(
                "Hvordan har du sovet?",
                "Korleis har du sove?",
                "How have you slept?",
            ),
            options: &[
                opt("godt", 0, Text::new("Godt", "Godt", "Well")),
                opt(
                    "litt-darlig",
                    1,
                    Text::new("Litt dårlig", "Litt dårleg", "A little badly"),
                ),
                opt(
                    "svart-darlig",
                    2,
                    Text::new("Svært dårlig", "Svært dårleg", "Very badly"),
                ),
            ],
        },
        Item {
            link_id: "uro",
            text: Text::new(
                "Har du kjent deg urolig eller engstelig?",
                "Har du kjent deg uroleg eller engsteleg?",
                "Have you felt restless or anxious?",
            ),
            options: &[
                opt("nei", 0, NO),
                opt(
                    "noen-ganger",
                    1,
                    Text::new("Noen ganger", "Nokre gonger", "Sometimes"),
                ),
                opt("ofte", 2, Text::new("Ofte", "Ofte", "Often")),
            ],
        },
        Item {
            link_id: "noen-a-snakke-med",
            text: Text::new(
                "Har du noen å snakke med når du trenger det?",
                "Har du nokon å snakke med når du treng det?",
                "Do you have someone to talk to when you need it?",
            ),
            options: &[
                opt("ja", 0, Text::new("Ja", "Ja", "Yes")),
                opt("nei", 1, NO),
            ],
        },
        Item {
            link_id: "tanker",
            text: Text::new(
                "Har du hatt tanker om å skade deg selv, eller om at livet ikke er verdt å leve?",
                "Har du hatt tankar om å skade deg sjølv, eller om at livet ikkje er verdt å leve?",
                "Have you had thoughts of harming yourself, or that life is not worth living?",
            ),
            options: &[
                opt("nei", 0, NO),
                red("ja", 3, Text::new("Ja", "Ja", "Yes")),
            ],
        },
    ],
    bands: ScoreBands {
        yellow_from: 4,
        red_from: 8,
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    fn all_first(q: &Questionnaire) -> Vec<(&'static str, &'static str)> {
        q.items
            .iter()
            .map(|i| (i.link_id, i.options[0].code))
            .collect()
    }

    #[test]
    fn questionnaires_are_well_formed() {
        for q in ALL {
            assert!(by_id(q.id).is_some());
            assert!(q.bands.yellow_from < q.bands.red_from);
            assert!(q.bands.red_from <= q.max_score());
            for (i, item) in q.items.iter().enumerate() {
                assert!(
                    q.items[..i].iter().all(|o| o.link_id != item.link_id),
                    "{}",
                    item.link_id
                );
                assert!(item.options.len() >= 2);
                for t in [item.text]
                    .into_iter()
                    .chain(item.options.iter().map(|o| o.text))
                {
                    assert!(!t.nb.is_empty() && !t.nn.is_empty() && !t.en.is_empty());
                }
                for (j, o) in item.options.iter().enumerate() {
                    assert!(item.options[..j].iter().all(|p| p.code != o.code));
                }
                // The first option is always the "all is well" answer.
                assert_eq!(item.options[0].score, 0);
            }
            let s = q.score(&all_first(q)).unwrap();
            assert_eq!(s.total, 0);
            assert_eq!(q.bands.colour(s.total), Colour::Green);
        }
    }

    #[test]
    fn answer_errors() {
        let q = &COPD_SYMPTOMS;
        let mut a = all_first(q);
        a.pop();
        assert_eq!(q.score(&a), Err(AnswerError::Unanswered("feber".into())));
        let mut a = all_first(q);
        a.push(("pust", "vanlig"));
        assert_eq!(q.score(&a), Err(AnswerError::AnsweredTwice("pust".into())));
        let mut a = all_first(q);
        a.push(("hvem", "nei"));
        assert_eq!(
            q.score(&a),
            Err(AnswerError::UnknownQuestion("hvem".into()))
        );
        let mut a = all_first(q);
        a[0].1 = "kanskje";
        assert!(matches!(
            q.score(&a),
            Err(AnswerError::UnknownOption { .. })
        ));
    }
}
