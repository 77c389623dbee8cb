//! Finding a server to work with, for the console and the board: the one
//! named (`--server`, `REGUA_SERVER`, the config file), else the embedded
//! server another regua already runs on this data directory (taken over
//! if that regua quits first), else a new embedded one. Then logging in: a
//! kept token, `REGUA_USER` / `REGUA_PASSWORD`, or a prompt; on the
//! embedded default, the demo user.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::api::UserView;
use crate::client::{Client, ClientError, session};
use crate::domain::{Clock, Locale};
use crate::embedded::{self, Found, Local};
use crate::schedule::Policy;

pub struct Options {
    pub server: Option<String>,
    pub user: Option<String>,
    pub data_dir: PathBuf,
    pub policy: Policy,
    /// Who logs in on the embedded default (`ana` for the console,
    /// `sofia` for the board).
    pub demo_user: &'static str,
    /// The embedded server's clock.
    pub clock: Arc<dyn Clock>,
}

pub struct Target {
    pub client: Client,
    pub user: UserView,
    /// This process's part in the embedded server, to stop on the way out.
    pub local: Option<Local>,
    /// The token is kept in the data directory for the next start; one
    /// that is not dies with this process (see [`Target::leave`]).
    pub kept: bool,
}

impl Target {
    /// Whose the writes of this session are, for the outbox: the user at
    /// this server (the embedded one is the data directory's own, on
    /// whatever port it runs; another's address as a URL spells it, so
    /// `HTTPS://Host:443/` is `https://host`).
    /// How the top line names the server, in the agent's language.
    pub fn label(&self, locale: Locale) -> String {
        match &self.local {
            Some(Local::Running(_)) => locale.pick("local", "embedded").to_string(),
            Some(_) => locale
                .pick("local (compartilhado)", "embedded (shared)")
                .to_string(),
            None => self.client.server().to_string(),
        }
    }

    pub fn owner(&self) -> String {
        let server = match self.local {
            Some(_) => "embedded".to_string(),
            None => {
                let base = self.client.server();
                let url = reqwest::Url::parse(&base).map(String::from);
                url.unwrap_or_else(|_| base.to_string())
                    .trim_end_matches('/')
                    .to_string()
            }
        };
        format!("{}@{server}", self.user.name)
    }

    /// On the way out: a token nobody kept is revoked, so it cannot be
    /// used again and its user leaves the board's floor at once; then the
    /// embedded server this process runs stops (another on it takes it
    /// over). A kept token stays valid: keeping it is what spares the next
    /// start a password.
    pub async fn leave(self) {
        if !self.kept {
            let bye = self.client.logout();
            if let Err(e) = tokio::time::timeout(std::time::Duration::from_secs(2), bye)
                .await
                .unwrap_or_else(|_| Err(crate::client::ClientError::Network("timed out".into())))
            {
                tracing::warn!("logging out: {e}");
            }
        }
        if let Some(local) = self.local {
            local.stop().await;
        }
    }
}

/// How long to wait for the server another regua is starting here.
const JOIN_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The demo users' password (demo data only).
const DEMO_PASSWORD: &str = "demo";

pub async fn connect(o: Options) -> Result<Target, String> {
    if let Some(url) = &o.server {
        return remote(url, o.user.as_deref(), &o.data_dir).await;
    }
    let asked = std::time::Instant::now();
    let (url, running) = loop {
        match embedded::find_or_start(&o.data_dir, &o.policy, &o.clock).await? {
            Found::Joined(url) => break (url, None),
            Found::Started(e) => break (e.url.clone(), Some(e)),
            Found::Busy if asked.elapsed() < JOIN_WAIT => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Found::Busy => {
                return Err(format!(
                    "another regua runs the server of {} but it does not answer",
                    o.data_dir.display()
                ));
            }
        }
    };
    let client = Client::new(&url).map_err(|e| e.to_string())?;
    let local = match running {
        Some(e) => Local::Running(e),
        None => Local::standby(client.clone(), o.data_dir.clone(), o.policy, o.clock),
    };
    let user = o.user.unwrap_or_else(|| o.demo_user.to_string());
    let password = std::env::var("REGUA_PASSWORD").unwrap_or_else(|_| DEMO_PASSWORD.into());
    let login = client.login(&user, &password).await;
    let login = match login {
        Ok(l) => l,
        Err(e) => {
            local.stop().await;
            return Err(format!("logging in as {user}: {e}"));
        }
    };
    Ok(Target {
        client,
        user: login.user,
        local: Some(local),
        kept: false,
    })
}

