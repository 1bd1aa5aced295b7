//! An allocator that counts, for the allocation tests: install it in a test binary with
//!
//! ```ignore
//! #[global_allocator]
//! static COUNTING: support::alloc::Counting = support::alloc::Counting;
//! ```
//!
//! and [`measure`] what a piece of work allocates. Only the allocations made on the measuring
//! thread while the work runs are counted: counts are deterministic where times are not.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, counting on each thread what [`measure`] asks it to.
pub struct Counting;

/// What a measured piece of work allocated.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Calls to `alloc`, `alloc_zeroed` and `realloc`.
    pub allocations: usize,
    /// The most bytes live at once, counted from the start of the measurement (memory allocated
    /// before and freed during it lowers the count: keep requests small where this is read).
    pub peak_bytes: usize,
}

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn record(allocated: isize, counts_as_allocation: bool) {
    // `try_with`: the thread may be tearing its locals down.
    let _ = ON.try_with(|on| {
        if !on.get() {
            return;
        }
        if counts_as_allocation {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
        LIVE.with(|live| {
            live.set(live.get() + allocated);
            PEAK.with(|peak| peak.set(peak.get().max(live.get())));
        });
    });
}

fn size(layout: Layout) -> isize {
    isize::try_from(layout.size()).unwrap_or(isize::MAX)
}

// SAFETY: every call is forwarded unchanged to the system allocator; the bookkeeping touches only
// `const`-initialised thread-local cells, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(size(layout), true);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        record(-size(layout), false);
        System.dealloc(ptr, layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(size(layout), true);
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let grown = isize::try_from(new_size).unwrap_or(isize::MAX) - size(layout);
        record(grown, true);
        System.realloc(ptr, layout, new_size)
    }
}

/// Runs `work` on this thread and reports what it allocated (with [`Counting`] installed as the
/// global allocator; otherwise nothing is counted).
pub fn measure<T>(work: impl FnOnce() -> T) -> (T, Usage) {
    ALLOCATIONS.with(|n| n.set(0));
    LIVE.with(|n| n.set(0));
    PEAK.with(|n| n.set(0));
    ON.with(|on| on.set(true));
    let output = work();
    ON.with(|on| on.set(false));
    let usage = Usage {
        allocations: ALLOCATIONS.with(Cell::get),
        peak_bytes: usize::try_from(PEAK.with(Cell::get)).unwrap_or(0),
    };
    (output, usage)
}
