//! `ccpulse simulate --nats URL`: publishes the simulated events to a NATS JetStream
//! stream instead of writing them — the demo and load generator of the bus source.

use anyhow::Context;
use std::collections::VecDeque;

/// Publish acknowledgements awaited at most this far behind the last message sent
/// (pipelined, like a real adapter; bounded memory).
const ACKS_IN_FLIGHT: usize = 256;

/// Where and how to publish.
#[derive(Debug, Clone)]
pub struct BusTarget {
    /// The server, `nats://host[:port]`.
    pub url: String,
    /// The stream (created on `subject` if it does not exist).
    pub stream: String,
    /// The subject every message is published on.
    pub subject: String,
}

/// Publishes each of `messages` (one or more lines) and waits for every JetStream
/// acknowledgement; returns how many messages were stored.
pub fn publish(target: &BusTarget, messages: impl Iterator<Item = Vec<u8>>) -> anyhow::Result<u64> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    rt.block_on(async {
        let client = async_nats::connect(target.url.as_str())
            .await
            .with_context(|| format!("connecting to {}", target.url))?;
        let js = async_nats::jetstream::new(client);
        js.get_or_create_stream(async_nats::jetstream::stream::Config {
            name: target.stream.clone(),
            subjects: vec![target.subject.clone()],
            ..Default::default()
        })
        .await
        .with_context(|| format!("stream `{}`", target.stream))?;
        let mut acks: VecDeque<async_nats::jetstream::context::PublishAckFuture> =
            VecDeque::with_capacity(ACKS_IN_FLIGHT);
        let mut stored = 0u64;
        for m in messages {
            if acks.len() == ACKS_IN_FLIGHT {
                if let Some(ack) = acks.pop_front() {
                    ack.await.context("a publish was not acknowledged")?;
                    stored += 1;
                }
            }
            let ack = js
                .publish(target.subject.clone(), m.into())
                .await
                .context("publishing")?;
            acks.push_back(ack);
        }
        for ack in acks {
            ack.await.context("a publish was not acknowledged")?;
            stored += 1;
        }
        Ok(stored)
    })
}
