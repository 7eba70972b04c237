//! `file-plan.toml` read with the rules: the plan, and every mistake at its line.

use super::{errors_of, files};
use crate::core::archive::{Action, Retention, Trigger};
use crate::core::rules::RuleBook;

const PLAN: &str = r#"default_class = "07-01"

[[class]]
code = "07-01"
title = "General correspondence"
retention = "3y"
action = "destroy"

[[class]]
code = "07-02"
title = "Transitory mail"
retention = "30d"
trigger = "registered"
action = "destroy"

[[class]]
code = "05-02"
title = "Agreements"
retention = "permanent"
vital = true
"#;

const RULE: &str = r#"
[[rule]]
name = "Bills"
subject = "invoice"
classification = "07-02"
"#;

#[test]
fn the_plan_is_read_with_the_rules() {
    let book = RuleBook::parse(&files(&[("file-plan.toml", PLAN), ("20-test.toml", RULE)])).expect("parses");
    let plan = book.file_plan().expect("a plan");
    assert_eq!(plan.default_class, "07-01");
    let transitory = plan.class("07-02").unwrap();
    assert_eq!((transitory.retention, transitory.trigger, transitory.action), (Retention::Days(30), Trigger::Registered, Action::Destroy));
    let agreements = plan.class("05-02").unwrap();
    assert_eq!((agreements.retention, agreements.vital, agreements.trigger), (Retention::Permanent, true, Trigger::CaseClosed));
}

#[test]
fn without_a_plan_classifications_are_not_checked() {
    let book = RuleBook::parse(&files(&[("20-test.toml", RULE)])).expect("parses");
    assert!(book.file_plan().is_none());
}

#[test]
fn every_mistake_is_named_at_its_line() {
    let broken = r#"default_class = "09-09"

[[class]]
code = "07-01"
title = "General correspondence"
action = "destroy"

[[class]]
code = "07-01"
title = "Again"
retention = "3y"
action = "shred"

[[class]]
code = "07-03"
title = "Odd"
retention = "3 years"
trigger = "opened"
action = "destroy"
colour = "red"
"#;
    let rule = "[[rule]]\nname = \"Bills\"\nsubject = \"invoice\"\nclassification = \"99-99\"\n";
    assert_eq!(
        errors_of(&[("file-plan.toml", broken), ("20-test.toml", rule)]),
        [
            "20-test.toml:4: classification \"99-99\" is not a class of file-plan.toml",
            "file-plan.toml:3: class \"07-01\" has no `retention`",
            "file-plan.toml:12: unknown action \"shred\"; actions: destroy, review, transfer",
            "file-plan.toml:17: retention must be \"permanent\" or a period such as \"10y\", \"6m\" or \"30d\", not \"3 years\"",
            "file-plan.toml:18: unknown trigger \"opened\"; triggers: case-closed, registered",
            "file-plan.toml:20: unknown key `colour` in a class; see mail-rules/README.md for the keys there are",
        ]
    );
    let twice = "default_class = \"07-01\"\n[[class]]\ncode = \"07-01\"\ntitle = \"A\"\nretention = \"1y\"\naction = \"destroy\"\n\
                 [[class]]\ncode = \"07-01\"\ntitle = \"B\"\nretention = \"2y\"\naction = \"review\"\n";
    assert_eq!(errors_of(&[("file-plan.toml", twice)]), ["file-plan.toml:7: class \"07-01\" is in the plan twice; the first is at line 2"]);
    let no_default = "[[class]]\ncode = \"07-01\"\ntitle = \"A\"\nretention = \"1y\"\naction = \"destroy\"\n";
    assert_eq!(
        errors_of(&[("file-plan.toml", no_default)]),
        ["file-plan.toml: no `default_class`: name the class that takes every document without a classification"]
    );
    let unknown_default =
        "default_class = \"09-09\"\n[[class]]\ncode = \"07-01\"\ntitle = \"A\"\nretention = \"1y\"\naction = \"destroy\"\n";
    assert_eq!(errors_of(&[("file-plan.toml", unknown_default)]), ["file-plan.toml:1: default_class \"09-09\" is not a class of the plan"]);
}
