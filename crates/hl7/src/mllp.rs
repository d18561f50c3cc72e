//! MLLP framing: a message travels as `VT message FS CR` (0x0B … 0x1C 0x0D).
//! The decoder takes bytes as they arrive and gives whole frames back, so a
//! frame split across reads, several frames in one read, and junk between
//! frames are all handled; a frame longer than the limit is refused rather
//! than held in memory without end.

const START: u8 = 0x0B;
const END: [u8; 2] = [0x1C, 0x0D];

/// Wraps a message for sending.
pub fn frame(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 3);
    out.push(START);
    out.extend_from_slice(message);
    out.extend_from_slice(&END);
    out
}

/// What the decoder found in the bytes given so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// A whole message, without its frame.
    Frame(Vec<u8>),
    /// A frame grew past the limit: reported as soon as it does (so a peer
    /// sending a frame without end is noticed at once, not never), and the
    /// rest of it is skipped up to its end or the next start byte. The
    /// connection may carry on or be closed.
    TooLong { dropped: usize },
}

/// An incremental MLLP decoder with a bounded frame size.
#[derive(Debug)]
pub struct Decoder {
    limit: usize,
    buffer: Vec<u8>,
    /// Inside a frame (a start byte seen).
    in_frame: bool,
    /// Dropping an over-long frame until its end.
    discarding: usize,
    /// Bytes outside any frame, skipped (noise on the line).
    skipped: usize,
}

impl Decoder {
    /// A decoder refusing frames longer than `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self { limit, buffer: Vec::new(), in_frame: false, discarding: 0, skipped: 0 }
    }

    /// Bytes seen outside frames so far (junk between frames).
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Whether a frame has begun and not ended: a peer that stops here is mid-message.
    pub fn mid_frame(&self) -> bool {
        self.in_frame || self.discarding > 0
    }

    /// Takes the next bytes read and returns whatever frames they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Decoded> {
        let mut found = Vec::new();
        for &byte in bytes {
            if self.discarding > 0 {
                self.discard(byte);
                continue;
            }
            if !self.in_frame {
                if byte == START {
                    self.in_frame = true;
                    self.buffer.clear();
                } else {
                    self.skipped += 1;
                }
                continue;
            }
            if byte == START {
                // A new start inside a frame: the sender gave up on the last one.
                self.skipped += self.buffer.len();
                self.buffer.clear();
                continue;
            }
            self.buffer.push(byte);
            if self.buffer.ends_with(&END) {
                self.buffer.truncate(self.buffer.len() - END.len());
                found.push(Decoded::Frame(std::mem::take(&mut self.buffer)));
                self.in_frame = false;
            } else if self.buffer.len() > self.limit + END.len() {
                found.push(Decoded::TooLong { dropped: self.buffer.len() });
                self.discarding = self.buffer.len();
                self.buffer.clear();
                self.in_frame = false;
            }
        }
        found
    }

    fn discard(&mut self, byte: u8) {
        let last = self.buffer.last().copied();
        match byte {
            START => {
                self.discarding = 0;
                self.buffer.clear();
                self.in_frame = true;
            }
            0x0D if last == Some(0x1C) => {
                self.discarding = 0;
                self.buffer.clear();
            }
            _ => {
                self.discarding += 1;
                // Only the last byte is kept, to see the end marker.
                self.buffer.clear();
                self.buffer.push(byte);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(found: Vec<Decoded>) -> Vec<Vec<u8>> {
        found
            .into_iter()
            .filter_map(|d| match d {
                Decoded::Frame(f) => Some(f),
                Decoded::TooLong { .. } => None,
            })
            .collect()
    }

    #[test]
    fn a_frame_split_across_reads_comes_out_whole() {
        let wire = frame(b"MSH|^~\\&|A\rPID|1");
        let mut decoder = Decoder::new(1 << 20);
        let (first, second) = wire.split_at(5);
        assert!(decoder.push(first).is_empty());
        assert!(decoder.mid_frame());
        assert_eq!(frames(decoder.push(second)), vec![b"MSH|^~\\&|A\rPID|1".to_vec()]);
        assert!(!decoder.mid_frame());
    }

    #[test]
    fn several_frames_in_one_read_and_junk_between_them() {
        let mut wire = b"noise".to_vec();
        wire.extend(frame(b"ONE"));
        wire.extend(b"\r\n");
        wire.extend(frame(b"TWO"));
        let mut decoder = Decoder::new(1 << 20);
        assert_eq!(frames(decoder.push(&wire)), vec![b"ONE".to_vec(), b"TWO".to_vec()]);
        assert_eq!(decoder.skipped(), 7);
    }

    #[test]
    fn an_end_split_between_its_two_bytes_is_found() {
        let wire = frame(b"ONE");
        let mut decoder = Decoder::new(1 << 20);
        assert!(decoder.push(&wire[..wire.len() - 1]).is_empty());
        assert_eq!(frames(decoder.push(&wire[wire.len() - 1..])), vec![b"ONE".to_vec()]);
    }

    #[test]
    fn a_frame_without_end_is_reported_as_soon_as_it_passes_the_limit() {
        let mut decoder = Decoder::new(10);
        assert_eq!(decoder.push(&[START]), []);
        assert_eq!(decoder.push(&[b'x'; 12]), []);
        assert_eq!(decoder.push(b"x"), [Decoded::TooLong { dropped: 13 }]);
        assert_eq!(decoder.push(&[b'x'; 1000]), [], "reported once, then skipped");
    }

    #[test]
    fn an_over_long_frame_is_dropped_and_the_next_one_still_read() {
        let mut decoder = Decoder::new(10);
        let mut wire = frame(&[b'x'; 100]);
        wire.extend(frame(b"SHORT"));
        let found = decoder.push(&wire);
        assert!(matches!(found[0], Decoded::TooLong { .. }), "{found:?}");
        assert_eq!(frames(found), vec![b"SHORT".to_vec()]);
    }

    #[test]
    fn an_endless_frame_holds_no_more_than_the_limit() {
        let mut decoder = Decoder::new(64);
        decoder.push(&[START]);
        for _ in 0..10_000 {
            decoder.push(&[b'x'; 100]);
        }
        assert!(decoder.buffer.len() <= 64 + 2, "held {} bytes", decoder.buffer.len());
        assert!(decoder.mid_frame());
    }
}
