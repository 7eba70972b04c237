//! The assistant as `chancery serve` runs it, in the test's own process, against a real
//! homeserver: a bot account with its state folder, started on a store and stopped as Ctrl-C
//! stops it.

use std::path::Path;
use std::time::Duration;

use chancery::config::Config;
use chancery::store::Store;

use super::matrix::{PrivateSynapse, matrix_services, register_user};

/// The bot's account and the folder where it keeps its Matrix session and keys, which outlive
/// a restart of the assistant.
pub struct Bot {
    id: String,
    password: String,
    homeserver: String,
    state: tempfile::TempDir,
}

impl Bot {
    /// A new bot account on the shared homeserver.
    pub fn register() -> Bot {
        let (id, password) = register_user("bot");
        Bot { id, password, homeserver: matrix_services().url, state: tempfile::tempdir().expect("temp dir") }
    }

    /// A new bot account on a test's own homeserver.
    pub fn register_on(synapse: &PrivateSynapse) -> Bot {
        let (id, password) = synapse.register_user("bot");
        Bot { id, password, homeserver: synapse.url.clone(), state: tempfile::tempdir().expect("temp dir") }
    }

    /// The same account with a state folder of its own: another device, as a second
    /// `chancery serve` on the same register runs it.
    pub fn another_device(&self) -> Bot {
        Bot {
            id: self.id.clone(),
            password: self.password.clone(),
            homeserver: self.homeserver.clone(),
            state: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn state(&self) -> &Path {
        self.state.path()
    }

    /// `chancery serve` with only the assistant enabled, as this bot, on `store`.
    pub fn serve(&self, store: &Store) -> Assistant {
        self.serve_with(store, |_| {})
    }

    /// `serve` with the configuration changed by `adjust` first.
    pub fn serve_with(&self, store: &Store, adjust: impl FnOnce(&mut Config)) -> Assistant {
        // The assistant's log, shown with a failing test's output.
        let filter = tracing_subscriber::EnvFilter::new(
            "chancery=debug,matrix_sdk=warn,matrix_sdk_crypto=warn,matrix_sdk_crypto::backups=error,matrix_sdk::http_client=off",
        );
        tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init().ok();
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let state = self.state();
        let mut config = Config::load(&state.join("absent.toml"), false).expect("default configuration");
        config.imap.enabled = false;
        config.rules.dir = manifest.join("mail-rules");
        config.assistant.commands_dir = manifest.join("commands");
        config.matrix.enabled = true;
        config.matrix.homeserver = self.homeserver.clone();
        // A homeserver that comes back is found again within two seconds.
        config.matrix.reconnect_max_secs = 2;
        config.matrix.user = self.id.clone();
        config.matrix.password = chancery::config::Secret::new(&self.password);
        config.matrix.state_dir = state.join("matrix");
        adjust(&mut config);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serve = tokio::spawn(chancery::service::run(config, store.clone(), async move {
            stopped.await.ok();
        }));
        Assistant { serve, stop }
    }
}

/// Tests name the bot by its Matrix ID wherever they name a user: in invites, as a sender.
impl std::ops::Deref for Bot {
    type Target = str;

    fn deref(&self) -> &str {
        &self.id
    }
}

/// The running assistant.
pub struct Assistant {
    serve: tokio::task::JoinHandle<anyhow::Result<()>>,
    stop: tokio::sync::oneshot::Sender<()>,
}

impl Assistant {
    /// Stops it as Ctrl-C does and waits until it has stopped.
    pub async fn stop(self) {
        self.stop.send(()).ok();
        let ended = tokio::time::timeout(Duration::from_secs(30), self.serve).await.expect("serve stops within 30 s");
        ended.expect("serve task").expect("serve ends without an error");
    }
}
