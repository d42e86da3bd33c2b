//! Medians, extremes and percentiles of durations.

use std::time::Duration;

/// Median (mean of the middle two for an even count). Panics on no samples.
pub fn median(samples: &[Duration]) -> Duration {
    let mut s = samples.to_vec();
    s.sort_unstable();
    let n = s.len();
    assert!(n > 0, "median of no samples");
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2
    }
}

/// Nearest-rank percentile, `p` in `0.0..=1.0`, of sorted samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    assert!(!sorted.is_empty(), "percentile of no samples");
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Median, min and max of a non-empty sample.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    /// Median.
    pub median: Duration,
    /// Fastest run.
    pub min: Duration,
    /// Slowest run.
    pub max: Duration,
}

impl Summary {
    /// Summarises `samples` (non-empty).
    pub fn of(samples: &[Duration]) -> Summary {
        Summary {
            median: median(samples),
            min: *samples.iter().min().expect("samples"),
            max: *samples.iter().max().expect("samples"),
        }
    }
}

/// Formats a duration with a unit that keeps 3 significant digits.
pub fn fmt_duration(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.1} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.1} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&x| Duration::from_millis(x)).collect()
    }

    #[test]
    fn median_odd_and_even() {
        assert_eq!(median(&ms(&[3, 1, 2])), Duration::from_millis(2));
        assert_eq!(median(&ms(&[4, 1, 2, 3])), Duration::from_micros(2_500));
    }

    #[test]
    fn nearest_rank() {
        let s = ms(&(1..=100).collect::<Vec<_>>());
        assert_eq!(percentile(&s, 0.5), Duration::from_millis(50));
        assert_eq!(percentile(&s, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&s[..1], 0.99), Duration::from_millis(1));
    }

    #[test]
    fn units() {
        assert_eq!(fmt_duration(Duration::from_nanos(950)), "950 ns");
        assert_eq!(fmt_duration(Duration::from_micros(31_200)), "31.2 ms");
        assert_eq!(fmt_duration(Duration::from_millis(5_100)), "5.10 s");
    }
}
