//! CPU usage for the adaptive limiter: a background thread, shared by every
//! limiter that wants it, reads the process's cgroup (v2 or v1) or the
//! host's `/proc/stat` every 250 ms and keeps an exponential moving average
//! in permille (Kratos: `cpu = cpu·0.95 + sample·0.05`, truncated).
//!
//! The thread is reference-counted: [`start`] (or [`SamplerGuard::acquire`])
//! starts it on the first reference, [`stop`] joins it when the last one
//! goes. It survives fork(): the C library's atfork handlers
//! ([`atfork_prepare`] and the others) stop it across the fork and restart
//! it in the parent at once and in the child at its next use; a fork that
//! runs no handler is noticed by process id ([`after_fork_child`]). The file parsers are pure functions, unit-tested on fixture trees
//! (`tests/fixtures/cpu/`); see `docs/semantics.md` ("CPU sampler").

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
// std's futex-based lock and condvar, not parking_lot's, on purpose: a
// parking_lot waiter is a node in a process-global table that lives on the
// waiting thread's stack, and the sampler thread waits nearly all the time.
// After fork() the child inherits that node of a thread it does not have,
// and once a new thread reuses the dead one's cached stack the table is
// corrupt (a crash at the next park). Futex waiters live in the kernel,
// which copies none into the child.
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Time between two samples.
pub(crate) const SAMPLE_INTERVAL: Duration = Duration::from_millis(250);
/// Weight of the previous average (Kratos's `decay`).
pub(crate) const DECAY: f64 = 0.95;

/// Where the sampler reads CPU usage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    /// Nothing readable (not Linux, or /proc and /sys hidden): usage is 0.
    None = 0,
    /// cgroup v2: `cpu.stat` `usage_usec`, limit from `cpu.max`.
    CgroupV2 = 1,
    /// cgroup v1: `cpuacct.usage`, limit from `cpu.cfs_quota_us` / `cpu.cfs_period_us`.
    CgroupV1 = 2,
    /// The host's `/proc/stat` aggregate `cpu` line (busy / total jiffies).
    ProcStat = 3,
}

/// The files one source reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Probe {
    /// cgroup v2 files.
    CgroupV2 {
        /// `cpu.stat`.
        stat: PathBuf,
        /// `cpu.max` (may be absent: the root cgroup has no limit).
        max: PathBuf,
    },
    /// cgroup v1 files.
    CgroupV1 {
        /// `cpuacct.usage`.
        usage: PathBuf,
        /// `cpu.cfs_quota_us`.
        quota: PathBuf,
        /// `cpu.cfs_period_us`.
        period: PathBuf,
    },
    /// `/proc/stat`.
    ProcStat {
        /// The file.
        stat: PathBuf,
    },
    /// Nothing to read.
    None,
}

/// One reading of a source's counters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Reading {
    /// Cumulative CPU time of the cgroup, and its limit in cores (None = no quota).
    Cgroup {
        /// CPU time used, in nanoseconds, since the cgroup was created.
        usage_ns: u64,
        /// quota / period, when a quota is set.
        limit_cores: Option<f64>,
    },
    /// Cumulative jiffies of the host.
    ProcStat {
        /// user + nice + system + irq + softirq + steal.
        busy: u64,
        /// busy + idle + iowait.
        total: u64,
    },
}

/// `usage_usec` from a cgroup v2 `cpu.stat`, in microseconds.
#[must_use]
pub fn parse_cgroup_v2_usage_usec(text: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let mut f = line.split_whitespace();
        match (f.next(), f.next(), f.next()) {
            (Some("usage_usec"), Some(v), None) => v.parse().ok(),
            _ => None,
        }
    })
}

