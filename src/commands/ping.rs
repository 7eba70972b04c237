//! `!ping`: is the assistant there, and who does it take the asker for.

use super::{Args, Call, Outcome, Reply};

pub(super) async fn run(call: &Call<'_, '_>, args: Args) -> Outcome {
    args.finish()?;
    let member = &call.viewer.member;
    Ok(Reply::new(format!("pong: {} ({}, {})", member.name, member.role.name(), member.unit)))
}
