//! The functional core: plain data in, decisions out. No I/O, no clocks, no SQL or IMAP types.

pub mod agreement;
pub mod announce;
pub mod bounce;
pub mod calendar;
pub mod dates;
pub mod digest;
pub mod effects;
pub mod flags;
pub mod fold;
pub mod intake;
pub mod lease;
pub mod letter;
pub mod markdown;
pub mod meeting;
pub mod number;
pub mod outbound;
pub mod partner;
pub mod press;
pub mod remind;
pub mod reminder_time;
pub mod reply;
pub mod rules;
pub mod status;
pub mod time;
pub mod viewer;
pub mod visa;
