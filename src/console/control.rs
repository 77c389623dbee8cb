//! Scripting the console from the shell: a Unix socket in the data
//! directory, `consoles/<pid>.sock` (the folder is the user's alone).
//! Each line sent is a chain of action and command names, as a key in the
//! config binds them (`lease-next crm`), done as if that key were pressed;
//! `type TEXT` in it types into the form or search on screen (quoted as a
//! shell quotes, when it has spaces); the answer is one line of JSON: what the console shows once the chain
//! is done or ends (`App::state`), or `{"error": …}` naming what it did not
//! know. An empty line, or `state`, only asks. The agent's commands and the
//! dialer find the socket in `REGUA_CONSOLE`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::{oneshot, watch};

use super::app::Link;
use super::keymap::Keymap;
use super::run::Event;

/// Longer lines are refused rather than read on without end.
const LINE_LIMIT: usize = 4096;

/// The socket while the console runs; removed when dropped.
pub struct Control {
    pub path: PathBuf,
    closing: watch::Sender<bool>,
    accept: Option<tokio::task::JoinHandle<()>>,
}

impl Control {
    /// Stops listening; an answer being written (to `quit`, say) is let
    /// finish, for at most a second.
    pub async fn close(mut self) {
        let _ = self.closing.send(true);
        if let Some(accept) = self.accept.take() {
            let _ = tokio::time::timeout(Duration::from_secs(1), accept).await;
        }
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        if let Some(accept) = self.accept.take() {
            accept.abort();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The folder of the consoles' sockets in `dir`.
fn folder(dir: &Path) -> PathBuf {
    dir.join("consoles")
}

/// This console's socket in `dir`.
pub fn path(dir: &Path) -> PathBuf {
    folder(dir).join(format!("{}.sock", std::process::id()))
}

/// Listens in `dir`; each line read reaches the loop as `Event::Control`,
/// except while a program has the terminal (`lent`): the loop waits on it
/// then, so the line is answered at once that the console is busy.
pub fn listen(
    dir: &Path,
    tx: UnboundedSender<Event>,
    lent: Arc<AtomicBool>,
) -> std::io::Result<Control> {
    // Made the user's alone before the socket is: nobody else can
    // connect, whatever the umask left the socket's own mode at.
    let folder = folder(dir);
    std::fs::create_dir_all(&folder)?;
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o700))?;
    forget_the_dead(&folder);
    let path = path(dir);
    // A console that died left its socket; the pid is ours now.
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)?;
    let (closing, closed) = watch::channel(false);
    let accept = tokio::spawn(accept(listener, tx, lent, closed));
    Ok(Control {
        path,
        closing,
        accept: Some(accept),
    })
}

/// Sockets of consoles that are gone (killed, or crashed): nothing answers
/// on them.
fn forget_the_dead(folder: &Path) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "sock")
            && std::os::unix::net::UnixStream::connect(&path)
                .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionRefused)
        {
            let _ = std::fs::remove_file(&path);
        }
    }
}

async fn accept(
    listener: UnixListener,
    tx: UnboundedSender<Event>,
    lent: Arc<AtomicBool>,
    mut closed: watch::Receiver<bool>,
) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve(stream, tx.clone(), lent.clone(), closed.clone()));
                }
                // Out of descriptors, say: the socket stays, and tries again.
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            },
            _ = closed.changed() => break,
        }
        while connections.try_join_next().is_some() {}
    }
    while connections.join_next().await.is_some() {}
}

