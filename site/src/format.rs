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

/// A float with `digits` decimals, or a dash when not finite. Never `-0.0`:
/// a score of negative zero (or one that rounds to zero) prints as `0.0`.
pub fn fixed(value: f64, digits: usize) -> String {
    if !value.is_finite() {
        return "–".into();
    }
    let text = format!("{value:.digits$}");
    match text.strip_prefix('-') {
        Some(rest) if rest.bytes().all(|b| b == b'0' || b == b'.') => rest.to_owned(),
        _ => text,
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

/// Largest count printed without decimals (beyond, floats stop being exact integers).
const MAX_EXACT_COUNT: f64 = 9_007_199_254_740_992.0;

/// A metric with its unit: whole numbers as counts (`1,385 servers`), the
/// rest with one decimal (`78.1 %`).
pub fn with_unit(value: f64, unit: &str) -> String {
    let number = if value.is_finite() && value.fract() == 0.0 && value.abs() < MAX_EXACT_COUNT {
        // Integral and exactly representable: the cast is exact.
        let n = thousands(value.abs() as u64);
        if value < 0.0 {
            format!("-{n}")
        } else {
            n
        }
    } else {
        fixed(value, 1)
    };
    if unit.is_empty() {
        number
    } else {
        format!("{number} {unit}")
    }
}

/// `2026-11-21T12:40:00Z` → `2026-11-21 12:40 UTC` (other shapes unchanged).
pub fn timestamp(rfc3339: &str) -> String {
    match (
        rfc3339.get(..10),
        rfc3339.get(11..16),
        rfc3339.ends_with('Z'),
    ) {
        (Some(date), Some(time), true) if rfc3339.get(10..11) == Some("T") => {
            format!("{date} {time} UTC")
        }
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
        assert_eq!(fixed(-0.0, 1), "0.0");
        assert_eq!(fixed(-0.04, 1), "0.0");
        assert_eq!(fixed(-0.06, 1), "-0.1");
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
        assert_eq!(with_unit(1385.0, "servers"), "1,385 servers");
        assert_eq!(with_unit(78.125, "%"), "78.1 %");
        assert_eq!(with_unit(0.0, "ASNs"), "0 ASNs");
        assert_eq!(with_unit(-3.0, ""), "-3");
        assert_eq!(with_unit(f64::NAN, "x"), "– x");
    }
}
