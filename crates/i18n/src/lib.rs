//! Translations with Project Fluent: one `.ftl` file per language in `locales/`, embedded in
//! the binary. Bokmål is the default and the fallback. A test fails when a key is missing in
//! any language, or when a page uses a key that no language has.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use helsebro_domain::Language;
use std::collections::BTreeSet;
use std::sync::OnceLock;

const SOURCES: [(Language, &str); 3] = [
    (
        Language::Nb,
        concat!(
            include_str!("../locales/nb.ftl"),
            "\n",
            include_str!("../locales/followup/nb.ftl"),
            "\n",
            include_str!("../locales/referrals/nb.ftl"),
            "\n",
            include_str!("../locales/plans/nb.ftl")
        ),
    ),
    (
        Language::Nn,
        concat!(
            include_str!("../locales/nn.ftl"),
            "\n",
            include_str!("../locales/followup/nn.ftl"),
            "\n",
            include_str!("../locales/referrals/nn.ftl"),
            "\n",
            include_str!("../locales/plans/nn.ftl")
        ),
    ),
    (
        Language::En,
        concat!(
            include_str!("../locales/en.ftl"),
            "\n",
            include_str!("../locales/followup/en.ftl"),
            "\n",
            include_str!("../locales/referrals/en.ftl"),
            "\n",
            include_str!("../locales/plans/en.ftl")
        ),
    ),
];

/// A set of Fluent files, one per language, loaded into bundles. The pages use one
/// ([`translations`]); the notification texts use another.
pub struct Catalogue {
    bundles: Vec<(Language, FluentBundle<FluentResource>, BTreeSet<String>)>,
}

/// The page translations.
pub type Translations = Catalogue;

/// The shared page translations.
pub fn translations() -> &'static Translations {
    static T: OnceLock<Translations> = OnceLock::new();
    T.get_or_init(|| Catalogue::from_sources(&SOURCES))
}

/// Why a message could not be produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    /// No language, not even bokmål, has the message.
    Missing,
    /// The message exists but could not be formatted (e.g. a missing argument).
    Format(String),
}

impl Catalogue {
    /// Loads one Fluent source per language.
    pub fn from_sources(sources: &[(Language, &str)]) -> Catalogue {
        let bundles = sources
            .iter()
            .map(|(lang, source)| {
                // A syntax error in a shipped file is a build defect; the tests catch it, and
                // at run time the bad entries are skipped rather than taking the server down.
                let resource =
                    FluentResource::try_new((*source).to_owned()).unwrap_or_else(|(res, _)| res);
                let keys = message_ids(&resource);
                let langid: unic_langid::LanguageIdentifier =
                    lang.code().parse().unwrap_or_default();
                let mut bundle = FluentBundle::new_concurrent(vec![langid]);
                // No Unicode isolation marks: they are noise in HTML and not in the SMS alphabet.
                bundle.set_use_isolating(false);
                let _ = bundle.add_resource(resource);
                (*lang, bundle, keys)
            })
            .collect();
        Catalogue { bundles }
    }

    fn bundle(&self, lang: Language) -> Option<&FluentBundle<FluentResource>> {
        self.bundles
            .iter()
            .find(|(l, _, _)| *l == lang)
            .map(|(_, b, _)| b)
    }

