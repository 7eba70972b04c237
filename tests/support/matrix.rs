//! A real Matrix client for the tests, against the dev Synapse (`scripts/dev-services`): fresh
//! users, rooms (encrypted or not), sending, and waiting for the next message from someone.
//!
//! Each `TestClient` has its own SQLite store (state and crypto). It syncs while it waits (for a
//! membership, a message), with long polls that return as soon as the server has something new:
//! that is when it learns memberships and receives room keys. No background task: the sync
//! future is too deep for the compiler to prove `Send` under the default recursion limit, and a
//! spawned task would need `#![recursion_limit = "256"]` in every test binary that uses support.

use std::time::{Duration, Instant};

use matrix_sdk::Client;
use matrix_sdk::config::SyncSettings;
use matrix_sdk::deserialized_responses::TimelineEvent;
use matrix_sdk::room::MessagesOptions;
use matrix_sdk::ruma::api::client::room::create_room::v3::{Request as CreateRoomRequest, RoomPreset};
use matrix_sdk::ruma::events::room::encryption::RoomEncryptionEventContent;
use matrix_sdk::ruma::events::room::member::MembershipState;
use matrix_sdk::ruma::events::room::message::{MessageType, Relation, RoomMessageEventContent};
use matrix_sdk::ruma::events::{
    AnyInitialStateEvent, AnySyncMessageLikeEvent, AnySyncTimelineEvent, InitialStateEvent, SyncMessageLikeEvent,
};
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::ruma::{EventId, OwnedEventId, OwnedRoomId, OwnedUserId, RoomId, UInt, UserId};

pub struct MatrixServices {
    pub url: String,
    pub server_name: String,
    pub secret: String,
}

pub fn matrix_services() -> MatrixServices {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} is not set: these tests need the real Matrix homeserver. Run `scripts/test`, or `scripts/dev-services start` and source its env file")
        })
    };
    MatrixServices {
        url: var("CHANCERY_TEST_MATRIX_URL"),
        server_name: var("CHANCERY_TEST_MATRIX_SERVER_NAME"),
        secret: var("CHANCERY_TEST_MATRIX_SECRET"),
    }
}

/// A user nobody else has (tests and earlier runs share the homeserver): its Matrix ID and
/// password. Fresh users also keep devices of earlier runs out of encrypted rooms.
pub fn register_user(tag: &str) -> (String, String) {
    matrix_services(); // the friendly message when the services are missing
    register_user_with(tag, &[])
}

/// `register_user` on the homeserver that `dev-services` finds with `env` set.
fn register_user_with(tag: &str, env: &[(&str, String)]) -> (String, String) {
    let script = dev_services_script();
    // Matrix user names are lower case.
    let name = super::unique(tag).to_lowercase();
    let password = format!("pw-{name}");
    let output = std::process::Command::new(&script)
        .args(["matrix-user", &name, &password])
        .envs(env.iter().map(|(key, value)| (*key, value.as_str())))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {script} matrix-user: {e}"));
    assert!(output.status.success(), "{script} matrix-user {name} failed: {}", String::from_utf8_lossy(&output.stderr));
    let mxid = String::from_utf8(output.stdout).expect("a Matrix ID").trim().to_string();
    (mxid, password)
}

fn dev_services_script() -> String {
    std::env::var("CHANCERY_DEV_SERVICES").expect("CHANCERY_DEV_SERVICES is set with the other CHANCERY_TEST_ variables")
}

/// A Synapse of one test's own, in its own state folder and on its own port, so that the test
/// may stop and restart it without disturbing the others on the shared one. Stopped on drop.
pub struct PrivateSynapse {
    env: Vec<(&'static str, String)>,
    pub url: String,
}

impl PrivateSynapse {
    /// Starts (installing nothing new: the venv is the shared one) and waits until it answers.
    pub fn start(name: &str, port: u16) -> PrivateSynapse {
        let state = format!("/var/tmp/chancery-{name}");
        let env = vec![("CHANCERY_DEV_STATE", state), ("CHANCERY_DEV_MATRIX_PORT", port.to_string())];
        let synapse = PrivateSynapse { env, url: format!("http://127.0.0.1:{port}") };
        synapse.run("start");
        synapse
    }

    pub fn stop(&self) {
        self.run("stop");
    }

    /// Starts it again; returns once it answers.
    pub fn start_again(&self) {
        self.run("start");
    }

