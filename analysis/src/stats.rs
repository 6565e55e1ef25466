//! Small descriptive statistics over `f64` samples (NaN-free by construction).
//!
//! Every function ignores non-finite samples, because timing values come from
//! files a scanner wrote and may be anything.

/// Finite samples, sorted ascending.
pub fn sorted_finite(samples: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Median (mean of the two middle values for even counts).
pub fn median(samples: &[f64]) -> Option<f64> {
    let v = sorted_finite(samples);
    let n = v.len();
    if n == 0 {
        return None;
    }
    let mid = n / 2;
    if n % 2 == 1 {
        v.get(mid).copied()
    } else {
        Some((v.get(mid - 1)? + v.get(mid)?) / 2.0)
    }
}

/// Nearest-rank percentile, `p` in [0, 100].
pub fn percentile(samples: &[f64], p: f64) -> Option<f64> {
    let v = sorted_finite(samples);
    if v.is_empty() {
        return None;
    }
    let rank = ((p.clamp(0.0, 100.0) / 100.0) * v.len() as f64).ceil() as usize;
    v.get(rank.saturating_sub(1).min(v.len() - 1)).copied()
}

/// Mean.
pub fn mean(samples: &[f64]) -> Option<f64> {
    let v = sorted_finite(samples);
    if v.is_empty() {
        return None;
    }
    Some(v.iter().sum::<f64>() / v.len() as f64)
}

/// Sample standard deviation (n − 1); None below two samples.
pub fn stdev(samples: &[f64]) -> Option<f64> {
    let v = sorted_finite(samples);
    if v.len() < 2 {
        return None;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    Some((v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt())
}

/// Coefficient of variation (stdev / mean); None below two samples or when the mean is 0.
pub fn cv(samples: &[f64]) -> Option<f64> {
    let m = mean(samples)?;
    if m.abs() < f64::EPSILON {
        return None;
    }
    Some(stdev(samples)? / m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        type Case<'a> = (&'a [f64], Option<f64>, Option<f64>, Option<f64>);
        let cases: &[Case<'_>] = &[
            (&[], None, None, None),
            (&[5.0], Some(5.0), Some(5.0), None),
            (&[1.0, 3.0], Some(2.0), Some(3.0), Some(2f64.sqrt() / 2.0)),
            (
                &[4.0, 1.0, 2.0, 3.0, f64::NAN],
                Some(2.5),
                Some(4.0),
                Some(1.290_994_448_735_805_6 / 2.5),
            ),
        ];
        for (s, med, p95, c) in cases {
            assert_eq!(median(s), *med, "{s:?}");
            assert_eq!(percentile(s, 95.0), *p95, "{s:?}");
            match (cv(s), c) {
                (Some(a), Some(b)) => assert!((a - b).abs() < 1e-9, "{s:?} {a} {b}"),
                (a, b) => assert_eq!(a, *b, "{s:?}"),
            }
        }
    }
}
