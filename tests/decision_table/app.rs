//! Row: `SdkAppid` missing, malformed, repeated or not allowed: 403, body unread.

use super::*;

#[tokio::test]
async fn sdk_app_id_must_be_one_allowed_decimal_integer() {
    const MISSING: &str = "SdkAppid is missing";
    const REPEATED: &str = "SdkAppid is repeated";
    const MALFORMED: &str = "SdkAppid is not a decimal integer";
    const NOT_ALLOWED: &str = "SdkAppid is not allowed";
    // After the command, what the query says of the app.
    let after = [
        ("", MISSING),
        ("&&&&", MISSING),
        ("&sdkappid=1400000000", MISSING),
        ("&SdkAppid", MALFORMED),
        ("&SdkAppid=", MALFORMED),
        ("&SdkAppid==1400000000", MALFORMED),
        ("&SdkAppid=14e8", MALFORMED),
        ("&SdkAppid=-1400000000", MALFORMED),
        ("&SdkAppid=1400000000;x=1", MALFORMED),
        ("&SdkAppid=%G1400000000", MALFORMED),
        ("&SdkAppid=1400000000%", MALFORMED),
        ("&SdkAppid=%FF", MALFORMED),
        ("&SdkAppid=%FF%FE", MALFORMED),
        ("&SdkAppid=1400000000%00", MALFORMED),
        ("&SdkAppid=%2B1400000000", MALFORMED),
        ("&SdkAppid=+1400000000", MALFORMED),
        ("&SdkAppid=0x5F5E1000", MALFORMED),
        // Full-width digits are not decimal digits.
        ("&SdkAppid=１４００００００００", MALFORMED),
        ("&SdkAppid=1400000000&SdkAppid=1400000000", REPEATED),
        ("&SdkAppid=1400000002", NOT_ALLOWED),
        ("&SdkAppid=1400000009", NOT_ALLOWED),
        ("&SdkAppid=0", NOT_ALLOWED),
        ("&SdkAppid=18446744073709551615", NOT_ALLOWED),
    ];
    // What the query says of the app, before the command; names are compared decoded.
    let before = [
        ("SdkAppid=1400000000&SdkAppid=", REPEATED),
        ("SdkAppid&SdkAppid=1400000000", REPEATED),
        ("Sdk%41ppid=1&SdkAppid=1400000000", REPEATED),
        ("Sdk%61ppid=1400000000", MISSING),
        ("SdkApp%69d=1&SdkAppid=1400000000", REPEATED),
    ];
    for &kind in RecallKind::ALL {
        let command = command_of(kind);
        let huge_number = format!("{command}&SdkAppid={}", "9".repeat(30_000));
        let many_repeats = format!("{command}&{}", repeated("SdkAppid", 6_000));
        let huge_repeats = padded_to_uri_max(&format!(
            "{command}&{}",
            repeated("SdkAppid=%31400000000", 2_500)
        ));
        let cases = after
            .iter()
            .map(|&(app, reason)| (format!("{command}{app}"), reason))
            .chain(
                before
                    .iter()
                    .map(|&(app, reason)| (format!("{app}&{command}"), reason)),
            )
            .chain([
                (huge_number, MALFORMED),
                (many_repeats, REPEATED),
                (huge_repeats, REPEATED),
            ]);
        for (query, reason) in cases {
            refused_unread(&layer(), &query, StatusCode::FORBIDDEN, reason).await;
        }
    }
}

#[tokio::test]
async fn leading_zeros_spell_the_same_app() {
    // `SdkAppid` is not signed, so no spelling of the number is favoured.
    for (kind, _, body) in recalls() {
        let query = format!("{}&SdkAppid=0001400000000", command_of(kind));
        let event = accept(&layer(), &query, full(body)).await;
        assert_eq!(event.context().sdk_app_id, SdkAppId::new(APP));
    }
}

#[tokio::test]
async fn every_allowed_app_is_accepted() {
    for (kind, _, body) in recalls() {
        for app in [APP, SECOND_APP] {
            let query = format!("SdkAppid={app}&{}", command_of(kind));
            let event = accept(&layer(), &query, full(body)).await;
            assert_eq!(event.context().sdk_app_id, SdkAppId::new(app));
            assert_eq!(event.kind(), kind);
        }
    }
}
