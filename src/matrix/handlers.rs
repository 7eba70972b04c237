//! What the assistant does with what arrives: invites from staff are accepted (others
//! declined), and text messages become requests to `commands::answer`.

use std::sync::Arc;
use std::time::Duration;

use matrix_sdk::event_handler::Ctx;
use matrix_sdk::room::Room;
use matrix_sdk::ruma::events::room::member::{MembershipState, OriginalSyncRoomMemberEvent, StrippedRoomMemberEvent};
use matrix_sdk::ruma::events::room::message::{AddMentions, ForwardThread, MessageType, OriginalSyncRoomMessageEvent, Relation};
use matrix_sdk::{Client, RoomMemberships, RoomState};
use tracing::{info, warn};

use super::AssistantParts;
use super::answering::{Answering, CONCURRENT_ANSWERS};
use crate::commands::{self, Context, Request};
use crate::core::viewer::Audience;
use crate::store::Store;

#[derive(Clone)]
struct Assistant {
    store: Store,
    parts: Arc<AssistantParts>,
    /// This instance's name, for the claim on each message it answers.
    instance: Arc<str>,
    answering: Arc<Answering>,
}

pub(super) fn install(client: &Client, store: Store, parts: Arc<AssistantParts>, instance: Arc<str>) {
    let answering = Answering::new(CONCURRENT_ANSWERS);
    client.add_event_handler_context(Assistant { store, parts, instance, answering });
    client.add_event_handler(on_invite);
    client.add_event_handler(on_message);
    client.add_event_handler(on_own_membership);
}

async fn on_invite(event: StrippedRoomMemberEvent, client: Client, room: Room, Ctx(assistant): Ctx<Assistant>) {
    let Some(own) = client.user_id() else { return };
    if event.state_key != own || event.content.membership != MembershipState::Invite {
        return;
    }
    answer_invite(&assistant.store, room, event.sender.to_string()).await;
}

