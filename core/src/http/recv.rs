//! The receive buffer: small input inline, the rest in a `BytesMut`.

use std::ops::Deref;

use bytes::{Buf, BytesMut};

/// Bytes held inline before a `BytesMut` is needed: the usual short request or response head
/// (httparse's 68-byte sample, a file server's response head) fits.
const SMALL: usize = 256;

/// Received bytes not yet handed out. Input that fits stays in `small`, so that a connection
/// that reads one short head and is dropped (or a short head per exchange, with borrowed
/// events) never allocates for it; input that does not fit, and everything that needs a
/// `BytesMut` (owned events, the chunked decoder, the bytes taken after a 101), moves to
/// `heap`, where all later input goes too. Reads as one slice of whichever holds the bytes.
#[derive(Debug)]
pub(crate) struct RecvBuf {
    /// How many bytes `small` holds; when not zero, `heap` is empty.
    small_len: usize,
    /// `heap` has held bytes: input goes there from then on.
    heap_used: bool,
    small: [u8; SMALL],
    heap: BytesMut,
}

impl Default for RecvBuf {
    fn default() -> RecvBuf {
        RecvBuf {
            small_len: 0,
            heap_used: false,
            small: [0; SMALL],
            heap: BytesMut::new(),
        }
    }
}

impl Deref for RecvBuf {
    type Target = [u8];

    #[inline(always)]
    fn deref(&self) -> &[u8] {
        if self.small_len == 0 {
            &self.heap
        } else {
            // `small_len` is at most `SMALL`: the `min` only spares a bounds check.
            &self.small[..self.small_len.min(SMALL)]
        }
    }
}

impl RecvBuf {
    /// How many bytes there are (without choosing the slice: one of the two is empty).
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        self.small_len + self.heap.len()
    }

    #[inline(always)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `data` (not empty). `first`: nothing was ever received, so `heap` has never been
    /// allocated either.
    #[inline(always)]
    pub(crate) fn receive(&mut self, data: &[u8], first: bool) {
        // Inline until the heap is first needed: from then on it is sized, and owned events
        // would copy inline bytes there once more.
        if !self.heap_used {
            let end = self.small_len + data.len();
            if let Some(room) = self.small.get_mut(self.small_len..end) {
                // The length first: the copy is then the last thing done, a tail call to
                // `memcpy`, and the caller keeps nothing across it.
                self.small_len = end;
                room.copy_from_slice(data);
                return;
            }
        }
        // Room already there (a kept-alive connection's next large head, the rest of a head
        // arriving in pieces): just the copy. (A buffer never allocated has no room.)
        if self.small_len == 0 && self.heap.capacity() - self.heap.len() >= data.len() {
            self.heap_used = true;
            self.heap.extend_from_slice(data);
            return;
        }
        self.receive_grow(data, first);
    }

    /// [`Self::receive`] when the inline bytes move to `heap`, or it has no room: out of line,
    /// as its growth paths made the inline copy (a short head per exchange) save and restore
    /// more registers.
    #[inline(never)]
    fn receive_grow(&mut self, data: &[u8], first: bool) {
        self.spill();
        self.heap_used = true;
        if first || (!self.heap.try_reclaim(data.len()) && self.heap.is_empty()) {
            // No buffer yet (a fresh connection: `try_reclaim`'s reserve path, which finds
            // nothing to take back, is skipped), or no room and none to take back from
            // handed-out heads (the last head is still held): one exact allocation, without
            // `reserve`'s growth path. (A buffer of no capacity is not enough to skip
            // `try_reclaim`: after owned events split all of it off, `try_reclaim` takes the
            // allocation back once they are dropped.)
            self.heap = BytesMut::from(data);
        } else {
            self.heap.extend_from_slice(data);
        }
    }

    /// Moves the inline bytes to `heap`, out of line (the rarer case).
    #[inline(never)]
    fn spill_small(&mut self) {
        let (small, len) = (&self.small, self.small_len);
        self.heap.extend_from_slice(&small[..len]);
        self.small_len = 0;
        self.heap_used = true;
    }

    #[inline(always)]
    fn spill(&mut self) {
        if self.small_len != 0 {
            self.spill_small();
        }
    }

    /// The bytes as a `BytesMut` (moved there first if they were inline).
    #[inline]
    pub(crate) fn heap(&mut self) -> &mut BytesMut {
        self.spill();
        &mut self.heap
    }

    /// Drops every byte, keeping the storage.
    #[inline]
    pub(crate) fn clear(&mut self) {
        self.small_len = 0;
        self.heap.clear();
    }

    /// Drops the first `n` bytes (at most the length).
    #[inline]
    pub(crate) fn advance(&mut self, n: usize) {
        if self.small_len != 0 {
            self.advance_small(n);
        } else {
            self.heap.advance(n);
        }
    }

    /// [`Self::advance`] of inline bytes (pipelined short heads), out of line.
    #[inline(never)]
    fn advance_small(&mut self, n: usize) {
        self.small.copy_within(n..self.small_len, 0);
        self.small_len -= n;
    }

    /// Takes every byte, leaving the buffer empty.
    pub(crate) fn take(&mut self) -> BytesMut {
        self.spill();
        std::mem::take(&mut self.heap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_until_it_does_not_fit_then_heap_until_empty() {
        let mut b = RecvBuf::default();
        b.receive(b"abc", true);
        b.receive(b"def", false);
        assert_eq!((&b[..], b.small_len), (&b"abcdef"[..], 6));
        b.advance(2);
        assert_eq!(&b[..], b"cdef");
        let big = [b'x'; SMALL];
        b.receive(&big, false);
        assert_eq!((b.small_len, b.len()), (0, 4 + SMALL));
        assert_eq!(&b[..4], b"cdef");
        b.receive(b"y", false);
        assert_eq!(b.last(), Some(&b'y'));
        b.clear();
        // Once the heap was used, later input goes there.
        b.receive(b"z", false);
        assert_eq!((&b[..], b.small_len), (&b"z"[..], 0));
        // Until then, inline, also after the buffer was emptied.
        let mut b = RecvBuf::default();
        b.receive(b"ab", true);
        b.clear();
        b.receive(b"c", false);
        assert_eq!((&b[..], b.small_len), (&b"c"[..], 1));
        let mut b = RecvBuf::default();
        b.receive(b"z", true);
        assert_eq!(&b.heap()[..], b"z");
        assert_eq!(b.small_len, 0);
        assert_eq!(&b.take()[..], b"z");
        assert!(b.is_empty());
    }
}