/// A cgroup v2 `cpu.max` ("$MAX $PERIOD"): `Some(None)` when unlimited
/// (`max`), `Some(Some(cores))` for a quota, `None` when malformed.
#[must_use]
pub fn parse_cpu_max(text: &str) -> Option<Option<f64>> {
    let mut f = text.split_whitespace();
    let (quota, period) = (f.next()?, f.next());
    if f.next().is_some() {
        return None;
    }
    if quota == "max" {
        return Some(None);
    }
    let quota: u64 = quota.parse().ok()?;
    let period: u64 = period?.parse().ok()?;
    cores(quota, period).map(Some)
}

/// A cgroup v1 `cpuacct.usage`, in nanoseconds.
#[must_use]
pub fn parse_cgroup_v1_usage_ns(text: &str) -> Option<u64> {
    text.trim().parse().ok()
}

/// cgroup v1 `cpu.cfs_quota_us` and `cpu.cfs_period_us`: `Some(None)` when
/// the quota is -1 (unlimited), `Some(Some(cores))`, or `None` if malformed.
#[must_use]
pub fn parse_cfs_quota(quota: &str, period: &str) -> Option<Option<f64>> {
    let quota: i64 = quota.trim().parse().ok()?;
    if quota == -1 {
        return Some(None);
    }
    let quota = u64::try_from(quota).ok()?;
    let period: u64 = period.trim().parse().ok()?;
    cores(quota, period).map(Some)
}

#[allow(clippy::cast_precision_loss)]
fn cores(quota: u64, period: u64) -> Option<f64> {
    if quota == 0 || period == 0 {
        return None;
    }
    Some(quota as f64 / period as f64)
}

/// The aggregate `cpu` line of `/proc/stat`: `(busy, total)` jiffies, where
/// total sums the first eight fields (user nice system idle iowait irq
/// softirq steal; guest time is already inside user) and busy is total
/// minus idle and iowait (gopsutil's reckoning, which Kratos falls back to).
#[must_use]
pub fn parse_proc_stat(text: &str) -> Option<(u64, u64)> {
    let line = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some("cpu"))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(str::parse)
        .collect::<std::result::Result<_, _>>()
        .ok()?;
    if fields.len() < 4 {
        return None;
    }
    let total = fields.iter().try_fold(0u64, |a, v| a.checked_add(*v))?;
    let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    Some((total.saturating_sub(idle), total))
}

/// The lines of `/proc/self/cgroup`: the unified (v2) path, if any, and the
/// v1 hierarchies as `(controllers, path)`.
#[must_use]
pub fn parse_self_cgroup(text: &str) -> (Option<String>, Vec<(String, String)>) {
    let mut v2 = None;
    let mut v1 = Vec::new();
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if id == "0" && controllers.is_empty() {
            v2 = Some(path.to_owned());
        } else if !controllers.is_empty() {
            v1.push((controllers.to_owned(), path.to_owned()));
        }
    }
    (v2, v1)
}

fn join_rel(base: &Path, rel: &str) -> PathBuf {
    base.join(rel.trim_start_matches('/'))
}

/// `dir/rel/file` if it exists, else `dir/file` (inside a container the
/// cgroup namespace root is the container's own cgroup).
fn cgroup_file(mount: &Path, rel: &str, file: &str) -> PathBuf {
    let nested = join_rel(mount, rel).join(file);
    if nested.exists() {
        nested
    } else {
        mount.join(file)
    }
}

