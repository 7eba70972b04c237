//! IMAP sequence sets: `1:5,7,9:12`.

/// Writes UIDs as a compact sequence set; the input may be in any order.
pub fn compress(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts = Vec::new();
    let mut iter = sorted.into_iter().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end = iter.next().unwrap_or(end);
        }
        parts.push(if start == end { start.to_string() } else { format!("{start}:{end}") });
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    #[test]
    fn compresses_runs() {
        assert_eq!(super::compress(&[5, 1, 2, 3, 7, 9, 10, 10]), "1:3,5,7,9:10");
        assert_eq!(super::compress(&[]), "");
    }
}
