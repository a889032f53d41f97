//! Texts kept as data in the three languages Helsebro speaks (bokmål, nynorsk, English).
//!
//! Questionnaire wording and explanations live here as data rather than in Fluent files so that
//! a questionnaire's version pins its exact wording in every language.

use serde::{Deserialize, Serialize};

/// A language for texts in this crate. Bokmål is the default, as everywhere in Helsebro.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Nb,
    Nn,
    En,
}

impl Lang {
    /// The BCP 47 tag (`nb`, `nn`, `en`), as FHIR's `language` element wants it.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Nb => "nb",
            Lang::Nn => "nn",
            Lang::En => "en",
        }
    }
}

/// One text in bokmål, nynorsk and English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Text {
    pub nb: &'static str,
    pub nn: &'static str,
    pub en: &'static str,
}

impl Text {
    pub const fn new(nb: &'static str, nn: &'static str, en: &'static str) -> Self {
        Self { nb, nn, en }
    }

    pub fn get(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Nb => self.nb,
            Lang::Nn => self.nn,
            Lang::En => self.en,
        }
    }
}
