//! A server's refusal as the agent reads it. The server writes its
//! messages in English, for logs and scripts; what reaches a pt-BR screen
//! is said again from the error's code (and its field and details). Where
//! the reason is the server's own (a check of a field the form did not
//! make), its words come after a Portuguese frame, as data.

use chrono::{DateTime, Utc};

use super::{CANNOT_CONNECT, ClientError, NO_ANSWER};
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
            ClientError::Network(why) => {
                let why = if why == NO_ANSWER {
                    "sem resposta a tempo".to_string()
                } else {
                    why.replace(CANNOT_CONNECT, "não foi possível conectar")
                };
                format!("servidor inacessível: {why}")
            }
            ClientError::Decode(why) => format!("resposta inesperada do servidor: {why}"),
            ClientError::Address(why) => format!("endereço de servidor inválido: {why}"),
            ClientError::Api { status, .. } if *status >= 500 => {
                format!("erro no servidor ({status})")
            }
            ClientError::Api {
                code,
                message,
                field,
                details,
                ..
            } => match code.as_str() {
                "call_blocked" => call_blocked(details.as_ref(), locale, when),
                "unauthorized" => "sessão encerrada: saia e entre novamente".into(),
                "forbidden" => "seu perfil não tem permissão para isso".into(),
                "leased_to_another" => "este devedor está com outro agente".into(),
                "lease_not_found" => "a reserva terminou (expirou ou foi liberada)".into(),
                "debtor_not_found" => "devedor não encontrado".into(),
                "user_not_found" => "agente não encontrado".into(),
                "unknown_queue" => "fila não encontrada".into(),
                "not_found" => "o servidor não conhece este pedido (versão diferente?)".into(),
                "in_flight" => "este pedido ainda está sendo processado".into(),
                "too_large" => "pedido grande demais".into(),
                "mixed_currencies" => {
                    "dívidas em moedas diferentes: sem roteiro até que sejam corrigidas".into()
                }
                "offers_unavailable" => "a política não tem ofertas para esta dívida".into(),
                _ => {
                    let what = field.as_deref().map(field_said);
                    match what {
                        Some(what) => format!("o servidor recusou {what}: {message}"),
                        None => format!("o servidor recusou: {message}"),
                    }
                }
            },
        }
    }
}

/// A refused call, worded as the console's own check words it: until
/// when first (80 columns cut what follows), then the rule.
fn call_blocked(
    details: Option<&serde_json::Value>,
    locale: Locale,
    when: impl Fn(DateTime<Utc>) -> String,
) -> String {
    let detail = |key: &str| details.and_then(|d| d.get(key));
    let rule = detail("rule").and_then(|r| r.as_str()).unwrap_or_default();
    let rule = rule_said(rule, locale).unwrap_or(rule);
    let clears = detail("clears_at")
        .and_then(|t| serde_json::from_value::<DateTime<Utc>>(t.clone()).ok())
        .map_or("(sem data para liberar)".to_string(), |t| {
            format!("até {}", when(t))
        });
    if rule.is_empty() {
        format!("ligação bloqueada {clears}")
    } else {
        format!("ligação bloqueada {clears} — {rule}")
    }
}

/// The fields the server names in its checks, as the form names them.
fn field_said(field: &str) -> String {
    let said = match field {
        "phone" => "o telefone",
        "disposition" => "o resultado",
        "reason" => "o motivo",
        "note" => "a observação",
        "promise" => "a promessa",
        "promise.amount_minor" => "o valor da quitação",
        "plan" => "o parcelamento",
        "callback_at" => "o horário do retorno",
        "debtor_id" => "o devedor",
        "Idempotency-Key" => "a chave do pedido",
        other => return format!("o campo {other}"),
    };
    said.to_string()
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

    fn when(t: DateTime<Utc>) -> String {
        t.format("%d/%m %H:%M").to_string()
    }

    #[test]
    fn a_refusal_is_said_in_portuguese_from_its_code() {
        let at = Utc.with_ymd_and_hms(2026, 3, 11, 11, 0, 0).unwrap();
        let blocked = api(
            409,
            "call_blocked",
            None,
            Some(serde_json::json!({ "rule": "call_window", "clears_at": at })),
        );
        assert_eq!(
            blocked.said(Locale::PtBr, when),
            "ligação bloqueada até 11/03 11:00 — fora do horário"
        );
        let for_good = api(
            409,
            "call_blocked",
            None,
            Some(serde_json::json!({ "rule": "cease_contact", "clears_at": null })),
        );
        assert_eq!(
            for_good.said(Locale::PtBr, when),
            "ligação bloqueada (sem data para liberar) — não quer contato"
        );
        assert_eq!(
            api(409, "call_blocked", None, None).said(Locale::PtBr, when),
            "ligação bloqueada (sem data para liberar)"
        );
        assert_eq!(
            api(403, "leased_to_another", None, None).said(Locale::PtBr, when),
            "este devedor está com outro agente"
        );
        // A field's check the form did not make: the field in words, the
        // server's reason as data.
        assert_eq!(
            api(422, "invalid", Some("phone"), None).said(Locale::PtBr, when),
            "o servidor recusou o telefone: the server's English"
        );
        assert_eq!(
            api(422, "invalid", Some("mood"), None).said(Locale::PtBr, when),
            "o servidor recusou o campo mood: the server's English"
        );
        // A proxy's 502 is not a refusal: the outbox sends it again.
        assert_eq!(
            api(502, "http_502", None, None).said(Locale::PtBr, when),
            "erro no servidor (502)"
        );
        assert_eq!(
            ClientError::Network(format!("{CANNOT_CONNECT} (Connection refused)"))
                .said(Locale::PtBr, when),
            "servidor inacessível: não foi possível conectar (Connection refused)"
        );
        assert_eq!(
            ClientError::Network(NO_ANSWER.into()).said(Locale::PtBr, when),
            "servidor inacessível: sem resposta a tempo"
        );
        // English is the server's own message.
        assert_eq!(blocked.said(Locale::En, when), "the server's English");
    }
}
