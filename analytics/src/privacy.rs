//! Privacy filters applied before anything is stored: redaction of contact and card
//! numbers in texts, and visitor hashes that cannot be turned back into an address.

use std::sync::Mutex;

use docent_store::Timestamp;
use sha2::{Digest, Sha256};

/// What replaces an e-mail address.
pub const EMAIL: &str = "[email]";
/// What replaces a phone number.
pub const PHONE: &str = "[phone]";
/// What replaces a card-like number.
pub const CARD: &str = "[card]";

/// `text` with e-mail addresses, phone numbers and card-like numbers replaced by
/// [`EMAIL`], [`PHONE`] and [`CARD`].
///
/// - an e-mail address: `local@domain.tld`, the domain with at least one dot and a TLD of two letters or more;
/// - a card-like number: 13 to 19 digits, alone or in groups split by single spaces or dashes,
///   whose Luhn checksum holds;
/// - a phone number: any other run of digits and separators (space, `-`, `.`, `(`, `)`) with 9 to 15
///   digits, or 7 to 15 after a leading `+`.
///
/// Runs of digits glued to letters (`A1234567890`) are left alone: they are codes, not numbers.
pub fn redact(text: &str) -> String {
    redact_numbers(&redact_emails(text))
}

fn redact_emails(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let is_local = |c: char| c.is_alphanumeric() || "._%+-".contains(c);
    let is_domain = |c: char| c.is_alphanumeric() || c == '.' || c == '-';
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut at = 0;
    while at < chars.len() {
        if chars[at] != '@' {
            at += 1;
            continue;
        }
        let mut start = at;
        while start > copied && is_local(chars[start - 1]) {
            start -= 1;
        }
        let mut end = at + 1;
        while end < chars.len() && is_domain(chars[end]) {
            end += 1;
        }
        // A sentence's final dot is not part of the domain.
        while end > at + 1 && chars[end - 1] == '.' {
            end -= 1;
        }
        let domain: String = chars[at + 1..end].iter().collect();
        let labels: Vec<&str> = domain.split('.').collect();
        let tld_ok = labels.last().is_some_and(|tld| tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic));
        if start < at && labels.len() >= 2 && labels.iter().all(|label| !label.is_empty()) && tld_ok {
            out.extend(&chars[copied..start]);
            out.push_str(EMAIL);
            copied = end;
            at = end;
        } else {
            at += 1;
        }
    }
    out.extend(&chars[copied..]);
    out
}

fn redact_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while at < chars.len() {
        let starts_number = chars[at].is_ascii_digit()
            || (matches!(chars[at], '+' | '(') && chars.get(at + 1).is_some_and(|c| c.is_ascii_digit()));
        let glued_to_word = at > 0 && (chars[at - 1].is_alphanumeric() || chars[at - 1] == '_');
        if !starts_number || glued_to_word {
            out.push(chars[at]);
            at += 1;
            continue;
        }
        let end = number_end(&chars, at);
        let run = &chars[at..end];
        let glued_after = chars.get(end).is_some_and(|c| c.is_alphanumeric() || *c == '_');
        match classify(run) {
            Some(replacement) if !glued_after => out.push_str(replacement),
            _ => out.extend(run),
        }
        at = end;
    }
    out
}

/// The end of the run of digits and separators starting at `start`: a separator counts only
/// between digits (or before an opening parenthesis), and the run ends on its last digit.
fn number_end(chars: &[char], start: usize) -> usize {
    let mut end = start;
    let mut last_digit = start;
    while end < chars.len() {
        let c = chars[end];
        let next_starts_group = chars.get(end + 1).is_some_and(|next| next.is_ascii_digit() || *next == '(');
        if c.is_ascii_digit() {
            last_digit = end + 1;
        } else if !(c == ')' || (" -.(".contains(c) && next_starts_group) || (c == '+' && end == start)) {
            break;
        }
        end += 1;
    }
    last_digit.max(start + 1)
}

fn classify(run: &[char]) -> Option<&'static str> {
    let digits: Vec<u32> = run.iter().filter_map(|c| c.to_digit(10)).collect();
    let card_shaped = run.iter().all(|c| c.is_ascii_digit() || *c == ' ' || *c == '-');
    if card_shaped && (13..=19).contains(&digits.len()) && luhn(&digits) {
        return Some(CARD);
    }
    let international = run.first() == Some(&'+');
    let phone_digits = if international { 7..=15 } else { 9..=15 };
    phone_digits.contains(&digits.len()).then_some(PHONE)
}

