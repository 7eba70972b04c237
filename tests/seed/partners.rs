//! A partner university with a contact person and two logged contacts: #1 with a follow-up
//! that fell due on 27 November, #2 with one due on 10 December. (Media partners: `press`.)

use chancery::core::partner::{NewContact, Partner, PartnerPerson};
use chancery::store::Store;
use chrono::Duration;

use super::{IRO_OFFICER, now};

pub async fn seed(store: &Store) {
    let partners = store.partners();
    let tartu = Partner::check("ut", "University of Tartu", "EE", "university", "ut.ee").expect("a seed partner is valid");
    partners.add(&tartu, IRO_OFFICER, now() - Duration::days(30)).await.expect("seed partner");
    let person = PartnerPerson::check("Kadri Tamm", "kadri.tamm@ut.ee", "Erasmus coordinator").expect("a seed person is valid");
    partners.add_person("ut", &person).await.expect("seed partner person");
    let contacts = [
        (11, "call", "Discussed the spring exchange", "2026-11-27"),
        (6, "meeting", "Signed the Erasmus+ agreement in Tartu", "2026-12-10"),
    ];
    for (days_ago, via, summary, follow_up) in contacts {
        let at = now() - Duration::days(days_ago);
        let follow_up = chrono::NaiveDate::parse_from_str(follow_up, "%Y-%m-%d").ok();
        let contact = NewContact::check(via, summary, follow_up, at.date_naive()).expect("a seed contact is valid");
        partners.add_contact(&crate::support::reminder_policy(), "ut", &contact, IRO_OFFICER, at).await.expect("seed contact");
    }
}
