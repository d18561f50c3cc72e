//! `cws adt`: the HL7 v2 interface. `listen` serves MLLP on a TCP address,
//! each message kept, applied and committed before its acknowledgement is
//! sent; `errors` lists the error queue. The listener logs message control ids
//! and record ids only, never patient data.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::Subcommand;
use hl7::mllp::{Decoded, Decoder, frame};
use services::interface::FeedToken;
use services::{Context, StoreLocation};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::{Failure, block_on, with_context};

#[derive(Subcommand)]
pub enum AdtCommand {
    /// Receive HL7 v2 over MLLP: laboratory results are filed, and what cannot be
    /// applied waits in the error queue. Runs until stopped.
    Listen {
        /// ADDRESS:PORT, e.g. 127.0.0.1:2575 (port 0 picks a free one, printed on start).
        #[arg(long)]
        bind: SocketAddr,
        /// The longest message accepted, in bytes.
        #[arg(long, default_value_t = 1 << 20)]
        max_message_bytes: usize,
        /// A connection silent this long is closed.
        #[arg(long, default_value_t = 60)]
        idle_seconds: u64,
        /// Connections served at once; more are closed at once.
        #[arg(long, default_value_t = 32)]
        max_connections: usize,
    },
    /// Apply a file of messages directly, in order, as the listener would
    /// (each kept once by its key): for a demonstration day, or a backlog.
    /// Messages are separated by blank lines or each begins with MSH.
    Replay {
        file: std::path::PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// The messages that could not be applied, oldest first: their keys and why.
    Errors {
        #[arg(long)]
        json: bool,
    },
}

/// The listener's bounds, so no peer can exhaust it.
#[derive(Debug, Clone, Copy)]
struct Limits {
    max_message_bytes: usize,
    idle: Duration,
}

/// The OS account this process runs as, for the interface's token.
fn interface_account() -> store::Actor {
    let os = crate::os_actor();
    store::Actor { user: os.user.trim_start_matches("os:").to_owned(), workstation: os.workstation }
}

pub fn run(command: AdtCommand, location: StoreLocation) -> Result<(), Failure> {
    match command {
        AdtCommand::Listen { bind, max_message_bytes, idle_seconds, max_connections } => {
            let limits = Limits { max_message_bytes, idle: Duration::from_secs(idle_seconds) };
            block_on(with_context(&location, async |context| {
                let feed = FeedToken::for_account(context, &interface_account())?;
                listen(context, &feed, bind, limits, max_connections).await
            }))
        }
        AdtCommand::Replay { file, json } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Failure::Input(format!("file: {}: {e}", file.display())))?;
            block_on(with_context(&location, async |context| {
                let feed = FeedToken::for_account(context, &interface_account())?;
                let mut outcomes = Vec::new();
                for (index, message) in split_messages(&text).iter().enumerate() {
                    let reply = services::interface::receive(context, &feed, message).await;
                    if reply.unreadable {
                        eprintln!("message {}: its MSH could not be read, so it was not kept", index + 1);
                    }
                    outcomes.push(format!("{:?}", reply.outcome));
                }
                let accepted = outcomes.iter().filter(|o| *o == "Accepted").count();
                if json {
                    crate::output::json(
                        &serde_json::json!({"messages": outcomes.len(), "accepted": accepted}),
                    )?;
                } else {
                    println!(
                        "Applied {accepted} of {} messages; see `cws adt errors` for the rest.",
                        outcomes.len()
                    );
                }
                Ok(())
            }))
        }
        AdtCommand::Errors { json } => block_on(with_context(&location, async |context| {
            let feed = FeedToken::for_account(context, &interface_account())?;
            let queue = services::interface::errors(context, &feed, 500).await?;
            if json {
                let rows: Vec<_> = queue
                    .iter()
                    .map(|m| {
                        serde_json::json!({
                            "id": m.id,
                            "sending_application": m.key.sending_application,
                            "sending_facility": m.key.sending_facility,
                            "control_id": m.key.control_id,
                            "type": format!("{}^{}", m.message_type, m.event),
                            "received_at": m.received_at_utc,
                            "error": m.error,
                        })
                    })
                    .collect();
                crate::output::json(&rows)?;
            } else {
                for m in &queue {
                    println!(
                        "{}  {}^{}  {}/{} {}  {}",
                        m.id,
                        m.message_type,
                        m.event,
                        m.key.sending_application,
                        m.key.sending_facility,
                        m.key.control_id,
                        m.error.as_deref().unwrap_or("")
                    );
                }
            }
            Ok(())
        })),
    }
}

