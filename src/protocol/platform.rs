//! `OptPlatform`: where the operation that caused a callback came from.

use super::open_enum::open_enum;

open_enum! {
    /// `OptPlatform`: where the operation came from.
    pub enum Platform {
        /// `RESTAPI`: Tencent's server API.
        RestApi = "RESTAPI",
        /// `Web`.
        Web = "Web",
        /// `Android`.
        Android = "Android",
        /// `iOS`.
        Ios = "iOS",
        /// `Windows`.
        Windows = "Windows",
        /// `Mac` (the English documentation writes `macOS`; both are read as this).
        Mac = "Mac" | "macOS",
        /// `iPad`.
        IPad = "iPad",
        /// `Unknown`: Tencent could not tell.
        Unknown = "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_value_round_trips_and_others_are_kept() {
        for wire in [
            "RESTAPI", "Web", "Android", "iOS", "Windows", "Mac", "iPad", "Unknown",
        ] {
            let platform = Platform::from(wire);
            assert_eq!(platform.as_str(), wire);
            assert!(!matches!(platform, Platform::Other(_)), "{wire}");
            let json = serde_json::to_string(&platform).unwrap();
            assert_eq!(serde_json::from_str::<Platform>(&json).unwrap(), platform);
        }
        assert_eq!(Platform::from("macOS"), Platform::Mac);
        assert_eq!(
            Platform::from("HarmonyOS"),
            Platform::Other("HarmonyOS".into())
        );
        assert_eq!(Platform::from("HarmonyOS").to_string(), "HarmonyOS");
    }
}
