//! The disk's own floor under every durable commit: one `fdatasync` of a small write after
//! a pause, as the engine's sync before a send meets the disk when a leader trades every
//! few hundred milliseconds. No database: what this row shows, no code of CopyDesk can
//! beat on this machine.

use std::io::{Seek, SeekFrom, Write};
use std::time::{Duration, Instant};

use super::scene::Scratch;
use super::stats::Summary;
use super::{row, BenchRow};

/// Syncs measured, the pause before each, and the size of each write (two pages, about
/// what one copy's journal commit appends to the log).
const SYNCS: usize = 200;
const PAUSE: Duration = Duration::from_millis(50);
const WRITE: usize = 8 * 1024;

/// Writes `WRITE` bytes over a preallocated file (as the log's frames reuse its blocks),
/// pauses, and times the `fdatasync` alone; then the same with no pause, for comparison.
/// Blocking file work, off the runtime's threads.
pub(super) async fn floor() -> Result<BenchRow, String> {
    let (paused, back_to_back) = tokio::task::spawn_blocking(|| -> Result<_, String> {
        let dir = Scratch::new()?;
        let path = dir.0.join("sync-probe");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        let slots = 256;
        f.write_all(&vec![0u8; WRITE * slots])
            .and_then(|()| f.sync_all())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let mut run = |pause: Duration| -> Result<Summary, String> {
            let page = vec![b'x'; WRITE];
            let mut us = Vec::with_capacity(SYNCS);
            for i in 0..SYNCS {
                let at = u64::try_from((i % slots) * WRITE).unwrap_or(0);
                f.seek(SeekFrom::Start(at))
                    .and_then(|_| f.write_all(&page))
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                std::thread::sleep(pause);
                let t = Instant::now();
                f.sync_data()
                    .map_err(|e| format!("cannot sync {}: {e}", path.display()))?;
                us.push(t.elapsed().as_nanos() as f64 / 1000.0);
            }
            Ok(Summary::of(us))
        };
        Ok((run(PAUSE)?, run(Duration::ZERO)?))
    })
    .await
    .map_err(|e| format!("the disk probe failed: {e}"))??;
    Ok(row(
        &format!(
            "disk: one fdatasync of an {} KiB write after {} ms idle (the floor under every durable commit)",
            WRITE / 1024,
            PAUSE.as_millis()
        ),
        "measured and reported",
        format!(
            "{}; back to back: {}",
            paused.show("µs"),
            back_to_back.show("µs")
        ),
        None,
    ))
}
