//! The C ABI: the only module with `unsafe`, `no_mangle` and `repr(C)`.
//!
//! Every exported function runs inside [`guard`] (or [`with_handle`]), which
//! turns a panic into `RSL_ERR_PANIC` and poisons the handle involved, so no
//! panic ever crosses the boundary. Every pointer is checked for NULL.
#![allow(non_camel_case_types)]
#![allow(unsafe_code)]
#![allow(clippy::missing_safety_doc)]

pub mod adaptive_limiter;
pub mod adaptive_throttle;
pub mod backoff;
pub mod breaker;
pub mod bulkhead;
pub mod cpu_sampler;
pub mod criticality;
pub mod deadline;
pub mod json;
pub mod leaky_bucket;
pub mod retry;
pub mod retry_budget;
pub mod token_bucket;
pub mod window_limiter;

use crate::core::clock::MonotonicClamp;
use crate::core::error::{Error, ErrorKind};
use std::cell::{Cell, RefCell};
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};

/// A status code. `RSL_OK` is 0; errors are grouped by hundreds and a code
/// is never reused for another meaning.
pub type rsl_status = i32;

/// Success.
pub const RSL_OK: rsl_status = 0;
/// 1xx — a required pointer argument was NULL.
pub const RSL_ERR_NULL_ARGUMENT: rsl_status = 100;
/// 1xx — an argument is outside its domain (an unknown outcome, state, preset…).
pub const RSL_ERR_INVALID_ARGUMENT: rsl_status = 101;
/// 2xx — a configuration field is outside its domain or contradicts another.
pub const RSL_ERR_INVALID_CONFIG: rsl_status = 200;
/// 2xx — `struct_size` is smaller than any layout this library knows, or absurd.
pub const RSL_ERR_CONFIG_SIZE: rsl_status = 201;
/// 2xx — a newer caller set fields this (older) library does not know.
pub const RSL_ERR_CONFIG_UNSUPPORTED: rsl_status = 202;
/// 3xx — the request can never succeed (asks for more than the capacity).
pub const RSL_ERR_EXCEEDS_CAPACITY: rsl_status = 300;
/// 9xx — a bug: the library panicked. The handle is poisoned.
pub const RSL_ERR_PANIC: rsl_status = 900;
/// 9xx — the handle panicked earlier and refuses further use; free it.
pub const RSL_ERR_POISONED: rsl_status = 901;

/// The ABI version. It changes only when an existing function or struct
/// changes incompatibly; bindings refuse to load a library with another one.
pub const RSL_ABI_VERSION: u32 = 2;

/// Largest `struct_size` accepted for any config (a guard against garbage).
pub const RSL_MAX_STRUCT_SIZE: u32 = 4096;

/// Capacity of `rsl_error.field`, including the terminating NUL.
pub const RSL_ERROR_FIELD_CAPACITY: usize = 64;
/// Capacity of `rsl_error.message`, including the terminating NUL.
pub const RSL_ERROR_MESSAGE_CAPACITY: usize = 256;

/// The detail of a failed call, handed back by that same call.
///
/// Every function that returns `rsl_status` takes a final `rsl_error *err`.
/// NULL means "no detail wanted". When the call fails, `*err` is written
/// completely before it returns (and nothing else of it is kept); when the
/// call succeeds, `*err` is not touched, so one `rsl_error` can serve many
/// calls. Nothing is shared between threads or calls: unlike
/// `rsl_last_error_message`, this is safe for callers whose calls move
/// between OS threads (Go goroutines, virtual threads, async tasks).
///
/// Frozen layout: this struct never changes; a future change would be a new
/// struct and a new `RSL_ABI_VERSION`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct rsl_error {
    /// The status the call returned (never `RSL_OK` in a written error).
    pub status: rsl_status,
    /// The field or argument at fault, as spelled in the header and the JSON
    /// configs, nested by full path (`"backoff.factor"`, `"cfg.struct_size"`,
    /// `"permit"`); NUL-terminated ASCII; `""` when the failure names none
    /// (an internal error). A stable identifier: match on it.
    pub field: [c_char; RSL_ERROR_FIELD_CAPACITY],
    /// The whole message, `"<field>: <what is wrong>"` when a field is named;
    /// NUL-terminated UTF-8, cut at a character boundary if longer than 255
    /// bytes. For people, not for matching.
    pub message: [c_char; RSL_ERROR_MESSAGE_CAPACITY],
}

/// Why a call failed: its status and a message naming the field.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: rsl_status,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(status: rsl_status, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn null(name: &str) -> Self {
        Self::new(RSL_ERR_NULL_ARGUMENT, format!("{name}: must not be NULL"))
    }

    pub(crate) fn argument(name: &str, message: impl std::fmt::Display) -> Self {
        Self::new(RSL_ERR_INVALID_ARGUMENT, format!("{name}: {message}"))
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let status = match e.kind {
            ErrorKind::InvalidArgument => RSL_ERR_INVALID_ARGUMENT,
            ErrorKind::InvalidConfig => RSL_ERR_INVALID_CONFIG,
            ErrorKind::ExceedsCapacity => RSL_ERR_EXCEEDS_CAPACITY,
        };
        Self::new(status, e.to_string())
    }
}

pub(crate) type FfiResult<T = ()> = Result<T, Failure>;

impl Failure {
    /// The field a message names: its prefix before `": "` when that prefix
    /// is an identifier path (`backoff.factor`, `cfg.struct_size`,
    /// `shares[2]`); every message of the library starts that way.
    pub(crate) fn field(&self) -> &str {
        let Some((head, _)) = self.message.split_once(": ") else {
            return "";
        };
        let is_path = !head.is_empty()
            && head.len() < RSL_ERROR_FIELD_CAPACITY
            && head
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'[' | b']'));
        if is_path {
            head
        } else {
            ""
        }
    }
}