async fn listen(
    context: &Context,
    feed: &FeedToken,
    bind: SocketAddr,
    limits: Limits,
    max_connections: usize,
) -> Result<(), Failure> {
    let listener = TcpListener::bind(bind).await.map_err(|e| Failure::Input(format!("bind: {bind}: {e}")))?;
    let address = listener.local_addr().map_err(|e| Failure::Other(e.into()))?;
    println!("listening on {address}");
    tracing::info!(%address, "MLLP listener started");
    let permits = Arc::new(Semaphore::new(max_connections.max(1)));
    loop {
        let (socket, peer) = tokio::select! {
            accepted = listener.accept() => accepted.map_err(|e| Failure::Other(e.into()))?,
            _ = tokio::signal::ctrl_c() => {
                tracing::info!("MLLP listener stopped");
                return Ok(());
            }
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            tracing::warn!(%peer, "connection refused: {max_connections} already open");
            drop(socket);
            continue;
        };
        tracing::debug!(%peer, "connection accepted");
        let (context, feed) = (context.clone(), feed.clone());
        tokio::spawn(async move {
            if let Err(error) = serve(socket, &context, &feed, limits).await {
                tracing::info!(%peer, %error, "connection closed");
            }
            drop(permit);
        });
    }
}

/// One connection: frames in, each answered after its effects are committed.
async fn serve(
    mut socket: TcpStream,
    context: &Context,
    feed: &FeedToken,
    limits: Limits,
) -> std::io::Result<()> {
    let mut decoder = Decoder::new(limits.max_message_bytes);
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = match tokio::time::timeout(limits.idle, socket.read(&mut buffer)).await {
            Ok(read) => read?,
            Err(_) => return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "idle")),
        };
        if read == 0 {
            return Ok(());
        }
        for found in decoder.push(&buffer[..read]) {
            match found {
                Decoded::Frame(bytes) => {
                    tracing::debug!(bytes = bytes.len(), "message received");
                    let text = String::from_utf8_lossy(&bytes);
                    let reply = services::interface::receive(context, feed, &text).await;
                    if reply.unreadable {
                        // Not even its header could be read: nothing to acknowledge it by. The
                        // sender sees the connection close, rather than waiting for an answer.
                        tracing::warn!(
                            "a message without a readable MSH was refused; closing the connection"
                        );
                        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "no readable MSH"));
                    }
                    for ack in &reply.acknowledgements {
                        socket.write_all(&frame(ack.as_bytes())).await?;
                    }
                }
                Decoded::TooLong { dropped } => {
                    tracing::warn!(
                        dropped,
                        "a message over the size limit was dropped; closing the connection"
                    );
                    return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "message too long"));
                }
            }
        }
    }
}

/// The messages of a file: each begins with MSH; line ends become segment ends.
fn split_messages(text: &str) -> Vec<String> {
    let mut messages: Vec<String> = Vec::new();
    for line in text.split(['\r', '\n']).map(str::trim_end).filter(|l| !l.is_empty()) {
        if line.starts_with("MSH") || messages.is_empty() {
            messages.push(String::new());
        }
        let current = messages.last_mut().expect("one is open");
        current.push_str(line);
        current.push('\r');
    }
    messages
}
