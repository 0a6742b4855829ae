//! FAQ structures in an HTML page become question-and-answer items: schema.org `FAQPage`
//! (JSON-LD and microdata), `<details><summary>`, `<dl><dt><dd>`, and bold questions followed
//! by their answer. What they take is no longer a passage.
//!
//! A heading that asks a question already makes a section titled by it, and stays one: as
//! passages, their answers' text is matched too, which measured better on the Debian FAQ
//! (top-1 0.90 against 0.84 as Q&A pairs matched on the question alone).

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{BufferQueue, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts};
use serde_json::Value;

use crate::document::FaqItem;
use crate::html::{FaqContext, Item};
use crate::util::collapse_whitespace;

/// Bold questions count as FAQ markup only from this many on a page: a lone bold line that
/// ends with "?" is more often a teaser than a question list.
const MIN_BOLD_QUESTIONS: usize = 2;

/// Splits `items` into what stays page text and the FAQ items found; `json_ld` holds the
/// page's JSON-LD scripts.
pub(crate) fn extract(items: Vec<Item>, json_ld: &[String]) -> (Vec<Item>, Vec<FaqItem>) {
    let mut used = vec![false; items.len()];
    let mut found = Vec::new();
    microdata(&items, &mut used, &mut found);
    details(&items, &mut used, &mut found);
    definition_lists(&items, &mut used, &mut found);
    bold_questions(&items, &mut used, &mut found);
    found.sort_by_key(|item| item.line);
    // JSON-LD is written for machines and the most reliable: it wins over markup that gave
    // the same question.
    let mut structured = json_ld_items(json_ld);
    if !structured.is_empty() {
        found.retain(|item| !structured.iter().any(|known| same_question(&known.question, &item.question)));
        drop_shown_sections(&items, &structured, &mut used);
        structured.append(&mut found);
        found = structured;
    }
    let rest = items.into_iter().zip(used).filter_map(|(item, used)| (!used).then_some(item)).collect();
    (rest, found)
}

/// Marks as used each heading that asks a JSON-LD question, with the text under it up to the
/// next heading: such a page also shows its Q&A pairs as sections, which would otherwise stay
/// passages competing with their own pair.
fn drop_shown_sections(items: &[Item], structured: &[FaqItem], used: &mut [bool]) {
    let mut dropping = false;
    for (at, item) in items.iter().enumerate() {
        if let Item::Heading { text, .. } = item {
            dropping = structured.iter().any(|known| same_question(&known.question, text));
        }
        used[at] |= dropping;
    }
}

fn text(item: &Item) -> &str {
    match item {
        Item::Heading { text, .. } | Item::Block { text, .. } => text,
    }
}

fn context(item: &Item) -> FaqContext {
    match item {
        Item::Heading { faq, .. } | Item::Block { faq, .. } => *faq,
    }
}

fn anchor(item: &Item) -> Option<String> {
    match item {
        Item::Heading { id, .. } => id.clone(),
        Item::Block { anchor, .. } => anchor.clone(),
    }
}

fn line(item: &Item) -> usize {
    match item {
        Item::Heading { line, .. } | Item::Block { line, .. } => *line,
    }
}

fn is_question(text: &str) -> bool {
    text.trim_end_matches([' ', ':']).ends_with(['?', '？'])
}

fn same_question(a: &str, b: &str) -> bool {
    let normal =
        |text: &str| text.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect::<String>();
    normal(a) == normal(b)
}

/// Builds an item from `question` and `answer` positions, marking them used, when both have text.
fn push(items: &[Item], question: &[usize], answer: &[usize], used: &mut [bool], found: &mut Vec<FaqItem>) {
    let join = |positions: &[usize], separator: &str| {
        positions.iter().map(|&at| text(&items[at])).collect::<Vec<_>>().join(separator).trim().to_owned()
    };
    let (question_text, answer_text) = (join(question, " "), join(answer, "\n\n"));
    if question_text.is_empty() || answer_text.is_empty() {
        return;
    }
    for &at in question.iter().chain(answer) {
        used[at] = true;
    }
    found.push(FaqItem {
        question: question_text,
        answer: answer_text,
        anchor: question.iter().chain(answer).find_map(|&at| anchor(&items[at])),
        line: question.first().map(|&at| line(&items[at])),
    });
}

