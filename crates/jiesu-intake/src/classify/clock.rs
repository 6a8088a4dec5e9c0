//! Timing of evaluations (offline tools only: reads the clock and `/proc`, so it is compiled only
//! with the `tools` feature, never into the intake the server runs).

use std::time::Instant;

/// A stopwatch of the CPU time this thread spends (`/proc/thread-self/schedstat`, Linux), or of
/// wall-clock time where that is unavailable. Prediction rates are per CPU-second of one thread,
/// so they mean "messages per second on one core" even on a busy shared machine.
#[derive(Debug, Clone, Copy)]
pub struct CpuClock {
    cpu: Option<f64>,
    wall: Instant,
}

impl CpuClock {
    /// Starts the clock.
    pub fn start() -> CpuClock {
        CpuClock { cpu: thread_cpu_seconds(), wall: Instant::now() }
    }

    /// Seconds since the start: CPU seconds of this thread if measurable, else wall seconds.
    /// The kernel updates the thread's CPU time at scheduler ticks, so spans under 50 ms of
    /// CPU are timed by the wall clock (never less than the CPU time).
    pub fn seconds(&self) -> f64 {
        match (self.cpu, thread_cpu_seconds()) {
            (Some(a), Some(b)) if b - a >= 0.05 => b - a,
            _ => self.wall.elapsed().as_secs_f64(),
        }
    }

    /// Wall-clock seconds since the start.
    pub fn wall_seconds(&self) -> f64 {
        self.wall.elapsed().as_secs_f64()
    }
}

/// CPU time consumed by this thread (first field of `/proc/thread-self/schedstat`: nanoseconds
/// on a CPU), if the system reports it.
pub fn thread_cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 * 1e-9)
}
