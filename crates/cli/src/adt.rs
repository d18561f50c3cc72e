//! `cws adt`: the HL7 v2 interface. `listen` serves MLLP on a TCP address,
//! each message kept, applied and committed before its acknowledgement is
//! sent; `errors` lists the error queue. The listener logs message control ids
//! and record ids only, never patient data.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Subcommand;
use hl7::mllp::{Decoded, Decoder, frame};
use services::interface::{FeedToken, Replayed};
use services::{Context, StoreLocation};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

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
        /// A connection that completes no message for this long is closed. Long,
        /// since a PAS keeps its connection open between messages; a flood of
        /// silent connections is handled by making room, not by this.
        #[arg(long, default_value_t = 600)]
        idle_seconds: u64,
        /// Connections served at once. When all are taken, the one silent
        /// longest (at least a second) is closed to make room; else the newcomer is.
        #[arg(long, default_value_t = 32)]
        max_connections: usize,
    },
    /// Replay a message from the error queue by its id (`cws adt errors`),
    /// after correcting what refused it; or apply a FILE of messages in order,
    /// as the listener would (each kept once by its key): a demonstration day or
    /// a backlog, each message beginning with MSH. With --to, the file is sent
    /// to a listener over MLLP instead.
    Replay {
        /// A message id from the error queue, or a file of messages.
        what: String,
        /// Send the file to this listener (ADDRESS:PORT) rather than apply it here.
        #[arg(long)]
        to: Option<SocketAddr>,
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
pub(crate) fn interface_account() -> store::Actor {
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
        AdtCommand::Replay { what, to: None, json } if what.bytes().all(|b| b.is_ascii_digit()) => {
            let id: i64 =
                what.parse().map_err(|_| Failure::Input(format!("message id: {what:?} is too long")))?;
            block_on(with_context(&location, async |context| {
                let feed = FeedToken::for_account(context, &interface_account())?;
                let replayed = services::interface::replay(context, &feed, id).await?;
                let (outcome, text) = match &replayed {
                    Replayed::Applied => ("applied", format!("Message {id} applied.")),
                    Replayed::Stale => (
                        "stale",
                        format!("Message {id} is older than what is held: recorded, nothing changed."),
                    ),
                    Replayed::StillRefused(why) => (
                        "still refused",
                        format!("Message {id} is still refused, and stays in the queue: {why}"),
                    ),
                };
                if json {
                    crate::output::json(&serde_json::json!({"id": id, "outcome": outcome}))?;
                } else {
                    println!("{text}");
                }
                match replayed {
                    Replayed::StillRefused(why) => Err(Failure::Input(why)),
                    _ => Ok(()),
                }
            }))
        }
        AdtCommand::Replay { what, to, json } => {
            let file = std::path::PathBuf::from(&what);
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Failure::Input(format!("file: {}: {e}", file.display())))?;
            let messages = split_messages(&text);
            let outcomes = match to {
                Some(listener) => block_on(send_to_listener(listener, &messages))?,
                None => block_on(with_context(&location, async |context| {
                    let feed = FeedToken::for_account(context, &interface_account())?;
                    let mut outcomes = Vec::new();
                    for (index, message) in messages.iter().enumerate() {
                        let reply = services::interface::receive(context, &feed, message).await;
                        if reply.unreadable {
                            eprintln!("message {}: its MSH could not be read, so it was not kept", index + 1);
                        }
                        outcomes.push(reply.outcome.code().to_owned());
                    }
                    Ok(outcomes)
                }))?,
            };
            let accepted = outcomes.iter().filter(|o| *o == "AA").count();
            if json {
                crate::output::json(&serde_json::json!({"messages": outcomes.len(), "accepted": accepted}))?;
            } else {
                println!(
                    "Applied {accepted} of {} messages; see `cws adt errors` for the rest.",
                    outcomes.len()
                );
            }
            Ok(())
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
    let connections = Arc::new(Connections::new(max_connections));
    loop {
        let (socket, peer) = tokio::select! {
            accepted = listener.accept() => accepted.map_err(|e| Failure::Other(e.into()))?,
            _ = tokio::signal::ctrl_c() => {
                tracing::info!("MLLP listener stopped");
                return Ok(());
            }
        };
        let Some(admitted) = connections.admit() else {
            tracing::warn!(%peer, "connection refused: {max_connections} open and each heard from recently");
            drop(socket);
            continue;
        };
        tracing::debug!(%peer, "connection accepted");
        let (context, feed, connections) = (context.clone(), feed.clone(), Arc::clone(&connections));
        tokio::spawn(async move {
            let outcome = tokio::select! {
                served = serve(socket, &context, &feed, limits, &connections, admitted.id) => served,
                () = admitted.closing.notified() => Err(std::io::Error::other("closed to make room for a new connection")),
            };
            if let Err(error) = outcome {
                tracing::info!(%peer, %error, "connection closed");
            }
            connections.leave(admitted.id);
        });
    }
}

/// The open connections, each with when it last completed a message. When all
/// places are taken, the one silent longest makes room for a newcomer, so
/// peers that connect and send nothing (or never finish a message) cannot keep
/// a well-behaved sender out.
struct Connections {
    places: usize,
    open: std::sync::Mutex<std::collections::HashMap<u64, Open>>,
    next_id: std::sync::atomic::AtomicU64,
}

struct Open {
    last_message: Instant,
    closing: Arc<Notify>,
}

struct Admitted {
    id: u64,
    closing: Arc<Notify>,
}

/// A connection silent this long may be closed to make room for another.
const SILENT_ENOUGH_TO_MAKE_ROOM: Duration = Duration::from_secs(1);

impl Connections {
    fn new(places: usize) -> Self {
        Self { places: places.max(1), open: Default::default(), next_id: Default::default() }
    }

    fn admit(&self) -> Option<Admitted> {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        if open.len() >= self.places {
            let (&quietest, entry) = open.iter().min_by_key(|(_, entry)| entry.last_message)?;
            if now.duration_since(entry.last_message) < SILENT_ENOUGH_TO_MAKE_ROOM {
                return None;
            }
            let evicted = open.remove(&quietest)?;
            evicted.closing.notify_one();
            tracing::info!(connection = quietest, "the connection silent longest was closed to make room");
        }
        let id = self.next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let closing = Arc::new(Notify::new());
        open.insert(id, Open { last_message: now, closing: Arc::clone(&closing) });
        Some(Admitted { id, closing })
    }

    fn heard_from(&self, id: u64) {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(entry) = open.get_mut(&id) {
            entry.last_message = Instant::now();
        }
    }

    fn leave(&self, id: u64) {
        self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&id);
    }
}