    pub fn register_user(&self, tag: &str) -> (String, String) {
        register_user_with(tag, &self.env)
    }

    fn run(&self, action: &str) {
        let script = dev_services_script();
        let output = std::process::Command::new(&script)
            .args([action, "synapse"])
            .envs(self.env.iter().map(|(key, value)| (*key, value.as_str())))
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run {script} {action} synapse: {e}"));
        assert!(output.status.success(), "{script} {action} synapse failed: {}", String::from_utf8_lossy(&output.stderr));
    }
}

impl Drop for PrivateSynapse {
    fn drop(&mut self) {
        let script = dev_services_script();
        std::process::Command::new(&script)
            .args(["stop", "synapse"])
            .envs(self.env.iter().map(|(key, value)| (*key, value.as_str())))
            .stdin(std::process::Stdio::null())
            .output()
            .ok();
    }
}

/// An `m.room.message` as another client received it (decrypted when the room is encrypted).
#[derive(Debug, Clone)]
pub struct ReceivedMessage {
    pub event_id: OwnedEventId,
    pub sender: OwnedUserId,
    pub body: String,
    pub formatted_body: Option<String>,
    pub in_reply_to: Option<OwnedEventId>,
    pub thread_root: Option<OwnedEventId>,
    /// It came as m.room.encrypted and this client decrypted it.
    pub was_encrypted: bool,
}

/// A logged-in matrix-sdk client with its own store.
pub struct TestClient {
    pub client: Client,
    _store: tempfile::TempDir,
}

/// The longest one long-poll sync waits on the server when nothing happens; anything new for
/// the client ends it at once.
const SYNC_POLL: Duration = Duration::from_millis(500);

impl TestClient {
    pub async fn login(mxid: &str, password: &str) -> TestClient {
        TestClient::login_at(&matrix_services().url, mxid, password).await
    }

    /// `login` on the homeserver at `url` (a `PrivateSynapse`).
    pub async fn login_at(url: &str, mxid: &str, password: &str) -> TestClient {
        let store = tempfile::tempdir().expect("temp dir");
        let client = Client::builder().homeserver_url(url).sqlite_store(store.path(), None).build().await.expect("build the Matrix client");
        client
            .matrix_auth()
            .login_username(mxid, password)
            .initial_device_display_name("chancery test")
            .send()
            .await
            .unwrap_or_else(|e| panic!("log in as {mxid}: {e}"));
        // The first sync uploads the device keys: until then nobody can encrypt for this device.
        client.sync_once(SyncSettings::default()).await.expect("first sync");
        TestClient { client, _store: store }
    }

    /// One sync, back as soon as the server has anything new for this client, or after a
    /// short poll; false (and no sync) once `deadline` has passed.
    pub async fn sync_before(&self, deadline: Instant) -> bool {
        let Some(left) = deadline.checked_duration_since(Instant::now()).filter(|left| !left.is_zero()) else {
            return false;
        };
        let poll = left.min(SYNC_POLL);
        if let Err(e) = self.client.sync_once(SyncSettings::default().timeout(poll)).await {
            // Synapse restarting, say: the caller's loop tries again.
            eprintln!("test client sync failed: {e}");
            tokio::time::sleep(poll).await;
        }
        true
    }

    pub fn user_id(&self) -> OwnedUserId {
        self.client.user_id().expect("logged in").to_owned()
    }

    /// A private chat with `invite` invited; `encrypted` adds m.room.encryption (megolm) from
    /// the start.
    pub async fn create_room(&self, encrypted: bool, invite: &[&str]) -> OwnedRoomId {
        let mut request = CreateRoomRequest::new();
        request.preset = Some(RoomPreset::PrivateChat);
        request.invite = invite.iter().map(|u| parse_user(u)).collect();
        request.initial_state = encryption_state(encrypted);
        self.create(request).await
    }

    /// A direct chat with `with` (is_direct, both sides with full power, as clients make DMs).
    pub async fn create_dm(&self, with: &str, encrypted: bool) -> OwnedRoomId {
        let mut request = CreateRoomRequest::new();
        request.preset = Some(RoomPreset::TrustedPrivateChat);
        request.is_direct = true;
        request.invite = vec![parse_user(with)];
        request.initial_state = encryption_state(encrypted);
        self.create(request).await
    }

    async fn create(&self, request: CreateRoomRequest) -> OwnedRoomId {
        let room = self.client.create_room(request).await.expect("create room");
        room.room_id().to_owned()
    }

