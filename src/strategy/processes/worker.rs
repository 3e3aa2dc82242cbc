//! The worker side of the process pool: what `poolscale __worker` runs. It reads a job record
//! from stdin (the pipe it shares with its siblings) and, when the map's chunk size allows, the
//! records already waiting behind it (up to the chunk); for each it says `TOOK`, runs the job and
//! says `DONE` (replies to instant jobs are written together, once per chunk), and exits on end
//! of input. A watchdog thread exits the process if its parent dies, so a
//! worker can never be orphaned.
//!
//! For the fault tests, `POOLSCALE_WORKER_FAULT=ACTION@JOB` makes the worker that takes job `JOB`
//! misbehave: `exit` (exit 3 mid-job), `abort`, `garbage` (write text to stdout), `hang` (sleep
//! forever), `lie` (report another job index), `wrong` (a wrong result), `stall` (read the job,
//! never announce it). The hook is compiled into debug builds only: a release binary ignores it.

use std::io::{Read, Write};
use std::time::Duration;

use super::protocol::{
    JOB_LEN, MAX_CHUNK, PROTOCOL_VERSION, REPLY_LEN, Reply, decode_job, encode_reply,
};
use crate::workload::Job;

/// The environment variable that injects a fault (see the module docs).
pub const FAULT_ENV: &str = "POOLSCALE_WORKER_FAULT";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    Exit,
    Abort,
    Garbage,
    Hang,
    Lie,
    Wrong,
    Stall,
}

fn parse_fault(spec: &str) -> Option<(Fault, u64)> {
    let (action, job) = spec.split_once('@')?;
    let fault = match action {
        "exit" => Fault::Exit,
        "abort" => Fault::Abort,
        "garbage" => Fault::Garbage,
        "hang" => Fault::Hang,
        "lie" => Fault::Lie,
        "wrong" => Fault::Wrong,
        "stall" => Fault::Stall,
        _ => return None,
    };
    Some((fault, job.parse().ok()?))
}