impl Probe {
    /// Finds the source for the process whose `/proc` and `/sys` live under
    /// `root` (`/` for the live system; a fixture tree in tests): cgroup v2
    /// when `sys/fs/cgroup/cgroup.controllers` exists, else cgroup v1 when
    /// `proc/self/cgroup` names a `cpuacct` hierarchy, else `proc/stat`.
    #[must_use]
    pub fn detect(root: &Path) -> Self {
        let cg_root = root.join("sys/fs/cgroup");
        let self_cgroup =
            std::fs::read_to_string(root.join("proc/self/cgroup")).unwrap_or_default();
        let (v2, v1) = parse_self_cgroup(&self_cgroup);
        if cg_root.join("cgroup.controllers").exists() {
            let rel = v2.unwrap_or_default();
            let stat = cgroup_file(&cg_root, &rel, "cpu.stat");
            if stat.exists() {
                let dir = stat
                    .parent()
                    .map_or_else(|| cg_root.clone(), Path::to_path_buf);
                return Self::CgroupV2 {
                    max: dir.join("cpu.max"),
                    stat,
                };
            }
        }
        let find = |controller: &str| -> Option<(PathBuf, String)> {
            v1.iter().find_map(|(controllers, path)| {
                if !controllers.split(',').any(|c| c == controller) {
                    return None;
                }
                [controllers.as_str(), controller]
                    .iter()
                    .map(|name| cg_root.join(name))
                    .find(|m| m.is_dir())
                    .map(|m| (m, path.clone()))
            })
        };
        if let (Some((acct, acct_rel)), Some((cpu, cpu_rel))) = (find("cpuacct"), find("cpu")) {
            let usage = cgroup_file(&acct, &acct_rel, "cpuacct.usage");
            if usage.exists() {
                return Self::CgroupV1 {
                    usage,
                    quota: cgroup_file(&cpu, &cpu_rel, "cpu.cfs_quota_us"),
                    period: cgroup_file(&cpu, &cpu_rel, "cpu.cfs_period_us"),
                };
            }
        }
        let stat = root.join("proc/stat");
        if stat.exists() {
            return Self::ProcStat { stat };
        }
        Self::None
    }

    /// Which kind of source this is.
    #[must_use]
    pub fn kind(&self) -> SourceKind {
        match self {
            Self::CgroupV2 { .. } => SourceKind::CgroupV2,
            Self::CgroupV1 { .. } => SourceKind::CgroupV1,
            Self::ProcStat { .. } => SourceKind::ProcStat,
            Self::None => SourceKind::None,
        }
    }

    /// Reads the counters now; `None` if a file is missing or malformed.
    /// A missing or malformed limit file reads as "no quota".
    #[must_use]
    pub fn read(&self) -> Option<Reading> {
        let read = |p: &Path| std::fs::read_to_string(p).ok();
        match self {
            Self::CgroupV2 { stat, max } => {
                let usec = parse_cgroup_v2_usage_usec(&read(stat)?)?;
                let limit_cores = read(max).and_then(|t| parse_cpu_max(&t)).flatten();
                Some(Reading::Cgroup {
                    usage_ns: usec.saturating_mul(1000),
                    limit_cores,
                })
            }
            Self::CgroupV1 {
                usage,
                quota,
                period,
            } => {
                let usage_ns = parse_cgroup_v1_usage_ns(&read(usage)?)?;
                let limit_cores = match (read(quota), read(period)) {
                    (Some(q), Some(p)) => parse_cfs_quota(&q, &p).flatten(),
                    _ => None,
                };
                Some(Reading::Cgroup {
                    usage_ns,
                    limit_cores,
                })
            }
            Self::ProcStat { stat } => {
                let (busy, total) = parse_proc_stat(&read(stat)?)?;
                Some(Reading::ProcStat { busy, total })
            }
            Self::None => None,
        }
    }
}

