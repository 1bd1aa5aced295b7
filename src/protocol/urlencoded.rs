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
pub(crate) fn pairs(query: &str) -> Pairs<'_> {
    Pairs(query)
}

/// The iterator of [`pairs`]. A pair's end is found eight bytes at a time ([`find`]), its `=`
/// byte by byte (names are short): `str::split` and `split_once` call `memchr` twice a pair,
/// whose set-up costs more than the search over a callback URL's short pairs (instruction
/// counts in BENCHMARKS.md).
pub(crate) struct Pairs<'a>(&'a str);

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        loop {
            if self.0.is_empty() {
                return None;
            }
            // `&` and `=` are ASCII: every cut is at a character boundary.
            let (pair, rest) = match find(self.0.as_bytes(), b'&') {
                Some(end) => (&self.0[..end], &self.0[end + 1..]),
                None => (self.0, ""),
            };
            self.0 = rest;
            if pair.is_empty() {
                continue;
            }
            return Some(
                match pair.as_bytes().iter().position(|&byte| byte == b'=') {
                    Some(at) => (&pair[..at], &pair[at + 1..]),
                    None => (pair, ""),
                },
            );
        }
    }
}

/// Where `needle` first is in `bytes`, looked for eight bytes at a time: a byte of the word
/// equal to the needle is a zero byte of `word ^ needles`, which `(x - 0x01…) & !x & 0x80…`
/// marks (the lowest marked byte is always a true one).
fn find(bytes: &[u8], needle: u8) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let needles = u64::from_ne_bytes([needle; 8]);
    let mut words = bytes.chunks_exact(8);
    let mut at = 0;
    for word in &mut words {
        let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
        let x = word ^ needles;
        let marked = x.wrapping_sub(ONES) & !x & HIGHS;
        if marked != 0 {
            return Some(at + (marked.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let tail = words.remainder().iter().position(|&byte| byte == needle);
    tail.map(|offset| at + offset)
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
    let (percent, plus) = escapes(text);
    percent || plus
}

/// Whether `text` holds a `%` and whether it holds a `+`, in one pass without an early exit,
/// which the compiler turns into vector instructions: two `memchr` calls cost several times
/// more over a callback URL's query.
pub(crate) fn escapes(text: &str) -> (bool, bool) {
    text.bytes().fold((false, false), |(percent, plus), byte| {
        (percent | (byte == b'%'), plus | (byte == b'+'))
    })
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
    #[test]
    fn find_agrees_with_a_plain_search_at_every_place_and_length() {
        for len in 0..40 {
            for at in 0..=len {
                let mut bytes = vec![b'a'; len];
                if at < len {
                    bytes[at] = b'&';
                }
                // Bytes that differ from the needle by its high bit, or only just.
                for noise in [0xa6u8, b'%', b'\'', 0x00, 0xff] {
                    let mut noisy = bytes.clone();
                    for byte in noisy.iter_mut().take(at).step_by(3) {
                        *byte = noise;
                    }
                    let expected = noisy.iter().position(|&byte| byte == b'&');
                    assert_eq!(super::find(&noisy, b'&'), expected, "{noisy:?}");
                }
            }
        }
    }

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
