//! The bounded collection of a callback body: never more than the limit kept, and one chunk
//! kept as it came.

use bytes::{Bytes, BytesMut};

/// A callback body read so far, never longer than its limit.
///
/// A body that arrives in one chunk (the usual case for a small JSON document) is kept as that
/// chunk, without a copy.
#[derive(Debug)]
pub(crate) struct BodyBuffer {
    limit: usize,
    /// How long the whole body is likely to be, to size the buffer once when chunks are joined.
    expected: u64,
    state: Chunks,
}

#[derive(Debug)]
enum Chunks {
    Empty,
    One(Bytes),
    Many(BytesMut),
}

/// The body went past the limit.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct OverLimit;

/// How much of a declared length the layer reserves before the bytes arrive, at least.
const DECLARED_LENGTH_TRUSTED: usize = 4 * 1024;

impl BodyBuffer {
    pub(crate) fn new(limit: usize, expected: u64) -> Self {
        Self {
            limit,
            expected,
            state: Chunks::Empty,
        }
    }

    pub(crate) fn len(&self) -> usize {
        match &self.state {
            Chunks::Empty => 0,
            Chunks::One(bytes) => bytes.len(),
            Chunks::Many(bytes) => bytes.len(),
        }
    }

    /// Adds a chunk, or refuses it when the body would pass the limit.
    pub(crate) fn push(&mut self, chunk: Bytes) -> Result<(), OverLimit> {
        let total = self.len().checked_add(chunk.len()).ok_or(OverLimit)?;
        if total > self.limit {
            return Err(OverLimit);
        }
        if chunk.is_empty() {
            return Ok(());
        }
        self.state = match std::mem::replace(&mut self.state, Chunks::Empty) {
            Chunks::Empty => Chunks::One(chunk),
            Chunks::One(first) => {
                // Room for the declared length, so the body is joined in one allocation, but
                // trusted only so far ahead of what has arrived: a sender that declares the
                // limit, sends two bytes and stalls makes the layer hold a few KiB, not the limit.
                let trusted = total.saturating_mul(4).max(DECLARED_LENGTH_TRUSTED);
                let capacity = usize::try_from(self.expected)
                    .unwrap_or(usize::MAX)
                    .min(trusted)
                    .clamp(total, self.limit);
                let mut joined = BytesMut::with_capacity(capacity);
                joined.extend_from_slice(&first);
                joined.extend_from_slice(&chunk);
                Chunks::Many(joined)
            }
            Chunks::Many(mut joined) => {
                joined.extend_from_slice(&chunk);
                Chunks::Many(joined)
            }
        };
        Ok(())
    }

    /// The whole body.
    pub(crate) fn into_bytes(self) -> Bytes {
        match self.state {
            Chunks::Empty => Bytes::new(),
            Chunks::One(bytes) => bytes,
            Chunks::Many(bytes) => bytes.freeze(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_chunk_is_kept_without_a_copy() {
        let chunk = Bytes::from_static(b"{\"GroupId\":\"g\"}");
        let mut collected = BodyBuffer::new(64, 0);
        collected.push(chunk.clone()).unwrap();
        let bytes = collected.into_bytes();
        assert_eq!(bytes.as_ptr(), chunk.as_ptr());
    }

    #[test]
    fn chunks_are_joined_up_to_exactly_the_limit() {
        let mut collected = BodyBuffer::new(6, 0);
        collected.push(Bytes::from_static(b"ab")).unwrap();
        collected.push(Bytes::new()).unwrap();
        collected.push(Bytes::from_static(b"cd")).unwrap();
        collected.push(Bytes::from_static(b"ef")).unwrap();
        assert_eq!(collected.push(Bytes::from_static(b"g")), Err(OverLimit));
        assert_eq!(collected.into_bytes(), "abcdef");
    }

    fn capacity(collected: &BodyBuffer) -> usize {
        match &collected.state {
            Chunks::Many(joined) => joined.capacity(),
            Chunks::Empty | Chunks::One(_) => 0,
        }
    }

    #[test]
    fn a_declared_length_is_reserved_only_a_little_ahead_of_the_bytes() {
        // Two bytes of a declared 64 KiB, then a stall: a few KiB held, not the limit.
        let mut collected = BodyBuffer::new(64 * 1024, 64 * 1024);
        collected.push(Bytes::from_static(b"{")).unwrap();
        collected.push(Bytes::from_static(b" ")).unwrap();
        assert!(capacity(&collected) <= 4 * 1024, "{}", capacity(&collected));

        // A body that arrives in large pieces is still joined in one allocation.
        let half = Bytes::from(vec![b' '; 30_000]);
        let mut collected = BodyBuffer::new(64 * 1024, 60_000);
        collected.push(half.clone()).unwrap();
        collected.push(half).unwrap();
        assert_eq!(capacity(&collected), 60_000);

        // A declared length below what arrived, or none, is no obstacle.
        let mut collected = BodyBuffer::new(64, 1);
        collected.push(Bytes::from_static(b"abc")).unwrap();
        collected.push(Bytes::from_static(b"def")).unwrap();
        assert_eq!(collected.into_bytes(), "abcdef");
    }

    #[test]
    fn a_first_chunk_over_the_limit_is_refused() {
        let mut collected = BodyBuffer::new(2, 3);
        assert_eq!(collected.push(Bytes::from_static(b"abc")), Err(OverLimit));
        assert_eq!(collected.len(), 0);
    }
}
