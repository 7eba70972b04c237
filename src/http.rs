//! The HTTP adapter: people's calendar feeds at `/calendar/SECRET.ics`.
//!
//! A feed holds the days around today (`[http] feed_past_days` and `feed_future_days`), read
//! through the indexes of the deadlines' dates; `?all=1` holds every deadline.
//!
//! A feed's address is its only key, so the server answers nothing else, answers an unknown or
//! replaced secret exactly as it answers a path that does not exist (404), and never logs a
//! secret, only its first characters. It speaks plain HTTP/1.1: run it on loopback behind the
//! university's reverse proxy, which adds TLS.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::Utc;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{error, info, warn};

use crate::config::Config;
use crate::core::calendar::{CalendarHead, FeedDays, Window, render};
use crate::core::viewer::{Audience, Viewer};
use crate::store::{Scope, Store};

/// A client that has not sent its request's headers by then is dropped.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// How many characters of a secret the log may show: enough to tell two apart, far too few to
/// use one.
const SECRET_PREFIX: usize = 6;

/// What the feeds say of themselves.
#[derive(Debug, Clone)]
pub struct FeedSettings {
    /// The calendar's name in people's apps.
    pub name: String,
    /// The right-hand side of every event's UID.
    pub domain: String,
    /// How far a feed reaches around today, unless its address asks for all (`?all=1`).
    pub days: FeedDays,
}

impl FeedSettings {
    pub fn from_config(config: &Config) -> FeedSettings {
        FeedSettings {
            name: format!("Chancery – {}", config.university.name),
            domain: calendar_domain(config),
            days: config.http.feed_days(),
        }
    }
}

/// The domain of the calendar's UIDs: the host of `http.public_url`, else the domain of
/// `smtp.from`, else `chancery.invalid`. It should not change, or calendar apps see every
/// event as new; the export and the feed use the same, so an imported file and a feed agree.
pub fn calendar_domain(config: &Config) -> String {
    let from_url = config.http.public_url.split_once("://").map(|(_, rest)| rest).and_then(|rest| rest.split(['/', ':']).next());
    let from_mail = config.smtp.from.rsplit_once('@').map(|(_, domain)| domain.trim_end_matches('>').trim());
    from_url
        .into_iter()
        .chain(from_mail)
        .map(str::to_ascii_lowercase)
        .find(|domain| !domain.is_empty() && domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'))
        .unwrap_or_else(|| "chancery.invalid".into())
}

/// Binds the configured address (`http.listen`).
pub async fn bind(config: &crate::config::HttpConfig) -> Result<TcpListener> {
    let address = config.listen_addr().map_err(anyhow::Error::msg)?;
    TcpListener::bind(address).await.with_context(|| format!("cannot listen on {address} (http.listen)"))
}

/// Answers feed requests on `listener` until `stopped` turns true. Connections still open then
/// are finished by their own tasks.
pub async fn serve(listener: TcpListener, store: Store, settings: FeedSettings, mut stopped: watch::Receiver<bool>) -> Result<()> {
    let address = listener.local_addr().ok();
    info!(address = ?address, "publishing calendar feeds");
    let feed = Arc::new(Feed { store, settings });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(HEADER_TIMEOUT).keep_alive(true);
    let stop = async move {
        // The guard `wait_for` returns is dropped here, before anything else is awaited.
        stopped.wait_for(|stop| *stop).await.map(|_| ()).ok();
    };
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let feed = Arc::clone(&feed);
        let connection = http.serve_connection(
            TokioIo::new(stream),
            hyper::service::service_fn(move |request| {
                let feed = Arc::clone(&feed);
                async move { Ok::<_, Infallible>(feed.answer(request, peer).await) }
            }),
        );
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(peer = %peer, error = %e, "a calendar connection ended badly");
            }
        });
    }
    Ok(())
}

struct Feed {
    store: Store,
    settings: FeedSettings,
}

