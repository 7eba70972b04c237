//! `[http]`: the HTTP server of `serve` and its calendar feeds.

use serde::Deserialize;

use super::ConfigError;

/// The HTTP server of `serve`: people's calendar feeds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Publish calendar feeds in `serve`.
    pub enabled: bool,
    /// The address and port to listen on. Keep it on loopback behind a reverse proxy that
    /// adds TLS: a feed's address is its only key.
    pub listen: String,
    /// Where people's calendar apps reach it, e.g. `https://chancery.uni.example`: a feed is
    /// `PUBLIC_URL/calendar/SECRET.ics`.
    pub public_url: String,
    /// A feed holds the deadlines and meetings from this many days before today…
    pub feed_past_days: u32,
    /// …to this many days after it; `?all=1` on a feed's address gives all of them.
    pub feed_future_days: u32,
}

impl Default for HttpConfig {
    fn default() -> Self {
        let days = crate::core::calendar::FeedDays::default();
        HttpConfig {
            enabled: false,
            listen: "127.0.0.1:8080".into(),
            public_url: String::new(),
            feed_past_days: days.past,
            feed_future_days: days.future,
        }
    }
}

impl HttpConfig {
    /// The address to listen on.
    pub fn listen_addr(&self) -> Result<std::net::SocketAddr, ConfigError> {
        self.listen.parse().map_err(|_| ConfigError::Listen(self.listen.clone()))
    }

    /// How far a feed reaches.
    pub fn feed_days(&self) -> crate::core::calendar::FeedDays {
        crate::core::calendar::FeedDays { past: self.feed_past_days, future: self.feed_future_days }
    }

    /// The address of a feed, from its secret; `None` when `public_url` is not set.
    pub fn calendar_url(&self, secret: &str) -> Option<String> {
        let base = self.public_url.trim().trim_end_matches('/');
        (!base.is_empty()).then(|| format!("{base}/calendar/{secret}.ics"))
    }

    pub(super) fn check(&self) -> Result<(), ConfigError> {
        if !self.enabled {
            return Ok(());
        }
        self.listen_addr()?;
        let url = self.public_url.trim();
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() <= "https://".len() {
            return Err(ConfigError::PublicUrl(url.to_string()));
        }
        Ok(())
    }
}