/// CPU usage between two readings, in permille of what the process may use
/// (not clamped: a cgroup may briefly exceed its quota).
///
/// cgroup: `1000 · Δusage_ns / (wall_ns · cores)`, where `cores` is the
/// quota (quota / period) if set and below `cpus`, else `cpus` (the CPUs
/// the process may run on). `/proc/stat`: `1000 · Δbusy / Δtotal`.
/// `None` when the readings are of different kinds, a counter went back,
/// or no time passed.
#[must_use]
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
pub fn usage_permille(prev: &Reading, cur: &Reading, wall_ns: i64, cpus: f64) -> Option<u32> {
    let permille = match (prev, cur) {
        (
            Reading::Cgroup { usage_ns: a, .. },
            Reading::Cgroup {
                usage_ns: b,
                limit_cores,
            },
        ) => {
            let used = b.checked_sub(*a)?;
            let cores = limit_cores.map_or(cpus, |q| q.min(cpus));
            if wall_ns <= 0 || cores <= 0.0 {
                return None;
            }
            1000.0 * used as f64 / (wall_ns as f64 * cores)
        }
        (
            Reading::ProcStat {
                busy: b0,
                total: t0,
            },
            Reading::ProcStat {
                busy: b1,
                total: t1,
            },
        ) => {
            let total = t1.checked_sub(*t0).filter(|t| *t > 0)?;
            let busy = b1.checked_sub(*b0)?;
            1000.0 * busy as f64 / total as f64
        }
        _ => return None,
    };
    Some(permille.min(f64::from(u32::MAX)) as u32)
}

/// One step of the moving average, exactly as Kratos computes it: the
/// sample is clamped to 1000, then `trunc(prev · 0.95 + sample · 0.05)`.
/// (Truncation makes a constant 1000 settle at 981.)
#[must_use]
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub fn ema_step(prev: u32, sample: u32) -> u32 {
    let sample = sample.min(1000);
    (f64::from(prev) * DECAY + f64::from(sample) * (1.0 - DECAY)) as u32
}

// ---------------------------------------------------------------------------
// The shared background thread.

static CPU: AtomicU32 = AtomicU32::new(0);
static LAST_SAMPLE: AtomicU32 = AtomicU32::new(0);
static SOURCE: AtomicU32 = AtomicU32::new(SourceKind::None as u32);
static SAMPLES: AtomicU64 = AtomicU64::new(0);
/// Run before every sampler thread starts, if set: the C library passes
/// the function that registers its atfork handlers (once per process).
static BEFORE_THREAD_START: OnceLock<fn()> = OnceLock::new();

/// Sets the function run before a sampler thread starts (the first setting
/// wins). The C library's first call sets it to the registration of its
/// `pthread_atfork` handlers ([`atfork_prepare`] and the others), so they
/// exist exactly in processes that start the sampler.
pub fn set_before_thread_start(f: fn()) {
    let _ = BEFORE_THREAD_START.set(f);
}

/// Set in a forked child by [`atfork_child`]: the next read of the average
/// takes the slow path that starts the child's own sampler thread.
static FORK_PENDING: AtomicBool = AtomicBool::new(false);

/// The sampler thread's side: what it reads and how it is told to stop.
struct Shared {
    probe: Probe,
    stopping: Mutex<bool>,
    wake: Condvar,
}

/// The sampler thread, and the process that spawned it: in any other
/// process (a forked child) the thread does not exist.
struct Running {
    handle: JoinHandle<()>,
    shared: Arc<Shared>,
    pid: u32,
}

impl Running {
    /// Detects the source and starts a thread sampling it.
    fn spawn(pid: u32) -> std::io::Result<Self> {
        if let Some(before) = BEFORE_THREAD_START.get() {
            before();
        }
        // Detected here, not in the thread, so that the source is known
        // (rsl_cpu_sampler_get_stats) as soon as start() returns.
        let probe = Probe::detect(Path::new("/"));
        SOURCE.store(probe.kind() as u32, Ordering::Relaxed);
        // Everything the thread uses lives in `shared`, which `Running`
        // also holds: if the thread is lost in a fork() without our atfork
        // handlers, the child can still reach (not leak) all of it.
        let shared = Arc::new(Shared {
            probe,
            stopping: Mutex::new(false),
            wake: Condvar::new(),
        });
        let theirs = Arc::clone(&shared);
        let handle = std::thread::Builder::new()
            .name("rsl-cpu-sampler".into())
            .spawn(move || run(&theirs))?;
        Ok(Self {
            handle,
            shared,
            pid,
        })
    }

