//! The assistant's commands without a homeserver: every example of `commands/` against a
//! seeded store, on the backend under test.

mod seed;
mod support;

use chancery::commands::{Catalog, Context, Request, answer};
use chancery::core::viewer::Audience;

/// The room examples are said in (for `!room bind`); answers are read as in a direct message.
const EXAMPLE_ROOM: &str = "!examples:uni.example";

#[tokio::test]
async fn every_example_in_commands_gets_the_reply_its_file_promises() {
    let catalog = Catalog::load(&seed::manifest_dir().join("commands")).unwrap_or_else(|e| panic!("{e}"));
    let settings = seed::settings();
    let mut failures = Vec::new();
    let mut ran = 0;
    for spec in catalog.specs() {
        // Each command's examples run in order on a store of their own.
        let (store, _url, _guard) = seed::seeded_store().await;
        let context = Context { store: &store, catalog: &catalog, settings: &settings };
        for example in &spec.examples {
            let sender = example.asker.as_deref().unwrap_or(seed::REGISTRAR);
            let request = Request { sender, text: &example.input, audience: Audience::Private, room: Some(EXAMPLE_ROOM), now: seed::now() };
            // As people read it (the plain body, `chancery chat`): outside text without its escapes.
            let reply = answer(&context, &request).await.map(|r| r.plain_text()).unwrap_or_default();
            ran += 1;
            for wanted in &example.reply_contains {
                if !reply.contains(wanted.as_str()) {
                    failures.push(format!("{}.toml: `{}` as {sender}: the reply lacks {wanted:?}:\n{reply}\n", spec.name, example.input));
                }
            }
            for unwanted in &example.reply_lacks {
                if reply.contains(unwanted.as_str()) {
                    failures.push(format!("{}.toml: `{}` as {sender}: the reply shows {unwanted:?}:\n{reply}\n", spec.name, example.input));
                }
            }
        }
        store.close().await;
    }
    assert!(failures.is_empty(), "{} of {ran} examples failed:\n{}", failures.len(), failures.join("\n"));
}

/// `chancery chat` is the same assistant in a terminal: it answers as the staff member named.
#[tokio::test]
async fn chancery_chat_answers_as_the_staff_member_named_and_refuses_strangers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, url, _guard) = seed::seeded_store().await;
    store.close().await;
    let run = |person: &str, line: &str| {
        let output = support::chancery_command(dir.path(), &url)
            .env("CHANCERY_RULES__DIR", seed::manifest_dir().join("mail-rules"))
            .env("CHANCERY_ASSISTANT__COMMANDS_DIR", seed::manifest_dir().join("commands"))
            .args(["chat", "--as", person, line])
            .output()
            .expect("run chancery chat");
        (output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let (code, out, _) = run(seed::HR_OFFICER, "!doc IN-2026-000002");
    assert_eq!(code, Some(0));
    assert!(out.contains("IN-2026-000002") && out.contains("Personal file"), "the cleared HR officer sees the subject: {out}");
    let (_, out, _) = run(seed::CLERK, "!doc IN-2026-000002");
    assert!(out.contains("IN-2026-000002") && !out.contains("Personal file"), "the clerk does not: {out}");
    let (code, _, err) = run("@nobody:uni.example", "!ping");
    assert_eq!(code, Some(1));
    assert!(err.contains("not in the staff directory") && !err.contains("panicked"), "{err}");
}

/// A homeserver that cannot be reached is the assistant's problem only: `serve` keeps running
/// (and registering) and stops cleanly when told.
#[tokio::test]
async fn serve_keeps_running_when_the_homeserver_is_unreachable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, _url, _guard) = support::fresh_store().await;
    let mut config = chancery::config::Config::load(&dir.path().join("none.toml"), false).expect("default config");
    config.imap.enabled = false;
    config.rules.dir = seed::manifest_dir().join("mail-rules");
    config.assistant.commands_dir = seed::manifest_dir().join("commands");
    config.matrix.enabled = true;
    // A closed port on loopback: every connection is refused at once.
    config.matrix.homeserver = "http://127.0.0.1:9".into();
    config.matrix.user = "@chancery:localhost".into();
    config.matrix.password = chancery::config::Secret::new("unused");
    config.matrix.state_dir = dir.path().join("matrix");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serve = tokio::spawn(chancery::service::run(config, store, async move {
        stopped.await.ok();
    }));
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert!(!serve.is_finished(), "serve is still running after three seconds without a homeserver");
    stop.send(()).ok();
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(10), serve).await.expect("serve stops when told");
    assert!(outcome.expect("serve task").is_ok(), "serve ends without an error");
}
