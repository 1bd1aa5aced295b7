//! Numbers as Tencent writes them in text: decimal digits, and the hexadecimal digits of a
//! `Sign` or a percent-escape.

/// The number a non-empty string of ASCII decimal digits spells, if it fits a `u64`.
///
/// No sign, no blank, no other digits (`str::parse` alone would accept a leading `+`); leading
/// zeros are allowed, and a caller that needs one spelling per number checks for them.
pub(crate) fn decimal(text: &str) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    // One pass, refusing a non-digit or an overflow as it goes.
    text.bytes().try_fold(0u64, |number, byte| {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        number.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// The value of one hexadecimal digit, in either case.
pub(crate) fn hex_digit(digit: u8) -> Option<u8> {
    // A digit's value is below 16, so it fits a `u8`.
    char::from(digit).to_digit(16).map(|value| value as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_takes_plain_digits_that_fit() {
        assert_eq!(decimal("0"), Some(0));
        assert_eq!(decimal("0001400000000"), Some(1_400_000_000));
        assert_eq!(decimal("18446744073709551615"), Some(u64::MAX));
        for bad in [
            "",
            "+1",
            "-1",
            " 1",
            "1 ",
            "1.0",
            "1e3",
            "0x10",
            "18446744073709551616",
            "１４",
            // The bytes just past each end of the digits.
            "1:",
            "/1",
        ] {
            assert_eq!(decimal(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn hex_digits_in_either_case() {
        let digits: Vec<Option<u8>> = b"09afAFgG/:@`".iter().map(|&b| hex_digit(b)).collect();
        assert_eq!(
            digits,
            [
                Some(0),
                Some(9),
                Some(10),
                Some(15),
                Some(10),
                Some(15),
                None,
                None,
                None,
                None,
                None,
                None
            ]
        );
        assert_eq!(hex_digit(0xC3), None);
    }
}
