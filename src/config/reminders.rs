//! `[reminders]`: when reminders and digests fire.

use serde::Deserialize;

use super::{ConfigError, RegisterConfig};

/// When reminders and digests fire, and the visa kinds they know.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RemindersConfig {
    /// Run the scheduler in `serve`.
    pub enabled: bool,
    /// The hour of the office's day reminders counted from dates fire at.
    pub hour: u32,
    /// The visa kinds `!visa add` accepts.
    pub visa_kinds: Vec<String>,
    /// Days before a visa's apply-by date and its expiry.
    pub visa_lead_days: Vec<u32>,
    /// A visa kind's own lead days, e.g. `{ "e-visa" = [14, 3] }`.
    pub visa_lead_days_by_kind: std::collections::HashMap<String, Vec<u32>>,
    /// Days before an agreement's end and its notice deadline.
    pub agreement_lead_days: Vec<u32>,
    /// Working days before a letter's due date its assignee is reminded.
    pub letter_lead_working_days: u32,
    /// Hours before a meeting its participants get the agenda pack.
    pub agenda_pack_hours_before: u32,
    /// The weekly digest's day (`monday` … `sunday`) and hour, in the office's zone.
    pub digest_day: String,
    pub digest_hour: u32,
    /// The International Relations Office's unit: its managers hear of visas and agreements.
    pub office_unit: String,
}

impl Default for RemindersConfig {
    fn default() -> Self {
        RemindersConfig {
            enabled: true,
            hour: 9,
            visa_kinds: ["schengen", "national", "e-visa", "other"].map(String::from).to_vec(),
            visa_lead_days: vec![60, 30, 14, 7, 1],
            visa_lead_days_by_kind: Default::default(),
            agreement_lead_days: vec![180, 90, 30],
            letter_lead_working_days: 2,
            agenda_pack_hours_before: 24,
            digest_day: "monday".into(),
            digest_hour: 8,
            office_unit: "international".into(),
        }
    }
}

impl RemindersConfig {
    fn digest_weekday(&self) -> Result<chrono::Weekday, ConfigError> {
        self.digest_day.parse().map_err(|_| ConfigError::DigestDay(self.digest_day.clone()))
    }

    pub(super) fn check(&self) -> Result<(), ConfigError> {
        self.digest_weekday()?;
        if self.hour > 23 || self.digest_hour > 23 {
            return Err(ConfigError::Hours { hour: self.hour, digest_hour: self.digest_hour });
        }
        if self.visa_kinds.is_empty() {
            return Err(ConfigError::NoVisaKinds);
        }
        Ok(())
    }

    /// The scheduler's rules: these settings with the office's calendar, the units' heads and
    /// the address reminders are e-mailed from (`None`: Matrix only).
    pub fn policy(
        &self,
        register: &RegisterConfig,
        unit_head_emails: std::collections::HashMap<String, String>,
        mail_from: Option<String>,
    ) -> Result<crate::core::remind::Policy, ConfigError> {
        let mut policy = crate::core::remind::Policy::new(register.zone()?);
        policy.holidays = register.holidays.clone();
        policy.hour = self.hour;
        policy.visa_leads = self.visa_lead_days_by_kind.clone();
        policy.default_visa_leads = self.visa_lead_days.clone();
        policy.agreement_leads = self.agreement_lead_days.clone();
        policy.letter_lead_working_days = self.letter_lead_working_days;
        policy.agenda_pack_before = chrono::Duration::hours(i64::from(self.agenda_pack_hours_before));
        policy.digest_day = self.digest_weekday()?;
        policy.digest_hour = self.digest_hour;
        policy.office_unit = self.office_unit.clone();
        policy.unit_head_emails = unit_head_emails;
        policy.mail_from = mail_from;
        Ok(policy)
    }
}
