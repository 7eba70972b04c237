//! Which room a card goes to: a room bound with `!room bind` (kept in the store) wins over the
//! room `units.toml` names; `admin` is `matrix.admin_room`.

use std::collections::HashMap;
use std::time::Duration;

use matrix_sdk::Client;
use matrix_sdk::ruma::events::room::member::MembershipState;
use matrix_sdk::ruma::{IdParseError, OwnedRoomId, RoomAliasId, RoomId, UserId};
use tracing::{info, warn};

use crate::core::announce::RoomTarget;
use crate::store::{RoomMessage, Store, StoreError};

const ALIAS_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts to reach a person or a named room before a message is given up (about a day with
/// the pauses of `retry_later`).
const MAX_ATTEMPTS: u32 = 40;

/// Why a room message has no room to go to (yet); the words go to the log and the outbox.
#[derive(Debug, thiserror::Error)]
enum RoomError {
    #[error("matrix.admin_room is not set")]
    NoAdminRoom,
    #[error("matrix.admin_room {room}: {problem}")]
    AdminRoom { room: String, problem: ResolveError },
    #[error(transparent)]
    Named(ResolveError),
    /// The bound rooms could not be read; the store's error and its causes on one line.
    #[error("{}", crate::errors::one_line(.0))]
    Store(StoreError),
    #[error("bound room {room}: {error}")]
    BadBoundRoom { room: String, error: IdParseError },
    #[error("the unit {0} has no room: bind one with !room bind {0}")]
    NoUnitRoom(String),
    #[error("the unit {unit}'s room {room}: {problem}; bind one with !room bind {unit}")]
    UnitRoom { unit: String, room: String, problem: ResolveError },
    #[error("{mxid}: {error}")]
    NotAPerson { mxid: String, error: IdParseError },
    #[error("cannot open a direct message with {mxid}: {error}")]
    NoDirectRoom { mxid: String, error: matrix_sdk::Error },
}

/// Why a room ID or alias names no room, in the homeserver's or the parser's words.
#[derive(Debug, thiserror::Error)]
enum ResolveError {
    #[error("{0}")]
    NotAnId(IdParseError),
    #[error("{0}")]
    Lookup(matrix_sdk::HttpError),
    #[error("no answer within {} s", .0.as_secs())]
    NoAnswer(Duration),
}

/// The rooms cards go to, resolved when first needed: an alias on another server may take
/// `ALIAS_TIMEOUT` to answer, and no card should wait at start for a unit that gets none.
#[derive(Debug, Default)]
pub struct RoomDirectory {
    /// Each unit's room as `units.toml` names it (an ID or an alias).
    configured: HashMap<String, String>,
    admin: Option<String>,
    /// Aliases resolved this session.
    resolved: std::sync::Mutex<HashMap<String, OwnedRoomId>>,
    /// Direct message rooms opened this session: the client learns of a room it made only at
    /// a later sync, and a second message must not open a second room.
    opened: std::sync::Mutex<HashMap<String, OwnedRoomId>>,
}

impl RoomDirectory {
    pub fn new(unit_rooms: &[(String, String)], admin_room: Option<&str>) -> RoomDirectory {
        RoomDirectory {
            configured: unit_rooms.iter().cloned().collect(),
            admin: admin_room.map(str::to_string),
            ..RoomDirectory::default()
        }
    }

    /// The room for a target: a unit's bound room, its `units.toml` room, the admin room, a
    /// named room, or the direct message room with a person (made when there is none).
    async fn room_for(&self, client: &Client, store: &Store, target: &RoomTarget) -> Result<OwnedRoomId, RoomError> {
        let target = match target {
            RoomTarget::Admin => {
                let admin = self.admin.as_deref().ok_or(RoomError::NoAdminRoom)?;
                return self.resolve(client, admin).await.map_err(|problem| RoomError::AdminRoom { room: admin.to_string(), problem });
            }
            RoomTarget::Room(room) => return self.resolve(client, room).await.map_err(RoomError::Named),
            RoomTarget::Person(mxid) => {
                let known = self.opened.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(mxid).cloned();
                if let Some(room) = known
                    && let Ok(user) = UserId::parse(mxid.as_str())
                    && still_together(client, &room, &user).await != Some(false)
                {
                    return Ok(room);
                }
                let room = direct_room(client, mxid).await?;
                self.opened.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(mxid.clone(), room.clone());
                return Ok(room);
            }
            RoomTarget::Unit(unit) => unit.as_str(),
        };
        let bound = store.staff().bound_rooms().await.map_err(RoomError::Store)?;
        if let Some((_, room)) = bound.into_iter().find(|(unit, _)| unit == target) {
            return RoomId::parse(room.as_str()).map_err(|error| RoomError::BadBoundRoom { room, error });
        }
        let room = self.configured.get(target).ok_or_else(|| RoomError::NoUnitRoom(target.to_string()))?;
        self.resolve(client, room).await.map_err(|problem| RoomError::UnitRoom { unit: target.to_string(), room: room.clone(), problem })
    }

    /// A room ID as it is, an alias through the homeserver once per session.
    async fn resolve(&self, client: &Client, room: &str) -> Result<OwnedRoomId, ResolveError> {
        if let Some(id) = self.resolved.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(room) {
            return Ok(id.clone());
        }
        let id = resolve_one(client, room).await?;
        self.resolved.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(room.to_string(), id.clone());
        Ok(id)
    }
}

/// The direct message room with a person: the one they opened with the bot or the bot opened
/// with them, else a new encrypted one (the person is invited). A room the person has left is
/// left and forgotten, so that their next message comes in a room they are in.
async fn direct_room(client: &Client, mxid: &str) -> Result<OwnedRoomId, RoomError> {
    let user = UserId::parse(mxid).map_err(|error| RoomError::NotAPerson { mxid: mxid.to_string(), error })?;
    for room in client.get_dm_rooms(&user).collect::<Vec<_>>() {
        match still_together(client, room.room_id(), &user).await {
            Some(false) => {
                info!(person = %mxid, room = %room.room_id(), "the person left the direct message room; leaving it too");
                if room.leave().await.is_ok() {
                    room.forget().await.ok();
                }
            }
            _ => return Ok(room.room_id().to_owned()),
        }
    }
    let room = client.create_dm(&user).await.map_err(|error| RoomError::NoDirectRoom { mxid: mxid.to_string(), error })?;
    info!(person = %mxid, room = %room.room_id(), "opened a direct message room");
    Ok(room.room_id().to_owned())
}

/// Whether the bot is still joined to `room` and the person still in it or invited to it, as
/// sync has told the client; `None` when the client cannot tell (then the room is kept).
async fn still_together(client: &Client, room: &RoomId, person: &UserId) -> Option<bool> {
    let room = client.get_room(room)?;
    if room.state() != matrix_sdk::RoomState::Joined {
        return Some(false);
    }
    let member = room.get_member_no_sync(person).await.ok()??;
    Some(matches!(member.membership(), MembershipState::Join | MembershipState::Invite))
}

async fn resolve_one(client: &Client, room: &str) -> Result<OwnedRoomId, ResolveError> {
    if room.starts_with('!') {
        return RoomId::parse(room).map_err(ResolveError::NotAnId);
    }
    let alias = RoomAliasId::parse(room).map_err(ResolveError::NotAnId)?;
    // An alias on another server is asked over federation, which may not answer at all.
    match tokio::time::timeout(ALIAS_TIMEOUT, client.resolve_room_alias(&alias)).await {
        Ok(answer) => answer.map(|response| response.room_id).map_err(ResolveError::Lookup),
        Err(_) => Err(ResolveError::NoAnswer(ALIAS_TIMEOUT)),
    }
}

/// Posts one claimed room message and marks it; a failure is retried later, a message that
/// has no room to go to fails visibly (`chancery outbox`).
pub(super) async fn post(client: &Client, store: &Store, rooms: &RoomDirectory, message: RoomMessage) {
    let now = chrono::Utc::now();
    let room_id = match rooms.room_for(client, store, &message.target).await {
        Ok(id) => id,
        Err(problem) => {
            let problem = problem.to_string();
            // A person or a named room may be out of reach for a while (the homeserver, an
            // alias on another server); a unit without a room stays so until someone binds one.
            let passing = matches!(message.target, RoomTarget::Person(_) | RoomTarget::Room(_)) && message.attempts < MAX_ATTEMPTS;
            if passing {
                retry_later(store, &message, &problem).await;
            } else {
                warn!(id = message.id, target = %message.target, %problem, "a room message has nowhere to go");
                store.room_messages().mark_failed(message.id, &problem, now).await.ok();
            }
            return;
        }
    };
    let room = match client.get_room(&room_id) {
        Some(room) => room,
        // Not a member yet (a room named in units.toml): joining needs an invite or a public room.
        None => match client.join_room_by_id(&room_id).await {
            Ok(room) => room,
            Err(error) => {
                retry_later(store, &message, &format!("cannot join {room_id}: {error}")).await;
                return;
            }
        },
    };
    match room.send(super::content::message_content(&message.markdown)).await {
        Ok(_) => {
            store.room_messages().mark_sent(message.id, chrono::Utc::now()).await.ok();
        }
        Err(error) => retry_later(store, &message, &format!("cannot post in {room_id}: {error}")).await,
    }
}

async fn retry_later(store: &Store, message: &RoomMessage, problem: &str) {
    let pause = Duration::from_secs(30u64 << message.attempts.min(5));
    warn!(id = message.id, target = %message.target, %problem, retry_in_secs = pause.as_secs(), "a room message waits");
    let next = chrono::Utc::now() + chrono::Duration::from_std(pause).unwrap_or_default();
    store.room_messages().mark_retry(message.id, problem, next).await.ok();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn why_a_message_has_no_room_reads_as_the_outbox_shows_it() {
        let no_answer = || ResolveError::NoAnswer(ALIAS_TIMEOUT);
        let not_an_id = RoomId::parse("general").unwrap_err();
        let cases = [
            (RoomError::NoAdminRoom, "matrix.admin_room is not set".to_string()),
            (
                RoomError::AdminRoom { room: "#admin:uni.example".into(), problem: no_answer() },
                "matrix.admin_room #admin:uni.example: no answer within 10 s".to_string(),
            ),
            (RoomError::Named(no_answer()), "no answer within 10 s".to_string()),
            (RoomError::BadBoundRoom { room: "general".into(), error: not_an_id }, format!("bound room general: {not_an_id}")),
            (
                RoomError::NoUnitRoom("international".into()),
                "the unit international has no room: bind one with !room bind international".into(),
            ),
            (
                RoomError::UnitRoom { unit: "international".into(), room: "#iro:uni.example".into(), problem: no_answer() },
                "the unit international's room #iro:uni.example: no answer within 10 s; bind one with !room bind international".into(),
            ),
            (RoomError::NotAPerson { mxid: "aysel".into(), error: not_an_id }, format!("aysel: {not_an_id}")),
        ];
        for (error, words) in cases {
            assert_eq!(error.to_string(), words);
        }
    }
}
