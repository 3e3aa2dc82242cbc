//! The wire format between a [`super::ProcessPool`] and its workers. Fixed-size little-endian
//! records, so that a pipe shared by several readers never splits one.
//!
//! - Jobs, parent → workers, on ONE pipe shared by all workers (their stdin), [`JOB_LEN`] bytes:
//!   `index: u64, tag: u64 (JOB_MAGIC | chunk << 16 | kind), a: u64, b: u64`. The parent writes
//!   whole records in writes of at most `PIPE_BUF` bytes (atomic), so the pipe only ever holds
//!   whole records, and the kernel serialises readers: each record goes to exactly one worker,
//!   whichever is free, as with `multiprocessing.Pool`'s shared task queue. A worker reads one
//!   record (blocking); when its `chunk` (the map's chunk size, see [`chunk_size`]) is above 1 it
//!   then takes up to `chunk − 1` more that are already waiting, without blocking: the
//!   `chunksize` of `multiprocessing`, paid for with one read for many jobs.
//! - Replies, worker → parent, on the worker's own stdout, [`REPLY_LEN`] bytes:
//!   `tag: u64 (REPLY_MAGIC | kind), index: u64, value: u64`. A worker says `HELLO` once (index =
//!   its pid, value = [`PROTOCOL_VERSION`]), then `TOOK` before and `DONE` (value = result) after
//!   each job, so the parent always knows which job a dead worker held.

use crate::workload::Job;

/// Size of a job record in bytes.
pub const JOB_LEN: usize = 32;
/// Size of a reply record in bytes.
pub const REPLY_LEN: usize = 24;
/// Bumped whenever the format changes; checked in the handshake.
pub const PROTOCOL_VERSION: u64 = 2;

/// Most jobs one worker takes at once: one `PIPE_BUF` of records.
pub const MAX_CHUNK: usize = libc::PIPE_BUF / JOB_LEN;

/// The chunk size of a map of `jobs` jobs on `workers` workers: `multiprocessing`'s automatic
/// choice, about four chunks per worker (`ceil(jobs / (4 × workers))`), at most [`MAX_CHUNK`]; or
/// the `fixed` size asked for. A map of as many jobs as workers (the countdowns) or of
/// `square_sleep`'s ten naps gets chunks of 1.
pub fn chunk_size(jobs: usize, workers: usize, fixed: Option<usize>) -> usize {
    fixed
        .unwrap_or_else(|| jobs.div_ceil(4 * workers.max(1)))
        .clamp(1, MAX_CHUNK)
}

const JOB_MAGIC: u64 = 0x6a6f_6273_0000_0000; // "jobs"
const REPLY_MAGIC: u64 = 0x706f_6f6c_0000_0000; // "pool"
const MAGIC_MASK: u64 = 0xffff_ffff_0000_0000;

const KIND_COUNTDOWN: u64 = 1;
const KIND_SQUARE: u64 = 2;
/// A custom workload: this bit plus its id.
const KIND_CUSTOM: u64 = 0x8000;

/// What a worker says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// First record of a worker: its pid and protocol version.
    Hello {
        /// The worker's process id as it sees it.
        pid: u64,
        /// Its [`PROTOCOL_VERSION`].
        version: u64,
    },
    /// The worker took job `index` from the shared pipe and starts it now.
    Took {
        /// Job index.
        index: u64,
    },
    /// The worker finished job `index` with `value`.
    Done {
        /// Job index.
        index: u64,
        /// The job's result.
        value: u64,
    },
}

const HELLO: u64 = 1;
const TOOK: u64 = 2;
const DONE: u64 = 3;

/// Encodes job `index` of a map with chunk size `chunk` into `out`.
pub fn encode_job(index: u64, job: &Job, chunk: usize, out: &mut Vec<u8>) {
    let (kind, a, b) = match *job {
        Job::Countdown { n } => (KIND_COUNTDOWN, n, 0),
        Job::Square { x, nap_ns } => (KIND_SQUARE, x, nap_ns),
        Job::Custom { workload, a, b } => (KIND_CUSTOM | u64::from(workload), a, b),
    };
    let chunk = (chunk.clamp(1, MAX_CHUNK) as u64) << 16;
    for word in [index, JOB_MAGIC | chunk | kind, a, b] {
        out.extend_from_slice(&word.to_le_bytes());
    }
}