async fn serve(
    stream: UnixStream,
    tx: UnboundedSender<Event>,
    lent: Arc<AtomicBool>,
    mut closed: watch::Receiver<bool>,
) {
    let (read, mut write) = stream.into_split();
    // One byte past the limit and the newline tells a line too long.
    let mut read = BufReader::new(read).take(0);
    let mut line = Vec::new();
    loop {
        line.clear();
        read.set_limit(LINE_LIMIT as u64 + 2);
        let got = tokio::select! {
            got = read.read_until(b'\n', &mut line) => got,
            _ = closed.changed() => return,
        };
        let bytes = line.strip_suffix(b"\n").unwrap_or(&line);
        // Its length first: a line cut at the limit is not whole, and what
        // follows it is no line of its own either, so the connection ends.
        let (answer, end) = match got.map(|n| (n, std::str::from_utf8(bytes))) {
            Ok((0, _)) => return,
            Ok(_) if bytes.len() > LINE_LIMIT => (
                error(&format!("a line is at most {LINE_LIMIT} bytes")),
                true,
            ),
            Ok((_, Err(e))) => (error(&format!("not a line of text: {e}")), false),
            Ok(_) if lent.load(Ordering::Acquire) => (
                error("busy: a program has the terminal; ask again once it ends"),
                false,
            ),
            Ok((_, Ok(text))) => {
                let (reply, answered) = oneshot::channel();
                let line = text.trim().to_string();
                if tx.send(Event::Control { line, reply }).is_err() {
                    return;
                }
                match answered.await {
                    Ok(answer) => (answer, false),
                    Err(_) => return,
                }
            }
            Err(e) => (error(&e.to_string()), true),
        };
        if write
            .write_all(format!("{answer}\n").as_bytes())
            .await
            .is_err()
            || end
        {
            return;
        }
    }
}

pub fn error(message: &str) -> String {
    serde_json::json!({ "error": message }).to_string()
}

