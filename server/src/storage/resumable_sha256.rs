//! A SHA-256 whose running state can be saved as bytes and resumed elsewhere: what lets one node continue an
//! upload another node started without reading back what was already received (scale-out.md 5.2).
//!
//! The state is the eight chaining words, the count of bytes hashed, and the bytes of an incomplete last block
//! (fewer than 64): at most 105 bytes saved. The compression function is `sha2`'s own (`compress256`, its
//! `compress` feature), so speed and correctness are those of `sha2::Sha256`.

/// The format version byte in front of a saved state.
const FORMAT: u8 = 1;
const BLOCK: usize = 64;
/// FIPS 180-4 §5.3.3: the initial hash value.
const INITIAL: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// A running SHA-256.
#[derive(Clone, PartialEq, Eq)]
pub struct ResumableSha256 {
    state: [u32; 8],
    /// Bytes hashed so far, the incomplete block included.
    len: u64,
    /// The incomplete last block: its first `len % 64` bytes.
    block: [u8; BLOCK],
}

impl std::fmt::Debug for ResumableSha256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResumableSha256")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// Why saved bytes are not a hash state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("a saved hash state of {0} bytes is not in a known format")]
    Malformed(usize),
    #[error("a saved hash state's format {0} is not known")]
    Format(u8),
}

impl Default for ResumableSha256 {
    fn default() -> Self {
        ResumableSha256::new()
    }
}

impl ResumableSha256 {
    pub fn new() -> ResumableSha256 {
        ResumableSha256 {
            state: INITIAL,
            len: 0,
            block: [0; BLOCK],
        }
    }

    /// Bytes hashed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn buffered(&self) -> usize {
        // Below 64, so the cast cannot truncate.
        (self.len % BLOCK as u64) as usize
    }

    pub fn update(&mut self, mut data: &[u8]) {
        let buffered = self.buffered();
        self.len = self.len.wrapping_add(data.len() as u64);
        if buffered > 0 {
            let take = (BLOCK - buffered).min(data.len());
            self.block[buffered..buffered + take].copy_from_slice(&data[..take]);
            data = &data[take..];
            if buffered + take < BLOCK {
                return;
            }
            let block = self.block;
            compress(&mut self.state, &block);
        }
        let mut blocks = data.chunks_exact(BLOCK);
        for block in &mut blocks {
            compress(&mut self.state, block);
        }
        let rest = blocks.remainder();
        self.block[..rest.len()].copy_from_slice(rest);
    }

    /// The digest of everything hashed (FIPS 180-4 §5.1.1 padding).
    pub fn finish(mut self) -> [u8; 32] {
        let bits = self.len.wrapping_mul(8);
        let buffered = self.buffered();
        let mut tail = [0u8; 2 * BLOCK];
        tail[..buffered].copy_from_slice(&self.block[..buffered]);
        tail[buffered] = 0x80;
        let end = if buffered < BLOCK - 8 {
            BLOCK
        } else {
            2 * BLOCK
        };
        tail[end - 8..end].copy_from_slice(&bits.to_be_bytes());
        for block in tail[..end].chunks_exact(BLOCK) {
            compress(&mut self.state, block);
        }
        let mut out = [0u8; 32];
        for (word, bytes) in self.state.iter().zip(out.chunks_exact_mut(4)) {
            bytes.copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    /// The state as bytes: format, the eight words, the length (big-endian), the incomplete block.
    pub fn to_bytes(&self) -> Vec<u8> {
        let buffered = self.buffered();
        let mut out = Vec::with_capacity(1 + 32 + 8 + buffered);
        out.push(FORMAT);
        for word in self.state {
            out.extend_from_slice(&word.to_be_bytes());
        }
        out.extend_from_slice(&self.len.to_be_bytes());
        out.extend_from_slice(&self.block[..buffered]);
        out
    }

    /// A state saved by [`ResumableSha256::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<ResumableSha256, StateError> {
        let malformed = || StateError::Malformed(bytes.len());
        let (&format, rest) = bytes.split_first().ok_or_else(malformed)?;
        if format != FORMAT {
            return Err(StateError::Format(format));
        }
        if rest.len() < 40 {
            return Err(malformed());
        }
        let (words, rest) = rest.split_at(32);
        let (len, block) = rest.split_at(8);
        let mut state = [0u32; 8];
        for (word, bytes) in state.iter_mut().zip(words.chunks_exact(4)) {
            *word = u32::from_be_bytes(bytes.try_into().map_err(|_| malformed())?);
        }
        let len = u64::from_be_bytes(len.try_into().map_err(|_| malformed())?);
        let mut hasher = ResumableSha256 {
            state,
            len,
            block: [0; BLOCK],
        };
        if block.len() != hasher.buffered() {
            return Err(malformed());
        }
        hasher.block[..block.len()].copy_from_slice(block);
        Ok(hasher)
    }
}

/// One 64-byte block through `sha2`'s compression function.
#[allow(
    deprecated,
    reason = "generic-array 0.14.9 deprecates from_slice in favour of its 1.x API, which sha2 0.10 does not take"
)]
fn compress(state: &mut [u32; 8], block: &[u8]) {
    let block = sha2::digest::generic_array::GenericArray::from_slice(block);
    sha2::compress256(state, std::slice::from_ref(block));
}

#[cfg(test)]
mod tests {
    use sha2::Digest as _;

    use super::*;

    fn data(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| (i.wrapping_mul(31) ^ (i >> 7)) as u8)
            .collect()
    }

    #[test]
    fn equals_sha256_at_every_length_around_the_block_edges() {
        let input = data(300);
        for len in 0..300 {
            let mut hasher = ResumableSha256::new();
            hasher.update(&input[..len]);
            assert_eq!(
                hasher.finish(),
                <[u8; 32]>::from(sha2::Sha256::digest(&input[..len])),
                "length {len}"
            );
        }
    }

    #[test]
    fn resumes_from_saved_bytes_at_any_split() -> Result<(), StateError> {
        let input = data(5000);
        let expected = <[u8; 32]>::from(sha2::Sha256::digest(&input));
        for split in [0, 1, 55, 56, 63, 64, 65, 127, 128, 1000, 4999, 5000] {
            let mut first = ResumableSha256::new();
            first.update(&input[..split]);
            let saved = first.to_bytes();
            assert!(saved.len() <= 1 + 32 + 8 + 63);
            let mut second = ResumableSha256::from_bytes(&saved)?;
            assert_eq!(second, first);
            assert_eq!(second.len(), split as u64);
            // Fed in uneven pieces after the resume.
            for piece in input[split..].chunks(97) {
                second.update(piece);
            }
            assert_eq!(second.finish(), expected, "split at {split}");
        }
        Ok(())
    }

    #[test]
    fn refuses_bytes_that_are_not_a_state() {
        let mut hasher = ResumableSha256::new();
        hasher.update(b"abc");
        let saved = hasher.to_bytes();
        assert_eq!(
            ResumableSha256::from_bytes(&[]),
            Err(StateError::Malformed(0))
        );
        assert_eq!(
            ResumableSha256::from_bytes(&saved[..saved.len() - 1]),
            Err(StateError::Malformed(saved.len() - 1))
        );
        let mut longer = saved.clone();
        longer.push(0);
        assert!(ResumableSha256::from_bytes(&longer).is_err());
        let mut other_format = saved;
        other_format[0] = 9;
        assert_eq!(
            ResumableSha256::from_bytes(&other_format),
            Err(StateError::Format(9))
        );
    }
}