impl Feed {
    async fn answer(&self, request: Request<Incoming>, peer: SocketAddr) -> Response<Full<Bytes>> {
        let Some(secret) = feed_secret(request.uri().path()) else {
            return plain(StatusCode::NOT_FOUND, "Not found\n");
        };
        if request.method() != Method::GET && request.method() != Method::HEAD {
            let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "Only GET\n");
            response.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            return response;
        }
        let prefix: String = secret.chars().take(SECRET_PREFIX).collect();
        let owner = match self.store.calendar().owner_of(secret).await {
            Ok(owner) => owner,
            Err(e) => {
                error!(secret_prefix = %prefix, error = %e, "cannot look up a calendar secret");
                return plain(StatusCode::INTERNAL_SERVER_ERROR, "Try again later\n");
            }
        };
        let Some(member) = owner else {
            warn!(secret_prefix = %prefix, peer = %peer, "a calendar feed was asked for with a secret nobody has (unknown or replaced)");
            return plain(StatusCode::NOT_FOUND, "Not found\n");
        };
        // Only its owner reads a feed: its address is theirs alone, as a direct message is.
        let viewer = Viewer::new(member, Audience::Private);
        let now = Utc::now();
        let scope = Scope::Person(&viewer);
        let read = if asks_for_all(request.uri().query()) {
            self.store.calendar().events(&scope, now).await
        } else {
            let today = now.with_timezone(&self.store.zone()).date_naive();
            self.store.calendar().events_within(&scope, &Window::around(today, self.settings.days), now).await
        };
        let events = match read {
            Ok(events) => events,
            Err(e) => {
                error!(person = %viewer.member.id, error = %e, "cannot read a calendar feed's deadlines");
                return plain(StatusCode::INTERNAL_SERVER_ERROR, "Try again later\n");
            }
        };
        let head = CalendarHead { name: &self.settings.name, domain: &self.settings.domain, made_at: now };
        let text = render(&head, &events);
        // Calendar apps read a feed every hour or so: one line each time is chatter.
        tracing::debug!(person = %viewer.member.id, events = events.len(), "calendar feed read");
        // hyper leaves the body out of an answer to HEAD, and keeps its length.
        let mut response = Response::new(Full::new(Bytes::from(text)));
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/calendar; charset=utf-8"));
        // A feed is one person's: no shared cache may keep it.
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
        response
    }
}

/// The secret of a feed's path (`…/calendar/SECRET.ics`), when the path is one; a prefix
/// before `/calendar/` is allowed for a reverse proxy that keeps its own.
fn feed_secret(path: &str) -> Option<&str> {
    let (_, file) = path.rsplit_once("/calendar/")?;
    let secret = file.strip_suffix(".ics")?;
    (!secret.is_empty() && secret.len() <= 128 && secret.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .then_some(secret)
}

/// Whether a feed's query asks for every deadline rather than the window (`all=1`).
fn asks_for_all(query: Option<&str>) -> bool {
    query.is_some_and(|query| query.split('&').any(|pair| pair == "all=1" || pair == "all=true"))
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_feed_path_names_a_secret() {
        assert_eq!(feed_secret("/calendar/abc123.ics"), Some("abc123"));
        assert_eq!(feed_secret("/chancery/calendar/abc123.ics"), Some("abc123"), "behind a proxy's prefix");
        assert_eq!(feed_secret("/calendar/abc123"), None);
        assert_eq!(feed_secret("/calendar/.ics"), None);
        assert_eq!(feed_secret("/calendar/../x.ics"), None);
        assert_eq!(feed_secret("/"), None);
    }

    #[test]
    fn all_1_asks_for_every_deadline() {
        assert!(asks_for_all(Some("all=1")));
        assert!(asks_for_all(Some("x=2&all=1")));
        assert!(!asks_for_all(None));
        assert!(!asks_for_all(Some("all=0")));
        assert!(!asks_for_all(Some("small=1")));
    }

    #[test]
    fn the_uid_domain_comes_from_the_public_url_then_the_sender() {
        let mut config = Config::load(std::path::Path::new("/nonexistent/chancery.toml"), false).expect("defaults load");
        assert_eq!(calendar_domain(&config), "chancery.invalid");
        config.smtp.from = "University Registry <registry@Uni.Example>".into();
        assert_eq!(calendar_domain(&config), "uni.example");
        config.http.public_url = "https://chancery.uni.example:8443/feeds".into();
        assert_eq!(calendar_domain(&config), "chancery.uni.example");
    }
}
