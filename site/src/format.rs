//! Number formatting shared by the views.

/// `0.4123` → `41.2%`.
pub fn percent(fraction: f64) -> String {
    if fraction.is_finite() {
        format!("{:.1}%", fraction * 100.0)
    } else {
        "–".into()
    }
}

/// Milliseconds with a unit, or a dash.
pub fn millis(ms: Option<f64>) -> String {
    match ms {
        Some(v) if v.is_finite() => format!("{v:.0} ms"),
        _ => "–".into(),
    }
}

/// A float with `digits` decimals, or a dash when not finite.
pub fn fixed(value: f64, digits: usize) -> String {
    if value.is_finite() {
        format!("{value:.digits$}")
    } else {
        "–".into()
    }
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Byte sizes: `512 B`, `3.4 KB`, `1.2 MB` (powers of 1,000).
pub fn bytes(n: u64) -> String {
    // Sizes of our own files: far below 2^53, so the float conversion is exact enough.
    let f = n as f64;
    if n < 1_000 {
        format!("{n} B")
    } else if n < 1_000_000 {
        format!("{:.1} KB", f / 1e3)
    } else {
        format!("{:.1} MB", f / 1e6)
    }
}

/// `Some(x)` as text, or a dash.
pub fn or_dash<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "–".into(), |v| v.to_string())
}

/// `2026-11-21T12:40:00Z` → `2026-11-21 12:40 UTC` (other shapes unchanged).
pub fn timestamp(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16), rfc3339.ends_with('Z')) {
        (Some(date), Some(time), true) if rfc3339.get(10..11) == Some("T") => format!("{date} {time} UTC"),
        _ => rfc3339.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(percent(0.41234), "41.2%");
        assert_eq!(percent(f64::NAN), "–");
        assert_eq!(millis(Some(12.6)), "13 ms");
        assert_eq!(millis(None), "–");
        assert_eq!(fixed(0.12345, 3), "0.123");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(100), "100");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1500), "1.5 KB");
        assert_eq!(bytes(2_500_000), "2.5 MB");
        assert_eq!(or_dash(Some(3)), "3");
        assert_eq!(or_dash::<u8>(None), "–");
        assert_eq!(timestamp("2026-11-21T12:40:00Z"), "2026-11-21 12:40 UTC");
        assert_eq!(timestamp("yesterday"), "yesterday");
    }
}