    /// Stops the thread and waits for it (only in the process that spawned it).
    fn stop_and_join(self) {
        *lock(&self.shared.stopping) = true;
        self.shared.wake.notify_all();
        // The thread never takes CONTROL, so joining under it is safe.
        let _ = self.handle.join();
    }
}

struct Control {
    refs: u64,
    running: Option<Running>,
    /// Threads of ancestor processes, inherited through a fork() that ran
    /// no atfork handler (a raw clone, or a Rust program that never went
    /// through the C ABI). Never joined (they do not exist here: std's join
    /// would panic) nor dropped (that would detach a thread this process
    /// does not have); kept so their memory stays reachable.
    orphans: Vec<Running>,
}

static CONTROL: Mutex<Control> = Mutex::new(Control {
    refs: 0,
    running: None,
    orphans: Vec::new(),
});

/// Locks a mutex of this module. Nothing here panics while holding one,
/// and every state they guard is valid at any point: poison is ignored.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

thread_local! {
    /// CONTROL, held by the forking thread from [`atfork_prepare`] to
    /// [`atfork_parent`] / [`atfork_child`].
    static HELD_ACROSS_FORK: RefCell<Option<MutexGuard<'static, Control>>> =
        const { RefCell::new(None) };
}

/// The `pthread_atfork` prepare handler: stops (and joins) the sampler
/// thread, so that no thread of ours is lost inside fork(), and keeps
/// CONTROL locked until the parent or child handler, so that the child
/// inherits it consistent and unlocked. The average and counts stay.
pub fn atfork_prepare() {
    let mut c = lock(&CONTROL);
    let pid = std::process::id();
    if let Some(ours) = c.running.take_if(|r| r.pid == pid) {
        ours.stop_and_join();
    }
    // If this thread's locals are gone (fork from a TLS destructor), `c`
    // is dropped here, unlocked; the parent and child handlers lock anew.
    let _ = HELD_ACROSS_FORK.try_with(|held| *held.borrow_mut() = Some(c));
}

fn held_or_lock() -> MutexGuard<'static, Control> {
    HELD_ACROSS_FORK
        .try_with(|held| held.borrow_mut().take())
        .ok()
        .flatten()
        .unwrap_or_else(|| lock(&CONTROL))
}

/// The `pthread_atfork` parent handler (also run when fork() failed):
/// restarts the sampler thread if references are held, and unlocks.
pub fn atfork_parent() {
    let mut c = held_or_lock();
    // A failed restart is retried by the next start, stop or stats call.
    let _ = adopt_after_fork(&mut c, std::process::id());
}

/// The `pthread_atfork` child handler: unlocks, and marks the sampler for a
/// restart at its next use (a limiter's acquire, any sampler call) rather
/// than now: a child that is about to exec should not pay for a thread.
pub fn atfork_child() {
    let c = held_or_lock();
    FORK_PENDING.store(true, Ordering::Relaxed);
    drop(c);
}

/// A snapshot of the sampler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SamplerStats {
    /// References held (0 = stopped).
    pub refs: u64,
    /// The source the running (or last) thread detected.
    pub source: SourceKind,
    /// The moving average, permille, 0..=1000.
    pub cpu_permille: u32,
    /// The last raw sample, clamped to 1000.
    pub last_sample_permille: u32,
    /// Samples taken since the thread last started from no references
    /// (a thread restarted after fork() carries the count on).
    pub samples: u64,
}

/// In a forked child, replaces the thread that fork() did not copy: a
/// parent's thread still recorded (the fork ran no atfork handler) is set
/// aside, and a new one starts if references are held (also retrying a
/// restart that failed earlier). The average, the
/// last sample and the sample count carry on from what the child inherited:
/// it runs in its parent's cgroup, so that is still the best estimate. A
/// no-op in the process that started the thread.
fn adopt_after_fork(c: &mut Control, pid: u32) -> std::io::Result<()> {
    if let Some(inherited) = c.running.take_if(|r| r.pid != pid) {
        c.orphans.push(inherited);
    }
    if c.refs > 0 && c.running.is_none() {
        c.running = Some(Running::spawn(pid)?);
    }
    Ok(())
}

