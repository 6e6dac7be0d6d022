//! # One name per experiment: the registry, the code, the test and the chapter.
//!
//! Every tour entry's name is derived from its module path by the registry's
//! `entry!` macro: the module's main entry is named as the module
//! (`clone_vm`), a further case `<module>.<case>` (`newns.propagation`). The
//! module lives in `src/experiments/<module>.rs` (or a folder of that name),
//! its test in `tests/<module>.rs`, its chapter in `docs/<module>.md` and the
//! chapter's short program in `examples/<module>.rs`. This test checks that
//! each of those files is there for every entry, so a new experiment cannot
//! drift from the scheme.
//!
//! It reads the source tree, so inside the test VMs (which hold only the test
//! binaries) it reports a skip.

use crate::common;

use clonelab::experiments::ALL;
use std::path::Path;

/// Every tour entry is named after its module (or `<module>.<case>`), and its
/// module, test, chapter and example exist under that one name.
#[test]
fn every_entry_has_its_module_test_chapter_and_example() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if !root.join("src/experiments").is_dir() {
        common::skip("no source tree here to look for the files (host only)");
        return;
    }
    let mut missing = Vec::new();
    for entry in ALL {
        let module = entry.module;
        let case = entry.name.strip_prefix(module).unwrap_or("?");
        assert!(
            case.is_empty()
                || case.strip_prefix('.').is_some_and(|c| {
                    !c.is_empty() && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                }),
            "entry {:?} is neither `{module}` nor `{module}.<case>`",
            entry.name
        );
        assert_eq!(entry.chapter, format!("docs/{module}.md"), "{}", entry.name);
        let source = root.join(format!("src/experiments/{module}.rs"));
        let folder = root.join(format!("src/experiments/{module}/mod.rs"));
        if !source.is_file() && !folder.is_file() {
            missing.push(format!("{}: src/experiments/{module}.rs", entry.name));
        }
        for file in [
            format!("tests/{module}.rs"),
            entry.chapter.to_string(),
            format!("examples/{module}.rs"),
        ] {
            if !root.join(&file).is_file() {
                missing.push(format!("{}: {file}", entry.name));
            }
        }
    }
    assert!(missing.is_empty(), "missing: {missing:#?}");
    let mut names: Vec<&str> = ALL.iter().map(|e| e.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), ALL.len(), "two entries share a name");
}