/// A line as the links of a chain: names as a key binds them, split as a
/// shell splits words; `type` takes the word after it as the text to type.
/// `None` when the line only asks (empty, or `state`). An error names the
/// word it could not take, and then nothing is done.
pub fn links(keymap: &Keymap, line: &str) -> Result<Option<Vec<Link>>, String> {
    let words = shell_words::split(line).map_err(|e| format!("{e}: {line}"))?;
    if words.is_empty() || words == ["state"] {
        return Ok(None);
    }
    let mut words = words.into_iter();
    let mut links = Vec::new();
    while let Some(word) = words.next() {
        if word != "type" {
            links.push(Link::Step(keymap.step(&word)?));
            continue;
        }
        let text = words
            .next()
            .ok_or("type: the text to type is missing (quote it when it has spaces)")?;
        // A key can type no control character; Enter, Tab and Esc are
        // actions (`submit`, `next-panel`, `back`).
        if let Some(c) = text.chars().find(|c| c.is_control()) {
            return Err(format!(
                "type: {:?} holds a control character (U+{:04X}): use an action for that key",
                text, c as u32
            ));
        }
        links.push(Link::Type(text));
    }
    Ok(Some(links))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_split_as_a_shell_splits_it_and_type_takes_the_next_word() {
        use super::super::action::Action;
        use super::super::keymap::Step;
        let keys = Keymap::default();
        let step = |a| Link::Step(Step::Action(a));
        assert_eq!(links(&keys, ""), Ok(None));
        assert_eq!(links(&keys, "  state "), Ok(None));
        assert_eq!(
            links(&keys, r#"search type "Maria \"Cida\" Souza" select"#),
            Ok(Some(vec![
                step(Action::Search),
                Link::Type(r#"Maria "Cida" Souza"#.into()),
                step(Action::Select),
            ]))
        );
        assert_eq!(
            links(&keys, "type 'R$ 10,00' type type"),
            Ok(Some(vec![
                Link::Type("R$ 10,00".into()),
                Link::Type("type".into())
            ]))
        );
        assert_eq!(
            links(&keys, "type ''"),
            Ok(Some(vec![Link::Type(String::new())]))
        );
        let bad = |line| links(&keys, line).unwrap_err();
        assert!(bad("search type").contains("type: the text to type is missing"));
        assert!(
            bad("type 'Maria").contains("'Maria"),
            "{}",
            bad("type 'Maria")
        );
        let tab = bad("type \"a\tb\"");
        assert!(tab.contains("U+0009"), "{tab}");
        assert!(bad("search tipo").contains("\"tipo\""));
    }

    /// A socket whose loop answers each line with the line itself.
    async fn echoing() -> (tempfile::TempDir, Control, Arc<AtomicBool>) {
        let dir = tempfile::tempdir().unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let lent = Arc::new(AtomicBool::new(false));
        let control = listen(dir.path(), tx, lent.clone()).unwrap();
        tokio::spawn(async move {
            while let Some(Event::Control { line, reply }) = rx.recv().await {
                let _ = reply.send(format!("got {}", line.len()));
            }
        });
        (dir, control, lent)
    }

    async fn answer(read: &mut BufReader<&mut UnixStream>) -> String {
        let mut line = String::new();
        read.read_line(&mut line).await.unwrap();
        line
    }

    #[tokio::test]
    async fn lines_are_answered_in_turn_and_an_endless_one_is_refused() {
        let (_dir, control, _) = echoing().await;
        let mut s = UnixStream::connect(&control.path).await.unwrap();
        let longest = "a".repeat(LINE_LIMIT);
        s.write_all(format!("  lease-next crm \n{longest}\n").as_bytes())
            .await
            .unwrap();
        let mut read = BufReader::new(&mut s);
        assert_eq!(answer(&mut read).await, "got 14\n");
        assert_eq!(answer(&mut read).await, "got 4096\n");
        // Past the limit: said, and the connection ends.
        let long = "a".repeat(LINE_LIMIT + 1);
        s.write_all(format!("{long}\n").as_bytes()).await.unwrap();
        let mut rest = String::new();
        s.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "{\"error\":\"a line is at most 4096 bytes\"}\n");
    }

    /// A line that is not UTF-8 is said so and the next is answered; one
    /// that is also too long ends the connection, its tail run as nothing.
    #[tokio::test]
    async fn bytes_that_are_not_text_are_a_line_refused_whole() {
        let (_dir, control, _) = echoing().await;
        let mut s = UnixStream::connect(&control.path).await.unwrap();
        s.write_all(b"\xffoutbox\nok\n").await.unwrap();
        let mut read = BufReader::new(&mut s);
        assert!(answer(&mut read).await.contains("not a line of text"));
        assert_eq!(answer(&mut read).await, "got 2\n");
        let mut long = b"\xff".to_vec();
        long.extend_from_slice(&[b'a'; LINE_LIMIT + 1]);
        long.extend_from_slice(b"outbox\n");
        s.write_all(&long).await.unwrap();
        let mut rest = String::new();
        let closed = s.read_to_string(&mut rest);
        tokio::time::timeout(std::time::Duration::from_secs(5), closed)
            .await
            .expect("the connection ends")
            .unwrap();
        assert_eq!(rest, "{\"error\":\"a line is at most 4096 bytes\"}\n");
    }

    #[tokio::test]
    async fn while_a_program_has_the_terminal_a_line_is_answered_busy_at_once() {
        let (_dir, control, lent) = echoing().await;
        lent.store(true, Ordering::Release);
        let mut s = UnixStream::connect(&control.path).await.unwrap();
        s.write_all(b"record-outcome\n").await.unwrap();
        let mut read = BufReader::new(&mut s);
        assert!(answer(&mut read).await.contains("busy"));
        lent.store(false, Ordering::Release);
        s.write_all(b"record-outcome\n").await.unwrap();
        let mut read = BufReader::new(&mut s);
        assert_eq!(answer(&mut read).await, "got 14\n");
    }

    #[tokio::test]
    async fn the_socket_is_the_users_alone_goes_with_the_console_and_the_dead_are_forgotten() {
        let (dir, control, _) = echoing().await;
        let path = control.path.clone();
        let folder = path.parent().unwrap().to_path_buf();
        let mode = std::fs::metadata(&folder).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        // One a killed console left: nothing listens on it.
        let dead = folder.join("1.sock");
        drop(std::os::unix::net::UnixListener::bind(&dead).unwrap());
        // One that still answers stays.
        let alive = folder.join("2.sock");
        let _listening = std::os::unix::net::UnixListener::bind(&alive).unwrap();
        control.close().await;
        assert!(!path.exists());
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let again = listen(dir.path(), tx, Arc::default()).unwrap();
        assert!(!dead.exists() && alive.exists() && again.path.exists());
    }
}
