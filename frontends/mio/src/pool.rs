//! Output buffers shared by the connections of one loop: a connection holds one only while it
//! has unwritten bytes, so an idle connection costs no buffer memory.

use portline_common::TRANSMIT_BUDGET;

/// Most buffers kept for reuse per loop; more are freed.
const MAX_POOLED: usize = 256;

/// Buffers larger than this (a session that overshot its budget) are freed, not kept.
const MAX_KEPT_CAPACITY: usize = 4 * TRANSMIT_BUDGET;

/// A per-loop free list of output buffers.
#[derive(Debug, Default)]
pub(crate) struct BufPool {
    free: Vec<Vec<u8>>,
}

impl BufPool {
    /// An empty buffer with room for one [`TRANSMIT_BUDGET`].
    pub(crate) fn take(&mut self) -> Vec<u8> {
        self.free
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(TRANSMIT_BUDGET))
    }

    /// Give a buffer back (its contents are discarded).
    pub(crate) fn put(&mut self, mut buf: Vec<u8>) {
        let cap = buf.capacity();
        if (TRANSMIT_BUDGET..=MAX_KEPT_CAPACITY).contains(&cap) && self.free.len() < MAX_POOLED {
            buf.clear();
            self.free.push(buf);
        }
    }

    /// How many buffers wait for reuse.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.free.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_and_bounded() {
        let mut pool = BufPool::default();
        let a = pool.take();
        let ptr = a.as_ptr();
        pool.put(a);
        assert_eq!(pool.len(), 1);
        let b = pool.take();
        assert_eq!(b.as_ptr(), ptr, "the pooled buffer comes back");
        assert!(b.is_empty());
        pool.put(Vec::new());
        assert_eq!(
            pool.len(),
            0,
            "a buffer without capacity is not worth keeping"
        );
        pool.put(Vec::with_capacity(MAX_KEPT_CAPACITY + 1));
        assert_eq!(pool.len(), 0, "an oversized buffer is freed");
        for _ in 0..MAX_POOLED + 10 {
            pool.put(Vec::with_capacity(TRANSMIT_BUDGET));
        }
        assert_eq!(pool.len(), MAX_POOLED);
    }
}
