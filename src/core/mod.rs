//! The functional core: plain data in, decisions out. No I/O, no clocks, no SQL or IMAP types.

pub mod flags;
pub mod intake;
pub mod letter;
pub mod number;
pub mod time;