/// The per-thread state every boundary call touches, in one thread-local
/// (one TLS address lookup per call, which in a shared library is a call
/// to `__tls_get_addr`).
struct BoundaryState {
    /// Boundary calls this thread is inside (with_handle nests in guard);
    /// the panic hook stays silent while it is above 0.
    depth: Cell<u32>,
    /// Whether LAST_ERROR holds a message: lets a successful call clear it
    /// with this read instead of touching the string.
    has_last_error: Cell<bool>,
}

thread_local! {
    static BOUNDARY: BoundaryState = const {
        BoundaryState {
            depth: Cell::new(0),
            has_last_error: Cell::new(false),
        }
    };
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    let text = CString::new(message.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|slot| *slot.borrow_mut() = text);
    BOUNDARY.with(|b| b.has_last_error.set(true));
}

fn clear_last_error() {
    if BOUNDARY.with(|b| b.has_last_error.replace(false)) {
        let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = CString::default());
    }
}

/// Copies `text` into a fixed C buffer, NUL-terminated, cut at a UTF-8
/// character boundary.
fn copy_c_text(dst: &mut [c_char], text: &str) {
    let room = dst.len().saturating_sub(1);
    let mut n = text.len().min(room);
    while n > 0 && !text.is_char_boundary(n) {
        n -= 1;
    }
    for (d, b) in dst.iter_mut().zip(text.bytes().take(n)) {
        // NULs inside a message would cut it short: show them as spaces.
        *d = c_char::from_ne_bytes([if b == 0 { b' ' } else { b }]);
    }
    if let Some(end) = dst.get_mut(n) {
        *end = 0;
    }
}

/// Reports a failure: into the caller's `*err` (if not NULL) and the
/// thread-local last message.
fn report(err: *mut rsl_error, failure: &Failure) {
    set_last_error(&failure.message);
    // SAFETY: a non-NULL err points to a writable rsl_error (contract).
    if let Some(e) = unsafe { err.as_mut() } {
        e.status = failure.status;
        copy_c_text(&mut e.field, failure.field());
        copy_c_text(&mut e.message, &failure.message);
    }
}

// ---------------------------------------------------------------------------
// Silent panics. A panic caught at the boundary is a status (RSL_ERR_PANIC)
// with its message and location in the call's rsl_error; it must not also
// print to the host's stderr. Rust prints from the panic hook, which runs
// before unwinding reaches our catch_unwind, so the hook has to know whether
// the panicking thread is inside a boundary call: a thread-local depth,
// (`BoundaryState::depth`), counted by `guard` and `free_handle`, answers
// that. The hook is installed
// once, at the first boundary call, and wraps whatever hook was set before:
// panics outside the boundary (the host's own, in a Rust program linking the
// rlib; the sampler thread's) still go to it unchanged. With
// RSL_PANIC_OUTPUT=1 in the environment, caught panics go to it too.

thread_local! {
    // Where the last caught panic of this thread happened, for its message.
    static PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Marks the current thread as inside a boundary call while it lives.
struct InsideBoundary;

impl InsideBoundary {
    fn enter() -> Self {
        boundary_setup();
        // Nesting is bounded by the call depth: no overflow.
        BOUNDARY.with(|b| b.depth.set(b.depth.get().wrapping_add(1)));
        Self
    }
}

impl Drop for InsideBoundary {
    fn drop(&mut self) {
        BOUNDARY.with(|b| b.depth.set(b.depth.get().wrapping_sub(1)));
    }
}

/// Whether caught panics should still be printed (`RSL_PANIC_OUTPUT=1`),
/// read when one happens.
fn panic_output_wanted() -> bool {
    std::env::var_os("RSL_PANIC_OUTPUT").is_some_and(|v| v == "1")
}

/// The C library's one-time setup, run by the first boundary call: the
/// panic hook above, and the CPU sampler's fork handlers (registered later,
/// when and if the sampler starts a thread).
fn boundary_setup() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    // set_hook may not be called while this thread panics (a call from a
    // destructor during unwinding): try again at the next call then.
    if INSTALLED.is_completed() || std::thread::panicking() {
        return;
    }
    INSTALLED.call_once(|| {
        // The other one-time setup of the C library: the CPU sampler will
        // register its atfork handlers when it first starts a thread.
        crate::core::cpu_sampler::set_before_thread_start(cpu_sampler::watch_fork);
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if BOUNDARY.with(|b| b.depth.get()) > 0 {
                let at = info.location().map(ToString::to_string);
                let _ = PANIC_LOCATION.try_with(|slot| *slot.borrow_mut() = at);
                if !panic_output_wanted() {
                    return;
                }
            }
            previous(info);
        }));
    });
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    let at = PANIC_LOCATION
        .try_with(|slot| slot.borrow_mut().take())
        .ok()
        .flatten();
    match at {
        Some(at) => format!("internal error (please report): {what} (at {at})"),
        None => format!("internal error (please report): {what}"),
    }
}

fn finish(err: *mut rsl_error, result: std::thread::Result<FfiResult>) -> rsl_status {
    match result {
        Ok(Ok(())) => {
            clear_last_error();
            RSL_OK
        }
        Ok(Err(failure)) => {
            report(err, &failure);
            failure.status
        }
        Err(payload) => {
            report(
                err,
                &Failure::new(RSL_ERR_PANIC, panic_message(payload.as_ref())),
            );
            RSL_ERR_PANIC
        }
    }
}

