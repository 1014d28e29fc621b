//! One receiver's HTTP delivery: a JSON POST bounded by the receiver's timeout, retried
//! with exponential backoff and jitter (`backon`) on connection errors, timeouts, 408,
//! 429 and 5xx; every attempt counted.

use super::{Counters, NotifyError};
use crate::config::ReceiverConfig;
use backon::{ExponentialBuilder, Retryable};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use std::sync::Arc;
use std::time::Duration;

/// A failed attempt.
#[derive(Debug)]
struct Failed {
    retryable: bool,
    message: String,
}

/// The HTTP side of a receiver.
#[derive(Debug, Clone)]
pub(super) struct Http {
    /// The receiver's name (logs).
    pub name: String,
    client: reqwest::Client,
    /// Where to POST.
    pub url: String,
    policy: ExponentialBuilder,
    /// Its outcome counters.
    pub counters: Arc<Counters>,
}

/// Installs ring as rustls's process-wide provider (once; a provider already installed
/// by someone else is kept).
fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Http {
    /// The client of `rc` (headers, timeout, retry policy).
    pub fn new(rc: &ReceiverConfig, counters: Arc<Counters>) -> Result<Self, NotifyError> {
        install_crypto();
        let bad = |message: String| NotifyError::Client {
            receiver: rc.name.clone(),
            message,
        };
        let mut headers = HeaderMap::new();
        for (k, v) in &rc.headers {
            let name = HeaderName::from_bytes(k.as_bytes()).map_err(|e| bad(e.to_string()))?;
            let value = HeaderValue::from_str(v).map_err(|e| bad(e.to_string()))?;
            headers.insert(name, value);
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let timeout = Duration::from_millis(rc.timeout.ms().unsigned_abs());
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("ccpulse/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| bad(e.to_string()))?;
        let policy = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(rc.backoff_min.ms().unsigned_abs()))
            .with_max_delay(Duration::from_millis(rc.backoff_max.ms().unsigned_abs()))
            .with_max_times(rc.retries as usize)
            .with_jitter();
        Ok(Http {
            name: rc.name.clone(),
            client,
            url: rc.url.clone(),
            policy,
            counters,
        })
    }

    /// This receiver posting to another URL (Alertmanager's API path).
    pub fn with_url(mut self, url: String) -> Self {
        self.url = url;
        self
    }

    async fn attempt(&self, body: &[u8]) -> Result<(), Failed> {
        let resp = self
            .client
            .post(&self.url)
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| Failed {
                retryable: true,
                message: error_chain(&e),
            })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let text = resp.text().await.unwrap_or_default();
        let text: String = text.chars().take(200).collect();
        Err(Failed {
            retryable: status.is_server_error() || matches!(status.as_u16(), 408 | 429),
            message: format!("HTTP {status}: {text}"),
        })
    }

    /// POSTs `body`, retrying per the policy; true when delivered. Never panics.
    pub async fn post(&self, body: &[u8]) -> bool {
        let result = (|| self.attempt(body))
            .retry(self.policy)
            .sleep(tokio::time::sleep)
            .when(|e: &Failed| e.retryable)
            .notify(|e: &Failed, after: Duration| {
                Counters::add(&self.counters.retry);
                tracing::debug!(receiver = %self.name, "notification failed ({}); retry in {after:?}", e.message);
            })
            .await;
        match result {
            Ok(()) => {
                Counters::add(&self.counters.success);
                true
            }
            Err(e) => {
                Counters::add(&self.counters.failure);
                tracing::warn!(receiver = %self.name, url = %self.url, "notification not delivered: {}", e.message);
                false
            }
        }
    }
}

/// The error and its causes on one line (reqwest's own message hides the cause).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
