//! The binaries reach the store only through this crate: no Tauri command, no
//! `cws` subcommand and nothing else in either binary names the store handle,
//! a store transaction, the local file's administration, SQL, or the card
//! proof beneath the services. A line that does fails this test with its place.

use std::path::{Path, PathBuf};

/// What only the services may use.
const FORBIDDEN: [(&str, &str); 9] = [
    ("Store::", "opens or makes a store directly"),
    ("store::Store", "names the store handle"),
    ("&Store", "takes the store handle"),
    ("StoreTransaction", "runs a store transaction"),
    ("LocalFileAdmin", "administers the local file directly"),
    ("sqlx", "speaks SQL"),
    ("access::prove_card_holder", "proves a card beneath the services"),
    ("access::anyone_may", "reads enrolments beneath the services"),
    ("access::card_holder", "reads enrolments beneath the services"),
];

/// Every line of `source` that reaches past the services, with why.
fn violations(source: &str) -> Vec<(usize, &'static str)> {
    source
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
        .flat_map(|(number, line)| {
            FORBIDDEN
                .iter()
                .filter(move |(pattern, _)| names(line, pattern))
                .map(move |(_, why)| (number + 1, *why))
        })
        .collect()
}

/// Whether `line` holds `pattern` as a whole name: `store::Store` is not `store::StoreError`.
fn names(line: &str, pattern: &str) -> bool {
    let is_name = |c: char| c.is_alphanumeric() || c == '_';
    line.match_indices(pattern).any(|(at, _)| {
        let after = line[at + pattern.len()..].chars().next();
        !pattern.ends_with(is_name) || !after.is_some_and(is_name)
    })
}

fn rust_files(folder: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder).expect("a source folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    found
}

#[test]
fn the_app_and_cws_reach_the_store_only_through_the_services() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut problems = Vec::new();
    let mut checked = 0;
    for folder in ["src-tauri/src", "crates/cli/src"] {
        for file in rust_files(&workspace.join(folder)) {
            checked += 1;
            let source = std::fs::read_to_string(&file).expect("readable source");
            for (line, why) in violations(&source) {
                problems.push(format!("{}:{line} {why}; call a service instead", file.display()));
            }
        }
    }
    assert!(checked > 20, "the binaries' sources were found ({checked} files)");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_check_finds_a_command_that_reaches_past_the_services() {
    let command = "pub async fn peek(state: State<'_, AppState>) {\n    let store = Store::open(&path).await?;\n    // Store:: in a comment is no call\n}";
    assert_eq!(violations(command), [(2, "opens or makes a store directly")]);
    assert_eq!(violations("let rows = sqlx::query(\"SELECT 1\");"), [(1, "speaks SQL")]);
    assert!(violations("services::patients::search(context, &acting, &query, 50)").is_empty());
    assert!(
        violations("impl From<store::StoreError> for Failure {").is_empty(),
        "an error type is not the handle"
    );
    assert_eq!(violations("fn f(store: &Store) {}"), [(1, "takes the store handle")]);
}