/// The moving average, in permille (0 until the first sample).
///
/// In a forked child (once [`atfork_child`] has run) the first call starts
/// the child's sampler thread before reading; otherwise one relaxed load.
#[must_use]
#[inline]
pub fn current_permille() -> u32 {
    if FORK_PENDING.load(Ordering::Relaxed) {
        recover_after_fork();
    }
    CPU.load(Ordering::Relaxed)
}

#[cold]
fn recover_after_fork() {
    let mut c = lock(&CONTROL);
    FORK_PENDING.store(false, Ordering::Relaxed);
    // A failed restart is retried by the next start, stop or stats call.
    let _ = adopt_after_fork(&mut c, std::process::id());
}

/// Starts, now, the sampler thread of a forked child (the lazy way is
/// [`atfork_child`]; without it, the first start, stop or stats call
/// notices the process id changed). A no-op when the thread belongs to
/// this process or no reference is held; errors only if the new thread
/// cannot be spawned (the next sampler call retries).
pub fn after_fork_child() -> std::io::Result<()> {
    let mut c = lock(&CONTROL);
    FORK_PENDING.store(false, Ordering::Relaxed);
    adopt_after_fork(&mut c, std::process::id())
}

/// A snapshot of the sampler. In a forked child it first replaces the
/// thread fork() did not copy.
#[must_use]
pub fn stats() -> SamplerStats {
    let refs = {
        let mut c = lock(&CONTROL);
        let _ = adopt_after_fork(&mut c, std::process::id());
        c.refs
    };
    SamplerStats {
        refs,
        source: match SOURCE.load(Ordering::Relaxed) {
            1 => SourceKind::CgroupV2,
            2 => SourceKind::CgroupV1,
            3 => SourceKind::ProcStat,
            _ => SourceKind::None,
        },
        cpu_permille: CPU.load(Ordering::Relaxed),
        last_sample_permille: LAST_SAMPLE.load(Ordering::Relaxed),
        samples: SAMPLES.load(Ordering::Relaxed),
    }
}

/// Takes a reference on the sampler, starting its thread if this is the
/// first. A fresh thread starts the average at 0. In a forked child it
/// first replaces the thread fork() did not copy.
pub fn start() -> std::io::Result<()> {
    let mut c = lock(&CONTROL);
    let pid = std::process::id();
    adopt_after_fork(&mut c, pid)?;
    if c.refs == 0 {
        CPU.store(0, Ordering::Relaxed);
        LAST_SAMPLE.store(0, Ordering::Relaxed);
        SAMPLES.store(0, Ordering::Relaxed);
        c.running = Some(Running::spawn(pid)?);
    }
    c.refs += 1;
    Ok(())
}

/// Gives back a reference; the last one stops the thread and joins it.
/// Returns false (and does nothing) if no reference is held. In a forked
/// child the inherited thread is set aside, never joined.
pub fn stop() -> bool {
    let mut c = lock(&CONTROL);
    if c.refs == 0 {
        return false;
    }
    c.refs -= 1;
    // With references left this restarts an inherited thread; a failure is
    // retried by the next call.
    let _ = adopt_after_fork(&mut c, std::process::id());
    if c.refs == 0 {
        if let Some(running) = c.running.take() {
            running.stop_and_join();
        }
    }
    true
}

/// A reference on the sampler, given back on drop.
#[derive(Debug)]
pub struct SamplerGuard(());

impl SamplerGuard {
    /// Takes a reference (see [`start`]).
    pub fn acquire() -> std::io::Result<Self> {
        start()?;
        Ok(Self(()))
    }
}

impl Drop for SamplerGuard {
    fn drop(&mut self) {
        stop();
    }
}

