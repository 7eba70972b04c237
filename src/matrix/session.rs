//! Logging in once, and being the same device on every later start.
//!
//! The session (user, device, access token) is kept in `state_dir/session.json`, beside the
//! SDK's store of rooms and crypto keys (`state_dir/store`, encrypted with a passphrase).
//! Restoring it keeps the device, so encrypted rooms and direct messages go on working after a
//! restart. Only a refused token (401 `M_UNKNOWN_TOKEN`) leads to logging in again.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use matrix_sdk::Client;
use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::ruma::api::error::ErrorKind;
use tracing::info;

use crate::config::{MatrixConfig, Secret};

const DEVICE_NAME: &str = "Chancery";

pub(super) async fn connect(config: &MatrixConfig, password: &Secret) -> Result<Client> {
    std::fs::create_dir_all(&config.state_dir).with_context(|| format!("cannot create matrix.state_dir {}", config.state_dir.display()))?;
    let passphrase = store_passphrase(config)?;
    let client = new_client(config, &passphrase).await?;
    let saved = session_file(&config.state_dir);
    match read_session(&saved)? {
        Some(session) if session.meta.user_id.as_str() == config.user => {
            let device = session.meta.device_id.clone();
            client.restore_session(session).await.context("cannot restore the Matrix session")?;
            // Only a token the homeserver no longer accepts (revoked, or the server's database
            // was reset) is replaced by logging in again as the same device. A network error or
            // a 5xx says nothing about the token: it ends this attempt, to be tried again.
            match client.whoami().await {
                Ok(_) => info!(device = %device, "restored the Matrix session"),
                Err(error) if error.client_api_error_kind().is_some_and(is_unknown_token) => {
                    info!(device = %device, "the saved Matrix session was refused; logging in again as the same device");
                    drop(client);
                    let client = new_client(config, &passphrase).await?;
                    login(&client, config, password, Some(device.as_str())).await?;
                    write_session(&saved, &client)?;
                    return Ok(client);
                }
                Err(error) => return Err(error).with_context(|| format!("cannot reach the homeserver at {}", config.homeserver)),
            }
        }
        _ => {
            login(&client, config, password, None).await?;
            write_session(&saved, &client)?;
        }
    }
    Ok(client)
}

/// Whether the homeserver refused the access token (401 `M_UNKNOWN_TOKEN`): the one answer that
/// means logging in again.
pub(super) fn is_refused_token(error: &matrix_sdk::Error) -> bool {
    error.client_api_error_kind().is_some_and(is_unknown_token)
}

fn is_unknown_token(kind: &ErrorKind) -> bool {
    matches!(kind, ErrorKind::UnknownToken(_))
}

