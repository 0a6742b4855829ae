//! Escaping text for HTML, for every page the gateway renders itself: the same escape as the
//! analytics reports', so the two can never differ.

pub(crate) use docent_analytics::report::escape;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_is_escaped() {
        assert_eq!(
            escape(r#"<img src=x onerror="a('1')">&"#),
            "&lt;img src=x onerror=&quot;a(&#39;1&#39;)&quot;&gt;&amp;"
        );
    }
}