    /// Accept an invitation (the invite exists on the server once `create_room` returned, so
    /// this needs no sync first).
    pub async fn join(&self, room: &RoomId) {
        self.client.join_room_by_id(room).await.unwrap_or_else(|e| panic!("join {room}: {e}"));
    }

    /// Wait until this client sees `user` joined in `room`. Send into an encrypted room only
    /// after this: the room key goes to the devices of the members the sender knows of.
    pub async fn wait_until_joined(&self, room: &RoomId, user: &str, timeout: Duration) -> bool {
        self.wait_until_membership(room, user, MembershipState::Join, timeout).await
    }

    /// Wait until this client sees `user` with `membership` in `room` (`Leave` for a declined
    /// invite).
    pub async fn wait_until_membership(&self, room: &RoomId, user: &str, membership: MembershipState, timeout: Duration) -> bool {
        let user = parse_user(user);
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(room) = self.client.get_room(room)
                && let Ok(Some(member)) = room.get_member_no_sync(&user).await
                && *member.membership() == membership
            {
                return true;
            }
            if !self.sync_before(deadline).await {
                return false;
            }
        }
    }

    /// Send a plain-text message (encrypted if the room is) and return its event id.
    pub async fn send_text(&self, room: &RoomId, text: &str) -> OwnedEventId {
        let room = self.room(room).await;
        let sent = room.send(RoomMessageEventContent::text_plain(text)).await.expect("send message");
        sent.response.event_id
    }

    /// The newest event of `room` on the server: a mark to wait for what comes after it.
    pub async fn last_event_id(&self, room: &RoomId) -> OwnedEventId {
        let room = self.room(room).await;
        let mut options = MessagesOptions::backward();
        options.limit = UInt::from(1u32);
        let page = room.messages(options).await.expect("read the room's history");
        page.chunk.first().and_then(TimelineEvent::event_id).expect("the room has an event")
    }

    /// The first `m.room.message` from `from` in `room` that comes after the event `after`,
    /// waiting up to `timeout` for it to arrive and, in an encrypted room, for its key.
    pub async fn next_reply(&self, room: &RoomId, from: &str, after: &EventId, timeout: Duration) -> Option<ReceivedMessage> {
        let from = parse_user(from);
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(room) = self.client.get_room(room)
                && let Some(found) = first_message_after(&room, &from, after).await
            {
                return Some(found);
            }
            if !self.sync_before(deadline).await {
                return None;
            }
        }
    }

    /// Joins the first room `inviter` invites this client to, waiting up to `timeout`.
    pub async fn accept_invite_from(&self, inviter: &str, timeout: Duration) -> Option<OwnedRoomId> {
        let inviter = parse_user(inviter);
        let deadline = Instant::now() + timeout;
        loop {
            for room in self.client.invited_rooms() {
                if let Ok(details) = room.invite_details().await
                    && details.inviter.as_ref().is_some_and(|member| member.user_id() == inviter)
                {
                    self.join(room.room_id()).await;
                    return Some(room.room_id().to_owned());
                }
            }
            if !self.sync_before(deadline).await {
                return None;
            }
        }
    }

    /// The newest message from `from` in `room` whose text contains `needle`, looking through
    /// the room's whole history (up to 1,000 events), waiting up to `timeout`.
    pub async fn find_message(&self, room: &RoomId, from: &str, needle: &str, timeout: Duration) -> Option<ReceivedMessage> {
        let has_it = |messages: &[ReceivedMessage]| messages.iter().any(|message| message.body.contains(needle));
        self.messages_from(room, from, has_it, timeout).await.into_iter().rev().find(|message| message.body.contains(needle))
    }

    /// Every `m.room.message` from `from` in `room` (up to 1,000 events back), oldest first,
    /// as soon as `enough` says they are (waiting up to `timeout`); what there is after that.
    pub async fn messages_from(
        &self,
        room: &RoomId,
        from: &str,
        enough: impl Fn(&[ReceivedMessage]) -> bool,
        timeout: Duration,
    ) -> Vec<ReceivedMessage> {
        let from = parse_user(from);
        let deadline = Instant::now() + timeout;
        loop {
            let mut found = self.history_from(room, &from).await;
            found.reverse();
            if enough(&found) || !self.sync_before(deadline).await {
                return found;
            }
        }
    }

    /// The messages from `from` in `room` this client can read now, newest first, up to 1,000
    /// events back.
    async fn history_from(&self, room: &RoomId, from: &UserId) -> Vec<ReceivedMessage> {
        let mut found = Vec::new();
        let Some(room) = self.client.get_room(room) else { return found };
        let mut token: Option<String> = None;
        for _ in 0..20 {
            let mut options = MessagesOptions::backward().from(token.as_deref());
            options.limit = UInt::from(50u32);
            let Ok(page) = room.messages(options).await else { break };
            found.extend(page.chunk.iter().filter(|event| event.sender().as_deref() == Some(from)).filter_map(received));
            match page.end {
                Some(end) => token = Some(end),
                None => break,
            }
        }
        found
    }

    /// Leaves `room` (and forgets it).
    pub async fn leave(&self, room: &RoomId) {
        let room = self.room(room).await;
        room.leave().await.unwrap_or_else(|e| panic!("leave {}: {e}", room.room_id()));
    }

    /// The room as this client knows it; a room just joined or created may need a sync first.
    async fn room(&self, room: &RoomId) -> matrix_sdk::Room {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(found) = self.client.get_room(room) {
                return found;
            }
            assert!(self.sync_before(deadline).await, "{} does not know room {room}", self.user_id());
        }
    }
}

