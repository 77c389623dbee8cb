//! Placing a call with the site's dialer: `dial_command` from the config,
//! each placeholder filled inside its own argument. Nothing goes through a
//! shell, so a name with quotes or `;` is only text.

use std::process::Command;

/// The facts a dial argument may name.
pub struct Fields<'a> {
    pub phone: &'a str,
    pub debtor_id: i64,
    pub external_id: &'a str,
    pub name: &'a str,
}

pub fn arguments(template: &[String], f: &Fields<'_>) -> Vec<String> {
    template
        .iter()
        .map(|arg| {
            arg.replace("{phone}", f.phone)
                .replace("{debtor_id}", &f.debtor_id.to_string())
                .replace("{external_id}", f.external_id)
                .replace("{name}", f.name)
        })
        .collect()
}

pub fn command(template: &[String], f: &Fields<'_>) -> Option<Command> {
    let args = arguments(template, f);
    let (program, rest) = args.split_first()?;
    let mut cmd = Command::new(program);
    cmd.args(rest);
    Some(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let status = command(&template, &f).unwrap().status().unwrap();
        assert!(status.success());
        let written = std::fs::read_to_string(&out).unwrap();
        assert_eq!(written, "$(touch pwned) `x`\n+55 11 9\n");
        assert!(!std::path::Path::new("pwned").exists());
    }
}