/// Runs the worker loop on stdin/stdout; returns the process exit code.
pub fn serve() -> i32 {
    if let Err(code) = crate::platform::child::exit_with_parent("worker") {
        return code;
    }
    crate::platform::sys::ignore_interrupts();
    // The fault hook exists in debug builds only (the tests'); a release binary never reads it.
    let fault = if cfg!(debug_assertions) {
        std::env::var(FAULT_ENV).ok().and_then(|s| parse_fault(&s))
    } else {
        None
    };
    // Raw, unbuffered handles: a buffered stdin would read ahead and steal jobs that belong to
    // sibling workers sharing the pipe, and every reply must reach the parent at once.
    let (mut input, mut output) = match crate::platform::child::raw_stdio() {
        Ok(io) => io,
        Err(e) => {
            eprintln!("poolscale worker: cannot open stdin/stdout: {e}");
            return 2;
        }
    };
    let say =
        |out: &mut std::fs::File, r: Reply| -> bool { out.write_all(&encode_reply(r)).is_ok() };
    let pid = u64::from(std::process::id());
    if !say(
        &mut output,
        Reply::Hello {
            pid,
            version: PROTOCOL_VERSION,
        },
    ) {
        return 1;
    }
    // A second, non-blocking view of the shared job pipe (its own open file description, so
    // the flag does not reach the siblings' blocking reads): it takes the rest of a chunk that is
    // already waiting without ever blocking while this worker holds jobs.
    let mut waiting = nonblocking_stdin();
    let mut batch = vec![0u8; MAX_CHUNK * JOB_LEN];
    let mut replies: Vec<u8> = Vec::with_capacity(2 * MAX_CHUNK * REPLY_LEN);
    loop {
        // One blocking read of one record: the parent writes whole records atomically, so a read
        // returns a whole record or, at end of input, nothing.
        let first: &mut [u8; JOB_LEN] = (&mut batch[..JOB_LEN]).try_into().expect("one record");
        match read_record(&mut input, first) {
            Ok(true) => {}
            Ok(false) => return 0,
            Err(e) => {
                eprintln!("poolscale worker {pid}: cannot read a job: {e}");
                return 2;
            }
        }
        let chunk = match decode_job(&batch[..JOB_LEN]) {
            Ok((_, _, chunk)) => chunk,
            Err(e) => {
                eprintln!("poolscale worker {pid}: {e}");
                return 2;
            }
        };
        let mut taken = 1;
        if chunk > 1
            && let Some(w) = waiting.as_mut()
        {
            match w.read(&mut batch[JOB_LEN..chunk * JOB_LEN]) {
                Ok(n) if n % JOB_LEN == 0 => taken += n / JOB_LEN,
                Ok(n) => {
                    eprintln!("poolscale worker {pid}: read {n} bytes, not whole job records");
                    return 2;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    eprintln!("poolscale worker {pid}: cannot read a job: {e}");
                    return 2;
                }
            }
        }
        for rec in batch[..taken * JOB_LEN].chunks_exact(JOB_LEN) {
            let (index, job, _) = match decode_job(rec) {
                Ok(j) => j,
                Err(e) => {
                    eprintln!("poolscale worker {pid}: {e}");
                    return 2;
                }
            };
            if fault == Some((Fault::Stall, index)) {
                // Read the job, never announce it.
                let _ = output.write_all(&replies);
                loop {
                    std::thread::sleep(Duration::from_secs(3600));
                }
            }
            replies.extend_from_slice(&encode_reply(Reply::Took { index }));
            // The parent hears `TOOK` before a job that takes time (and before every job when a
            // fault is injected), so it always knows which job a slow or dead worker holds;
            // replies to instant jobs go out together, one write per chunk.
            if fault.is_some() || !is_instant(&job) {
                if output.write_all(&replies).is_err() {
                    return 1;
                }
                replies.clear();
            }
            let mut reply = Reply::Done {
                index,
                value: job.run(),
            };
            if let Some((f, at)) = fault
                && at == index
            {
                match f {
                    Fault::Exit => std::process::exit(3),
                    Fault::Abort => std::process::abort(),
                    Fault::Garbage => {
                        let _ = output.write_all(b"Traceback (most recent call last): oops\n");
                    }
                    Fault::Hang => loop {
                        std::thread::sleep(Duration::from_secs(3600));
                    },
                    Fault::Lie => {
                        reply = Reply::Done {
                            index: index + 1,
                            value: job.expected(),
                        }
                    }
                    Fault::Stall => {} // handled before TOOK
                    Fault::Wrong => {
                        reply = Reply::Done {
                            index,
                            value: job.expected().wrapping_add(1),
                        }
                    }
                }
            }
            replies.extend_from_slice(&encode_reply(reply));
            if fault.is_some() {
                if output.write_all(&replies).is_err() {
                    return 1;
                }
                replies.clear();
            }
        }
        if output.write_all(&replies).is_err() {
            return 1;
        }
        replies.clear();
    }
}

/// Whether a job finishes at once (a zero-nap square, a short countdown): its `TOOK` may wait
/// for the chunk's single write.
fn is_instant(job: &Job) -> bool {
    match *job {
        Job::Square { nap_ns, .. } => nap_ns == 0,
        Job::Countdown { n } => n <= 100_000,
        Job::Custom { .. } => false,
    }
}

/// Stdin opened a second time, non-blocking (Linux: `/proc/self/fd/0` names the pipe itself, and
/// opening it creates a new open file description). `None` where that is not possible: the
/// worker then takes one job per read.
fn nonblocking_stdin() -> Option<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open("/proc/self/fd/0")
        .ok()
}

/// Reads exactly `buf.len()` bytes (a job record, a fork server's request); `Ok(false)` at a
/// clean end of input, before the first byte. An empty `buf` reads as complete.
pub(crate) fn read_record(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("input ended inside a record ({got} of {} bytes)", buf.len()),
                ));
            }
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_specs() {
        assert_eq!(parse_fault("exit@3"), Some((Fault::Exit, 3)));
        assert_eq!(parse_fault("lie@0"), Some((Fault::Lie, 0)));
        assert_eq!(parse_fault("explode@1"), None);
        assert_eq!(parse_fault("exit"), None);
    }
}