/// Positions of unused items grouped by `key`, in page order.
fn groups(items: &[Item], used: &[bool], key: impl Fn(FaqContext) -> Option<u32>) -> Vec<Vec<usize>> {
    let mut groups: Vec<(u32, Vec<usize>)> = Vec::new();
    for (at, item) in items.iter().enumerate() {
        let Some(group) = key(context(item)).filter(|_| !used[at]) else { continue };
        match groups.iter_mut().find(|(known, _)| *known == group) {
            Some((_, members)) => members.push(at),
            None => groups.push((group, vec![at])),
        }
    }
    groups.into_iter().map(|(_, members)| members).collect()
}

/// schema.org `Question` microdata: its `name` is the question, its answer's `text` the answer.
fn microdata(items: &[Item], used: &mut [bool], found: &mut Vec<FaqItem>) {
    for members in groups(items, used, |faq| faq.question) {
        let question: Vec<usize> = members.iter().copied().filter(|&at| context(&items[at]).question_name).collect();
        let answer: Vec<usize> = members.iter().copied().filter(|&at| context(&items[at]).answer_text).collect();
        push(items, &question, &answer, used, found);
    }
}

/// `<details>`: the `<summary>` asks, the rest answers.
fn details(items: &[Item], used: &mut [bool], found: &mut Vec<FaqItem>) {
    for members in groups(items, used, |faq| faq.details) {
        // Only this `<details>`' own text: a nested one is its own item.
        let own = |at: &usize| context(&items[*at]).details == context(&items[members[0]]).details;
        let question: Vec<usize> =
            members.iter().copied().filter(|at| own(at) && context(&items[*at]).summary).collect();
        let answer: Vec<usize> =
            members.iter().copied().filter(|at| own(at) && !context(&items[*at]).summary).collect();
        push(items, &question, &answer, used, found);
    }
}

/// `<dl>`: each `<dt>` that asks a question, and the `<dd>`s after it. A `<dt>` that does not
/// ask (a glossary term, a setting's name) stays page text with its definition.
fn definition_lists(items: &[Item], used: &mut [bool], found: &mut Vec<FaqItem>) {
    for members in groups(items, used, |faq| faq.dl) {
        let mut question = Vec::new();
        let mut answer = Vec::new();
        for at in members {
            let faq = context(&items[at]);
            if faq.dt && !is_question(text(&items[at])) {
                push(items, &question, &answer, used, found);
                question.clear();
                answer.clear();
            } else if faq.dt {
                if !answer.is_empty() {
                    push(items, &question, &answer, used, found);
                    question.clear();
                    answer.clear();
                }
                question.push(at);
            } else if faq.dd && !question.is_empty() {
                answer.push(at);
            }
        }
        push(items, &question, &answer, used, found);
    }
}

/// A paragraph that is all bold and ends with "?", answered by the paragraphs up to the next
/// such question or heading.
fn bold_questions(items: &[Item], used: &mut [bool], found: &mut Vec<FaqItem>) {
    // What earlier structures took, before this one takes anything.
    let taken = used.to_vec();
    let is_bold_question = |at: usize| {
        !taken[at]
            && matches!(&items[at], Item::Block { bold_only: true, link_only: false, text, .. } if is_question(text))
    };
    let starts: Vec<usize> = (0..items.len()).filter(|&at| is_bold_question(at)).collect();
    if starts.len() < MIN_BOLD_QUESTIONS {
        return;
    }
    for start in starts {
        let answer: Vec<usize> = (start + 1..items.len())
            .take_while(|&at| !is_bold_question(at) && matches!(items[at], Item::Block { .. }) && !taken[at])
            .collect();
        push(items, &[start], &answer, used, found);
    }
}

/// `Question`s with an `acceptedAnswer` anywhere in the page's JSON-LD (`FAQPage.mainEntity`,
/// `@graph`, arrays), their HTML answers as text.
fn json_ld_items(scripts: &[String]) -> Vec<FaqItem> {
    let mut found = Vec::new();
    for script in scripts {
        if let Ok(value) = serde_json::from_str::<Value>(script) {
            collect_questions(&value, &mut found, 0);
        }
    }
    found
}

