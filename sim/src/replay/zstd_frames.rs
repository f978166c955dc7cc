//! Zstandard-compressed recordings (`.zst`), decoded in pure Rust (`ruzstd`, no C
//! toolchain needed). Every frame of a file is read in order, so files written by
//! `pzstd` or joined with `cat a.zst b.zst` decode whole; skippable frames are
//! passed over. Dictionaries are not supported (the decoder says so by name).

use std::io::{self, BufRead, BufReader, Read};

use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

/// A reader of all the frames of a zstd stream.
pub struct ZstdFrames<R> {
    source: BufReader<R>,
    decoder: FrameDecoder,
    in_frame: bool,
}

impl<R: Read> ZstdFrames<R> {
    /// Wraps a compressed stream; nothing is read until the first `read`.
    pub fn new(source: R) -> Self {
        ZstdFrames { source: BufReader::with_capacity(1 << 16, source), decoder: FrameDecoder::new(), in_frame: false }
    }

    /// Starts the next frame; false at the end of the stream.
    fn start_frame(&mut self) -> io::Result<bool> {
        loop {
            if self.source.fill_buf()?.is_empty() {
                return Ok(false);
            }
            match self.decoder.init(&mut self.source) {
                Ok(()) => return Ok(true),
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame { length, .. })) => {
                    io::copy(&mut (&mut self.source).take(u64::from(length)), &mut io::sink())?;
                }
                Err(error) => return Err(io::Error::new(io::ErrorKind::InvalidData, format!("bad zstd frame: {error}"))),
            }
        }
    }
}

impl<R: Read> Read for ZstdFrames<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        loop {
            if !self.in_frame {
                if !self.start_frame()? {
                    return Ok(0);
                }
                self.in_frame = true;
            }
            while self.decoder.can_collect() == 0 && !self.decoder.is_finished() {
                self.decoder
                    .decode_blocks(&mut self.source, BlockDecodingStrategy::UptoBlocks(1))
                    .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, format!("bad zstd block: {error}")))?;
            }
            let read = self.decoder.read(buffer)?;
            if read > 0 || buffer.is_empty() {
                return Ok(read);
            }
            self.in_frame = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruzstd::encoding::{CompressionLevel, compress_to_vec};

    fn decode(bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        ZstdFrames::new(bytes).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn frames_decode_in_order_and_skippable_frames_are_passed_over() {
        let first = b"1 first line\n".repeat(5000);
        let second = b"2 second line\n".repeat(3);
        let mut stream = compress_to_vec(&first[..], CompressionLevel::Fastest);
        // A skippable frame: magic 0x184D2A50, little-endian length, payload.
        stream.extend_from_slice(&[0x50, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 9, 9, 9]);
        stream.extend(compress_to_vec(&second[..], CompressionLevel::Fastest));
        assert_eq!(decode(&stream).unwrap(), [first, second].concat());
        assert_eq!(decode(&[]).unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn corrupt_input_is_an_error_not_a_short_read() {
        let error = decode(b"this is not zstd at all").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        let mut truncated = compress_to_vec(&b"abc\n".repeat(1000)[..], CompressionLevel::Fastest);
        truncated.truncate(truncated.len() / 2);
        assert!(decode(&truncated).is_err());
    }
}
