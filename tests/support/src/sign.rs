//! Tencent's signature, computed here from its definition rather than by the crate, so that a
//! test can sign any `RequestTime` text (one the crate would refuse included) and check the
//! crate against an independent reference.

use sha2::{Digest, Sha256};

/// `hex(SHA-256(token ‖ text))`: the `Sign` of a callback whose `RequestTime` is `text`.
pub fn sign_text(token: &str, text: &str) -> String {
    let digest = Sha256::new()
        .chain_update(token)
        .chain_update(text)
        .finalize();
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{VECTOR_SIGN, VECTOR_TIME, VECTOR_TOKEN};

    #[test]
    fn tencent_documentation_vector() {
        assert_eq!(
            sign_text(VECTOR_TOKEN, &VECTOR_TIME.to_string()),
            VECTOR_SIGN
        );
    }
}