/// How deep JSON-LD is searched: real FAQ markup nests three or four levels.
const MAX_JSON_DEPTH: usize = 16;

fn collect_questions(value: &Value, found: &mut Vec<FaqItem>, depth: usize) {
    if depth > MAX_JSON_DEPTH {
        return;
    }
    match value {
        Value::Array(values) => values.iter().for_each(|value| collect_questions(value, found, depth + 1)),
        Value::Object(object) => {
            let is_question = match object.get("@type") {
                Some(Value::String(kind)) => kind == "Question",
                Some(Value::Array(kinds)) => kinds.iter().any(|kind| kind == "Question"),
                _ => false,
            };
            if is_question {
                let answer = match object.get("acceptedAnswer") {
                    Some(Value::Array(answers)) => answers.first(),
                    other => other,
                };
                let question = object.get("name").and_then(Value::as_str).map(plain_text).unwrap_or_default();
                let answer = answer.and_then(|answer| answer.get("text")).and_then(Value::as_str).map(plain_text);
                if let Some(answer) = answer.filter(|answer| !answer.is_empty() && !question.is_empty()) {
                    let fragment = ["url", "@id"]
                        .iter()
                        .filter_map(|key| object.get(*key).and_then(Value::as_str))
                        .find_map(|address| address.split_once('#').map(|(_, fragment)| fragment.to_owned()))
                        .filter(|fragment| !fragment.is_empty());
                    found.push(FaqItem { question, answer, anchor: fragment, line: None });
                }
                return;
            }
            object.values().for_each(|value| collect_questions(value, found, depth + 1));
        }
        _ => {}
    }
}

/// The text of an HTML fragment (JSON-LD answers often hold `<p>`, `<a>`, `<br>`), paragraphs
/// kept apart.
fn plain_text(fragment: &str) -> String {
    #[derive(Default)]
    struct Collector {
        text: RefCell<String>,
    }
    impl TokenSink for Collector {
        type Handle = ();
        fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
            match token {
                Token::CharacterTokens(text) => self.text.borrow_mut().push_str(&text),
                Token::TagToken(tag) if matches!(&*tag.name, "p" | "br" | "li" | "div" | "ul" | "ol") => {
                    self.text.borrow_mut().push('\n');
                }
                _ => {}
            }
            TokenSinkResult::Continue
        }
    }
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(fragment));
    let tokenizer = Tokenizer::new(Collector::default(), TokenizerOpts::default());
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let text = tokenizer.sink.text.into_inner();
    text.split('\n').map(collapse_whitespace).filter(|line| !line.is_empty()).collect::<Vec<_>>().join("\n\n")
}

#[cfg(test)]
mod tests {
    use crate::html::read;
    use crate::report::Notes;

    /// An item as (question, answer, anchor).
    type Found = (String, String, Option<String>);
    /// A case: its name, the page, the items expected.
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str, Option<&'a str>)]);

    /// The items of `html` and the text left as passages.
    fn items(html: &str) -> (Vec<Found>, Vec<String>) {
        let mut warnings = Vec::new();
        let document = read("faq", html, &mut Notes::new("faq.html", &mut warnings));
        let items = document.faq.into_iter().map(|item| (item.question, item.answer, item.anchor)).collect();
        let rest = document
            .sections
            .iter()
            .flat_map(|section| section.blocks.iter().map(|block| block.text.clone()))
            .collect();
        (items, rest)
    }

    fn item(question: &str, answer: &str, anchor: Option<&str>) -> Found {
        (question.to_owned(), answer.to_owned(), anchor.map(str::to_owned))
    }