/// Runs `f` at the boundary: errors become statuses with a detail (into
/// `*err` and the thread-local message), a panic becomes `RSL_ERR_PANIC`.
pub(crate) fn guard(err: *mut rsl_error, f: impl FnOnce() -> FfiResult) -> rsl_status {
    boundary_setup();
    // One thread-local lookup serves the depth and the success path's
    // last-error check (this is every call's fixed cost).
    BOUNDARY.with(|b| {
        b.depth.set(b.depth.get().wrapping_add(1));
        let result = catch_unwind(AssertUnwindSafe(f));
        b.depth.set(b.depth.get().wrapping_sub(1));
        match result {
            Ok(Ok(())) => {
                if b.has_last_error.replace(false) {
                    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = CString::default());
                }
                RSL_OK
            }
            failed => finish(err, failed),
        }
    })
}

/// An opaque handle: the primitive, its reference count, a poison flag set
/// when a call on it panicked (its state may be half-updated, so it refuses
/// further use), and the opt-in monotonic clamp of `_at` times.
pub(crate) struct Handle<T> {
    refs: AtomicUsize,
    poisoned: AtomicBool,
    clamp: MonotonicClamp,
    pub(crate) inner: T,
}

impl<T> Handle<T> {
    /// A handle with one reference, held by the creator.
    pub(crate) fn new(inner: T) -> Self {
        Self {
            refs: AtomicUsize::new(1),
            poisoned: AtomicBool::new(false),
            clamp: MonotonicClamp::new(),
            inner,
        }
    }
}

/// An opaque C handle type: a newtype over [`Handle`] of its primitive.
pub(crate) trait Opaque: Sized {
    /// The primitive behind the handle.
    type Inner;
    fn wrap(handle: Handle<Self::Inner>) -> Self;
    fn handle(&self) -> &Handle<Self::Inner>;
}

/// Declares the [`Opaque`] impl of a handle newtype `pub struct x(Handle<T>)`.
macro_rules! opaque {
    ($name:ident, $inner:ty) => {
        impl $crate::ffi::Opaque for $name {
            type Inner = $inner;
            fn wrap(handle: $crate::ffi::Handle<$inner>) -> Self {
                Self(handle)
            }
            fn handle(&self) -> &$crate::ffi::Handle<$inner> {
                &self.0
            }
        }
    };
}
pub(crate) use opaque;

/// Runs `f` on the primitive behind `h` at the boundary.
pub(crate) fn with_handle<H: Opaque>(
    h: *const H,
    err: *mut rsl_error,
    f: impl FnOnce(&H::Inner) -> FfiResult,
) -> rsl_status {
    enter(h, err, |handle| f(&handle.inner))
}

/// Runs `f` on the primitive behind `h` at the boundary, with `now_ns`
/// passed through the handle's monotonic clamp (when the caller enabled it).
pub(crate) fn with_handle_at<H: Opaque>(
    h: *const H,
    now_ns: i64,
    err: *mut rsl_error,
    f: impl FnOnce(&H::Inner, i64) -> FfiResult,
) -> rsl_status {
    enter(h, err, |handle| {
        f(&handle.inner, handle.clamp.apply(now_ns))
    })
}

/// The boundary of every call on a handle: NULL and poison checks, and a
/// panic inside `f` poisons the handle. Calls without a time never touch
/// the clamp (a made-up instant would move its latest reading).
fn enter<H: Opaque>(
    h: *const H,
    err: *mut rsl_error,
    f: impl FnOnce(&Handle<H::Inner>) -> FfiResult,
) -> rsl_status {
    guard(err, || {
        // SAFETY: the caller passes NULL or a pointer from the matching _new
        // on which it holds a reference (the header's contract).
        let handle = unsafe { h.as_ref() }
            .ok_or_else(|| Failure::null("handle"))?
            .handle();
        if handle.poisoned.load(Ordering::Acquire) {
            return Err(Failure::new(
                RSL_ERR_POISONED,
                "handle: poisoned by an earlier internal error; free it",
            ));
        }
        match catch_unwind(AssertUnwindSafe(|| f(handle))) {
            Ok(r) => r,
            Err(payload) => {
                handle.poisoned.store(true, Ordering::Release);
                Err(Failure::new(RSL_ERR_PANIC, panic_message(payload.as_ref())))
            }
        }
    })
}

/// Builds a primitive and stores its new handle in `*out` (only on success).
pub(crate) fn store_handle<H: Opaque>(
    out: *mut *mut H,
    err: *mut rsl_error,
    make: impl FnOnce() -> FfiResult<H::Inner>,
) -> rsl_status {
    guard(err, || {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let handle = Box::new(H::wrap(Handle::new(make()?)));
        // SAFETY: `out` is non-NULL and points to writable storage (contract).
        unsafe { out.write(Box::into_raw(handle)) };
        Ok(())
    })
}

/// Most references a handle can hold; `retain` past it fails (returns
/// NULL) instead of wrapping the count.
const MAX_REFS: usize = isize::MAX as usize;

/// Takes one more reference on a handle made by [`store_handle`]; returns
/// `h`, or NULL if `h` is NULL or the count is at its maximum.
pub(crate) fn retain_handle<H: Opaque>(h: *mut H) -> *mut H {
    // SAFETY: NULL or a live handle on which the caller holds a reference.
    let Some(handle) = (unsafe { h.as_ref() }) else {
        return std::ptr::null_mut();
    };
    let refs = &handle.handle().refs;
    let mut current = refs.load(Ordering::Relaxed);
    loop {
        if current == 0 || current >= MAX_REFS {
            return std::ptr::null_mut();
        }
        // Relaxed, as in Arc::clone: the caller's own reference keeps the
        // handle alive while the count grows.
        match refs.compare_exchange_weak(current, current + 1, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => return h,
            Err(seen) => current = seen,
        }
    }
}

