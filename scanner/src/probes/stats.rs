//! The one statistics function every timing-bearing probe uses.
//!
//! [`summarize`] turns millisecond samples into a [`TimingSummary`]
//! (median, MAD, p95, CV, …); [`slope`] fits RTT against request index, the
//! "rising latency" fact of the rate-limit and xpub probes. Both ignore
//! non-finite samples, so a bogus value can never poison a summary.

use observatory_model::probes::TimingSummary;

/// Summary of `samples` (milliseconds). Empty input gives the all-zero summary with `n = 0`.
pub fn summarize(samples: &[f64]) -> TimingSummary {
    let mut v: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return TimingSummary::default();
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let mean = v.iter().sum::<f64>() / n as f64;
    let stdev = if n > 1 {
        (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    let median = median_sorted(&v);
    let mut deviations: Vec<f64> = v.iter().map(|x| (x - median).abs()).collect();
    deviations.sort_by(f64::total_cmp);
    TimingSummary {
        n: u32::try_from(n).unwrap_or(u32::MAX),
        min_ms: v.first().copied().unwrap_or_default(),
        median_ms: median,
        mad_ms: median_sorted(&deviations),
        p95_ms: nearest_rank(&v, 0.95),
        max_ms: v.last().copied().unwrap_or_default(),
        mean_ms: mean,
        stdev_ms: stdev,
        cv: if mean > 0.0 { stdev / mean } else { 0.0 },
    }
}

/// Least-squares slope of `samples[i]` against `i` (ms per request); None with fewer than 3 samples.
pub fn slope(samples: &[f64]) -> Option<f64> {
    let points: Vec<(f64, f64)> = samples
        .iter()
        .enumerate()
        .filter(|(_, y)| y.is_finite())
        .map(|(i, y)| (i as f64, *y))
        .collect();
    if points.len() < 3 {
        return None;
    }
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

fn median_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => v.get(n / 2).copied().unwrap_or_default(),
        _ => {
            (v.get(n / 2 - 1).copied().unwrap_or_default()
                + v.get(n / 2).copied().unwrap_or_default())
                / 2.0
        }
    }
}

/// Nearest-rank percentile of sorted, non-empty `v` (`q` in (0, 1]).
fn nearest_rank(v: &[f64], q: f64) -> f64 {
    let rank = (q * v.len() as f64).ceil() as usize;
    v.get(rank.saturating_sub(1)).copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_distribution() {
        let s = summarize(&[5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!(s.n, 5);
        assert_eq!(s.min_ms, 1.0);
        assert_eq!(s.max_ms, 5.0);
        assert_eq!(s.median_ms, 3.0);
        assert_eq!(s.mad_ms, 1.0);
        assert_eq!(s.p95_ms, 5.0);
        assert_eq!(s.mean_ms, 3.0);
        assert!((s.stdev_ms - 2.5f64.sqrt()).abs() < 1e-12);
        assert!((s.cv - 2.5f64.sqrt() / 3.0).abs() < 1e-12);
    }

    #[test]
    fn even_count_median_and_p95_nearest_rank() {
        let samples: Vec<f64> = (1..=20).map(f64::from).collect();
        let s = summarize(&samples);
        assert_eq!(s.median_ms, 10.5);
        assert_eq!(s.p95_ms, 19.0);
    }

    #[test]
    fn degenerate_inputs() {
        assert_eq!(summarize(&[]), TimingSummary::default());
        let s = summarize(&[f64::NAN, 7.0, f64::INFINITY]);
        assert_eq!((s.n, s.median_ms, s.stdev_ms, s.cv), (1, 7.0, 0.0, 0.0));
        assert_eq!(summarize(&[0.0, 0.0]).cv, 0.0);
    }

    #[test]
    fn slope_of_a_line() {
        assert_eq!(slope(&[1.0, 3.0, 5.0, 7.0]), Some(2.0));
        assert_eq!(slope(&[4.0, 4.0, 4.0]), Some(0.0));
        assert_eq!(slope(&[1.0, 2.0]), None);
    }
}