/// One connection: frames in, each answered after its effects are committed.
/// A connection that completes no message within the idle time is closed, so a
/// peer that trickles a frame that never ends cannot hold its place.
async fn serve(
    mut socket: TcpStream,
    context: &Context,
    feed: &FeedToken,
    limits: Limits,
    connections: &Connections,
    id: u64,
) -> std::io::Result<()> {
    let mut decoder = Decoder::new(limits.max_message_bytes);
    let mut buffer = vec![0u8; 16 * 1024];
    let mut deadline = tokio::time::Instant::now() + limits.idle;
    loop {
        let read = match tokio::time::timeout_at(deadline, socket.read(&mut buffer)).await {
            Ok(read) => read?,
            Err(_) => {
                return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "no whole message in time"));
            }
        };
        if read == 0 {
            return Ok(());
        }
        for found in decoder.push(&buffer[..read]) {
            match found {
                Decoded::Frame(bytes) => {
                    tracing::debug!(bytes = bytes.len(), "message received");
                    connections.heard_from(id);
                    deadline = tokio::time::Instant::now() + limits.idle;
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
                    killed_before_acknowledging();
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

/// Where a test kills the listener as a power cut would: between a message's
/// commit and its ACK, every Nth message of the process's life
/// (`CWS_TEST_KILL_BEFORE_ACK_EVERY=N`). Debug builds only.
fn killed_before_acknowledging() {
    #[cfg(debug_assertions)]
    {
        static RECEIVED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let every = std::env::var("CWS_TEST_KILL_BEFORE_ACK_EVERY").ok().and_then(|n| n.parse::<u64>().ok());
        if let Some(every) = every.filter(|n| *n > 0) {
            let received = RECEIVED.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            if received.is_multiple_of(every) {
                let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
            }
        }
    }
}

/// Sends each message to a listener over one MLLP connection, waiting for its
/// acknowledgement before the next; gives each one's MSA-1.
async fn send_to_listener(listener: SocketAddr, messages: &[String]) -> Result<Vec<String>, Failure> {
    let unreachable = |e: std::io::Error| Failure::Input(format!("--to: {listener}: {e}"));
    let mut socket = TcpStream::connect(listener).await.map_err(unreachable)?;
    let mut decoder = Decoder::new(1 << 20);
    let mut buffer = vec![0u8; 16 * 1024];
    let mut outcomes = Vec::new();
    for message in messages {
        socket.write_all(&frame(message.as_bytes())).await.map_err(unreachable)?;
        let ack = loop {
            let read = tokio::time::timeout(Duration::from_secs(30), socket.read(&mut buffer))
                .await
                .map_err(|_| Failure::Input(format!("--to: {listener}: no acknowledgement in 30 s")))?
                .map_err(unreachable)?;
            if read == 0 {
                return Err(Failure::Input(format!("--to: {listener} closed the connection")));
            }
            if let Some(Decoded::Frame(bytes)) = decoder.push(&buffer[..read]).into_iter().next() {
                break String::from_utf8_lossy(&bytes).into_owned();
            }
        };
        let code = hl7::Message::parse(&ack)
            .ok()
            .and_then(|m| m.segment("MSA").map(|msa| msa.value(1).to_owned()))
            .unwrap_or_default();
        outcomes.push(code);
    }
    Ok(outcomes)
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