/// Decodes a job record into its index, job and the map's chunk size; `Err` describes what is
/// wrong with it.
pub fn decode_job(rec: &[u8]) -> Result<(u64, Job, usize), String> {
    let Ok(rec) = <&[u8; JOB_LEN]>::try_from(rec) else {
        return Err(format!(
            "job record of {} bytes, expected {JOB_LEN}",
            rec.len()
        ));
    };
    let w = words::<4>(rec);
    if w[1] & MAGIC_MASK != JOB_MAGIC {
        return Err(format!("bad job record tag {:#018x}", w[1]));
    }
    let chunk = ((w[1] >> 16) & 0xffff) as usize;
    let job = match w[1] & 0xffff {
        KIND_COUNTDOWN => Ok((w[0], Job::Countdown { n: w[2] })),
        KIND_SQUARE => Ok((
            w[0],
            Job::Square {
                x: w[2],
                nap_ns: w[3],
            },
        )),
        k if k & KIND_CUSTOM != 0 => {
            let id = (k & !KIND_CUSTOM) as u16;
            if crate::workload::registered(id).is_none() {
                return Err(format!(
                    "custom workload {id} is not registered in this worker; its worker binary must register it (poolscale::workload::register) before serving"
                ));
            }
            Ok((
                w[0],
                Job::Custom {
                    workload: id,
                    a: w[2],
                    b: w[3],
                },
            ))
        }
        k => Err(format!("unknown job kind {k}")),
    }?;
    Ok((job.0, job.1, chunk.clamp(1, MAX_CHUNK)))
}

/// Encodes a reply.
pub fn encode_reply(reply: Reply) -> [u8; REPLY_LEN] {
    let (kind, a, b) = match reply {
        Reply::Hello { pid, version } => (HELLO, pid, version),
        Reply::Took { index } => (TOOK, index, 0),
        Reply::Done { index, value } => (DONE, index, value),
    };
    let mut rec = [0u8; REPLY_LEN];
    for (i, word) in [REPLY_MAGIC | kind, a, b].into_iter().enumerate() {
        rec[i * 8..i * 8 + 8].copy_from_slice(&word.to_le_bytes());
    }
    rec
}

/// Decodes a reply record; `Err` shows the bytes that made no sense.
pub fn decode_reply(rec: &[u8]) -> Result<Reply, String> {
    let arr: &[u8; REPLY_LEN] = rec
        .try_into()
        .map_err(|_| format!("reply of {} bytes, expected {REPLY_LEN}", rec.len()))?;
    let w = words::<3>(arr);
    if w[0] & MAGIC_MASK != REPLY_MAGIC {
        return Err(format!("garbage on its stdout: {}", show_bytes(rec)));
    }
    match w[0] & !MAGIC_MASK {
        HELLO => Ok(Reply::Hello {
            pid: w[1],
            version: w[2],
        }),
        TOOK => Ok(Reply::Took { index: w[1] }),
        DONE => Ok(Reply::Done {
            index: w[1],
            value: w[2],
        }),
        k => Err(format!("unknown reply kind {k}")),
    }
}

fn words<const N: usize>(rec: &[u8]) -> [u64; N] {
    std::array::from_fn(|i| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&rec[i * 8..i * 8 + 8]);
        u64::from_le_bytes(b)
    })
}

/// The bytes as an escaped string, e.g. `"hello\n"`, for error messages.
pub fn show_bytes(b: &[u8]) -> String {
    format!("\"{}\"", b.escape_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_round_trip() {
        for job in [
            Job::Countdown { n: 7 },
            Job::Square {
                x: 3,
                nap_ns: 1_000_000,
            },
        ] {
            let mut buf = Vec::new();
            encode_job(42, &job, 7, &mut buf);
            assert_eq!(buf.len(), JOB_LEN);
            assert_eq!(decode_job(&buf).unwrap(), (42, job, 7));
        }
        assert!(decode_job(&[0u8; JOB_LEN]).is_err());
        assert!(decode_job(&[0u8; 5]).unwrap_err().contains("5 bytes"));
    }

    #[test]
    fn chunks_follow_multiprocessing_and_fit_one_atomic_write() {
        assert_eq!(chunk_size(10, 3, None), 1); // the seed's Pool(3): one nap at a time
        assert_eq!(chunk_size(2, 2, None), 1); // countdowns: one job per worker
        assert_eq!(chunk_size(1000, 2, None), 125);
        assert_eq!(chunk_size(100_000, 1, None), MAX_CHUNK);
        assert_eq!(chunk_size(100_000, 1, Some(1)), 1);
        assert_eq!(chunk_size(5, 1, Some(0)), 1);
        const { assert!(MAX_CHUNK * JOB_LEN <= libc::PIPE_BUF) };
    }

    #[test]
    fn replies_round_trip_and_garbage_is_named() {
        for r in [
            Reply::Hello { pid: 9, version: 1 },
            Reply::Took { index: 4 },
            Reply::Done {
                index: 4,
                value: 16,
            },
        ] {
            assert_eq!(decode_reply(&encode_reply(r)).unwrap(), r);
        }
        let e = decode_reply(b"this is not a record!!!\n").unwrap_err();
        assert!(e.contains("garbage") && e.contains("this is not"), "{e}");
    }
}
