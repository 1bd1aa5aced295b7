//! Tencent's callback authentication: `Sign = hex(SHA-256(token ‖ RequestTime))`.
//!
//! The signature covers the token and the `RequestTime` text only, not the body.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use super::digits::{decimal, hex_digit};
use super::rejection::Rejection;

/// A callback token as set in Tencent's console. Its `Debug` never shows the secret.
#[derive(Clone)]
pub(crate) struct Token(Box<[u8]>);

impl Token {
    pub(crate) fn new(secret: &str) -> Self {
        Self(secret.as_bytes().into())
    }

    /// Whether the token starts or ends with whitespace: a token read from a file or an
    /// environment variable with its line break, which no callback would ever match.
    fn is_padded(&self) -> bool {
        let padded = |byte: Option<&u8>| byte.is_some_and(u8::is_ascii_whitespace);
        padded(self.0.first()) || padded(self.0.last())
    }

    fn digest(&self, request_time: &str) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(&self.0);
        hasher.update(request_time.as_bytes());
        hasher.finalize().into()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The tokens an app's callbacks may be signed with: one, or several while the token is being
/// rotated in Tencent's console. Never empty; its `Debug` shows how many tokens, not which.
#[derive(Clone)]
pub(crate) struct TokenSet(Box<[Token]>);

impl TokenSet {
    /// The set of `tokens`, or the first problem found in it: no token at all, then, token by
    /// token in the order given, an empty one or one padded with whitespace.
    ///
    /// The one place the rules for a token set live: every constructor of the layer reports
    /// the problem as a `ConfigError`.
    pub(crate) fn parse(tokens: impl IntoIterator<Item = Token>) -> Result<Self, TokenProblem> {
        let tokens: Box<[Token]> = tokens.into_iter().collect();
        if tokens.is_empty() {
            return Err(TokenProblem::EmptySet);
        }
        for token in tokens.iter() {
            if token.0.is_empty() {
                return Err(TokenProblem::EmptyToken);
            }
            if token.is_padded() {
                return Err(TokenProblem::PaddedToken);
            }
        }
        Ok(Self(tokens))
    }

    /// Whether `sign` is the signature of `request_time` under any token of the set. Every
    /// token is tried, each compared in constant time, so the time taken does not depend on
    /// which token matched, or how much of a signature did.
    fn signed(&self, request_time: &str, sign: &[u8; 32]) -> bool {
        let matched = self.0.iter().fold(Choice::from(0), |matched, token| {
            matched | token.digest(request_time).ct_eq(sign)
        });
        bool::from(matched)
    }
}

/// Why a list of tokens is not a valid [`TokenSet`]. Names no token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenProblem {
    /// No token at all: no callback could be verified.
    EmptySet,
    /// An empty token: Tencent's console has none.
    EmptyToken,
    /// A token that starts or ends with whitespace, as one read from a file or an environment
    /// variable with its line break does: no callback would match it.
    PaddedToken,
}

impl fmt::Display for TokenProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TokenProblem::EmptySet => "the callback token set is empty",
            TokenProblem::EmptyToken => "the callback token is empty",
            TokenProblem::PaddedToken => "the callback token starts or ends with whitespace",
        })
    }
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

/// `SHA-256(token ‖ request_time)`: the signature Tencent sends, before it is written in hex.
#[cfg(any(test, feature = "testing"))]
pub(crate) fn digest(token: &str, request_time: &str) -> [u8; 32] {
    Token::new(token).digest(request_time)
}

/// Parses a `RequestTime`: the canonical decimal form of a `u64`, as Tencent writes it.
///
/// Signs, leading zeros, blanks and values past `u64::MAX` are refused: the signature covers the
/// text, so only one spelling of each second is accepted.
pub(crate) fn parse_request_time(text: &str) -> Result<u64, Rejection> {
    let leading_zero = text.len() > 1 && text.starts_with('0');
    match decimal(text) {
        Some(time) if !leading_zero => Ok(time),
        _ => Err(Rejection::TIME_MALFORMED),
    }
}

/// Decodes a `Sign`: 64 hexadecimal digits. Upper-case digits are accepted too; the comparison
/// is over the decoded bytes.
fn parse_sign(text: &str) -> Result<[u8; 32], Rejection> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return Err(Rejection::SIGN_MALFORMED);
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let high = hex_digit(pair[0]).ok_or(Rejection::SIGN_MALFORMED)?;
        let low = hex_digit(pair[1]).ok_or(Rejection::SIGN_MALFORMED)?;
        *byte = high << 4 | low;
    }
    Ok(out)
}

