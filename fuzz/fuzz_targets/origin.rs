//! Fuzzes origin parsing and matching: no input panics, and whatever parses serializes to
//! text that parses to the same origin and matches its own exact pattern.
#![no_main]

use docent_lifecycle::origin::{Origin, OriginPattern};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(origin) = Origin::parse(text) {
        let serialized = origin.to_string();
        let again = Origin::parse(&serialized).expect("a serialized origin parses");
        assert_eq!(again, origin);
        let exact = OriginPattern::parse(&serialized).expect("an origin is an exact pattern");
        assert!(exact.matches(&origin));
    }
    if let Ok(pattern) = OriginPattern::parse(text) {
        // Matching an arbitrary pattern against a fixed origin must not panic either.
        let _ = pattern.matches(&Origin::parse("https://www.example.com").expect("a valid origin"));
    }
});