/// Whether `digits` pass the Luhn checksum (the last digit is the check digit).
pub fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(index, &digit)| {
            if index % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    !digits.is_empty() && sum.is_multiple_of(10)
}

/// Turns client addresses into visitor ids: SHA-256 of a random salt, the UTC day and the
/// address, cut to 16 hex digits. The salt lives in memory only and is drawn anew each UTC
/// day (and at each start), so ids cannot be linked across days and no stored value leads
/// back to an address.
#[derive(Default)]
pub struct VisitorHasher {
    salt: Mutex<Option<(Timestamp, [u8; 32])>>,
}

impl VisitorHasher {
    /// The visitor id of `address` (an IP address or network, as text) on the UTC day of `now`.
    pub fn visitor(&self, address: &str, now: Timestamp) -> String {
        let day = now.div_euclid(86_400);
        let salt = {
            let mut current = self.salt.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            match *current {
                Some((salt_day, salt)) if salt_day == day => salt,
                _ => {
                    let mut salt = [0u8; 32];
                    if getrandom::fill(&mut salt).is_err() {
                        // No system randomness: the clock's nanoseconds are still never stored nor shown.
                        let nanos = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map_or(0, |elapsed| elapsed.as_nanos());
                        salt = Sha256::digest(nanos.to_le_bytes()).into();
                    }
                    *current = Some((day, salt));
                    salt
                }
            }
        };
        let mut hasher = Sha256::new();
        hasher.update(salt);
        hasher.update(day.to_le_bytes());
        hasher.update(address.as_bytes());
        hasher.finalize().iter().take(8).map(|byte| format!("{byte:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_and_card_numbers_are_redacted() {
        for (text, expected) in [
            ("write to jane.doe+shop@example.co.uk please", "write to [email] please"),
            ("mail: JOHN@EXAMPLE.COM.", "mail: [email]."),
            ("ping me at a@b.c", "ping me at a@b.c"),
            ("@home with friends", "@home with friends"),
            ("user@localhost", "user@localhost"),
            ("two: x@y.org, z@w.net", "two: [email], [email]"),
            ("card 4111 1111 1111 1111 ok", "card [card] ok"),
            ("card 4111-1111-1111-1111", "card [card]"),
            ("card 4111111111111111", "card [card]"),
            ("amex 378282246310005", "amex [card]"),
            // 16 digits that fail Luhn are no card, and too long for a phone.
            ("ref 4111111111111112", "ref 4111111111111112"),
            ("call +1 (555) 123-4567 now", "call [phone] now"),
            ("call 06 12 34 56 78", "call [phone]"),
            ("call +44 20 7946 0958.", "call [phone]."),
            ("call (555) 123-4567", "call [phone]"),
            ("order 12345678 arrived", "order 12345678 arrived"),
            ("on 2026-11-24 at 10:30", "on 2026-11-24 at 10:30"),
            ("version 3.14 and 42", "version 3.14 and 42"),
            ("code A1234567890 stays", "code A1234567890 stays"),
            ("serial 1234567890X stays", "serial 1234567890X stays"),
            ("", ""),
            ("héllo wörld 😀", "héllo wörld 😀"),
        ] {
            assert_eq!(redact(text), expected, "{text:?}");
        }
    }

    #[test]
    fn luhn_accepts_valid_numbers_only() {
        let digits = |text: &str| text.chars().filter_map(|c| c.to_digit(10)).collect::<Vec<_>>();
        for (number, valid) in [("79927398713", true), ("79927398710", false), ("4012888888881881", true), ("", false)]
        {
            assert_eq!(luhn(&digits(number)), valid, "{number}");
        }
    }

    #[test]
    fn visitor_ids_are_stable_within_a_day_and_change_with_it() {
        let hasher = VisitorHasher::default();
        let (one, two) = ("203.0.113.9", "203.0.113.10");
        let day = 1_790_000_000 / 86_400 * 86_400;
        let id = hasher.visitor(one, day + 5);
        assert_eq!(id.len(), 16);
        assert!(!id.contains("203"));
        assert_eq!(hasher.visitor(one, day + 80_000), id, "same day, same id");
        assert_ne!(hasher.visitor(two, day + 5), id);
        assert_ne!(hasher.visitor(one, day + 86_400), id, "a new day, a new salt");
        assert_ne!(VisitorHasher::default().visitor(one, day + 5), id, "each start draws its own salt");
    }
}
