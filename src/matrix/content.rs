//! What the assistant's messages are made of: Markdown that Chancery wrote (outside text in it is
//! already escaped where it was put in), sent as a notice so that other bots do not answer it.

use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;

pub(super) fn notice(markdown: &str) -> RoomMessageEventContent {
    RoomMessageEventContent::notice_markdown(markdown)
}
