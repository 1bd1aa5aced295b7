//! What every callback body must be before its fields are read: one JSON object, UTF-8 text,
//! nested no deeper than serde_json parses.

use super::rejection::Rejection;

/// How deep arrays and objects may nest in a body: as deep as serde_json parses a `Value`
/// (it refuses the 128th level), so that no body is too deep for an inner service's parse.
/// Tencent's bodies nest three levels.
const MAX_NESTING: usize = 127;

/// The text of a callback body that can hold an event, in the order of the decision table:
/// one JSON object (a derived struct would also accept an array of its fields in order), UTF-8
/// throughout, nested at most [`MAX_NESTING`] levels.
///
/// serde_json checks the UTF-8 of the strings it reads and the nesting of what it parses, but
/// skips unknown fields without either check: checking the whole body here means that every
/// body the layer forwards is UTF-8 JSON text within serde_json's nesting. Skipped values are
/// checked for syntax only: a number beyond `f64` or a lone surrogate escape there is passed
/// on as sent (the crate guide's "Hostile input" says why).
pub(crate) fn object_text(body: &[u8]) -> Result<&str, Rejection> {
    let first = body.iter().find(|byte| !byte.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(Rejection::NOT_AN_OBJECT);
    }
    // JSON text is UTF-8 (RFC 8259, 8.1).
    let text = std::str::from_utf8(body).map_err(|_| Rejection::NOT_UTF8)?;
    if !nesting_within(body, MAX_NESTING) {
        return Err(Rejection::TOO_DEEP);
    }
    Ok(text)
}

/// Whether arrays and objects in `json` nest at most `max` levels deep.
///
/// Iterative, so the check itself is safe for any depth. Exact for valid JSON; for anything
/// else, serde_json refuses the body anyway.
fn nesting_within(json: &[u8], max: usize) -> bool {
    // Fewer brackets than the limit cannot nest past it: the usual case costs one counting pass.
    if openers(json) <= max {
        return true;
    }
    let mut depth = 0usize;
    let mut bytes = json.iter();
    while let Some(&byte) = bytes.next() {
        match byte {
            b'"' => skip_string(&mut bytes),
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return false;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

/// Moves `bytes`, just past a string's opening quote, past its closing quote (or to the end),
/// stepping over escaped characters: a string's text needs no look at brackets.
fn skip_string(bytes: &mut std::slice::Iter<'_, u8>) {
    while let Some(&byte) = bytes.next() {
        match byte {
            b'"' => return,
            b'\\' => {
                bytes.next();
            }
            _ => {}
        }
    }
}

/// How many `[` and `{` bytes `json` holds.
fn openers(json: &[u8]) -> usize {
    // Counted in a `u8` per chunk, which 255 bytes cannot overflow: the compiler then compares
    // 16 bytes at a time, where a `usize` count per byte (`filter().count()`) took 4.
    json.chunks(255)
        .map(|chunk| {
            let count = chunk
                .iter()
                .fold(0u8, |count, &b| count + u8::from(b == b'[' || b == b'{'));
            usize::from(count)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openers_are_counted_across_chunks() {
        assert_eq!(openers(b""), 0);
        assert_eq!(openers(br#"{"a":[1,{"b":"[{"}]}"#), 5);
        // Every count a chunk's `u8` can hold, and past one chunk.
        for len in [254, 255, 256, 510, 511, 1000] {
            let all = vec![b'['; len];
            assert_eq!(openers(&all), len);
            let mixed: Vec<u8> = (0..len).map(|i| b"[{]}x\\"[i % 6]).collect();
            assert_eq!(openers(&mixed), (0..len).filter(|i| i % 6 < 2).count());
        }
    }

    #[test]
    fn nesting_is_counted_outside_strings_only() {
        assert!(nesting_within(b"[[[]]]", 3));
        assert!(!nesting_within(b"[[[[]]]]", 3));
        assert!(nesting_within(b"[{},{},{},{}]", 2));
        // Brackets in strings, after escaped quotes and backslashes, do not count.
        assert!(nesting_within(br#"{"a":"[[[[\"[[[[","b":"\\","c":[]}"#, 2));
        assert!(!nesting_within(br#"{"a":"\\",[[]]}"#, 2));
    }

    #[test]
    fn the_checks_come_in_the_tables_order() {
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(127), "]".repeat(127));
        assert_eq!(object_text(deep.as_bytes()), Err(Rejection::TOO_DEEP));
        let fits = format!("{{\"a\":{}{}}}", "[".repeat(126), "]".repeat(126));
        assert_eq!(object_text(fits.as_bytes()), Ok(fits.as_str()));
        // Not an object comes first, then UTF-8, then nesting.
        assert_eq!(object_text(b"[\xff"), Err(Rejection::NOT_AN_OBJECT));
        let mut invalid = b"{\"x\":\"\xff\"".to_vec();
        invalid.extend_from_slice(&[b'['; 200]);
        assert_eq!(object_text(&invalid), Err(Rejection::NOT_UTF8));
        for bad in ["", "   ", "null", "42", "\u{feff}{}", r#"["a"]"#] {
            assert_eq!(
                object_text(bad.as_bytes()),
                Err(Rejection::NOT_AN_OBJECT),
                "{bad:?}"
            );
        }
        assert_eq!(object_text(b" \n{}"), Ok(" \n{}"));
    }
}
