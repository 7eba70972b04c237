//! A line of a document's history as the core words it; the store adds when and by whom.

/// One line of a document's history, as `record_history` writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryLine {
    pub action: &'static str,
    pub field: Option<&'static str>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub reason: Option<String>,
}