async fn new_client(config: &MatrixConfig, passphrase: &Secret) -> Result<Client> {
    let client = Client::builder()
        .homeserver_url(&config.homeserver)
        .sqlite_store(config.state_dir.join(STORE_DIR), Some(passphrase.expose()))
        .build()
        .await
        .with_context(|| {
            format!("cannot open the Matrix store in {} or reach the homeserver at {}", config.state_dir.display(), config.homeserver)
        })?;
    mark_store_encrypted(&config.state_dir)?;
    Ok(client)
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

/// The SDK's store of rooms and crypto keys, inside `state_dir`.
const STORE_DIR: &str = "store";
/// Written beside the store once it is encrypted: a store without it was made in the clear.
const ENCRYPTED_MARKER: &str = "store-encrypted";
/// The passphrase Chancery generates when `store_passphrase_file` is unset.
const GENERATED_PASSPHRASE: &str = "store-passphrase";

/// The crypto store's passphrase: `store_passphrase_file`'s first line, or the one generated
/// into `state_dir` on the first start. A store that was made in the clear is refused: the SDK
/// would otherwise start a new encrypted store over it and lose the device's keys.
fn store_passphrase(config: &MatrixConfig) -> Result<Secret> {
    let store = config.state_dir.join(STORE_DIR);
    let has_store = std::fs::read_dir(&store).map(|mut entries| entries.next().is_some()).unwrap_or(false);
    if has_store && !config.state_dir.join(ENCRYPTED_MARKER).exists() {
        anyhow::bail!(
            "the Matrix crypto store in {} was made without a passphrase, and Chancery now encrypts it: stop serve, move {} and {} aside, and start again (the assistant logs in as a new device of {} and reads what is sent from then on)",
            store.display(),
            store.display(),
            session_file(&config.state_dir).display(),
            config.user
        );
    }
    match &config.store_passphrase_file {
        Some(file) => {
            let text =
                std::fs::read_to_string(file).with_context(|| format!("cannot read matrix.store_passphrase_file {}", file.display()))?;
            let passphrase = text.lines().next().unwrap_or_default().trim();
            anyhow::ensure!(!passphrase.is_empty(), "matrix.store_passphrase_file {} is empty", file.display());
            Ok(Secret::new(passphrase))
        }
        None => generated_passphrase(&config.state_dir.join(GENERATED_PASSPHRASE)),
    }
}

/// Reads the generated passphrase, or makes one (32 random bytes, hex) readable by its owner only.
fn generated_passphrase(path: &Path) -> Result<Secret> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => return Ok(Secret::new(text.trim())),
        Ok(_) => anyhow::bail!("{} is empty: restore it from a backup of matrix.state_dir", path.display()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for the Matrix store's passphrase: {e}"))?;
    let passphrase = hex::encode(bytes);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(passphrase.as_bytes())?;
    file.sync_all()?;
    info!(file = %path.display(), "generated the passphrase of the Matrix crypto store; back it up with the folder");
    Ok(Secret::new(passphrase))
}

fn mark_store_encrypted(state_dir: &Path) -> Result<()> {
    let marker = state_dir.join(ENCRYPTED_MARKER);
    if !marker.exists() {
        std::fs::write(&marker, b"").with_context(|| format!("cannot write {}", marker.display()))?;
    }
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

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn config(state_dir: &Path) -> MatrixConfig {
        MatrixConfig { state_dir: state_dir.to_path_buf(), user: "@chancery:uni.example".into(), ..MatrixConfig::default() }
    }

    #[test]
    fn the_first_start_generates_a_passphrase_only_its_owner_reads_and_later_starts_reuse_it() {
        let state = tempfile::tempdir().unwrap();
        let first = store_passphrase(&config(state.path())).unwrap();
        let file = state.path().join(GENERATED_PASSPHRASE);
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(first.expose().len(), 64, "32 random bytes in hex");
        std::fs::create_dir_all(state.path().join(STORE_DIR).join("x")).unwrap();
        mark_store_encrypted(state.path()).unwrap();
        assert_eq!(store_passphrase(&config(state.path())).unwrap().expose(), first.expose());
    }

    #[test]
    fn a_store_made_without_a_passphrase_is_refused_with_how_to_move_it() {
        let state = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(state.path().join(STORE_DIR)).unwrap();
        std::fs::write(state.path().join(STORE_DIR).join("matrix-sdk-crypto.sqlite3"), b"old").unwrap();
        let error = store_passphrase(&config(state.path())).unwrap_err().to_string();
        assert!(error.contains("made without a passphrase") && error.contains("move") && !error.contains('\n'), "{error}");
        assert!(!state.path().join(GENERATED_PASSPHRASE).exists(), "nothing is generated for a store that cannot use it");
    }

    #[test]
    fn a_configured_passphrase_file_is_read_and_an_empty_one_refused() {
        let state = tempfile::tempdir().unwrap();
        let file = state.path().join("passphrase");
        std::fs::write(&file, "correct horse battery staple\nsecond line ignored\n").unwrap();
        let configured = MatrixConfig { store_passphrase_file: Some(file.clone()), ..config(state.path()) };
        assert_eq!(store_passphrase(&configured).unwrap().expose(), "correct horse battery staple");
        std::fs::write(&file, "\n").unwrap();
        assert!(store_passphrase(&configured).unwrap_err().to_string().contains("is empty"));
    }
}