async fn remote(url: &str, user: Option<&str>, dir: &Path) -> Result<Target, String> {
    let client = Client::new(url).map_err(|e| e.to_string())?;
    if let Some(kept) = session::load_token(dir, url) {
        client.set_token(Some(kept.token.clone()));
        match client.me().await {
            Ok(me) if user.is_none_or(|u| u == me.name) => {
                if kept.user.as_ref() != Some(&me) {
                    remember(dir, url, &kept.token, &me);
                }
                return Ok(Target {
                    client,
                    user: me,
                    local: None,
                    kept: true,
                });
            }
            // Another user's token would be replaced in the file: it ends
            // now rather than stay valid with nobody holding it.
            Ok(_) => {
                let _ = client.logout().await;
            }
            // Away, not refused: work on as the session's user, what is
            // recorded kept in the outbox until the server is back (the
            // console and the board say it is away, and load once it
            // answers). A password would not bring it back.
            Err(e @ ClientError::Network(_)) => {
                return match kept.user {
                    Some(me) if user.is_none_or(|u| u == me.name) => Ok(Target {
                        client,
                        user: me,
                        local: None,
                        kept: true,
                    }),
                    _ => Err(format!("{url}: {e}")),
                };
            }
            Err(_) => client.set_token(None),
        }
    }
    let user = match user {
        Some(u) => u.to_string(),
        None => prompt("user: ")?,
    };
    let password = match std::env::var("REGUA_PASSWORD") {
        Ok(p) => p,
        Err(_) if std::io::stdin().is_terminal() => {
            rpassword::prompt_password(format!("password for {user} at {url}: "))
                .map_err(|e| format!("reading the password: {e}"))?
        }
        Err(_) => return Err("no password: set REGUA_PASSWORD or run in a terminal".into()),
    };
    let login = client
        .login(&user, &password)
        .await
        .map_err(|e| format!("logging in as {user} at {url}: {e}"))?;
    let kept = remember(dir, url, &login.token, &login.user);
    Ok(Target {
        client,
        user: login.user,
        local: None,
        kept,
    })
}

/// Keeps the session for the next start; whether it could.
fn remember(dir: &Path, url: &str, token: &str, user: &UserView) -> bool {
    session::save_token(dir, url, token, user)
        .inspect_err(|e| tracing::warn!("cannot keep the session token in {}: {e}", dir.display()))
        .is_ok()
}

fn prompt(label: &str) -> Result<String, String> {
    if !std::io::stdin().is_terminal() {
        return Err("no user: pass --user or set REGUA_USER".into());
    }
    print!("{label}");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let line = line.trim().to_string();
    if line.is_empty() {
        return Err("no user given".into());
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    fn remote_as_ana(address: &str) -> Target {
        Target {
            client: Client::new(address).unwrap(),
            user: UserView {
                id: 1,
                name: "ana".into(),
                role: Role::Agent,
            },
            local: None,
            kept: true,
        }
    }

    /// However the address is spelt, one server is one owner of the
    /// outbox's records.
    #[test]
    fn an_owner_is_the_user_at_the_server_spelt_one_way() {
        for address in [
            "https://cobranca.example",
            "HTTPS://Cobranca.Example:443/",
            "https://cobranca.example/",
        ] {
            assert_eq!(
                remote_as_ana(address).owner(),
                "ana@https://cobranca.example",
                "{address}"
            );
        }
        assert_eq!(
            remote_as_ana("10.0.0.5:8080").owner(),
            "ana@http://10.0.0.5:8080"
        );
    }
}
