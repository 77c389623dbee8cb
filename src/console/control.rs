//! Scripting the console from the shell: a Unix socket in the data
//! directory, `console-<pid>.sock`, readable only by its user. Each line
//! sent is a chain of action and command names, as a key in the config
//! binds them (`lease-next crm`), done as if that key were pressed; the
//! answer is one line of JSON: what the console shows once the chain is
//! done or ends (`App::state`), or `{"error": …}` naming what it did not
//! know. An empty line, or `state`, only asks. The agent's commands and
//! the dialer find the socket in `REGUA_CONSOLE`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::oneshot;

use super::run::Event;

/// Longer lines are refused rather than read on without end.
const LINE_LIMIT: usize = 4096;

/// The socket while the console runs; removed when dropped.
pub struct Control {
    pub path: PathBuf,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for Control {
    fn drop(&mut self) {
        self.accept.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// This console's socket in `dir`.
pub fn path(dir: &Path) -> PathBuf {
    dir.join(format!("console-{}.sock", std::process::id()))
}

/// Listens in `dir`; each line read reaches the loop as `Event::Control`.
pub fn listen(dir: &Path, tx: UnboundedSender<Event>) -> std::io::Result<Control> {
    let path = path(dir);
    // A console that died left its socket; the pid is ours now.
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    let accept = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, tx.clone()));
        }
    });
    Ok(Control { path, accept })
}

async fn serve(stream: UnixStream, tx: UnboundedSender<Event>) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read).take(LINE_LIMIT as u64 + 1);
    let mut line = String::new();
    loop {
        line.clear();
        read.set_limit(LINE_LIMIT as u64 + 1);
        let answer = match read.read_line(&mut line).await {
            Ok(0) => return,
            Ok(n) if n > LINE_LIMIT => error(&format!("a line is at most {LINE_LIMIT} bytes")),
            Ok(_) => {
                let (reply, answered) = oneshot::channel();
                let line = line.trim().to_string();
                if tx.send(Event::Control { line, reply }).is_err() {
                    return;
                }
                match answered.await {
                    Ok(answer) => answer,
                    Err(_) => return,
                }
            }
            Err(e) => error(&format!("not a line of text: {e}")),
        };
        if write
            .write_all(format!("{answer}\n").as_bytes())
            .await
            .is_err()
        {
            return;
        }
        if line.len() > LINE_LIMIT {
            return;
        }
    }
}

pub fn error(message: &str) -> String {
    serde_json::json!({ "error": message }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    /// A socket whose loop answers each line with the line itself.
    async fn echoing() -> (tempfile::TempDir, Control) {
        let dir = tempfile::tempdir().unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let control = listen(dir.path(), tx).unwrap();
        tokio::spawn(async move {
            while let Some(Event::Control { line, reply }) = rx.recv().await {
                let _ = reply.send(format!("got {line}"));
            }
        });
        (dir, control)
    }

    #[tokio::test]
    async fn lines_are_answered_in_turn_and_an_endless_one_is_refused() {
        let (_dir, control) = echoing().await;
        let mut s = UnixStream::connect(&control.path).await.unwrap();
        s.write_all(b"  lease-next crm \nstate\n").await.unwrap();
        let mut read = BufReader::new(&mut s);
        let mut line = String::new();
        read.read_line(&mut line).await.unwrap();
        assert_eq!(line, "got lease-next crm\n");
        line.clear();
        read.read_line(&mut line).await.unwrap();
        assert_eq!(line, "got state\n");
        // Past the limit: said, and the connection ends.
        let long = "a".repeat(LINE_LIMIT + 10);
        s.write_all(long.as_bytes()).await.unwrap();
        let mut rest = String::new();
        s.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "{\"error\":\"a line is at most 4096 bytes\"}\n");
    }

    #[tokio::test]
    async fn the_socket_is_the_users_alone_and_goes_with_the_console() {
        let (_dir, control) = echoing().await;
        let path = control.path.clone();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        drop(control);
        assert!(!path.exists());
    }
}