/// What a signed callback must satisfy.
pub(crate) struct Verifier<'a> {
    /// The app's tokens: a callback signed with any of them is accepted.
    pub(crate) tokens: &'a TokenSet,
    /// The receiver's clock, Unix seconds.
    pub(crate) now: u64,
    /// How far `RequestTime` may be behind `now`, in seconds.
    pub(crate) max_age: u64,
    /// How far `RequestTime` may be ahead of `now`, in seconds.
    pub(crate) max_ahead: u64,
}

impl Verifier<'_> {
    /// Checks `Sign` and `RequestTime` as they came in the query; returns the request time.
    ///
    /// The time is checked before the signature, so a stale request costs no hashing. Both
    /// bounds are inclusive, and the distance is computed without overflow for any pair of
    /// `u64`s, so a bound of `u64::MAX` seconds accepts every time on its side.
    pub(crate) fn verify(&self, request_time: &str, sign: &str) -> Result<u64, Rejection> {
        let time = parse_request_time(request_time)?;
        let sign = parse_sign(sign)?;
        if time < self.now && self.now - time > self.max_age {
            return Err(Rejection::TIME_TOO_OLD);
        }
        if time > self.now && time - self.now > self.max_ahead {
            return Err(Rejection::TIME_AHEAD);
        }
        if self.tokens.signed(request_time, &sign) {
            Ok(time)
        } else {
            Err(Rejection::SIGN_MISMATCH)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{VECTOR_SIGN, VECTOR_TIME, VECTOR_TOKEN};

    /// `Sign` for `token` at `time`, as Tencent writes it.
    fn sign(token: &str, time: u64) -> String {
        crate::testing::sign(token, time)
    }

    fn set(tokens: &[&str]) -> TokenSet {
        TokenSet::parse(tokens.iter().map(|token| Token::new(token))).unwrap()
    }

    fn verifier(tokens: &TokenSet, now: u64) -> Verifier<'_> {
        Verifier {
            tokens,
            now,
            max_age: 60,
            max_ahead: 60,
        }
    }

    #[test]
    fn tencent_documentation_vector() {
        assert_eq!(sign(VECTOR_TOKEN, VECTOR_TIME), VECTOR_SIGN);
        let token = set(&[VECTOR_TOKEN]);
        assert_eq!(
            verifier(&token, VECTOR_TIME).verify("1669872112", VECTOR_SIGN),
            Ok(VECTOR_TIME)
        );
    }

    #[test]
    fn upper_case_hex_is_the_same_signature() {
        let token = set(&[VECTOR_TOKEN]);
        let upper = VECTOR_SIGN.to_ascii_uppercase();
        assert_eq!(
            verifier(&token, VECTOR_TIME).verify("1669872112", &upper),
            Ok(VECTOR_TIME)
        );
    }

    #[test]
    fn wrong_token_or_time_does_not_match() {
        let other = set(&["xxxxyyyz"]);
        assert_eq!(
            verifier(&other, VECTOR_TIME).verify("1669872112", VECTOR_SIGN),
            Err(Rejection::SIGN_MISMATCH)
        );
        let token = set(&[VECTOR_TOKEN]);
        assert_eq!(
            verifier(&token, VECTOR_TIME).verify("1669872113", VECTOR_SIGN),
            Err(Rejection::SIGN_MISMATCH)
        );
    }

    #[test]
    fn both_bounds_are_inclusive_and_each_says_which_was_broken() {
        let token = set(&[VECTOR_TOKEN]);
        let check = |now| verifier(&token, now).verify("1669872112", VECTOR_SIGN);
        // The receiver's clock 60 s after the request: the request is 60 s old.
        assert_eq!(check(VECTOR_TIME + 60), Ok(VECTOR_TIME));
        assert_eq!(check(VECTOR_TIME - 60), Ok(VECTOR_TIME));
        assert_eq!(check(VECTOR_TIME + 61), Err(Rejection::TIME_TOO_OLD));
        assert_eq!(check(VECTOR_TIME - 61), Err(Rejection::TIME_AHEAD));
        assert_eq!(check(0), Err(Rejection::TIME_AHEAD));
        assert_eq!(check(u64::MAX), Err(Rejection::TIME_TOO_OLD));
        // The bounds are set apart.
        let lopsided = Verifier {
            tokens: &token,
            now: VECTOR_TIME,
            max_age: 300,
            max_ahead: 0,
        };
        let at = |time: u64| {
            let text = time.to_string();
            lopsided.verify(&text, &sign(VECTOR_TOKEN, time))
        };
        assert_eq!(at(VECTOR_TIME - 300), Ok(VECTOR_TIME - 300));
        assert_eq!(at(VECTOR_TIME - 301), Err(Rejection::TIME_TOO_OLD));
        assert_eq!(at(VECTOR_TIME), Ok(VECTOR_TIME));
        assert_eq!(at(VECTOR_TIME + 1), Err(Rejection::TIME_AHEAD));
    }

    #[test]
    fn request_time_must_be_canonical_decimal() {
        assert_eq!(parse_request_time("0"), Ok(0));
        assert_eq!(parse_request_time("1669872112"), Ok(VECTOR_TIME));
        assert_eq!(parse_request_time("18446744073709551615"), Ok(u64::MAX));
        for bad in [
            "",
            "01669872112",
            "+1669872112",
            "-1",
            " 1669872112",
            "1669872112 ",
            "1669872112.0",
            "18446744073709551616",
            "123456789012345678901234567890",
            "１６６９",
        ] {
            assert_eq!(
                parse_request_time(bad),
                Err(Rejection::TIME_MALFORMED),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn sign_must_be_64_hex_digits() {
        let token = set(&[VECTOR_TOKEN]);
        let v = verifier(&token, VECTOR_TIME);
        for bad in [
            "",
            &VECTOR_SIGN[..63],
            &format!("{VECTOR_SIGN}0"),
            &format!("{}g", &VECTOR_SIGN[..63]),
            &format!("{}é", &VECTOR_SIGN[..62]),
        ] {
            assert_eq!(
                v.verify("1669872112", bad),
                Err(Rejection::SIGN_MALFORMED),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn any_token_of_the_set_verifies() {
        let rotating = set(&["the new token", VECTOR_TOKEN]);
        let check = |sign: &str| verifier(&rotating, VECTOR_TIME).verify("1669872112", sign);
        assert_eq!(check(VECTOR_SIGN), Ok(VECTOR_TIME));
        assert_eq!(check(&sign("the new token", VECTOR_TIME)), Ok(VECTOR_TIME));
        assert_eq!(
            check(&sign("a third token", VECTOR_TIME)),
            Err(Rejection::SIGN_MISMATCH)
        );
    }

    #[test]
    fn a_set_has_at_least_one_token_and_no_empty_or_padded_one() {
        let parse = |tokens: &[&str]| {
            TokenSet::parse(tokens.iter().map(|token| Token::new(token))).map(|set| set.0.len())
        };
        assert_eq!(parse(&[]), Err(TokenProblem::EmptySet));
        assert_eq!(parse(&[""]), Err(TokenProblem::EmptyToken));
        assert_eq!(parse(&["a", ""]), Err(TokenProblem::EmptyToken));
        for padded in ["a\n", " a", "a\r\n", "\ta", "a "] {
            assert_eq!(
                parse(&["b", padded]),
                Err(TokenProblem::PaddedToken),
                "{padded:?}"
            );
        }
        // The first problem in the order given.
        assert_eq!(parse(&["a\n", ""]), Err(TokenProblem::PaddedToken));
        assert_eq!(parse(&["", "a\n"]), Err(TokenProblem::EmptyToken));
        // Whitespace inside a token is the token's own.
        assert_eq!(parse(&["a b", "a"]), Ok(2));
        assert_eq!(parse(&["a", "a"]), Ok(2));
    }

    #[test]
    fn problems_name_no_token() {
        let texts = [
            (TokenProblem::EmptySet, "the callback token set is empty"),
            (TokenProblem::EmptyToken, "the callback token is empty"),
            (
                TokenProblem::PaddedToken,
                "the callback token starts or ends with whitespace",
            ),
        ];
        for (problem, text) in texts {
            assert_eq!(problem.to_string(), text);
        }
    }

    #[test]
    fn an_unbounded_window_does_not_overflow() {
        let token = set(&[VECTOR_TOKEN]);
        for now in [0, VECTOR_TIME, u64::MAX] {
            let unbounded = Verifier {
                tokens: &token,
                now,
                max_age: u64::MAX,
                max_ahead: u64::MAX,
            };
            assert_eq!(unbounded.verify("1669872112", VECTOR_SIGN), Ok(VECTOR_TIME));
        }
    }

    #[test]
    fn token_debug_is_redacted() {
        assert_eq!(format!("{:?}", Token::new(VECTOR_TOKEN)), "[redacted]");
        let text = format!("{:?}", set(&[VECTOR_TOKEN, "other"]));
        assert_eq!(text, "[[redacted], [redacted]]");
    }
}
