//! Running the site's programs with the debtor's facts: the dialer
//! (`dial_command`) and the agent's own `[commands]`, each placeholder
//! filled inside its own argument. Nothing goes through a shell, so a name
//! with quotes or `;` is only text, and a value is never read again for
//! placeholders (an id that reads `{name}` stays `{name}`).

use std::path::Path;
use std::process::Command;

/// The facts a dial argument may name.
pub struct Fields<'a> {
    pub phone: &'a str,
    pub debtor_id: i64,
    pub external_id: &'a str,
    pub name: &'a str,
}

impl Fields<'_> {
    fn value(&self, placeholder: &str) -> Option<String> {
        match placeholder {
            "phone" => Some(self.phone.to_string()),
            "debtor_id" => Some(self.debtor_id.to_string()),
            "external_id" => Some(self.external_id.to_string()),
            "name" => Some(self.name.to_string()),
            _ => None,
        }
    }
}

pub fn arguments(template: &[String], f: &Fields<'_>) -> Vec<String> {
    template.iter().map(|arg| fill(arg, f)).collect()
}

/// One pass over `arg`: each known `{placeholder}` becomes its value, and
/// anything else stays as written.
fn fill(arg: &str, f: &Fields<'_>) -> String {
    let mut out = String::with_capacity(arg.len());
    let mut rest = arg;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let known = after
            .find('}')
            .and_then(|close| Some((close, f.value(&after[..close])?)));
        match known {
            Some((close, value)) => {
                out.push_str(&value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Filled arguments as a process to run: the first is the program. It
/// finds the console's control socket in `REGUA_CONSOLE`.
pub fn program(args: &[String], socket: Option<&Path>) -> Option<Command> {
    let (program, rest) = args.split_first()?;
    let mut cmd = Command::new(program);
    cmd.args(rest);
    if let Some(socket) = socket {
        cmd.env("REGUA_CONSOLE", socket);
    }
    Some(cmd)
}

/// Why a program cannot be started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unstartable {
    NotFound,
    NotExecutable,
}

/// Whether `program` can be started: a path to an executable file, or a
/// name found executable on `PATH` (as exec looks, past files that are
/// not). Looked at before a call is asked for, since the server counts
/// the attempt from then on.
pub fn startable(program: &str) -> Result<(), Unstartable> {
    use std::os::unix::fs::PermissionsExt;
    let check = |path: &Path| match path.metadata() {
        Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => Ok(()),
        Ok(m) if m.is_file() => Err(Unstartable::NotExecutable),
        _ => Err(Unstartable::NotFound),
    };
    if program.contains('/') {
        return check(Path::new(program));
    }
    let Some(path) = std::env::var_os("PATH").filter(|_| !program.is_empty()) else {
        return Err(Unstartable::NotFound);
    };
    let mut found = Err(Unstartable::NotFound);
    for dir in std::env::split_paths(&path) {
        match check(&dir.join(program)) {
            Ok(()) => return Ok(()),
            Err(Unstartable::NotExecutable) => found = Err(Unstartable::NotExecutable),
            Err(Unstartable::NotFound) => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_is_startable_by_path_or_on_path_when_executable() {
        assert_eq!(startable("sh"), Ok(()));
        assert_eq!(startable("/bin/sh"), Ok(()));
        assert_eq!(
            startable("nonexistent-dialer-xyz"),
            Err(Unstartable::NotFound)
        );
        assert_eq!(startable("/nonexistent/dialer"), Err(Unstartable::NotFound));
        assert_eq!(startable(""), Err(Unstartable::NotFound));
        assert_eq!(startable("/tmp"), Err(Unstartable::NotFound));
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("dialer.sh");
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        let path = script.to_str().unwrap();
        assert_eq!(startable(path), Err(Unstartable::NotExecutable));
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(startable(path), Ok(()));
    }

    #[test]
    fn placeholders_fill_single_arguments_and_never_split() {
        let template: Vec<String> = [
            "softphone",
            "--to",
            "tel:{phone}",
            "--who",
            "{name}",
            "{debtor_id}",
        ]
        .map(String::from)
        .to_vec();
        let f = Fields {
            phone: "+5511987654321",
            debtor_id: 42,
            external_id: "X-1",
            name: "Ana \"; rm -rf / #",
        };
        let args = arguments(&template, &f);
        assert_eq!(
            args,
            vec![
                "softphone",
                "--to",
                "tel:+5511987654321",
                "--who",
                "Ana \"; rm -rf / #",
                "42"
            ]
        );
    }

    #[test]
    fn a_value_is_never_filled_again() {
        let template: Vec<String> = ["{external_id}|{name}|{cpf}|{|}"]
            .map(String::from)
            .to_vec();
        let f = Fields {
            phone: "+55",
            debtor_id: 7,
            external_id: "{name}",
            name: "{phone}",
        };
        assert_eq!(arguments(&template, &f), vec!["{name}|{phone}|{cpf}|{|}"]);
    }

    #[test]
    fn the_program_runs_with_its_arguments_as_given() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("args");
        let template: Vec<String> = vec![
            "sh".into(),
            "-c".into(),
            "printf '%s\\n' \"$@\" > \"$0\"".into(),
            out.display().to_string(),
            "{name}".into(),
            "{phone}".into(),
        ];
        let f = Fields {
            phone: "+55 11 9",
            debtor_id: 1,
            external_id: "",
            name: "$(touch pwned) `x`",
        };
        let status = program(&arguments(&template, &f), None)
            .unwrap()
            .status()
            .unwrap();
        assert!(status.success());
        let written = std::fs::read_to_string(&out).unwrap();
        assert_eq!(written, "$(touch pwned) `x`\n+55 11 9\n");
        assert!(!std::path::Path::new("pwned").exists());
    }
}
