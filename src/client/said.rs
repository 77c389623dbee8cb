//! A server's refusal as the agent reads it. The server writes its
//! messages in English, for logs and scripts; what reaches a pt-BR screen
//! is said again from the error's code (and its field and details), and
//! only a code this build does not know shows the server's own words.

use chrono::{DateTime, Utc};

use super::ClientError;
use crate::domain::Locale;
use crate::schedule::compliance::rule_said;

impl ClientError {
    /// In the agent's language. `when` writes a time the way the screen
    /// does (in the debtor's own zone, where it is known).
    pub fn said(&self, locale: Locale, when: impl Fn(DateTime<Utc>) -> String) -> String {
        if locale == Locale::En {
            return self.to_string();
        }
        match self {
            ClientError::Network(why) => format!("servidor inacessível: {why}"),
            ClientError::Decode(why) => format!("resposta inesperada do servidor: {why}"),
            ClientError::Address(why) => format!("endereço de servidor inválido: {why}"),
            ClientError::Api {
                status,
                code,
                message,
                field,
                details,
            } => {
                let detail = |key: &str| details.as_ref().and_then(|d| d.get(key));
                match code.as_str() {
                    "call_blocked" => {
                        let rule = detail("rule").and_then(|r| r.as_str()).unwrap_or("");
                        let rule = rule_said(rule, locale).unwrap_or(rule);
                        let clears = detail("clears_at")
                            .and_then(|t| serde_json::from_value::<DateTime<Utc>>(t.clone()).ok());
                        match clears {
                            Some(t) => format!("ligação bloqueada ({rule}) até {}", when(t)),
                            None => format!("ligação bloqueada ({rule})"),
                        }
                    }
                    "unauthorized" => "sessão encerrada: saia e entre novamente".into(),
                    "forbidden" => "seu perfil não permite isso".into(),
                    "bad_credentials" => "usuário ou senha incorretos".into(),
                    "too_many_attempts" => {
                        "tentativas demais: espere um pouco e tente de novo".into()
                    }
                    "leased_to_another" => "este devedor está com outro agente".into(),
                    "lease_not_found" => "a reserva terminou (expirou ou foi liberada)".into(),
                    "debtor_not_found" => "devedor não encontrado".into(),
                    "unknown_queue" => "fila desconhecida".into(),
                    "queue_empty" => "ninguém para ligar agora nesta fila".into(),
                    "in_flight" => "o mesmo pedido ainda está sendo atendido".into(),
                    "too_large" => "pedido grande demais".into(),
                    "internal" => format!("erro no servidor ({status}): {message}"),
                    // A check the form did not make: the field, and the
                    // server's reason as it wrote it.
                    _ => match field {
                        Some(field) => format!("recusado pelo servidor ({field}): {message}"),
                        None => format!("recusado pelo servidor: {message}"),
                    },
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn api(
        status: u16,
        code: &str,
        field: Option<&str>,
        details: Option<serde_json::Value>,
    ) -> ClientError {
        ClientError::Api {
            status,
            code: code.into(),
            message: "the server's English".into(),
            field: field.map(Into::into),
            details,
        }
    }

    #[test]
    fn a_refusal_is_said_in_portuguese_from_its_code() {
        let at = Utc.with_ymd_and_hms(2026, 3, 11, 11, 0, 0).unwrap();
        let when = |t: DateTime<Utc>| t.format("%d/%m %H:%M").to_string();
        let blocked = api(
            409,
            "call_blocked",
            None,
            Some(serde_json::json!({ "rule": "call_window", "clears_at": at })),
        );
        assert_eq!(
            blocked.said(Locale::PtBr, when),
            "ligação bloqueada (fora do horário) até 11/03 11:00"
        );
        assert_eq!(
            api(409, "leased_to_another", None, None).said(Locale::PtBr, when),
            "este devedor está com outro agente"
        );
        // A code this build does not know: the server's words, as data.
        assert_eq!(
            api(422, "invalid", Some("amount_minor"), None).said(Locale::PtBr, when),
            "recusado pelo servidor (amount_minor): the server's English"
        );
        assert!(
            ClientError::Network("cannot connect".into())
                .said(Locale::PtBr, when)
                .starts_with("servidor inacessível")
        );
        // English is the server's own message.
        assert_eq!(blocked.said(Locale::En, when), "the server's English");
    }
}
