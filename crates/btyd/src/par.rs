//! Work split over threads for the per-row sums and maps. Rows are cut into fixed chunks and
//! chunk results are added in chunk order, so results are bit-identical for any thread count.

use std::ops::Range;

/// Rows per chunk.
pub(crate) const CHUNK: usize = 2048;

/// Threads to use when the caller asks for 0 (“all”): the machine's available parallelism.
pub(crate) fn resolve_threads(threads: usize) -> usize {
    if threads == 0 {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    } else {
        threads
    }
}

/// Σ over chunks of `f(chunk)`, element-wise, added in chunk order.
pub(crate) fn reduce<const N: usize, F>(n: usize, threads: usize, f: F) -> [f64; N]
where
    F: Fn(Range<usize>) -> [f64; N] + Sync,
{
    let chunks = n.div_ceil(CHUNK);
    let range = |c: usize| c * CHUNK..((c + 1) * CHUNK).min(n);
    let threads = resolve_threads(threads).min(chunks).max(1);
    let mut parts: Vec<[f64; N]> = vec![[0.0; N]; chunks];
    if threads == 1 {
        for (c, part) in parts.iter_mut().enumerate() {
            *part = f(range(c));
        }
    } else {
        let f = &f;
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|k| {
                    scope.spawn(move || {
                        (k..chunks)
                            .step_by(threads)
                            .map(|c| (c, f(range(c))))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for handle in handles {
                // A panicking worker is a bug in this crate; surface it as NaN, not a panic.
                if let Ok(done) = handle.join() {
                    for (c, v) in done {
                        parts[c] = v;
                    }
                } else {
                    parts.fill([f64::NAN; N]);
                }
            }
        });
    }
    let mut total = [0.0; N];
    for part in parts {
        for (t, p) in total.iter_mut().zip(part) {
            *t += p;
        }
    }
    total
}

/// `out[i] = f(i)` for every i, in parallel over chunks.
pub(crate) fn fill<F>(out: &mut [f64], threads: usize, f: F)
where
    F: Fn(usize) -> f64 + Sync,
{
    let threads = resolve_threads(threads)
        .min(out.len().div_ceil(CHUNK))
        .max(1);
    if threads == 1 {
        for (i, o) in out.iter_mut().enumerate() {
            *o = f(i);
        }
        return;
    }
    let f = &f;
    let per = out.len().div_ceil(threads).div_ceil(CHUNK) * CHUNK;
    std::thread::scope(|scope| {
        for (k, part) in out.chunks_mut(per).enumerate() {
            scope.spawn(move || {
                for (j, o) in part.iter_mut().enumerate() {
                    *o = f(k * per + j);
                }
            });
        }
    });
}
