//! The language's Snowball stemmer, remembering the stems it has made: a knowledge base
//! repeats its words, and stemming every occurrence anew was most of a large build's time.

use std::collections::HashMap;

use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// Distinct words one tokenizer remembers before it starts afresh (a few MB at most).
const MAX_REMEMBERED: usize = 20_000;

/// A token filter giving the same stems as tantivy's `Stemmer`, each word stemmed once.
#[derive(Clone)]
pub(crate) struct MemoStemmer {
    stemmer: frostem::Stemmer,
}

impl MemoStemmer {
    pub(crate) fn new(algorithm: frostem::Algorithm) -> MemoStemmer {
        MemoStemmer { stemmer: frostem::Stemmer::new(algorithm) }
    }
}

impl TokenFilter for MemoStemmer {
    type Tokenizer<T: Tokenizer> = MemoStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, inner: T) -> MemoStemmerFilter<T> {
        MemoStemmerFilter { stemmer: self.stemmer, stems: HashMap::new(), inner }
    }
}

#[derive(Clone)]
pub(crate) struct MemoStemmerFilter<T> {
    stemmer: frostem::Stemmer,
    /// Word → stem.
    stems: HashMap<String, String>,
    inner: T,
}

impl<T: Tokenizer> Tokenizer for MemoStemmerFilter<T> {
    type TokenStream<'a> = MemoStemmerStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        if self.stems.len() > MAX_REMEMBERED {
            self.stems.clear();
        }
        MemoStemmerStream { tail: self.inner.token_stream(text), stemmer: self.stemmer, stems: &mut self.stems }
    }
}

pub(crate) struct MemoStemmerStream<'a, T> {
    tail: T,
    stemmer: frostem::Stemmer,
    stems: &'a mut HashMap<String, String>,
}

impl<T: TokenStream> TokenStream for MemoStemmerStream<'_, T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        match self.stems.get(token.text.as_str()) {
            Some(stem) => {
                token.text.clear();
                token.text.push_str(stem);
            }
            None => {
                let stem = self.stemmer.stem(&token.text).into_owned();
                let word = std::mem::replace(&mut token.text, stem.clone());
                self.stems.insert(word, stem);
            }
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