/// A room the assistant was removed from (kicked, banned, or it left) is forgotten, so that no
/// card or reminder is aimed at it again; a person's next direct message opens a new room.
async fn on_own_membership(event: OriginalSyncRoomMemberEvent, client: Client, room: Room) {
    let Some(own) = client.user_id() else { return };
    if event.state_key != own || !matches!(event.content.membership, MembershipState::Leave | MembershipState::Ban) {
        return;
    }
    info!(room = %room.room_id(), by = %event.sender, "removed from a room; forgetting it");
    // The SDK learns of the leave in the same sync that calls this: forget once it has.
    tokio::spawn(async move {
        for _ in 0..10 {
            if room.state() != RoomState::Joined {
                if let Err(error) = room.forget().await {
                    warn!(room = %room.room_id(), %error, "cannot forget a room the assistant was removed from");
                }
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
}

/// Invites that came while the assistant was away arrive in the first sync, before the
/// handlers listen: they are answered here.
pub(super) async fn answer_pending_invites(client: &Client, store: &Store) {
    for room in client.invited_rooms() {
        match room.invite_details().await {
            Ok(invite) => answer_invite(store, room, invite.inviter_id.to_string()).await,
            Err(error) => warn!(room = %room.room_id(), %error, "cannot read a waiting invite"),
        }
    }
}

/// Joins when the inviter is in the staff directory, declines otherwise.
async fn answer_invite(store: &Store, room: Room, inviter: String) {
    let is_staff = match store.staff().find(&inviter).await {
        Ok(found) => found.is_some(),
        Err(error) => {
            warn!(room = %room.room_id(), error = %crate::errors::one_line(&error), "cannot read the staff directory; the invite waits");
            return;
        }
    };
    // Synapse may answer a join that follows its invite too quickly with an error: retry a
    // few times, as the SDK's own examples do.
    tokio::spawn(async move {
        for attempt in 0..5u32 {
            let outcome = if is_staff { room.join().await } else { room.leave().await };
            match outcome {
                Ok(()) if is_staff => {
                    info!(room = %room.room_id(), inviter = %inviter, "joined a room on a staff member's invite");
                    return;
                }
                Ok(()) => {
                    info!(room = %room.room_id(), inviter = %inviter, "declined an invite from someone not in the staff directory");
                    return;
                }
                Err(error) => {
                    warn!(room = %room.room_id(), %error, attempt, "answering an invite failed; retrying");
                    tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
                }
            }
        }
    });
}

async fn on_message(event: OriginalSyncRoomMessageEvent, client: Client, room: Room, Ctx(assistant): Ctx<Assistant>) {
    if room.state() != RoomState::Joined || client.user_id() == Some(&*event.sender) {
        return;
    }
    // Only what people type: notices (what bots send, this one included), emotes and files are
    // not questions, and an edit is not a new question.
    let MessageType::Text(text) = &event.content.msgtype else { return };
    if matches!(event.content.relates_to, Some(Relation::Replacement(_))) {
        return;
    }
    if !commands::may_answer(without_reply_fallback(&text.body)) {
        return;
    }
    // Answered off the sync loop, in order within the room: the next sync (and everyone
    // else's question) never waits for this command.
    let room_id = room.room_id().to_owned();
    let answering = Arc::clone(&assistant.answering);
    answering.submit(&room_id, Box::pin(answer(assistant, room, event)));
}

/// Claims the question (several instances may see it; one answers), runs the command and posts
/// the answer as a reply.
async fn answer(assistant: Assistant, room: Room, event: OriginalSyncRoomMessageEvent) {
    let MessageType::Text(text) = &event.content.msgtype else { return };
    let body = without_reply_fallback(&text.body);
    match assistant.store.answered_events().claim(event.event_id.as_str(), &assistant.instance, chrono::Utc::now()).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(error) => {
            warn!(error = %crate::errors::one_line(&error), "cannot claim a message to answer; leaving it to another instance");
            return;
        }
    }
    let audience = audience(&room).await;
    let parts = &assistant.parts;
    let context = Context { store: &assistant.store, catalog: &parts.catalog, settings: &parts.settings };
    let request =
        Request { sender: event.sender.as_str(), text: body, audience, room: Some(room.room_id().as_str()), now: chrono::Utc::now() };
    let Some(reply) = commands::answer(&context, &request).await else { return };
    let content = super::content::message_content(&reply.markdown).make_reply_to(&event, ForwardThread::Yes, AddMentions::No);
    if let Err(error) = room.send(content).await {
        warn!(room = %room.room_id(), %error, "cannot send an answer");
    }
}

/// Private only when the bot and the person are the room's only members, joined or invited:
/// the full member list (fetched once per room, then kept by sync) decides, not the summary's
/// counts, which can lag behind a join. When in doubt, the room is shared.
async fn audience(room: &Room) -> Audience {
    match room.members(RoomMemberships::ACTIVE).await {
        Ok(members) if members.len() <= 2 && room.active_members_count() <= 2 => Audience::Private,
        Ok(_) => Audience::Shared,
        Err(error) => {
            warn!(room = %room.room_id(), %error, "cannot read the room's members; answering as in a shared room");
            Audience::Shared
        }
    }
}

/// A reply's body starts with the quoted message it answers (`> <@user> text` lines, then an
/// empty line) in clients that still send the fallback; the question is what follows.
fn without_reply_fallback(body: &str) -> &str {
    if !body.starts_with("> ") {
        return body;
    }
    match body.find("\n\n") {
        Some(end) => &body[end + 2..],
        None => body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_read_without_the_quote_it_carries() {
        assert_eq!(without_reply_fallback("> <@a:x> !doc IN-2026-000001\n> more\n\n!ping"), "!ping");
        assert_eq!(without_reply_fallback("!ping"), "!ping");
        assert_eq!(without_reply_fallback("> only a quote"), "> only a quote");
    }
}