/// Gives back one reference; the last one frees the handle. NULL is a no-op.
pub(crate) fn free_handle<H: Opaque>(h: *mut H) {
    // SAFETY: NULL or a live handle on which the caller holds a reference.
    let Some(handle) = (unsafe { h.as_ref() }) else {
        return;
    };
    // Release, then Acquire before the drop (as in Arc::drop): every other
    // holder's last use happens before the memory is freed.
    if handle.handle().refs.fetch_sub(1, Ordering::Release) != 1 {
        return;
    }
    fence(Ordering::Acquire);
    // Dropping never panics in our types, but stay inside the boundary
    // (silently: nobody is there to receive an error).
    let _inside = InsideBoundary::enter();
    let dropped = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `h` came from Box::into_raw in store_handle, and this was
        // its last reference.
        drop(unsafe { Box::from_raw(h) });
    }));
    if dropped.is_err() {
        let _ = PANIC_LOCATION.try_with(|slot| slot.borrow_mut().take());
    }
}

/// Turns the handle's monotonic clamp on or off (see `rsl_<type>_set_monotonic_time`).
pub(crate) fn set_monotonic<H: Opaque>(
    h: *const H,
    enabled: u32,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        // SAFETY: NULL or a live handle (contract).
        let handle = unsafe { h.as_ref() }
            .ok_or_else(|| Failure::null("handle"))?
            .handle();
        handle.clamp.set_enabled(flag("enabled", enabled)?);
        Ok(())
    })
}

/// A `&mut` to an out-parameter, or a NULL failure naming it.
pub(crate) fn out_ref<'a, T>(p: *mut T, name: &str) -> FfiResult<&'a mut T> {
    // SAFETY: non-NULL out pointers are valid and aligned (contract).
    unsafe { p.as_mut() }.ok_or_else(|| Failure::null(name))
}

/// A `&` to an in-parameter, or a NULL failure naming it.
pub(crate) fn in_ref<'a, T>(p: *const T, name: &str) -> FfiResult<&'a T> {
    // SAFETY: non-NULL in pointers are valid and aligned (contract).
    unsafe { p.as_ref() }.ok_or_else(|| Failure::null(name))
}

/// A versioned config struct: `struct_size` first, plain data only (every
/// bit pattern valid), `MIN_SIZE` the size of its first released layout.
pub(crate) trait VersionedStruct: Copy {
    /// Size of the oldest layout still accepted.
    const MIN_SIZE: usize;
    /// Sets `struct_size` to this library's size.
    fn stamp(&mut self);
    /// Whether a struct zeroed but for `struct_size` is this config's
    /// defaults (only where every default is zero); otherwise reading one is
    /// an error, since its `_config_init` was skipped.
    const ZERO_IS_DEFAULTS: bool = false;
}

/// Reads a config written by a caller built against any layout version:
/// fields the caller does not know keep `defaults`; fields this library does
/// not know must be zero. `name` names the argument in messages.
pub(crate) fn read_versioned<C: VersionedStruct>(
    cfg: *const C,
    defaults: C,
    name: &str,
) -> FfiResult<C> {
    if cfg.is_null() {
        return Ok(defaults);
    }
    // SAFETY: a non-NULL config starts with its uint32_t struct_size.
    let size = unsafe { cfg.cast::<u32>().read() } as usize;
    let ours = std::mem::size_of::<C>();
    if size < C::MIN_SIZE || size > RSL_MAX_STRUCT_SIZE as usize {
        return Err(Failure::new(
            RSL_ERR_CONFIG_SIZE,
            format!(
                "{name}.struct_size: {size} is not a known layout size (this library accepts {}..={}); fill the struct with its _config_init",
                C::MIN_SIZE,
                RSL_MAX_STRUCT_SIZE
            ),
        ));
    }
    let known = size.min(ours);
    if !C::ZERO_IS_DEFAULTS {
        // SAFETY: the caller's struct holds `size >= known` readable bytes.
        let bytes = unsafe { std::slice::from_raw_parts(cfg.cast::<u8>(), known) };
        if bytes.iter().skip(4).all(|b| *b == 0) {
            return Err(Failure::new(
                RSL_ERR_INVALID_CONFIG,
                format!(
                    "{name}.struct_size: is set but every other byte is zero, and a zeroed struct is not this config's defaults: fill it with its _config_init (or _config_preset, _config_from_json) before setting fields"
                ),
            ));
        }
    }
    let mut out = defaults;
    // SAFETY: the caller's struct holds `size` readable bytes; `out` holds
    // `ours`; every bit pattern is a valid C (plain-data VersionedStruct).
    unsafe {
        std::ptr::copy_nonoverlapping(
            cfg.cast::<u8>(),
            std::ptr::addr_of_mut!(out).cast::<u8>(),
            known,
        );
    }
    if size > ours {
        // SAFETY: as above, the bytes past our layout are the caller's.
        let tail = unsafe { std::slice::from_raw_parts(cfg.cast::<u8>().add(ours), size - ours) };
        if let Some(pos) = tail.iter().position(|b| *b != 0) {
            return Err(Failure::new(
                RSL_ERR_CONFIG_UNSUPPORTED,
                format!(
                    "{name}: byte {} sets a field this library ({}) does not know; upgrade the library or leave it zero",
                    ours + pos,
                    env!("CARGO_PKG_VERSION")
                ),
            ));
        }
    }
    out.stamp();
    Ok(out)
}

