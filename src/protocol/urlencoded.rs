//! `application/x-www-form-urlencoded` query parsing that decodes only what is read.
//!
//! The same split and decoding as the `form_urlencoded` crate (the WHATWG URL standard's
//! parser): pairs separated by `&`, empty pieces skipped, the name cut from the value at the
//! first `=` (a piece without `=` has an empty value), `+` read as a space, `%` and two hex
//! digits read as that byte, any other `%` kept, and bytes that are not UTF-8 after decoding
//! replaced by U+FFFD. Unlike `form_urlencoded::parse`, which decodes every name and value it
//! meets (one allocation per escaped parameter), pairs come out raw: a name is compared with
//! the names the layer reads without allocating, and only the values the layer keeps are
//! decoded. A query of ten thousand escaped parameters so costs no more memory than one of ten.

use std::borrow::Cow;

/// The raw `(name, value)` pairs of a query, in order, undecoded.
pub(crate) fn pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| piece.split_once('=').unwrap_or((piece, "")))
}

/// The bytes that `raw` decodes to, one at a time.
fn decoded(raw: &str) -> impl Iterator<Item = u8> + '_ {
    let mut bytes = raw.as_bytes().iter();
    std::iter::from_fn(move || {
        let byte = *bytes.next()?;
        Some(match byte {
            b'+' => b' ',
            b'%' => {
                let rest = bytes.as_slice();
                match (rest.first().and_then(hex), rest.get(1).and_then(hex)) {
                    (Some(high), Some(low)) => {
                        bytes.nth(1);
                        high << 4 | low
                    }
                    _ => b'%',
                }
            }
            other => other,
        })
    })
}

fn hex(digit: &u8) -> Option<u8> {
    char::from(*digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

/// Whether `raw` decodes to exactly `expected`, compared without allocating.
pub(crate) fn decodes_to(raw: &str, expected: &str) -> bool {
    // Decoding never makes text longer, so a shorter raw text cannot match.
    raw.len() >= expected.len() && decoded(raw).eq(expected.bytes())
}

/// `raw` decoded: borrowed when it has nothing to decode, which is how Tencent writes it.
pub(crate) fn decode(raw: &str) -> Cow<'_, str> {
    if !raw.bytes().any(|b| b == b'%' || b == b'+') {
        return Cow::Borrowed(raw);
    }
    let bytes: Vec<u8> = decoded(raw).collect();
    match String::from_utf8(bytes) {
        Ok(text) => Cow::Owned(text),
        Err(error) => Cow::Owned(String::from_utf8_lossy(error.as_bytes()).into_owned()),
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
