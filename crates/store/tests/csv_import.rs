//! CSV import of extensions: good files, bad rows by line number, the weak-password escape
//! hatch, and a file of 3,000 rows.

mod common;

use common::base_document;
use std::fmt::Write as _;
use std::time::Instant;
use store::secrets::ha1_sha256;
use store::{import_extensions_csv, Config, ConfigErrors, ImportOptions, Store};

fn base() -> Config {
    Config::from_toml(&base_document(), None).expect("valid")
}

fn import(csv: &str) -> Result<Config, ConfigErrors> {
    import_extensions_csv(csv.as_bytes(), &base(), ImportOptions::default())
}

fn errors(csv: &str) -> Vec<String> {
    match import(csv) {
        Ok(_) => panic!("expected the import to fail"),
        Err(e) => e.errors().iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn good_file_adds_extensions_and_users() {
    let csv = "number,password,name,user\n\
               1001,Correct-Horse-1x,\"Smith, Jane\",jane\n\
               1002,Correct-Horse-2y,,\n";
    let merged = import(csv).expect("valid");
    assert_eq!(merged.extensions.len(), 5);
    let e = merged.extension("1001").expect("1001");
    assert_eq!(
        e.credentials.ha1_sha256(),
        ha1_sha256("1001", "test", "Correct-Horse-1x")
    );
    let jane = merged.user("jane").expect("jane");
    assert_eq!(jane.full_name, "Smith, Jane");
    assert_eq!(jane.extension.as_deref(), Some("1001"));
    let u = merged.user("user1002").expect("default login");
    assert_eq!(u.full_name, "Extension 1002");
    // The base is untouched and first.
    assert_eq!(merged.extensions[..3], base().extensions[..]);
}

#[test]
fn columns_in_any_order_with_full_name() {
    let csv =
        "Full_Name, user ,name,password,number\nJane Smith,js,ignored,Correct-Horse-1x,1001\n";
    let merged = import(csv).expect("valid");
    assert_eq!(merged.user("js").expect("js").full_name, "Jane Smith");
}

#[test]
fn byte_order_mark_and_crlf_from_spreadsheets() {
    let csv = "\u{feff}number,password,name\r\n1001,Correct-Horse-1x,A\r\n";
    let merged = import(csv).expect("valid");
    assert!(merged.extension("1001").is_some());
}

#[test]
fn bad_rows_are_all_reported_with_line_numbers() {
    let csv = "number,password,name\n\
               1005,Correct-Horse-1x,A\n\
               10a6,Correct-Horse-1x,B\n\
               1005,Correct-Horse-1x,C\n\
               1007,Correct-Horse-1x\n\
               201,Correct-Horse-1x,E\n\
               1009,weak,F\n";
    assert_eq!(
        errors(csv),
        [
            "line 3: number: must be 2 to 15 digits (got \"10a6\")",
            "line 4: number: duplicate of line 2 (\"1005\")",
            "line 5: expected 3 columns, found 2",
            "line 6: number: extension \"201\" already exists",
            "line 7: password: too weak: at least 12 characters with 3 of lower/upper/digit/symbol",
        ]
    );
}

#[test]
fn user_clashing_with_the_base_is_reported() {
    let csv = "number,password,name,user\n1001,Correct-Horse-1x,A,alice\n";
    assert_eq!(errors(csv), ["line 2: user: user \"alice\" already exists"]);
}

#[test]
fn number_of_a_hunt_group_is_reported() {
    let mut base = base();
    base.hunt_groups
        .push(store::HuntGroup::new("sales", "1001", &["201"]));
    base.validate().expect("valid base");
    let csv = "number,password,name\n1001,Correct-Horse-1x,A\n";
    match import_extensions_csv(csv.as_bytes(), &base, ImportOptions::default()) {
        Ok(_) => panic!("expected the import to fail"),
        Err(e) => assert_eq!(
            e.to_string(),
            "line 2: number: \"1001\" is already hunt group sales"
        ),
    }
}

#[test]
fn header_problems() {
    assert_eq!(
        errors("number,password\n1001,Correct-Horse-1x\n"),
        ["line 1: missing column \"name\" (a header row naming number, password, name is required)"]
    );
    assert_eq!(
        errors("number,password,name,colour\n1001,Correct-Horse-1x,A,red\n"),
        ["line 1: unknown column \"colour\" (known: number, password, name, full_name, user)"]
    );
    assert_eq!(
        errors("number,password,name\n"),
        ["line 2: the file has no rows to import"]
    );
}

#[test]
fn weak_passwords_need_the_escape_hatch() {
    let csv = "number,password,name\n1000,pw1000,A\n1001,pw1001,B\n";
    let e = errors(csv);
    assert_eq!(e.len(), 2);
    assert!(e[0].starts_with("line 2: password: too weak"));
    let allow = ImportOptions {
        allow_weak_passwords: true,
    };
    let merged = import_extensions_csv(csv.as_bytes(), &base(), allow).expect("allowed");
    assert_eq!(
        merged
            .extension("1001")
            .expect("1001")
            .credentials
            .ha1_sha256(),
        ha1_sha256("1001", "test", "pw1001")
    );
    // Even then a password must be something a phone can hold.
    let empty = "number,password,name\n1000,,A\n";
    let e = import_extensions_csv(empty.as_bytes(), &base(), allow).expect_err("empty");
    assert_eq!(e.to_string(), "line 2: password: must not be empty");
}

#[test]
fn three_thousand_rows_import_apply_and_round_trip() {
    let mut csv = String::from("number,password,name\n");
    for n in 1000..4000 {
        let _ = writeln!(csv, "{n},pw{n},Bench {n}");
    }
    let started = Instant::now();
    let merged = import_extensions_csv(
        csv.as_bytes(),
        &base(),
        ImportOptions {
            allow_weak_passwords: true,
        },
    )
    .expect("valid");
    let took = started.elapsed();
    assert_eq!(merged.extensions.len(), 3003);
    assert_eq!(merged.users.len(), 3001);
    // Generous even for a debug build on a busy machine; release takes milliseconds.
    assert!(took.as_secs() < 10, "import took {took:?}");

    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(dir.path()).expect("open");
    store.apply(&base(), "admin", "cli").expect("apply base");
    store
        .apply(&merged, "admin", "cli import --allow-weak-passwords")
        .expect("apply import");
    let (version, current) = store.current().expect("current").expect("some");
    assert_eq!(version, 2);
    assert_eq!(current, merged);
    let summary = &store.audit(1).expect("audit")[0];
    assert_eq!(summary.detail, "user user3999 added");
}

#[test]
fn damaged_files_never_panic() {
    use rand::{Rng, SeedableRng};
    let good = b"number,password,name,user\n1001,Correct-Horse-1x,\"Smith, Jane\",jane\n";
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let alphabet = b",\"\n\r0123456789aZ \xff\xc3";
    let base = base();
    for _ in 0..2000 {
        let mut b = good.to_vec();
        for _ in 0..rng.gen_range(1..4) {
            let i = rng.gen_range(0..b.len());
            b[i] = alphabet[rng.gen_range(0..alphabet.len())];
        }
        let _ = import_extensions_csv(&b[..], &base, ImportOptions::default());
    }
}
