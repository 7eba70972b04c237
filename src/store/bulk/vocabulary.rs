//! What synthetic letters are made of: their subjects (in three languages) with how often each
//! comes, the fields and partners they name, their senders' names and domains.

pub(super) struct Topic {
    pub(super) subject: &'static str,
    pub(super) unit: &'static str,
    pub(super) classification: &'static str,
    pub(super) tags: &'static [&'static str],
    pub(super) confidential: bool,
    pub(super) weight: u32,
}

const fn topic(
    subject: &'static str,
    unit: &'static str,
    classification: &'static str,
    tags: &'static [&'static str],
    weight: u32,
) -> Topic {
    Topic { subject, unit, classification, tags, confidential: false, weight }
}

const fn confidential(subject: &'static str, unit: &'static str, classification: &'static str, weight: u32) -> Topic {
    Topic { subject, unit, classification, tags: &[], confidential: true, weight }
}

/// What letters are about, with how often (relative weights): a few subjects make most of the
/// mail, as in any register.
pub(super) const TOPICS: &[Topic] = &[
    topic("Invitation to the international conference on {field}", "international", "03-01", &["conference"], 14),
    topic("Invoice for laboratory equipment", "finance", "05-02", &["invoice"], 12),
    topic("Erasmus+ mobility: nomination of students in {field}", "international", "03-02", &["erasmus"], 10),
    topic("Request for transcript verification", "students", "07-01", &["transcript"], 9),
    topic("Tələbə mübadiləsi proqramı üzrə müraciət", "students", "07-02", &[], 8),
    topic("Memorandum of understanding with {partner}", "international", "03-03", &["agreement"], 6),
    topic("Əməkdaşlıq memorandumu layihəsi: {field}", "international", "03-03", &["agreement"], 6),
    topic("Ödəniş qəbzi və müqavilə surəti", "finance", "05-02", &[], 5),
    topic("Запрос о сотрудничестве: {partner}", "international", "03-03", &[], 5),
    topic("Приглашение на научную конференцию", "international", "03-01", &["conference"], 4),
    topic("Visa support letter for a visiting researcher", "international", "03-04", &["visa"], 4),
    topic("Nazirliyin əmri: tədris ilinin təqvimi", "rectorate", "01-01", &[], 4),
    topic("Dissertasiya müdafiəsi haqqında məlumat", "students", "07-03", &[], 3),
    topic("Grant report for the project on {field}", "finance", "05-04", &["grant"], 3),
    topic("Счёт на оплату услуг связи", "finance", "05-02", &["invoice"], 3),
    confidential("Job application: lecturer in {field}", "hr", "02-01", 3),
    topic("Accreditation visit schedule", "rectorate", "01-03", &[], 2),
    confidential("Personal file update", "hr", "02-02", 2),
    confidential("Medical certificate of an employee", "hr", "02-03", 1),
];

pub(super) const FIELDS: &[&str] = &[
    "renewable energy",
    "petroleum engineering",
    "computer science",
    "linguistics",
    "international law",
    "economics",
    "chemistry",
    "public health",
    "architecture",
    "mathematics",
    "history",
    "agriculture",
    "geology",
    "philology",
    "tourism",
    "ecology",
];

pub(super) const PARTNERS: &[&str] = &[
    "Heidelberg University",
    "Middle East Technical University",
    "Tbilisi State University",
    "Lomonosov Moscow State University",
    "University of Oxford",
    "Istanbul Technical University",
    "Kazan Federal University",
    "University of Bologna",
    "Jagiellonian University",
    "Sorbonne University",
];

pub(super) const SENTENCES: &[&str] = &[
    "Dear colleagues, please find attached the documents on {field} for your consideration.",
    "We would be grateful if you could confirm receipt of this letter at your earliest convenience.",
    "The committee will review all applications in {field} and notify the candidates by the end of the term.",
    "Should you require any further information, do not hesitate to contact our office.",
    "Hörmətli həmkarlar, sizə {field} üzrə əməkdaşlıq təklifimizi təqdim edirik.",
    "Xahiş edirik, əlavə olunmuş sənədləri nəzərdən keçirib rəyinizi bildirəsiniz.",
    "Görüşün vaxtı və yeri barədə əlavə məlumat veriləcək.",
    "Уважаемые коллеги, направляем вам проект соглашения о сотрудничестве.",
    "Просим рассмотреть приложенные документы и сообщить о вашем решении до конца месяца.",
    "Конференция пройдёт в очном формате; регистрация участников открыта до 15 числа.",
];

pub(super) const FIRST_NAMES: &[(&str, &str)] = &[
    ("Aysel", "aysel"),
    ("Rəşad", "rashad"),
    ("Leyla", "leyla"),
    ("Orxan", "orkhan"),
    ("Nigar", "nigar"),
    ("Elçin", "elchin"),
    ("Anna", "anna"),
    ("John", "john"),
    ("Mehmet", "mehmet"),
    ("Ольга", "olga"),
    ("Иван", "ivan"),
    ("Giorgi", "giorgi"),
    ("Maria", "maria"),
    ("Pierre", "pierre"),
    ("Günel", "gunel"),
    ("Tural", "tural"),
];

pub(super) const LAST_NAMES: &[(&str, &str)] = &[
    ("Məmmədova", "mammadova"),
    ("Əliyev", "aliyev"),
    ("Hüseynova", "huseynova"),
    ("Müller", "mueller"),
    ("Smith", "smith"),
    ("Yılmaz", "yilmaz"),
    ("Петрова", "petrova"),
    ("Кузнецов", "kuznetsov"),
    ("Beridze", "beridze"),
    ("Rossi", "rossi"),
    ("Dubois", "dubois"),
    ("Qasımov", "gasimov"),
    ("Babayeva", "babayeva"),
    ("Kaya", "kaya"),
];

pub(super) const INSTITUTIONS: &[&str] = &[
    "adu",
    "bsu",
    "unec",
    "asoiu",
    "ada",
    "khazar",
    "msu",
    "spbu",
    "hse",
    "kpfu",
    "metu",
    "itu",
    "boun",
    "hacettepe",
    "tsu",
    "ilia",
    "uni-heidelberg",
    "tum",
    "lmu",
    "ox",
    "cam",
    "ucl",
    "unibo",
    "uniroma1",
    "sorbonne",
    "uva",
    "ku",
    "uw",
    "cuni",
    "elte",
    "edu.gov",
    "mfa",
    "embassy",
    "erasmus-plus",
    "daad",
    "britishcouncil",
    "tubitak",
    "rsf",
    "kpmg",
    "azercell",
];

pub(super) const SUFFIXES: &[&str] = &[".edu.az", ".az", ".ru", ".edu.tr", ".ge", ".de", ".ac.uk", ".eu"];
