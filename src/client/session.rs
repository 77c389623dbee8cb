//! Files the client keeps in the data directory: the session token (so a
//! restart does not ask for the password again) and the address of the
//! embedded server while it runs (so a second `regua` or `regua board` on
//! the same data directory joins it instead of starting another on the same
//! SQLite file). Both are written whole or not at all (a temporary file,
//! then a rename), readable by their owner alone.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

use crate::api::UserView;

pub const TOKEN_FILE: &str = "session.json";
pub const SERVER_FILE: &str = "server.json";

#[derive(Serialize, Deserialize)]
struct TokenFile {
    server: String,
    token: String,
    /// Whose the token is, as the server last said: a start while the
    /// server is away works on as them. Files from before it lack it.
    #[serde(default)]
    user: Option<UserView>,
}

/// A session kept from before.
#[derive(Debug, PartialEq)]
pub struct Kept {
    pub token: String,
    pub user: Option<UserView>,
}

#[derive(Serialize, Deserialize)]
struct ServerFile {
    address: String,
    pid: u32,
}

/// Writes `dir/name` atomically, mode 0600 from its creation on Unix.
fn write_private(dir: &Path, name: &str, contents: &[u8]) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    // A leftover from a crash would keep its old mode: start afresh.
    match fs::remove_file(&temp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temp).and_then(|mut file| {
        file.write_all(contents)?;
        file.sync_all()
    });
    let renamed = written.and_then(|()| fs::rename(&temp, dir.join(name)));
    if renamed.is_err() {
        let _ = fs::remove_file(&temp);
    }
    renamed
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Option<T> {
    serde_json::from_slice(&fs::read(path).ok()?).ok()
}

fn remove_if_there(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Keeps `user`'s token for `server_url` (replacing any other).
pub fn save_token(dir: &Path, server_url: &str, token: &str, user: &UserView) -> io::Result<()> {
    let file = TokenFile {
        server: server_url.to_string(),
        token: token.to_string(),
        user: Some(user.clone()),
    };
    let json = serde_json::to_vec(&file).expect("token files serialize");
    write_private(dir, TOKEN_FILE, &json)
}

/// The session kept for `server_url`; none for another server, or when
/// the file is missing or unreadable.
pub fn load_token(dir: &Path, server_url: &str) -> Option<Kept> {
    let file: TokenFile = read_json(&dir.join(TOKEN_FILE))?;
    (file.server == server_url).then_some(Kept {
        token: file.token,
        user: file.user,
    })
}

/// Forgets the token (log out, or the server no longer takes it).
pub fn remove_token(dir: &Path) -> io::Result<()> {
    remove_if_there(&dir.join(TOKEN_FILE))
}

/// Says where this process's embedded server listens (`http://…`).
pub fn write_server_address(dir: &Path, address: &str) -> io::Result<()> {
    let file = ServerFile {
        address: address.to_string(),
        pid: std::process::id(),
    };
    let json = serde_json::to_vec(&file).expect("server files serialize");
    write_private(dir, SERVER_FILE, &json)
}

/// Takes the address back when the server stops: only if this process
/// wrote it (another's stays).
pub fn remove_server_address(dir: &Path) -> io::Result<()> {
    let path = dir.join(SERVER_FILE);
    match read_json::<ServerFile>(&path) {
        Some(file) if file.pid != std::process::id() => Ok(()),
        _ => remove_if_there(&path),
    }
}

/// The address an embedded server wrote, if the process that wrote it is
/// still running. See [`live_server`] for one that also answers.
pub fn read_server_address(dir: &Path) -> Option<String> {
    let file: ServerFile = read_json(&dir.join(SERVER_FILE))?;
    alive(file.pid).then_some(file.address)
}

/// The embedded server on this data directory, if its process runs and it
/// answers `GET /healthz` within two seconds.
pub async fn live_server(dir: &Path) -> Option<String> {
    let address = read_server_address(dir)?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .ok()?;
    let response = http
        .get(format!("{}/healthz", address.trim_end_matches('/')))
        .send()
        .await
        .ok()?;
    response.status().is_success().then_some(address)
}

#[cfg(unix)]
fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // Signal 0 checks the process exists without touching it; EPERM means
    // it exists but is someone else's.
    // SAFETY: kill(2) with signal 0 has no effect on any process.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Without a cheap check, the health check decides.
#[cfg(not(unix))]
fn alive(_pid: u32) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_for_its_server_alone() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("nested");
        let ana = UserView {
            id: 3,
            name: "ana".into(),
            role: crate::domain::Role::Agent,
        };
        let token = |url| load_token(&data, url).map(|kept| kept.token);
        assert_eq!(load_token(&data, "http://a"), None);
        save_token(&data, "http://a", "t1", &ana).unwrap();
        assert_eq!(
            load_token(&data, "http://a"),
            Some(Kept {
                token: "t1".into(),
                user: Some(ana.clone())
            })
        );
        assert_eq!(token("http://b"), None);
        save_token(&data, "http://b", "t2", &ana).unwrap();
        assert_eq!(token("http://b").as_deref(), Some("t2"));
        assert_eq!(token("http://a"), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(data.join(TOKEN_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Only the file itself is left: no temporary.
        assert_eq!(fs::read_dir(&data).unwrap().count(), 1);
        remove_token(&data).unwrap();
        remove_token(&data).unwrap();
        assert_eq!(load_token(&data, "http://b"), None);
        fs::write(data.join(TOKEN_FILE), "not json").unwrap();
        assert_eq!(load_token(&data, "http://b"), None);
        // A file from before users were kept with their token.
        fs::write(
            data.join(TOKEN_FILE),
            r#"{"server":"http://b","token":"t3"}"#,
        )
        .unwrap();
        let kept = load_token(&data, "http://b").unwrap();
        assert_eq!((kept.token.as_str(), kept.user), ("t3", None));
    }

    #[cfg(unix)]
    #[test]
    fn a_server_address_counts_while_its_process_runs() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_server_address(dir.path()), None);
        write_server_address(dir.path(), "http://127.0.0.1:4000").unwrap();
        assert_eq!(
            read_server_address(dir.path()).as_deref(),
            Some("http://127.0.0.1:4000")
        );
        remove_server_address(dir.path()).unwrap();
        assert_eq!(read_server_address(dir.path()), None);

        // Another process's file: kept by remove, ignored once it has ended.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let file = ServerFile {
            address: "http://127.0.0.1:4001".into(),
            pid: dead,
        };
        fs::write(
            dir.path().join(SERVER_FILE),
            serde_json::to_vec(&file).unwrap(),
        )
        .unwrap();
        assert_eq!(read_server_address(dir.path()), None);
        remove_server_address(dir.path()).unwrap();
        assert!(dir.path().join(SERVER_FILE).exists());
    }

    #[tokio::test]
    async fn a_server_that_does_not_answer_is_not_live() {
        let dir = tempfile::tempdir().unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        write_server_address(dir.path(), &address).unwrap();
        assert_eq!(read_server_address(dir.path()), Some(address));
        assert_eq!(live_server(dir.path()).await, None);
    }
}