/// Writes `value` into a caller's versioned out-struct, truncated to the
/// caller's `struct_size` (which must be set, at least the first layout).
pub(crate) fn write_versioned<C: VersionedStruct>(out: *mut C, value: C, name: &str) -> FfiResult {
    if out.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: a non-NULL out struct starts with its uint32_t struct_size.
    let size = unsafe { out.cast::<u32>().read() } as usize;
    if size < C::MIN_SIZE || size > RSL_MAX_STRUCT_SIZE as usize {
        return Err(Failure::new(
            RSL_ERR_CONFIG_SIZE,
            format!("{name}.struct_size: set it to sizeof the struct before the call, got {size}"),
        ));
    }
    let n = size.min(std::mem::size_of::<C>());
    let mut v = value;
    v.stamp();
    // SAFETY: the caller's struct holds `size >= n` writable bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(std::ptr::addr_of!(v).cast::<u8>(), out.cast::<u8>(), n);
        // Keep the caller's own struct_size: it describes their buffer.
        out.cast::<u32>().write(u32::try_from(size).unwrap_or(0));
    }
    Ok(())
}

/// A boolean field of a C struct (0 = false, anything else = true is
/// rejected so that a garbage byte is caught, not silently read as true).
pub(crate) fn flag(field: &'static str, value: u32) -> FfiResult<bool> {
    match value {
        0 => Ok(false),
        1 => Ok(true),
        v => Err(Failure::new(
            RSL_ERR_INVALID_CONFIG,
            format!("{field}: must be 0 or 1, got {v}"),
        )),
    }
}

/// An enum field of a C config: `parse` maps the raw value, anything else
/// is `RSL_ERR_INVALID_CONFIG` naming the field.
pub(crate) fn enum_field<T>(
    field: &'static str,
    raw: u32,
    parse: impl FnOnce(u32) -> Option<T>,
) -> FfiResult<T> {
    parse(raw).ok_or_else(|| {
        Failure::new(
            RSL_ERR_INVALID_CONFIG,
            format!("{field}: unknown value {raw}"),
        )
    })
}

/// A reserved (padding) field of a C struct: it must be zero, so that a
/// later version can give it a meaning.
pub(crate) fn reserved_zero(field: &'static str, value: u32) -> FfiResult {
    if value == 0 {
        Ok(())
    } else {
        Err(Failure::new(
            RSL_ERR_INVALID_CONFIG,
            format!("{field}: must be 0, got {value}"),
        ))
    }
}

/// Static text for a status: never NULL, never freed.
#[no_mangle]
pub extern "C" fn rsl_status_str(status: rsl_status) -> *const c_char {
    let text: &'static CStr = match status {
        RSL_OK => c"ok",
        RSL_ERR_NULL_ARGUMENT => c"a required pointer argument was NULL",
        RSL_ERR_INVALID_ARGUMENT => c"an argument is outside its domain",
        RSL_ERR_INVALID_CONFIG => c"a configuration field is invalid",
        RSL_ERR_CONFIG_SIZE => c"the config's struct_size is not a known layout size",
        RSL_ERR_CONFIG_UNSUPPORTED => c"the config sets fields this library version does not know",
        RSL_ERR_EXCEEDS_CAPACITY => c"the request exceeds the capacity and can never succeed",
        RSL_ERR_PANIC => c"internal error: the library panicked; the handle is poisoned",
        RSL_ERR_POISONED => c"the handle was poisoned by an earlier internal error",
        _ => c"unknown status",
    };
    text.as_ptr()
}

/// The detail message of the last call on this thread if it failed (naming
/// the offending field), or "" if it succeeded. Valid until the next call on
/// the same thread. A convenience for C only: every binding uses the
/// `rsl_error *err` of the failing call itself, since a goroutine or task
/// may run its next call on another thread.
#[no_mangle]
pub extern "C" fn rsl_last_error_message() -> *const c_char {
    LAST_ERROR
        .try_with(|slot| slot.borrow().as_ptr())
        .unwrap_or(c"".as_ptr())
}

/// The library's version, "MAJOR.MINOR.PATCH" (static, never NULL).
#[no_mangle]
pub extern "C" fn rsl_version_string() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The ABI version of the loaded library; compare with `RSL_ABI_VERSION`.
#[no_mangle]
pub extern "C" fn rsl_abi_version() -> u32 {
    RSL_ABI_VERSION
}

/// The raw `CLOCK_MONOTONIC` reading in nanoseconds (no per-process
/// epoch: every copy of the library in every process of the machine reads
/// the same clock). Java's `System.nanoTime()`, Python's
/// `time.monotonic_ns()`, Go's monotonic clock (`runtime.nanotime`), C#'s
/// `Stopwatch.GetTimestamp()` (ticks of 1 ns on Linux) and C++'s
/// `std::chrono::steady_clock` are this same clock on Linux, so their
/// readings may be passed to the `_at` functions and agree with the plain
/// twins. Thread-safe.
#[no_mangle]
pub extern "C" fn rsl_now_ns() -> i64 {
    crate::core::clock::now_ns()
}

/// The outcome of a call (`RSL_OUTCOME_*`), shared by every primitive.
pub type rsl_outcome = u32;
/// The call succeeded.
pub const RSL_OUTCOME_SUCCESS: rsl_outcome = 1;
/// The call failed in a way that counts against the dependency.
pub const RSL_OUTCOME_FAILURE: rsl_outcome = 2;
/// Neither (a cancellation, a client error): not counted; gives back the permit.
pub const RSL_OUTCOME_IGNORED: rsl_outcome = 3;
/// The dependency answered "overloaded, do not retry" (wire: `x-rsl-retry:
/// overloaded`): stops retries at every layer. Retry policies and budgets
/// accept it; primitives that do not list it reject it as an argument.
pub const RSL_OUTCOME_OVERLOADED: rsl_outcome = 4;

