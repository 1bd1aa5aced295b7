//! `Type`: the kind of group a group callback is about.

use super::open_enum::open_enum;

open_enum! {
    /// `Type`: the kind of group.
    pub enum GroupType {
        /// `Private`: a work group (client SDKs call it Work).
        Private = "Private",
        /// `Public`: a public group.
        Public = "Public",
        /// `ChatRoom`: a meeting group (client SDKs call it Meeting).
        ChatRoom = "ChatRoom",
        /// `AVChatRoom`: an audio-video (live streaming) group.
        AvChatRoom = "AVChatRoom",
        /// `Community`: a community group, which may have topics.
        Community = "Community",
        /// `BChatRoom`: the legacy broadcast chat room.
        BChatRoom = "BChatRoom",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_value_round_trips_and_others_are_kept() {
        for wire in [
            "Private",
            "Public",
            "ChatRoom",
            "AVChatRoom",
            "Community",
            "BChatRoom",
        ] {
            assert_eq!(GroupType::from(wire).to_string(), wire);
            assert!(!matches!(GroupType::from(wire), GroupType::Other(_)));
        }
        // The client SDKs' names are not Tencent's wire values.
        assert_eq!(GroupType::from("Work"), GroupType::Other("Work".into()));
    }
}
