//! Sends the MDM^T02 (T10 for an amendment) to the trust's clinical system
//! over MLLP and reads its acknowledgement. AA (or CA) is delivered; AR is
//! "not now", tried again; AE means the message itself is refused, so sending
//! it again unchanged cannot help. MSH-10 is the outbox row's own id, so a
//! resend is recognised by a receiver that keeps what it has applied.

use hl7::mllp::{Decoded, Decoder, frame};
use settings::MdmSettings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::smtp::SendFailure;

/// Longest acknowledgement taken.
const MOST_ACK_BYTES: usize = 64 * 1024;

pub(crate) async fn send(settings: &MdmSettings, message: &str) -> Result<String, SendFailure> {
    let peer = &settings.peer;
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(peer)
            .await
            .map_err(|e| SendFailure::from(format!("The clinical system at {peer} did not answer: {e}")))?;
        stream.write_all(&frame(message.as_bytes())).await.map_err(|e| {
            SendFailure::from(format!("The clinical system at {peer} dropped the connection: {e}"))
        })?;
        let mut decoder = Decoder::new(MOST_ACK_BYTES);
        let mut buffer = [0u8; 4096];
        loop {
            let read = stream.read(&mut buffer).await.map_err(|e| {
                SendFailure::from(format!("The clinical system at {peer} dropped the connection: {e}"))
            })?;
            if read == 0 {
                return Err(SendFailure::from(format!(
                    "The clinical system at {peer} closed without acknowledging"
                )));
            }
            if let Some(decoded) = decoder.push(&buffer[..read]).into_iter().next() {
                return match decoded {
                    Decoded::Frame(ack) => Ok(String::from_utf8_lossy(&ack).into_owned()),
                    Decoded::TooLong { .. } => Err(SendFailure::from(format!(
                        "The clinical system at {peer} sent an oversized reply"
                    ))),
                };
            }
        }
    };
    let ack = tokio::time::timeout(settings.timeout, exchange).await.map_err(|_| {
        SendFailure::from(format!(
            "The clinical system at {peer} did not acknowledge in {} s",
            settings.timeout.as_secs()
        ))
    })??;
    let parsed = hl7::Message::parse(&ack).map_err(|e| {
        SendFailure::from(format!("The clinical system's acknowledgement cannot be read: {e}"))
    })?;
    let msa = parsed
        .segment("MSA")
        .ok_or_else(|| SendFailure::from("The acknowledgement has no MSA".to_owned()))?;
    match msa.value(1) {
        "AA" | "CA" => Ok(format!("{} {}", msa.value(1), msa.value(2))),
        "AE" | "CE" => Err(SendFailure {
            reason: format!("The clinical system refused the document ({}): {}", msa.value(1), msa.value(3)),
            permanent: true,
        }),
        other => Err(SendFailure::from(format!("The clinical system cannot take it now ({other})"))),
    }
}