/// The outcome as a primitive that judges a dependency's health sees it
/// (breakers, adaptive throttles): an overloaded dependency is an unhealthy
/// one, so `RSL_OUTCOME_OVERLOADED` is a failure there.
pub(crate) fn outcome(raw: rsl_outcome) -> FfiResult<crate::core::outcome::Outcome> {
    if raw == RSL_OUTCOME_OVERLOADED {
        return Ok(crate::core::outcome::Outcome::Failure);
    }
    crate::core::outcome::Outcome::from_raw(raw).ok_or_else(|| {
        Failure::argument(
            "outcome",
            format!("must be RSL_OUTCOME_SUCCESS, _FAILURE, _IGNORED or _OVERLOADED, got {raw}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Probe(Handle<u32>);
    opaque!(Probe, u32);

    fn message() -> String {
        // SAFETY: rsl_last_error_message never returns NULL.
        unsafe { CStr::from_ptr(rsl_last_error_message()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn a_panic_becomes_a_status_and_poisons_the_handle() {
        let mut h: *mut Probe = std::ptr::null_mut();
        assert_eq!(store_handle(&mut h, std::ptr::null_mut(), || Ok(7)), RSL_OK);
        assert_eq!(
            with_handle(h, std::ptr::null_mut(), |v| if *v == 7 {
                Ok(())
            } else {
                Err(Failure::null("v"))
            }),
            RSL_OK
        );
        let status = with_handle(h, std::ptr::null_mut(), |_| -> FfiResult { panic!("boom") });
        assert_eq!(status, RSL_ERR_PANIC);
        assert!(message().contains("boom"), "{}", message());
        assert_eq!(
            with_handle(h, std::ptr::null_mut(), |_| Ok(())),
            RSL_ERR_POISONED
        );
        assert!(message().starts_with("handle:"));
        free_handle(h);
        free_handle::<Probe>(std::ptr::null_mut());
    }

    #[test]
    fn guard_catches_panics_without_a_handle() {
        assert_eq!(
            guard(std::ptr::null_mut(), || panic!("no handle")),
            RSL_ERR_PANIC
        );
        assert_eq!(
            with_handle::<Probe>(std::ptr::null(), std::ptr::null_mut(), |_| Ok(())),
            RSL_ERR_NULL_ARGUMENT
        );
        assert_eq!(message(), "handle: must not be NULL");
    }

    /// The body of `a_caught_panic_prints_nothing_unless_asked`, which runs
    /// it in a child process; a no-op in the normal test run.
    #[test]
    fn panic_output_child() {
        if std::env::var_os("RSL_TEST_PANIC_CHILD").is_none() {
            return;
        }
        let mut e = blank_error();
        assert_eq!(
            guard(&mut e, || panic!("boom-inside-the-boundary")),
            RSL_ERR_PANIC
        );
        let got = text(&e.message);
        assert!(
            got.contains("boom-inside-the-boundary (at src/ffi/mod.rs:"),
            "{got}"
        );
        let mut h: *mut Probe = std::ptr::null_mut();
        assert_eq!(store_handle(&mut h, std::ptr::null_mut(), || Ok(1)), RSL_OK);
        assert_eq!(
            with_handle(h, &mut e, |_| -> FfiResult { panic!("boom-in-a-handle") }),
            RSL_ERR_PANIC
        );
        assert!(text(&e.message).contains("boom-in-a-handle (at "));
        free_handle(h);
        let outside = std::panic::catch_unwind(|| panic!("boom-outside-the-boundary"));
        assert!(outside.is_err());
        println!("panic-output-child: done");
    }

    #[test]
    fn a_caught_panic_prints_nothing_unless_asked() {
        let run = |wanted: Option<&str>| {
            let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
            cmd.args([
                "--exact",
                "ffi::tests::panic_output_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("RSL_TEST_PANIC_CHILD", "1")
            .env_remove("RSL_PANIC_OUTPUT");
            if let Some(v) = wanted {
                cmd.env("RSL_PANIC_OUTPUT", v);
            }
            let out = cmd.output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(out.status.success(), "{stdout}\n{stderr}");
            assert!(stdout.contains("panic-output-child: done"), "{stdout}");
            stderr
        };
        let quiet = run(None);
        assert!(!quiet.contains("boom-inside"), "{quiet}");
        assert!(!quiet.contains("boom-in-a-handle"), "{quiet}");
        // A panic outside the boundary still reaches the previous hook.
        assert!(quiet.contains("boom-outside-the-boundary"), "{quiet}");
        let loud = run(Some("1"));
        assert!(loud.contains("boom-inside-the-boundary"), "{loud}");
        assert!(loud.contains("boom-in-a-handle"), "{loud}");
    }

    #[test]
    fn store_handle_leaves_out_untouched_on_error() {
        let sentinel = 0x10 as *mut Probe;
        let mut h = sentinel;
        let status = store_handle(&mut h, std::ptr::null_mut(), || {
            Err(Failure::argument("x", "bad"))
        });
        assert_eq!(status, RSL_ERR_INVALID_ARGUMENT);
        assert_eq!(h, sentinel);
        assert_eq!(message(), "x: bad");
        assert_eq!(
            store_handle::<Probe>(std::ptr::null_mut(), std::ptr::null_mut(), || Ok(1)),
            RSL_ERR_NULL_ARGUMENT
        );
    }

    fn text(buf: &[c_char]) -> String {
        // SAFETY: copy_c_text always NUL-terminates inside the buffer.
        unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    }

    fn blank_error() -> rsl_error {
        rsl_error {
            status: 12345,
            field: [0x55; RSL_ERROR_FIELD_CAPACITY],
            message: [0x55; RSL_ERROR_MESSAGE_CAPACITY],
        }
    }

    #[test]
    fn a_failing_call_hands_back_its_error_and_a_successful_one_leaves_it() {
        let mut e = blank_error();
        let status = guard(&mut e, || {
            Err(Failure::argument("backoff.factor", "must be >= 1, got 0.5"))
        });
        assert_eq!(status, RSL_ERR_INVALID_ARGUMENT);
        assert_eq!(e.status, RSL_ERR_INVALID_ARGUMENT);
        assert_eq!(text(&e.field), "backoff.factor");
        assert_eq!(text(&e.message), "backoff.factor: must be >= 1, got 0.5");
        assert_eq!(message(), "backoff.factor: must be >= 1, got 0.5");
        let before = (e.status, e.field, e.message);
        assert_eq!(guard(&mut e, || Ok(())), RSL_OK);
        assert_eq!(
            (e.status, e.field, e.message),
            before,
            "untouched on success"
        );
        assert_eq!(
            message(),
            "",
            "the thread-local message is cleared on success"
        );
    }

    #[test]
    fn a_message_without_a_field_prefix_names_no_field() {
        let mut e = blank_error();
        assert_eq!(guard(&mut e, || panic!("deep trouble")), RSL_ERR_PANIC);
        assert_eq!(text(&e.field), "");
        assert!(text(&e.message).starts_with("internal error"));
        for (msg, field) in [
            ("cfg.struct_size: 3 is not", "cfg.struct_size"),
            ("shares[2]: too big", "shares[2]"),
            ("no field here", ""),
            ("two words: no", ""),
            (": empty", ""),
        ] {
            assert_eq!(
                Failure::new(RSL_ERR_INVALID_CONFIG, msg).field(),
                field,
                "{msg}"
            );
        }
    }

    #[test]
    fn long_messages_are_cut_at_a_character_boundary_and_nuls_become_spaces() {
        let mut e = blank_error();
        let long = format!("field: {}", "é".repeat(300));
        assert_eq!(
            guard(&mut e, || Err(Failure::argument("x", "a\0b"))),
            RSL_ERR_INVALID_ARGUMENT
        );
        assert_eq!(text(&e.message), "x: a b");
        let _ = guard(&mut e, || {
            Err(Failure::new(RSL_ERR_INVALID_CONFIG, long.clone()))
        });
        let got = text(&e.message);
        assert!(got.len() < RSL_ERROR_MESSAGE_CAPACITY);
        assert!(
            long.starts_with(&got),
            "a prefix of the message, valid UTF-8"
        );
        assert!(got.len() >= RSL_ERROR_MESSAGE_CAPACITY - 2);
    }

    #[test]
    fn references_keep_a_handle_alive_until_the_last_release() {
        struct Counted(#[allow(dead_code)] std::sync::Arc<()>);
        struct Holder(Handle<Counted>);
        opaque!(Holder, Counted);
        let alive = std::sync::Arc::new(());
        let mut h: *mut Holder = std::ptr::null_mut();
        assert_eq!(
            store_handle(&mut h, std::ptr::null_mut(), || Ok(Counted(alive.clone()))),
            RSL_OK
        );
        assert_eq!(retain_handle(h), h);
        assert_eq!(retain_handle(h), h);
        assert_eq!(std::sync::Arc::strong_count(&alive), 2);
        free_handle(h);
        free_handle(h);
        assert_eq!(
            std::sync::Arc::strong_count(&alive),
            2,
            "one reference left"
        );
        assert_eq!(with_handle(h, std::ptr::null_mut(), |_| Ok(())), RSL_OK);
        free_handle(h);
        assert_eq!(
            std::sync::Arc::strong_count(&alive),
            1,
            "the last release dropped it"
        );
        assert!(retain_handle::<Holder>(std::ptr::null_mut()).is_null());
    }

    #[test]
    fn references_taken_and_given_back_on_many_threads_free_exactly_once() {
        struct Counted(#[allow(dead_code)] std::sync::Arc<()>);
        struct Holder(Handle<Counted>);
        opaque!(Holder, Counted);
        let alive = std::sync::Arc::new(());
        let mut h: *mut Holder = std::ptr::null_mut();
        assert_eq!(
            store_handle(&mut h, std::ptr::null_mut(), || Ok(Counted(alive.clone()))),
            RSL_OK
        );
        let addr = h as usize;
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let mine = retain_handle(addr as *mut Holder) as usize;
                std::thread::spawn(move || {
                    let h = mine as *mut Holder;
                    for _ in 0..1000 {
                        let extra = retain_handle(h);
                        assert_eq!(with_handle(extra, std::ptr::null_mut(), |_| Ok(())), RSL_OK);
                        free_handle(extra);
                    }
                    free_handle(h);
                })
            })
            .collect();
        free_handle(h); // the creator's reference goes while the threads run
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(std::sync::Arc::strong_count(&alive), 1);
    }

    #[test]
    fn the_monotonic_clamp_is_per_handle_and_opt_in() {
        let mut h: *mut Probe = std::ptr::null_mut();
        assert_eq!(store_handle(&mut h, std::ptr::null_mut(), || Ok(0)), RSL_OK);
        let seen = |h: *mut Probe, now: i64| {
            let mut got = 0;
            assert_eq!(
                with_handle_at(h, now, std::ptr::null_mut(), |_, n| {
                    got = n;
                    Ok(())
                }),
                RSL_OK
            );
            got
        };
        assert_eq!(seen(h, 100), 100);
        assert_eq!(seen(h, 50), 50, "off by default: time may go back");
        assert_eq!(
            set_monotonic(h, 2, std::ptr::null_mut()),
            RSL_ERR_INVALID_CONFIG
        );
        assert_eq!(set_monotonic(h, 1, std::ptr::null_mut()), RSL_OK);
        assert_eq!(seen(h, 100), 100);
        assert_eq!(seen(h, 50), 100);
        assert_eq!(seen(h, 150), 150);
        // A call without a time does not feed the clamp: negative instants
        // stay usable after it. (Off, then on: re-enabling starts afresh.)
        assert_eq!(set_monotonic(h, 0, std::ptr::null_mut()), RSL_OK);
        assert_eq!(set_monotonic(h, 1, std::ptr::null_mut()), RSL_OK);
        assert_eq!(seen(h, -100), -100);
        assert_eq!(with_handle(h, std::ptr::null_mut(), |_| Ok(())), RSL_OK);
        assert_eq!(seen(h, -90), -90);
        assert_eq!(seen(h, -95), -90);
        assert_eq!(
            set_monotonic::<Probe>(std::ptr::null(), 1, std::ptr::null_mut()),
            RSL_ERR_NULL_ARGUMENT
        );
        free_handle(h);
    }

    /// A config whose first release ended after `a` (MIN_SIZE 8): `b` came later.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Versioned {
        struct_size: u32,
        a: u32,
        b: u64,
    }

    impl VersionedStruct for Versioned {
        const MIN_SIZE: usize = 8;
        fn stamp(&mut self) {
            self.struct_size = 16;
        }
    }

    const DEFAULTS: Versioned = Versioned {
        struct_size: 16,
        a: 1,
        b: 2,
    };

    fn read(bytes: &[u64]) -> Result<Versioned, rsl_status> {
        read_versioned(bytes.as_ptr().cast::<Versioned>(), DEFAULTS, "cfg").map_err(|f| f.status)
    }

    #[test]
    fn an_older_caller_keeps_the_defaults_of_fields_it_does_not_know() {
        // struct_size 8, a = 5; the bytes after it are not the caller's.
        let old = [8u64 | (5u64 << 32), 0xdead_beef];
        assert_eq!(
            read(&old),
            Ok(Versioned {
                struct_size: 16,
                a: 5,
                b: 2
            })
        );
    }

    #[test]
    fn a_newer_caller_is_read_when_its_extra_fields_are_zero() {
        let newer = [24u64 | (5u64 << 32), 9, 0];
        assert_eq!(read(&newer).map(|v| (v.a, v.b)), Ok((5, 9)));
        let asks_more = [24u64 | (5u64 << 32), 9, 1];
        assert_eq!(read(&asks_more), Err(RSL_ERR_CONFIG_UNSUPPORTED));
    }

    #[test]
    fn a_zeroed_config_is_refused_naming_struct_size() {
        let zeroed = [16u64, 0];
        let failure = read_versioned(zeroed.as_ptr().cast::<Versioned>(), DEFAULTS, "cfg");
        assert!(failure.is_err_and(|f| f.status == RSL_ERR_INVALID_CONFIG
            && f.field() == "cfg.struct_size"
            && f.message.contains("_config_init")));
        // An older caller's zeroed prefix is refused the same way.
        assert_eq!(read(&[8, 0xdead_beef]), Err(RSL_ERR_INVALID_CONFIG));
        // One byte set is a config (whether valid is the primitive's call).
        assert!(read(&[16, 1 << 40]).is_ok());
    }

    #[test]
    fn a_wrong_struct_size_is_an_error() {
        assert_eq!(read(&[4, 0]), Err(RSL_ERR_CONFIG_SIZE));
        assert_eq!(read(&[0, 0]), Err(RSL_ERR_CONFIG_SIZE));
        assert_eq!(read(&[5000, 0]), Err(RSL_ERR_CONFIG_SIZE));
        let bytes = [4u64, 0];
        let failure = read_versioned(bytes.as_ptr().cast::<Versioned>(), DEFAULTS, "cfg");
        assert!(failure.is_err_and(|f| f.message.starts_with("cfg.struct_size:")));
        let null: *const Versioned = std::ptr::null();
        assert_eq!(
            read_versioned(null, DEFAULTS, "cfg").map_err(|f| f.status),
            Ok(DEFAULTS)
        );
    }

    #[test]
    fn an_older_out_struct_gets_only_its_prefix() {
        let mut out = [8u64, 0xffff_ffff_ffff_ffff];
        let value = Versioned {
            struct_size: 0,
            a: 3,
            b: 4,
        };
        let status = guard(std::ptr::null_mut(), || {
            write_versioned(out.as_mut_ptr().cast::<Versioned>(), value, "out")
        });
        assert_eq!(status, RSL_OK);
        assert_eq!(out[0], 8 | (3 << 32));
        assert_eq!(out[1], 0xffff_ffff_ffff_ffff);
    }

    #[test]
    fn now_ns_is_the_raw_monotonic_clock() {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: a valid timespec out-parameter.
        let before = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        assert_eq!(before, 0);
        let raw_before = ts.tv_sec * 1_000_000_000 + ts.tv_nsec;
        let ours = rsl_now_ns();
        // SAFETY: as above.
        assert_eq!(
            unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) },
            0
        );
        let raw_after = ts.tv_sec * 1_000_000_000 + ts.tv_nsec;
        assert!(
            raw_before <= ours && ours <= raw_after,
            "{raw_before} {ours} {raw_after}"
        );
    }

    #[test]
    fn every_status_has_text() {
        for s in [
            RSL_OK,
            RSL_ERR_NULL_ARGUMENT,
            RSL_ERR_INVALID_ARGUMENT,
            RSL_ERR_INVALID_CONFIG,
            RSL_ERR_CONFIG_SIZE,
            RSL_ERR_CONFIG_UNSUPPORTED,
            RSL_ERR_EXCEEDS_CAPACITY,
            RSL_ERR_PANIC,
            RSL_ERR_POISONED,
        ] {
            // SAFETY: static strings.
            let text = unsafe { CStr::from_ptr(rsl_status_str(s)) };
            assert_ne!(text.to_bytes(), b"unknown status");
        }
        // SAFETY: static string.
        assert_eq!(
            unsafe { CStr::from_ptr(rsl_status_str(-1)) }.to_bytes(),
            b"unknown status"
        );
    }
}