    #[test]
    fn each_faq_structure_gives_its_items() {
        let cases: &[Case<'_>] = &[
            (
                "details and summary",
                "<details id=\"ship\"><summary>How long is delivery?</summary><p>Three days.</p><p>Five abroad.</p></details>\
                 <details><summary>Can I return a bike?</summary><p>Within 30 days.</p></details>",
                &[
                    ("How long is delivery?", "Three days.\n\nFive abroad.", Some("ship")),
                    ("Can I return a bike?", "Within 30 days.", None),
                ],
            ),
            (
                "definition list",
                "<dl><dt id=\"q1\">Do you ship abroad?</dt><dd>Yes, to the EU.</dd><dt>Gift cards?</dt><dd>Online only.</dd><dd>Never refunded.</dd>\
                 <dt>stable</dt><dd>The released distribution.</dd></dl>",
                &[
                    ("Do you ship abroad?", "Yes, to the EU.", Some("q1")),
                    ("Gift cards?", "Online only.\n\nNever refunded.", None),
                ],
            ),
            (
                "bold questions",
                "<p>Intro stays.</p><p><a name=\"pay\"></a><strong>How do I pay?</strong></p><p>By card.</p>\
                 <p><b>Is there a warranty?</b></p><p>Two years.</p><ul><li>Frames: life.</li></ul>",
                &[
                    ("How do I pay?", "By card.", Some("pay")),
                    ("Is there a warranty?", "Two years.\n\nFrames: life.", None),
                ],
            ),
            (
                "microdata",
                "<div itemscope itemtype=\"https://schema.org/Question\" id=\"m1\"><h3 itemprop=\"name\">Where are you?</h3>\
                 <div itemprop=\"acceptedAnswer\" itemscope itemtype=\"https://schema.org/Answer\"><div itemprop=\"text\"><p>In Leeds.</p></div></div></div>",
                &[("Where are you?", "In Leeds.", Some("m1"))],
            ),
            (
                "JSON-LD",
                "<script type=\"application/ld+json\">{\"@context\":\"https://schema.org\",\"@type\":\"FAQPage\",\"mainEntity\":[\
                 {\"@type\":\"Question\",\"name\":\"Do you sell e-bikes?\",\"url\":\"https://shop.example/faq#ebikes\",\
                 \"acceptedAnswer\":{\"@type\":\"Answer\",\"text\":\"<p>Yes, <a href='/e'>three models</a>.</p><p>From 2,000 EUR.</p>\"}}]}</script>\
                 <details><summary>Do you sell e-bikes?</summary><p>Yes.</p></details>",
                &[("Do you sell e-bikes?", "Yes, three models.\n\nFrom 2,000 EUR.", Some("ebikes"))],
            ),
        ];
        for (name, html, expected) in cases {
            let (found, _) = items(html);
            let expected: Vec<_> = expected.iter().map(|(q, a, anchor)| item(q, a, *anchor)).collect();
            assert_eq!(found, expected, "{name}");
        }
    }

    #[test]
    fn the_rest_of_the_page_stays_text() {
        let json_ld = "<script type=\"application/ld+json\">{\"@type\":\"FAQPage\",\"mainEntity\":[{\"@type\":\"Question\",\
                       \"name\":\"Why?\",\"acceptedAnswer\":{\"@type\":\"Answer\",\"text\":\"Because.\"}}]}</script>";
        let cases = [
            (
                "<h1>Help</h1><p>Intro stays.</p><details><summary>Why?</summary><p>Because.</p></details><p>Outro stays.</p>"
                    .to_owned(),
                vec!["Intro stays.", "Outro stays."],
            ),
            // The sections that show the JSON-LD pairs on the page go with them.
            (
                format!("{json_ld}<h1>Help</h1><p>Intro stays.</p><h2>Why?</h2><p>Because.</p><h2>Contact</h2><p>Call.</p>"),
                vec!["Intro stays.", "Call."],
            ),
        ];
        for (html, expected) in cases {
            let (found, rest) = items(&html);
            assert_eq!(found.len(), 1, "{html}");
            assert_eq!(rest, expected, "{html}");
        }
    }

    #[test]
    fn lookalikes_are_not_questions() {
        for html in [
            "<p><strong>Why choose us?</strong></p><p>We are great.</p>",
            "<details><summary>More</summary></details>",
            "<h2>Contact</h2><p>Call us.</p>",
            "<h2>Which size fits me?</h2><p>See the chart.</p>",
            "<script type=\"application/ld+json\">{\"@type\":\"Question\",\"name\":\"No answer?\"}</script>",
            "<script type=\"application/ld+json\">not json</script>",
        ] {
            assert_eq!(items(html).0, [], "{html}");
        }
    }
}
