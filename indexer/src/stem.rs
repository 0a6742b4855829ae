//! The language's Snowball stemmer, remembering the stems it has made: a knowledge base
//! repeats its words, and stemming every occurrence anew was most of the time of a large
//! build and of scoring a question's candidates.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// Distinct words remembered (a few MB at most); later new words are stemmed each time.
const MAX_REMEMBERED: usize = 50_000;

/// A token filter giving the same stems as tantivy's `Stemmer`, each word stemmed once.
/// Clones (tantivy clones an analyzer per field, thread and query) share one memory.
#[derive(Clone)]
pub(crate) struct MemoStemmer {
    stemmer: frostem::Stemmer,
    /// Word → stem.
    stems: Arc<RwLock<HashMap<String, String>>>,
}

impl MemoStemmer {
    pub(crate) fn new(algorithm: frostem::Algorithm) -> MemoStemmer {
        MemoStemmer { stemmer: frostem::Stemmer::new(algorithm), stems: Arc::default() }
    }
}

impl TokenFilter for MemoStemmer {
    type Tokenizer<T: Tokenizer> = MemoStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, inner: T) -> MemoStemmerFilter<T> {
        MemoStemmerFilter { memo: self, inner }
    }
}

#[derive(Clone)]
pub(crate) struct MemoStemmerFilter<T> {
    memo: MemoStemmer,
    inner: T,
}

impl<T: Tokenizer> Tokenizer for MemoStemmerFilter<T> {
    type TokenStream<'a> = MemoStemmerStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        MemoStemmerStream { tail: self.inner.token_stream(text), memo: &self.memo }
    }
}

pub(crate) struct MemoStemmerStream<'a, T> {
    tail: T,
    memo: &'a MemoStemmer,
}

impl<T: TokenStream> TokenStream for MemoStemmerStream<'_, T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        {
            let stems = self.memo.stems.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(stem) = stems.get(token.text.as_str()) {
                token.text.clear();
                token.text.push_str(stem);
                return true;
            }
        }
        let stem = self.memo.stemmer.stem(&token.text).into_owned();
        let word = std::mem::replace(&mut token.text, stem.clone());
        let mut stems = self.memo.stems.write().unwrap_or_else(PoisonError::into_inner);
        if stems.len() < MAX_REMEMBERED {
            stems.insert(word, stem);
        }
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use tantivy::tokenizer::{Language, LowerCaser, SimpleTokenizer, Stemmer, TextAnalyzer};

    use super::*;

    fn tokens(mut analyzer: TextAnalyzer, text: &str) -> Vec<String> {
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while let Some(token) = stream.next() {
            out.push(token.text.clone());
        }
        out
    }

    #[test]
    fn stems_match_tantivys_stemmer_for_each_language_and_repeated_words() {
        let cases = [
            (Language::English, frostem::Algorithm::English, "Running runners ran; running again, RUNNING."),
            (Language::French, frostem::Algorithm::French, "les chevaux mangeaient, mangeait, mangeons"),
            (Language::German, frostem::Algorithm::German, "Häuser, Häusern und häuslichen Hauses"),
            (Language::Spanish, frostem::Algorithm::Spanish, "corriendo corredores corrieron corriendo"),
        ];
        for (language, algorithm, text) in cases {
            let reference = TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(LowerCaser)
                .filter(Stemmer::new(language))
                .build();
            let remembering = TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(LowerCaser)
                .filter(MemoStemmer::new(algorithm))
                .build();
            let expected = tokens(reference, text);
            assert!(!expected.is_empty());
            // Twice through one analyzer: the second pass answers from memory.
            let mut analyzer = remembering.clone();
            for pass in 0..2 {
                let mut stream = analyzer.token_stream(text);
                let mut got = Vec::new();
                while let Some(token) = stream.next() {
                    got.push(token.text.clone());
                }
                assert_eq!(got, expected, "{language:?}, pass {pass}");
            }
        }
    }
}