fn parse_user(mxid: &str) -> OwnedUserId {
    UserId::parse(mxid).unwrap_or_else(|e| panic!("{mxid:?} is not a Matrix ID: {e}"))
}

fn encryption_state(encrypted: bool) -> Vec<Raw<AnyInitialStateEvent>> {
    if encrypted {
        vec![InitialStateEvent::with_empty_state_key(RoomEncryptionEventContent::with_recommended_defaults()).to_raw_any()]
    } else {
        Vec::new()
    }
}

/// Look back through the room's history from its newest event to `after`. `Room::messages`
/// decrypts with the keys the client holds now, so a message whose key came late is found on a
/// later look. Returns nothing while the first candidate cannot be decrypted yet: a later
/// message must not be taken for it.
async fn first_message_after(room: &matrix_sdk::Room, from: &UserId, after: &EventId) -> Option<ReceivedMessage> {
    const PAGES: usize = 20;
    let mut earliest: Option<TimelineEvent> = None;
    let mut from_token: Option<String> = None;
    for _ in 0..PAGES {
        let mut options = MessagesOptions::backward().from(from_token.as_deref());
        options.limit = UInt::from(50u32);
        let page = room.messages(options).await.ok()?;
        for event in page.chunk {
            if event.event_id().as_deref() == Some(after) {
                return earliest.and_then(|e| received(&e));
            }
            if event.sender().as_deref() == Some(from) && is_message(&event) {
                earliest = Some(event);
            }
        }
        from_token = Some(page.end?);
    }
    None
}

/// An `m.room.message`, or an encrypted event not decrypted yet (which may turn out to be one).
fn is_message(event: &TimelineEvent) -> bool {
    if event.kind.is_utd() {
        return true;
    }
    matches!(event.raw().deserialize(), Ok(AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomMessage(_))))
}

fn received(event: &TimelineEvent) -> Option<ReceivedMessage> {
    let Ok(AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomMessage(SyncMessageLikeEvent::Original(message)))) =
        event.raw().deserialize()
    else {
        return None;
    };
    let content = message.content;
    let formatted_body = match &content.msgtype {
        MessageType::Text(text) => text.formatted.as_ref().map(|f| f.body.clone()),
        MessageType::Notice(notice) => notice.formatted.as_ref().map(|f| f.body.clone()),
        MessageType::Emote(emote) => emote.formatted.as_ref().map(|f| f.body.clone()),
        _ => None,
    };
    let (in_reply_to, thread_root) = match &content.relates_to {
        Some(Relation::Reply(reply)) => (Some(reply.in_reply_to.event_id.clone()), None),
        Some(Relation::Thread(thread)) => {
            (thread.in_reply_to.as_ref().filter(|_| !thread.is_falling_back).map(|r| r.event_id.clone()), Some(thread.event_id.clone()))
        }
        _ => (None, None),
    };
    Some(ReceivedMessage {
        event_id: message.event_id,
        sender: message.sender,
        body: content.body().to_string(),
        formatted_body,
        in_reply_to,
        thread_root,
        was_encrypted: event.encryption_info().is_some(),
    })
}
