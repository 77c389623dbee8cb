//! The embedded default: a collection server started inside `regua` on
//! 127.0.0.1 with SQLite in the data directory, seeded with the demo
//! portfolio on first run. It writes its address into the data directory
//! while it runs, so a second console or a board on the same directory
//! joins it instead of starting another.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::client::session;
use crate::domain::Clock;
use crate::schedule::Policy;
use crate::server::{self, app::AppState, store};

pub struct Embedded {
    pub url: String,
    dir: PathBuf,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

/// Demo debtors seeded into a new data directory.
pub const DEMO_DEBTORS: usize = 500;

pub async fn start(dir: &Path, policy: Policy, clock: Arc<dyn Clock>) -> Result<Embedded, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let db = format!("sqlite://{}", dir.join("regua.db").display());
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
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    session::write_server_address(dir, &url).map_err(|e| format!("{}: {e}", dir.display()))?;
    tracing::info!("embedded server on {url}");
    Ok(Embedded {
        url,
        dir: dir.to_path_buf(),
        stop,
        task,
    })
}

impl Embedded {
    /// Stops taking requests, lets those in flight finish, and takes the
    /// address back.
    pub async fn stop(self) {
        let _ = session::remove_server_address(&self.dir);
        let _ = self.stop.send(());
        match tokio::time::timeout(std::time::Duration::from_secs(5), self.task).await {
            Ok(Ok(Err(e))) => tracing::warn!("embedded server: {e}"),
            Err(_) => tracing::warn!("embedded server: requests still open after 5 s"),
            _ => {}
        }
    }
}
