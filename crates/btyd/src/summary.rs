//! The model input: one row per distinct (x, t_x, T) customer summary with the number of
//! customers sharing it, built and validated from per-customer column slices; and the index map
//! that scatters per-row predictions back to customers.

use crate::error::{Error, Result};

/// Recency may exceed age by this relative amount (rounding in the caller's day → week
/// conversion) and is then clamped to age; anything larger is an error.
const RECENCY_SLACK: f64 = 1e-9;

/// Customer summaries for fitting, sorted by (x, t_x, T) ascending, each row unique when built by
/// [`Summary::collapse`]. Times are in the caller's unit (weeks in the literature); all columns
/// have the same length.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// x: number of repeat transactions (total transactions − 1) in calibration; whole numbers.
    pub x: Vec<f64>,
    /// t_x: recency, time of the last transaction minus time of the first; 0 when x = 0.
    pub t_x: Vec<f64>,
    /// T: age, end of calibration minus time of the first transaction; t_x ≤ T.
    pub t: Vec<f64>,
    /// Number of customers sharing the row (positive; need not be whole when built by `new`).
    pub weight: Vec<f64>,
}

impl Summary {
    /// Validates per-customer columns and collapses them into unique weighted (x, t_x, T) rows
    /// sorted ascending by x, then t_x, then T (a deterministic order). Returns the summary and,
    /// for each input customer, the row of the summary it went to, so that
    /// [`Summary::scatter`] can hand per-row predictions back to customers.
    ///
    /// Rules: all values finite and ≥ 0; x whole; t_x ≤ T (a relative excess below 1e-9 is
    /// rounding and is clamped to T); t_x = 0 when x = 0. Errors name the first bad row.
    ///
    /// # Errors
    /// [`Error::Empty`], [`Error::LengthMismatch`], [`Error::TooManyRows`] and the per-row
    /// validation errors.
    pub fn collapse(x: &[f64], t_x: &[f64], t: &[f64]) -> Result<(Summary, Vec<u32>)> {
        let n = x.len();
        if t_x.len() != n || t.len() != n {
            return Err(Error::LengthMismatch {
                what: format!("x {n}, t_x {}, T {}", t_x.len(), t.len()),
            });
        }
        if n == 0 {
            return Err(Error::Empty);
        }
        if u32::try_from(n).is_err() {
            return Err(Error::TooManyRows { rows: n });
        }
        let mut rows: Vec<(f64, f64, f64, u32)> = Vec::with_capacity(n);
        for i in 0..n {
            let (a, b, c) = validate_row(i, x[i], t_x[i], t[i])?;
            // i < n ≤ u32::MAX, checked above.
            rows.push((a, b, c, i as u32));
        }
        // Ties keep input order (the row index is the last key), so the result is deterministic.
        rows.sort_unstable_by(|a, b| {
            a.0.total_cmp(&b.0)
                .then(a.1.total_cmp(&b.1))
                .then(a.2.total_cmp(&b.2))
                .then(a.3.cmp(&b.3))
        });
        let mut summary = Summary {
            x: Vec::new(),
            t_x: Vec::new(),
            t: Vec::new(),
            weight: Vec::new(),
        };
        let mut index = vec![0u32; n];
        let mut last: Option<(f64, f64, f64)> = None;
        for &(a, b, c, i) in &rows {
            let row = (a, b, c);
            if last != Some(row) {
                summary.x.push(a);
                summary.t_x.push(b);
                summary.t.push(c);
                summary.weight.push(0.0);
                last = Some(row);
            }
            let k = summary.weight.len() - 1;
            summary.weight[k] += 1.0;
            // k < n ≤ u32::MAX.
            index[i as usize] = k as u32;
        }
        Ok((summary, index))
    }

    /// Validates already-aggregated rows (same rules as [`Summary::collapse`], weights finite
    /// and > 0) and sorts them by (x, t_x, T); rows are not merged.
    ///
    /// # Errors
    /// As [`Summary::collapse`], plus a weight that is not finite or not positive.
    pub fn new(x: Vec<f64>, t_x: Vec<f64>, t: Vec<f64>, weight: Vec<f64>) -> Result<Summary> {
        let n = x.len();
        if t_x.len() != n || t.len() != n || weight.len() != n {
            return Err(Error::LengthMismatch {
                what: format!(
                    "x {n}, t_x {}, T {}, weight {}",
                    t_x.len(),
                    t.len(),
                    weight.len()
                ),
            });
        }
        if n == 0 {
            return Err(Error::Empty);
        }
        let mut rows = Vec::with_capacity(n);
        for i in 0..n {
            let (xi, ti, tt) = validate_row(i, x[i], t_x[i], t[i])?;
            let w = weight[i];
            if !w.is_finite() {
                return Err(Error::NotFinite {
                    row: i,
                    column: "weight",
                });
            }
            if w <= 0.0 {
                return Err(Error::Negative {
                    row: i,
                    column: "weight",
                    value: w,
                });
            }
            rows.push((xi, ti, tt, w));
        }
        rows.sort_by(|a, b| {
            a.0.total_cmp(&b.0)
                .then(a.1.total_cmp(&b.1))
                .then(a.2.total_cmp(&b.2))
        });
        Ok(Summary {
            x: rows.iter().map(|r| r.0).collect(),
            t_x: rows.iter().map(|r| r.1).collect(),
            t: rows.iter().map(|r| r.2).collect(),
            weight: rows.iter().map(|r| r.3).collect(),
        })
    }