    /// The text for `key` in `lang` (bokmål when the language lacks it), with arguments.
    pub fn lookup(
        &self,
        lang: Language,
        key: &str,
        args: &[(&str, &str)],
    ) -> Result<String, LookupError> {
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, *value);
        }
        for l in [lang, Language::Nb] {
            let Some(bundle) = self.bundle(l) else {
                continue;
            };
            let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
                continue;
            };
            let mut errors = Vec::new();
            let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
            if !errors.is_empty() {
                return Err(LookupError::Format(format!("{errors:?}")));
            }
            return Ok(text.into_owned());
        }
        Err(LookupError::Missing)
    }

    /// The text for `key` in `lang`, falling back to bokmål, then to the key itself.
    pub fn get(&self, lang: Language, key: &str) -> String {
        self.get_with(lang, key, &[])
    }

    /// Like [`Catalogue::get`], with `{ $name }` arguments.
    pub fn get_with(&self, lang: Language, key: &str, args: &[(&str, &str)]) -> String {
        match self.lookup(lang, key, args) {
            Ok(text) => text,
            Err(_) => key.to_owned(),
        }
    }

    /// The message ids defined for `lang`.
    pub fn keys(&self, lang: Language) -> BTreeSet<String> {
        self.bundles
            .iter()
            .find(|(l, _, _)| *l == lang)
            .map(|(_, _, k)| k.clone())
            .unwrap_or_default()
    }
}

/// Checks a set of sources: each parses, and every language has the same message ids.
/// Returns the problems found, one line each (empty when all is well). For tests.
pub fn check_sources(sources: &[(Language, &str)]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut ids = Vec::new();
    for (lang, source) in sources {
        match FluentResource::try_new((*source).to_owned()) {
            Ok(resource) => ids.push((*lang, message_ids(&resource))),
            Err((_, errors)) => {
                problems.push(format!("{}.ftl has syntax errors: {errors:?}", lang.code()))
            }
        }
    }
    let all: BTreeSet<String> = ids.iter().flat_map(|(_, k)| k.iter().cloned()).collect();
    for (lang, keys) in &ids {
        for k in all.difference(keys) {
            problems.push(format!("{}.ftl lacks {k}", lang.code()));
        }
    }
    problems
}

fn message_ids(resource: &FluentResource) -> BTreeSet<String> {
    resource
        .entries()
        .filter_map(|e| match e {
            fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
            _ => None,
        })
        .collect()
}

/// A language bound to the translations: what templates call `t` on.
#[derive(Clone, Copy)]
pub struct Tr {
    pub lang: Language,
}

impl Tr {
    pub fn new(lang: Language) -> Tr {
        Tr { lang }
    }

    pub fn t(&self, key: &str) -> String {
        translations().get(self.lang, key)
    }

    pub fn t1(&self, key: &str, name: &str, value: &str) -> String {
        translations().get_with(self.lang, key, &[(name, value)])
    }

    pub fn t2(&self, key: &str, a: (&str, &str), b: (&str, &str)) -> String {
        translations().get_with(self.lang, key, &[a, b])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn every_file_parses_and_has_every_key() {
        let problems = check_sources(&SOURCES);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// Every `t("key")`/`t1("key"` in the web layer's templates and code, and every role and
    /// unit label, must exist in bokmål (and so, by the test above, in every language).
    #[test]
    fn every_used_key_exists() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut used = BTreeSet::new();
        let mut stack = vec![root.join("http/templates"), root.join("http/src")];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                for marker in [".t(\"", ".t1(\"", ".t2(\"", "tkey(\""] {
                    for piece in text.split(marker).skip(1) {
                        if let Some(end) = piece.find('"') {
                            used.insert(piece[..end].to_owned());
                        }
                    }
                }
            }
        }
        for role in helsebro_domain::Role::ALL {
            used.insert(role.label_key().to_owned());
        }
        assert!(
            used.len() > 20,
            "the scan found only {} keys; has the layout moved?",
            used.len()
        );
        let nb = translations().keys(Language::Nb);
        let missing: Vec<_> = used.iter().filter(|k| !nb.contains(*k)).collect();
        assert!(
            missing.is_empty(),
            "keys used but not translated: {missing:?}"
        );
    }

    #[test]
    fn falls_back_to_bokmal_then_key() {
        let t = translations();
        assert_eq!(
            t.get(Language::En, "no-such-key-at-all"),
            "no-such-key-at-all"
        );
        assert_ne!(
            t.get(Language::En, "login-title"),
            t.get(Language::Nb, "login-title")
        );
    }
}
