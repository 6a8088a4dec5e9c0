//! The contract of `jiesu import`, run as a user would: its last lines, the rejects file, a second
//! run that skips everything, `jiesu check` on the result, and a missing column.

use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_jiesu"))
        .env("RUST_LOG", "warn")
        .env_remove("JIESU_DB")
        .env_remove("JIESU_CONFIG")
        .args(args)
        .output()
        .expect("run jiesu");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

const HEADER: &str = "CASE_ENQUIRY_ID,OPEN_DT,TARGET_DT,CLOSED_DT,CASE_STATUS,CLOSURE_REASON,CASE_TITLE,\
                      SUBJECT,REASON,TYPE,Location,LATITUDE,LONGITUDE,Source,neighborhood,ward";

#[test]
fn import_ends_with_its_counts_and_skips_on_a_second_run() {
    let dir = tempfile::tempdir().unwrap();
    let tail = "Public Works Department,Highway Maintenance,Request for Pothole Repair,1 Main St,42.33,-71.07,\
                Citizens Connect App,South End,Ward 3";
    let rows = [
        HEADER.to_string(),
        format!(
            "1,03/02/2015 08:00:00 AM,03/05/2015 08:00:00 AM,03/03/2015 09:30:00 AM,Closed,Case Resolved,Pothole,{tail}"
        ),
        format!("2,03/02/2015 08:00:00 AM,03/05/2015 08:00:00 AM,,Open,,Pothole,{tail}"),
        format!(
            "3,03/02/2015 08:00:00 AM,03/05/2015 08:00:00 AM,03/01/2015 09:30:00 AM,Closed,Case Resolved,Pothole,{tail}"
        ),
    ];
    let file = dir.path().join("boston.csv");
    std::fs::write(&file, rows.join("\n") + "\n").unwrap();
    let db = format!("sqlite://{}", dir.path().join("b.db").display());
    let rejects = dir.path().join("rejects.csv");
    let args = ["import", "--db", &db, "--mapping", "boston311", "--rejects", rejects.to_str().unwrap()];
    let (code, out, err) = run(&[&args[..], &[file.to_str().unwrap()]].concat());
    assert_eq!(code, 0, "{out}{err}");
    let last: Vec<&str> = out.lines().rev().take(4).collect();
    assert_eq!(last[1..], ["rejected: 1", "skipped: 0", "imported: 2"], "{out}");
    assert!(last[0].starts_with("cases_per_s: "), "{out}");
    assert!(out.contains("rejected line 4: closed before opened"), "{out}");
    let written = std::fs::read_to_string(&rejects).unwrap();
    assert!(written.lines().nth(1).is_some_and(|l| l.starts_with("4,\"closed before opened")), "{written}");

    let (code, out, _) = run(&[&args[..], &[file.to_str().unwrap()]].concat());
    assert_eq!(code, 0);
    assert!(out.contains("imported: 0\nskipped: 2\nrejected: 1\n"), "{out}");
    let (code, out, err) = run(&["check", "--db", &db]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("checked 2 cases"), "{out}");

    let missing = dir.path().join("missing.csv");
    std::fs::write(&missing, "CASE_ENQUIRY_ID,OPEN_DT\n1,03/02/2015 08:00:00 AM\n").unwrap();
    let (code, _, err) = run(&["import", "--db", &db, "--mapping", "boston311", missing.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("no column \"TARGET_DT\"") && err.contains("the columns found are: CASE_ENQUIRY_ID, OPEN_DT"),
        "{err}"
    );
}
