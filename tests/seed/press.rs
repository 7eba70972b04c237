//! The newsrooms press releases go to: two media partners, three journalists' addresses.

use chancery::core::partner::{Partner, PartnerPerson};
use chancery::store::Store;

use super::{ADMIN, now};

pub async fn seed(store: &Store) {
    let newsrooms = [
        ("caspian-wire", "Caspian Wire News Agency", "AZ", "caspianwire.example", &[("Nigar Məmmədova", "desk@caspianwire.example")][..]),
        (
            "euro-campus",
            "Euro Campus Magazine",
            "BE",
            "eurocampus.example",
            &[("Jan Peeters", "jan.peeters@eurocampus.example"), ("News desk", "news@eurocampus.example")][..],
        ),
    ];
    for (handle, name, country, domain, people) in newsrooms {
        let partner = Partner::check(handle, name, country, "media", domain).expect("a seed partner is valid");
        store.partners().add(&partner, ADMIN, now()).await.expect("seed media partner");
        for (person, email) in people {
            let person = PartnerPerson::check(person, email, "journalist").expect("a seed person is valid");
            store.partners().add_person(handle, &person).await.expect("seed journalist");
        }
    }
}