fn run(shared: &Shared) {
    let probe = &shared.probe;
    #[allow(clippy::cast_precision_loss)]
    let cpus = std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64);
    let mut prev = probe.read();
    let mut prev_at = Instant::now();
    loop {
        {
            let deadline = Instant::now() + SAMPLE_INTERVAL;
            let mut stopping = lock(&shared.stopping);
            while !*stopping {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                stopping = shared
                    .wake
                    .wait_timeout(stopping, left)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            if *stopping {
                return;
            }
        }
        let cur = probe.read();
        let at = Instant::now();
        let wall = i64::try_from(at.duration_since(prev_at).as_nanos()).unwrap_or(i64::MAX);
        if let (Some(p), Some(c)) = (&prev, &cur) {
            if let Some(sample) = usage_permille(p, c, wall, cpus) {
                let sample = sample.min(1000);
                LAST_SAMPLE.store(sample, Ordering::Relaxed);
                CPU.store(
                    ema_step(CPU.load(Ordering::Relaxed), sample),
                    Ordering::Relaxed,
                );
                SAMPLES.fetch_add(1, Ordering::Relaxed);
            }
        }
        prev = cur;
        prev_at = at;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ema_follows_kratos_truncation() {
        assert_eq!(ema_step(0, 1000), 50);
        assert_eq!(ema_step(50, 1000), 97); // 47.5 + 50 = 97.5
        assert_eq!(ema_step(0, 5000), 50); // clamped to 1000
        let mut v = 0;
        for _ in 0..1000 {
            v = ema_step(v, 1000);
        }
        assert_eq!(v, 981);
    }

    #[test]
    fn parsers_reject_garbage() {
        assert_eq!(parse_cpu_max("max 100000\n"), Some(None));
        assert_eq!(parse_cpu_max("max"), Some(None));
        assert_eq!(parse_cpu_max("150000 100000"), Some(Some(1.5)));
        assert_eq!(parse_cpu_max("150000 0"), None);
        assert_eq!(parse_cpu_max("x 1"), None);
        assert_eq!(parse_cpu_max("1 2 3"), None);
        assert_eq!(parse_cfs_quota("-1\n", "100000\n"), Some(None));
        assert_eq!(parse_cfs_quota("50000", "100000"), Some(Some(0.5)));
        assert_eq!(parse_cfs_quota("-5", "100000"), None);
        assert_eq!(parse_cgroup_v2_usage_usec("user_usec 5\n"), None);
        assert_eq!(parse_proc_stat("cpu0 1 2 3 4\n"), None);
        assert_eq!(parse_proc_stat("cpu 1 2 x 4\n"), None);
    }

    #[test]
    fn usage_between_readings() {
        let a = Reading::Cgroup {
            usage_ns: 1_000_000_000,
            limit_cores: Some(2.0),
        };
        let b = Reading::Cgroup {
            usage_ns: 1_250_000_000,
            limit_cores: Some(2.0),
        };
        // 250 ms of CPU in 250 ms of wall time on a 2-core quota: 500 permille.
        assert_eq!(usage_permille(&a, &b, 250_000_000, 8.0), Some(500));
        // Without a quota the CPUs count: 8 cores → 125.
        let b_free = Reading::Cgroup {
            usage_ns: 1_250_000_000,
            limit_cores: None,
        };
        assert_eq!(usage_permille(&a, &b_free, 250_000_000, 8.0), Some(125));
        assert_eq!(usage_permille(&b, &a, 250_000_000, 8.0), None);
        assert_eq!(usage_permille(&a, &b, 0, 8.0), None);
        let p0 = Reading::ProcStat {
            busy: 100,
            total: 1000,
        };
        let p1 = Reading::ProcStat {
            busy: 400,
            total: 2000,
        };
        assert_eq!(usage_permille(&p0, &p1, 1, 1.0), Some(300));
        assert_eq!(usage_permille(&p0, &a, 1, 1.0), None);
    }
}
