//! The embedded default: a collection server started inside `regua` on
//! 127.0.0.1 with SQLite in the data directory, seeded with the demo
//! portfolio on first run. It writes its address into the data directory
//! while it runs, so a second console or a board on the same directory
//! joins it instead of starting another. One process runs it at a time: it
//! holds a lock on the directory, so two started together do not both
//! serve one database (each would hear of the other's writes only at its
//! slow look).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::client::{Client, session};
use crate::domain::Clock;
use crate::schedule::Policy;
use crate::server::{self, app::AppState, store};

pub struct Embedded {
    pub url: String,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
    /// Held while the server runs.
    claim: Claim,
}

/// The file whose lock says a process runs this directory's server.
const LOCK_FILE: &str = "server.lock";

/// Demo debtors seeded into a new data directory.
pub const DEMO_DEBTORS: usize = 500;

/// What a data directory's server is to this process.
pub enum Found {
    /// Another process runs it, at this address.
    Joined(String),
    Started(Embedded),
    /// Another process holds the directory and is starting it: its address
    /// comes shortly (seeding a new directory takes a few seconds).
    Busy,
}

/// The server another process runs on `dir`, if it answers; else one
/// started here.
pub async fn find_or_start(
    dir: &Path,
    policy: &Policy,
    clock: &Arc<dyn Clock>,
) -> Result<Found, String> {
    if let Some(url) = session::live_server(dir).await {
        return Ok(Found::Joined(url));
    }
    Ok(match start(dir, policy.clone(), clock.clone()).await? {
        Some(e) => Found::Started(e),
        None => Found::Busy,
    })
}

/// A process's hold on a data directory's server: the lock on
/// `server.lock`, and the address it writes there for others to join.
pub struct Claim {
    dir: PathBuf,
    /// Held, not read: closing the file lets the lock go.
    _lock: std::fs::File,
}

impl Claim {
    /// Takes the directory's lock, or `Ok(None)` when another process
    /// holds it (it runs the directory's server, or is starting it).
    pub fn take(dir: &Path) -> Result<Option<Claim>, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| format!("{}: {e}", lock_path.display()))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            // A file system without locks (some network and container
            // mounts): run as before there were any, rather than not at all.
            Err(std::fs::TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => {
                tracing::warn!(
                    "{}: {e}; two reguas started together may each run a server",
                    lock_path.display()
                );
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(format!("{}: {e}", lock_path.display()));
            }
        }
        Ok(Some(Claim {
            dir: dir.to_path_buf(),
            _lock: lock,
        }))
    }

    /// Says where the server answers, for a console or board started on
    /// this directory to join. Written before the server runs, so a failure
    /// here leaves none running; a client early on waits in the listen
    /// queue.
    pub fn announce(&self, url: &str) -> Result<(), String> {
        session::write_server_address(&self.dir, url)
            .map_err(|e| format!("{}: {e}", self.dir.display()))
    }

    /// Takes the address back, so nobody new joins a stopping server. The
    /// lock stays until the claim is dropped: only once the server has
    /// stopped, so two never run on one database.
    pub fn withdraw(&self) {
        let _ = session::remove_server_address(&self.dir);
    }
}

/// However the holder ends (an error before or after serving), it leaves
/// no address behind to a server that is gone.
impl Drop for Claim {
    fn drop(&mut self) {
        self.withdraw();
    }
}

/// The sqlite URL of a data directory's own database.
pub fn database_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join(DATABASE_FILE).display())
}

const DATABASE_FILE: &str = "regua.db";

/// Whether `url` names the data directory's own database, however it is
/// spelled: the one a console on the embedded default serves.
pub fn is_own_database(dir: &Path, url: &str) -> bool {
    use std::str::FromStr;
    if !url.starts_with("sqlite:") {
        return false;
    }
    let Ok(options) = sqlx::sqlite::SqliteConnectOptions::from_str(url) else {
        return false;
    };
    let file = options.get_filename();
    // The file may not be there yet; its directory is.
    let resolve = |path: &Path| {
        if let Ok(whole) = path.canonicalize() {
            return Some(whole);
        }
        let name = path.file_name()?;
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        Some(parent.canonicalize().ok()?.join(name))
    };
    resolve(file).is_some_and(|f| resolve(&dir.join(DATABASE_FILE)) == Some(f))
}

