//! `regua import` of a large portfolio CSV, the real binary into a fresh
//! database per run: wall time (median, min–max), peak resident memory, and a
//! second import of the same file into the same database (every debtor
//! updated). Checks after each run that every debtor has a verdict.
//!
//! The file is made here from the simulator's portfolio (valid CPFs, every
//! UF, 2 % in the US with their zones, some debtors with two or three debts,
//! both date formats) in a temporary directory under /tmp, removed at the end.
//!
//! cargo build --release && cargo bench --profile release --bench import
//! Environment: REGUA_IMPORT_ROWS (1000000), REGUA_IMPORT_RUNS (3),
//! REGUA_IMPORT_BIN (else target/release/regua), REGUA_TEST_POSTGRES_URL
//! (then PostgreSQL too, each run in a schema of its own),
//! REGUA_IMPORT_WRITE=PATH (only write the file there, for a profiler).

use chrono::{Datelike, NaiveDate};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use regua::domain::{Debtor, Jurisdiction, Money, PhoneKind, Zone};
use regua::simulate::portfolio;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `REGUA_IMPORT_BIN`, else `target/release/regua` beside the directory this
/// bench runs from (`target/release/deps`).
fn binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("REGUA_IMPORT_BIN") {
        return bin.into();
    }
    let exe = std::env::current_exe().expect("current exe");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/release")
        .join("regua");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build --release` first",
        bin.display()
    );
    bin
}

const HEADER: [&str; 19] = [
    "external_id",
    "name",
    "document",
    "jurisdiction",
    "time_zone",
    "phone",
    "phone_consent",
    "work_phone",
    "work_phone_consent",
    "email",
    "segment",
    "tags",
    "debt_id",
    "creditor",
    "currency",
    "original",
    "balance",
    "interest_and_fees",
    "due_date",
];

fn amount(m: Money) -> String {
    format!("{}.{:02}", m.minor / 100, m.minor % 100)
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// Writes `rows` rows; how many debtors they hold.
fn write_portfolio(path: &Path, rows: usize) -> usize {
    let start = NaiveDate::from_ymd_opt(2026, 3, 2).expect("a date");
    let mut out = csv::Writer::from_path(path).expect("the CSV file");
    out.write_record(HEADER).expect("write");
    let (mut written, mut debtors) = (0, 0);
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    while written < rows {
        let d: Debtor = portfolio::debtor(1, debtors, start).debtor;
        debtors += 1;
        // A quarter owe two debts, one in twenty three.
        let debts = match rng.random_range(0..100) {
            0..5 => 3,
            5..25 => 2,
            _ => 1,
        }
        .min(rows - written);
        // A US state needs its zone; a Brazilian debtor's is their UF's.
        let zone = match (&d.jurisdiction, &d.time_zone) {
            (Jurisdiction::Us(_), Zone::Known(tz)) => tz.name(),
            (Jurisdiction::Us(_), Zone::Unknown(_)) => "America/New_York",
            _ => "",
        };
        let (mut phone, mut consent, mut work, mut work_consent) = ("", "", "", "");
        for p in &d.phones {
            if p.kind == PhoneKind::Work {
                (work, work_consent) = (&p.number, yes(p.consent));
            } else {
                (phone, consent) = (&p.number, yes(p.consent));
            }
        }
        let first = &d.debts[0];
        for k in 0..debts {
            let due = first.due_date - chrono::Days::new(30 * k as u64);
            // Spreadsheets in Brazil write the day first.
            let due = if debtors % 3 == 0 {
                format!("{:02}/{:02}/{}", due.day(), due.month(), due.year())
            } else {
                due.format("%Y-%m-%d").to_string()
            };
            out.write_record([
                d.external_id.as_str(),
                &d.name,
                &d.document.to_string(),
                &d.jurisdiction.to_string(),
                zone,
                phone,
                consent,
                work,
                work_consent,
                d.email.as_deref().unwrap_or(""),
                &d.segment,
                &d.tags.join(";"),
                &format!("CT-{}-{k}", d.id),
                &first.creditor,
                "BRL",
                &amount(first.original),
                &amount(first.balance),
                &amount(first.interest_and_fees),
                &due,
            ])
            .expect("write");
        }
        written += debts;
    }
    out.flush().expect("flush");
    debtors
}

struct Run {
    wall: Duration,
    /// Peak resident set, kilobytes.
    max_rss_kb: i64,
}

/// Runs the binary and waits for it with `wait4`, for its own peak memory.
#[expect(
    clippy::zombie_processes,
    reason = "reaped by wait4, which std does not offer"
)]
fn timed(bin: &Path, file: &Path, database: &str) -> Run {
    let started = Instant::now();
    let child = Command::new(bin)
        .arg("import")
        .arg(file)
        .args(["--database", database])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("regua runs");
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pid is our own child, not yet waited for; both pointers
    // are to live locals.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    assert_eq!(pid, child.id() as i32, "wait4");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "regua import failed: status {status}"
    );
    Run {
        wall,
        max_rss_kb: usage.ru_maxrss,
    }
}

fn report(label: &str, runs: &mut [Run]) {
    runs.sort_by_key(|r| r.wall);
    let secs: Vec<String> = runs
        .iter()
        .map(|r| format!("{:.1}", r.wall.as_secs_f64()))
        .collect();
    let median = runs[runs.len() / 2].wall.as_secs_f64();
    let rss = runs.iter().map(|r| r.max_rss_kb).max().unwrap_or(0);
    println!(
        "{label}: median {median:.1} s, min {:.1} s, max {:.1} s ({} runs: {}), peak RSS {} MB",
        runs[0].wall.as_secs_f64(),
        runs[runs.len() - 1].wall.as_secs_f64(),
        runs.len(),
        secs.join(", "),
        rss / 1024
    );
}

async fn count_sqlite(url: &str, sql: &str) -> i64 {
    let pool = sqlx::SqlitePool::connect(url).await.expect("the database");
    let n = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_one(&pool)
        .await
        .expect("count");
    pool.close().await;
    n
}

async fn postgres_schema(admin: &sqlx::PgPool, sql: String) {
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(admin)
        .await
        .expect("PostgreSQL answers");
}

/// Every debtor imported, each with one verdict.
fn check(label: &str, debtors: i64, verdicts: i64, expected: usize) {
    assert_eq!(
        (debtors, verdicts),
        (expected as i64, expected as i64),
        "{label}: debtors and verdicts after the import"
    );
}

#[tokio::main]
async fn main() {
    let rows = env("REGUA_IMPORT_ROWS", 1_000_000);
    let runs = env("REGUA_IMPORT_RUNS", 3).max(1);
    if let Some(path) = std::env::var_os("REGUA_IMPORT_WRITE") {
        let debtors = write_portfolio(Path::new(&path), rows);
        println!("{rows} rows, {debtors} debtors");
        return;
    }
    let bin = binary();
    let dir = tempfile::Builder::new()
        .prefix("regua-import-bench")
        .tempdir_in("/tmp")
        .expect("a temporary directory");
    let file = dir.path().join("portfolio.csv");
    let made = Instant::now();
    let debtors = write_portfolio(&file, rows);
    let size = std::fs::metadata(&file).expect("the file").len();
    println!(
        "{rows} rows, {debtors} debtors, {:.0} MB, written in {:.1} s; {}",
        size as f64 / 1e6,
        made.elapsed().as_secs_f64(),
        bin.display()
    );
    println!(
        "load average: {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );

    let (mut fresh, mut again) = (Vec::new(), Vec::new());
    for i in 0..runs {
        let db = dir.path().join(format!("run{i}.db"));
        let url = format!("sqlite://{}", db.display());
        fresh.push(timed(&bin, &file, &url));
        let (d, v) = (
            count_sqlite(&url, "SELECT COUNT(*) FROM debtors").await,
            count_sqlite(&url, "SELECT COUNT(*) FROM verdicts").await,
        );
        check("sqlite", d, v, debtors);
        again.push(timed(&bin, &file, &url));
        check(
            "sqlite again",
            count_sqlite(&url, "SELECT COUNT(*) FROM debtors").await,
            count_sqlite(&url, "SELECT COUNT(*) FROM verdicts").await,
            debtors,
        );
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
    }
    report("sqlite, new database", &mut fresh);
    report("sqlite, the same file again (all updated)", &mut again);

    let Ok(pg) = std::env::var("REGUA_TEST_POSTGRES_URL") else {
        println!("PostgreSQL skipped: REGUA_TEST_POSTGRES_URL is not set");
        return;
    };
    let admin = sqlx::PgPool::connect(&pg).await.expect("PostgreSQL");
    let (mut fresh, mut again) = (Vec::new(), Vec::new());
    for i in 0..runs {
        let schema = format!("regua_import_bench_{}_{i}", std::process::id());
        postgres_schema(&admin, format!("CREATE SCHEMA {schema}")).await;
        let separator = if pg.contains('?') { '&' } else { '?' };
        let url = format!("{pg}{separator}options=-c%20search_path%3D{schema}");
        fresh.push(timed(&bin, &file, &url));
        again.push(timed(&bin, &file, &url));
        let count = |table: &str| format!("SELECT COUNT(*) FROM {schema}.{table}");
        let d: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count("debtors")))
            .fetch_one(&admin)
            .await
            .expect("count");
        let v: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count("verdicts")))
            .fetch_one(&admin)
            .await
            .expect("count");
        check("postgres", d, v, debtors);
        postgres_schema(&admin, format!("DROP SCHEMA {schema} CASCADE")).await;
    }
    report("postgres, new schema", &mut fresh);
    report("postgres, the same file again (all updated)", &mut again);
}
