//! Logging in once, and being the same device on every later start.
//!
//! The session (user, device, access token) is kept in `state_dir/session.json`, beside the
//! SDK's store of rooms and crypto keys (`state_dir/store`). Restoring it keeps the device, so
//! encrypted rooms and direct messages go on working after a restart.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use matrix_sdk::Client;
use matrix_sdk::authentication::matrix::MatrixSession;
use tracing::info;

use crate::config::{MatrixConfig, Secret};

const DEVICE_NAME: &str = "Chancery";

pub(super) async fn connect(config: &MatrixConfig, password: &Secret) -> Result<Client> {
    std::fs::create_dir_all(&config.state_dir).with_context(|| format!("cannot create matrix.state_dir {}", config.state_dir.display()))?;
    let client = Client::builder()
        .homeserver_url(&config.homeserver)
        .sqlite_store(config.state_dir.join("store"), None)
        .build()
        .await
        .with_context(|| format!("cannot reach the homeserver at {}", config.homeserver))?;
    let saved = session_file(&config.state_dir);
    match read_session(&saved)? {
        Some(session) if session.meta.user_id.as_str() == config.user => {
            let device = session.meta.device_id.clone();
            client.restore_session(session).await.context("cannot restore the Matrix session")?;
            // A token the homeserver no longer accepts (revoked, or the server's database was
            // reset) is replaced by logging in again as the same device.
            if client.whoami().await.is_err() {
                info!(device = %device, "the saved Matrix session was refused; logging in again as the same device");
                drop(client);
                let client = fresh_client(config).await?;
                login(&client, config, password, Some(device.as_str())).await?;
                write_session(&saved, &client)?;
                return Ok(client);
            }
            info!(device = %device, "restored the Matrix session");
        }
        _ => {
            login(&client, config, password, None).await?;
            write_session(&saved, &client)?;
        }
    }
    Ok(client)
}

async fn fresh_client(config: &MatrixConfig) -> Result<Client> {
    Ok(Client::builder().homeserver_url(&config.homeserver).sqlite_store(config.state_dir.join("store"), None).build().await?)
}

async fn login(client: &Client, config: &MatrixConfig, password: &Secret, device: Option<&str>) -> Result<()> {
    let mut request = client.matrix_auth().login_username(&config.user, password.expose()).initial_device_display_name(DEVICE_NAME);
    if let Some(device) = device {
        request = request.device_id(device);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("the homeserver refused the login as {}; check matrix.user and matrix.password", config.user))?;
    info!(device = %response.device_id, "logged in to Matrix");
    Ok(())
}

fn session_file(state_dir: &Path) -> PathBuf {
    state_dir.join("session.json")
}

fn read_session(path: &Path) -> Result<Option<MatrixSession>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).with_context(|| format!("{} is not a saved session", path.display()))?)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Writes the session readable by its owner only: it holds the access token.
fn write_session(path: &Path, client: &Client) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let session = client.matrix_auth().session().context("logged in, but the SDK has no session to save")?;
    let temporary = path.with_extension("json.new");
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&temporary)?;
    file.write_all(&serde_json::to_vec(&session)?)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path).with_context(|| format!("cannot save the Matrix session in {}", path.display()))?;
    Ok(())
}