    /// Number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.x.len()
    }

    /// Whether there are no rows (never true for a validated summary).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// Total weight: the number of customers.
    #[must_use]
    pub fn total_weight(&self) -> f64 {
        self.weight.iter().sum()
    }

    /// Sends per-row values back to customers: `out[i] = per_row[index[i]]`, with `index` from
    /// [`Summary::collapse`]. Entries of `index` beyond `per_row` give NaN.
    #[must_use]
    pub fn scatter(per_row: &[f64], index: &[u32]) -> Vec<f64> {
        index
            .iter()
            .map(|&k| per_row.get(k as usize).copied().unwrap_or(f64::NAN))
            .collect()
    }
}

/// Checks one (x, t_x, T) row; returns it with t_x clamped into [0, T] within the slack.
fn validate_row(row: usize, x: f64, t_x: f64, t: f64) -> Result<(f64, f64, f64)> {
    for (value, column) in [(x, "x"), (t_x, "t_x"), (t, "T")] {
        if !value.is_finite() {
            return Err(Error::NotFinite { row, column });
        }
        if value < 0.0 {
            return Err(Error::Negative { row, column, value });
        }
    }
    if x != x.trunc() {
        return Err(Error::NonIntegerCount { row, value: x });
    }
    let mut t_x = t_x;
    if t_x > t {
        if t_x - t <= RECENCY_SLACK * t.max(1.0) {
            t_x = t;
        } else {
            return Err(Error::RecencyAfterAge { row, t_x, t });
        }
    }
    if x == 0.0 && t_x != 0.0 {
        return Err(Error::RecencyWithoutRepeat { row, t_x });
    }
    // -0.0 and 0.0 compare equal but sort apart under total_cmp: store +0.0.
    Ok((x + 0.0, t_x + 0.0, t + 0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapse_merges_sorts_and_maps_back() {
        let x = [2.0, 0.0, 2.0, 1.0, 0.0];
        let tx = [3.0, 0.0, 3.0, 1.5, 0.0];
        let t = [5.0, 4.0, 5.0, 2.0, 6.0];
        let (s, idx) = Summary::collapse(&x, &tx, &t).unwrap();
        assert_eq!(s.x, vec![0.0, 0.0, 1.0, 2.0]);
        assert_eq!(s.t, vec![4.0, 6.0, 2.0, 5.0]);
        assert_eq!(s.weight, vec![1.0, 1.0, 1.0, 2.0]);
        assert_eq!(idx, vec![3, 0, 3, 2, 1]);
        let per_row = [10.0, 11.0, 12.0, 13.0];
        assert_eq!(
            Summary::scatter(&per_row, &idx),
            vec![13.0, 10.0, 13.0, 12.0, 11.0]
        );
        assert_eq!(s.total_weight(), 5.0);
    }

    #[test]
    fn validation_errors_are_typed() {
        assert_eq!(Summary::collapse(&[], &[], &[]).unwrap_err(), Error::Empty);
        assert!(matches!(
            Summary::collapse(&[1.0], &[1.0, 2.0], &[3.0]),
            Err(Error::LengthMismatch { .. })
        ));
        assert!(matches!(
            Summary::collapse(&[-1.0], &[0.0], &[3.0]),
            Err(Error::Negative { column: "x", .. })
        ));
        assert!(matches!(
            Summary::collapse(&[1.5], &[1.0], &[3.0]),
            Err(Error::NonIntegerCount { .. })
        ));
        assert!(matches!(
            Summary::collapse(&[1.0], &[4.0], &[3.0]),
            Err(Error::RecencyAfterAge { .. })
        ));
        assert!(matches!(
            Summary::collapse(&[0.0], &[1.0], &[3.0]),
            Err(Error::RecencyWithoutRepeat { .. })
        ));
        assert!(matches!(
            Summary::collapse(&[1.0], &[f64::NAN], &[3.0]),
            Err(Error::NotFinite { column: "t_x", .. })
        ));
        assert!(matches!(
            Summary::new(vec![1.0], vec![1.0], vec![2.0], vec![0.0]),
            Err(Error::Negative {
                column: "weight",
                ..
            })
        ));
        // Rounding slack: clamped, not refused.
        let (s, _) = Summary::collapse(&[1.0], &[3.000_000_000_001], &[3.0]).unwrap();
        assert_eq!(s.t_x, vec![3.0]);
    }
}
