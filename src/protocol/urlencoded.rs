//! `application/x-www-form-urlencoded` query parsing that decodes only what is read.
//!
//! The same split and decoding as the `form_urlencoded` crate (the WHATWG URL standard's
//! parser): pairs separated by `&`, empty pieces skipped, the name cut from the value at the
//! first `=` (a piece without `=` has an empty value), `+` read as a space, `%` and two hex
//! digits read as that byte, any other `%` kept, and bytes that are not UTF-8 after decoding
//! replaced by U+FFFD. Unlike `form_urlencoded::parse`, which decodes every name and value it
//! meets (one allocation per escaped parameter), pairs come out raw: a name is compared with
//! the names the layer reads without allocating, and only the values the layer keeps are
//! decoded, so a query of ten thousand escaped parameters costs no more memory than one of ten.

use std::borrow::Cow;

use super::digits::hex_digit;

/// The `name=value` pairs of a query, split at `&` and at the first `=`, still encoded; empty
/// pairs are skipped, and a pair without `=` has an empty value.
pub(crate) fn pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
}

/// Whether form-urlencoded `raw` decodes to exactly `expected`, without decoding into a buffer.
pub(crate) fn decodes_to(raw: &str, expected: &str) -> bool {
    if !has_escape(raw) {
        return raw == expected;
    }
    let mut decoded = Decoded(raw.as_bytes());
    expected.bytes().all(|byte| decoded.next() == Some(byte)) && decoded.next().is_none()
}

/// Whether form-urlencoded `text` has anything to decode: a `%` escape or a `+` for a space.
pub(crate) fn has_escape(text: &str) -> bool {
    text.as_bytes().contains(&b'%') || text.as_bytes().contains(&b'+')
}

/// Decodes a form-urlencoded value: borrowed when it has nothing to decode; bytes that are not
/// UTF-8 after decoding become U+FFFD, as `application/x-www-form-urlencoded` parsing does.
pub(crate) fn decode(raw: &str) -> Cow<'_, str> {
    if !has_escape(raw) {
        return Cow::Borrowed(raw);
    }
    let bytes: Vec<u8> = Decoded(raw.as_bytes()).collect();
    Cow::Owned(
        String::from_utf8(bytes)
            .unwrap_or_else(|invalid| String::from_utf8_lossy(invalid.as_bytes()).into_owned()),
    )
}

/// The bytes of a form-urlencoded text: `+` is a space, `%` and two hex digits the byte they
/// spell, anything else itself (a `%` not followed by two hex digits included).
struct Decoded<'a>(&'a [u8]);

impl Iterator for Decoded<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        match first {
            b'+' => Some(b' '),
            b'%' => match rest {
                [high, low, tail @ ..] => match (hex_digit(*high), hex_digit(*low)) {
                    (Some(high), Some(low)) => {
                        self.0 = tail;
                        Some(high << 4 | low)
                    }
                    _ => Some(b'%'),
                },
                _ => Some(b'%'),
            },
            other => Some(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn splits_and_decodes_as_the_url_standard_does() {
        let query = "a=1&&b&=c&d=e=f&g+h=%41%4a%4A&%zz=%4&%=%%&;x=1;y=2";
        let ours: Vec<(Cow<'_, str>, Cow<'_, str>)> = pairs(query)
            .map(|(name, value)| (decode(name), decode(value)))
            .collect();
        let reference: Vec<_> = form_urlencoded::parse(query.as_bytes()).collect();
        assert_eq!(ours, reference);
        assert_eq!(ours[1], ("b".into(), "".into()));
        assert_eq!(ours[4], ("g h".into(), "AJJ".into()));
        // `;` is not a separator.
        assert_eq!(ours[7], (";x".into(), "1;y=2".into()));
    }

    #[test]
    fn bytes_that_are_not_utf8_become_replacement_characters() {
        assert_eq!(decode("%FF"), "\u{FFFD}");
        assert_eq!(decode("a%C3%A9%C3"), "aé\u{FFFD}");
        assert!(!decodes_to("%FF", "\u{FFFD}"));
    }

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(
            decode("Group.CallbackAfterRecallMsg"),
            Cow::Borrowed(_)
        ));
        assert!(matches!(decode("a%41"), Cow::Owned(_)));
    }

    /// Query text with the characters that matter to the parser made likely.
    fn query_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("&".to_owned()),
            Just("=".to_owned()),
            Just("+".to_owned()),
            Just("%".to_owned()),
            "%[0-9a-fA-F]{2}",
            "%[0-9a-fA-FgG]{0,2}",
            "[a-zA-Z0-9;.]{1,4}",
            Just("SdkAppid".to_owned()),
            Just("CallbackCommand".to_owned()),
            any::<char>().prop_map(String::from),
        ];
        proptest::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn agrees_with_form_urlencoded(query in query_text()) {
            let reference: Vec<_> = form_urlencoded::parse(query.as_bytes()).collect();
            let ours: Vec<_> = pairs(&query).collect();
            prop_assert_eq!(ours.len(), reference.len());
            for ((name, value), (ref_name, ref_value)) in ours.into_iter().zip(reference) {
                prop_assert_eq!(decode(name), ref_name.clone());
                prop_assert_eq!(decode(value), ref_value.clone());
                for known in ["SdkAppid", "CallbackCommand", "Sign", "A", ""] {
                    prop_assert_eq!(decodes_to(name, known), ref_name == known);
                    prop_assert_eq!(decodes_to(value, known), ref_value == known);
                }
            }
        }
    }
}