/// Starts the server on `dir`, or `Ok(None)` when another process runs it
/// (or is starting it).
async fn start(
    dir: &Path,
    policy: Policy,
    clock: Arc<dyn Clock>,
) -> Result<Option<Embedded>, String> {
    let Some(claim) = Claim::take(dir)? else {
        return Ok(None);
    };
    let db = database_url(dir);
    let store = store::connect(&db)
        .await
        .map_err(|e| format!("{db}: {e}"))?;
    let state = AppState::new(store, policy, clock);
    if server::seed_demo(&state, DEMO_DEBTORS, 1)
        .await
        .map_err(|e| format!("seeding the demo portfolio: {e}"))?
    {
        tracing::info!("seeded demo users and {DEMO_DEBTORS} debtors into {db}");
    }
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))?;
    let url = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    claim.announce(&url)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    tracing::info!("embedded server on {url}");
    Ok(Some(Embedded {
        url,
        stop,
        task,
        claim,
    }))
}

impl Embedded {
    /// Stops taking requests, lets those in flight finish (for up to 5 s),
    /// takes the address back and lets another process run the server: only
    /// once this one has stopped, so two never run on one database.
    pub async fn stop(self) {
        self.claim.withdraw();
        let _ = self.stop.send(());
        let mut task = self.task;
        match tokio::time::timeout(Duration::from_secs(5), &mut task).await {
            Ok(Ok(Err(e))) => tracing::warn!("embedded server: {e}"),
            Err(_) => {
                tracing::warn!("embedded server: requests still open after 5 s; stopping it");
                task.abort();
                let _ = task.await;
            }
            _ => {}
        }
        drop(self.claim);
    }
}

/// How often a process on another's server asks whether it still runs.
pub const WATCH_EVERY: Duration = Duration::from_secs(1);

/// This process's part in its data directory's server: it runs it, or it
/// joined the one another process runs and runs it itself once that one
/// stops (the console that started it quits while a board goes on).
pub enum Local {
    Running(Embedded),
    Standby {
        stop: oneshot::Sender<()>,
        task: JoinHandle<Option<Embedded>>,
    },
}

impl Local {
    /// On the server another process runs on `dir`, through `client`:
    /// ready to take it over.
    pub fn standby(client: Client, dir: PathBuf, policy: Policy, clock: Arc<dyn Clock>) -> Local {
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(take_over_when_gone(client, dir, policy, clock, stopped));
        Local::Standby { stop, task }
    }

    /// Stops the server if this process runs it, or took it over.
    pub async fn stop(self) {
        match self {
            Local::Running(e) => e.stop().await,
            Local::Standby { stop, task } => {
                let _ = stop.send(());
                if let Ok(Some(e)) = task.await {
                    e.stop().await;
                }
            }
        }
    }
}

/// Watches the directory's server. When it is gone, moves `client` to the
/// one another process started instead, or starts one here; the token
/// goes on working, since the database is the same. A server started here
/// runs until `stop`.
async fn take_over_when_gone(
    client: Client,
    dir: PathBuf,
    policy: Policy,
    clock: Arc<dyn Clock>,
    mut stop: oneshot::Receiver<()>,
) -> Option<Embedded> {
    loop {
        tokio::select! {
            _ = &mut stop => return None,
            () = tokio::time::sleep(WATCH_EVERY) => {}
        }
        match find_or_start(&dir, &policy, &clock).await {
            Ok(Found::Joined(url)) => {
                if *client.server() != *url
                    && let Err(e) = client.move_to(&url)
                {
                    tracing::warn!("joining the embedded server on {url}: {e}");
                }
            }
            Ok(Found::Started(e)) => {
                tracing::info!(
                    "the embedded server on {} stopped; this process runs it now, on {}",
                    client.server(),
                    e.url
                );
                if let Err(err) = client.move_to(&e.url) {
                    tracing::warn!("moving to {}: {err}", e.url);
                }
                let _ = stop.await;
                return Some(e);
            }
            Ok(Found::Busy) => {}
            Err(e) => tracing::warn!("taking over the embedded server: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directorys_own_database_is_known_however_it_is_spelled() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        assert!(is_own_database(dir.path(), &database_url(dir.path())));
        assert!(is_own_database(
            dir.path(),
            &format!("sqlite://{d}/./regua.db")
        ));
        assert!(is_own_database(
            dir.path(),
            &format!("sqlite://{d}/regua.db?mode=rwc")
        ));
        assert!(!is_own_database(
            dir.path(),
            &format!("sqlite://{d}/other.db")
        ));
        assert!(!is_own_database(dir.path(), "sqlite://regua.db"));
        assert!(!is_own_database(
            dir.path(),
            "postgres://postgres@127.0.0.1/test"
        ));
    }
}
