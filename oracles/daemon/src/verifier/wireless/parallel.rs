//! Work split over the machine's cores in consecutive parts, each part
//! writing its own slice of one output: an epoch's millions of rows are
//! filled where they lie instead of being gathered from per-thread vectors
//! (whose copies cost as much as the work). Results never depend on the
//! split: every part computes the same per-row values.

use std::ops::Range;

/// Fewest rows worth a thread.
const MIN_PART: usize = 4096;

/// `0..len` in consecutive ranges, one per core (one when small).
pub(super) fn ranges(len: usize) -> Vec<Range<usize>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let part = if threads == 1 || len < MIN_PART {
        len.max(1)
    } else {
        len.div_ceil(threads)
    };
    (0..len)
        .step_by(part)
        .map(|start| start..(start + part).min(len))
        .collect()
}

/// `f` over each of `parts` on its own thread, results in order.
pub(super) fn on_threads<P: Send, R: Send>(parts: Vec<P>, f: impl Fn(P) -> R + Sync) -> Vec<R> {
    if parts.len() <= 1 {
        return parts.into_iter().map(f).collect();
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| {
                let f = &f;
                scope.spawn(move || f(part))
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("a scoring thread panicked"))
            .collect()
    })
}

/// `f` on every element of `rows`, in place, on every core.
pub(super) fn for_each_mut<T: Send>(rows: &mut [T], f: impl Fn(&mut T) + Sync) {
    let parts = ranges(rows.len());
    let part = parts.first().map_or(1, |range| range.len().max(1));
    on_threads(rows.chunks_mut(part).collect(), |chunk| {
        chunk.iter_mut().for_each(&f)
    });
}

/// Splits `slice` into consecutive parts of `lengths`.
pub(super) fn split_by<'a, T>(mut slice: &'a mut [T], lengths: &[usize]) -> Vec<&'a mut [T]> {
    let mut parts = Vec::with_capacity(lengths.len());
    for &length in lengths {
        let (part, rest) = slice.split_at_mut(length);
        parts.push(part);
        slice = rest;
    }
    parts
}
