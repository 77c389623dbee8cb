//! Every change of state starts as a named action. Keys, and later the
//! command palette and custom commands, produce these names; nothing else
//! changes the console's state.

use std::fmt;
use std::str::FromStr;

use crate::domain::Locale;

macro_rules! actions {
    ($($variant:ident = $name:literal { pt: $pt:literal, en: $en:literal, },)*) => {
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
        pub enum Action {
            $($variant,)*
        }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The kebab-case name used in the config file and the palette.
            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }

            /// What it does, said for the help screen.
            pub fn help(self, locale: Locale) -> &'static str {
                match self {
                    $(Action::$variant => locale.pick($pt, $en),)*
                }
            }
        }
    };
}

actions! {
    Quit = "quit" {
        pt: "sair do regua",
        en: "quit regua",
    },
    Help = "help" {
        pt: "mostrar as teclas desta tela",
        en: "show the keys of this screen",
    },
    Back = "back" {
        pt: "fechar, cancelar ou voltar",
        en: "close, cancel or go back",
    },
    Search = "search" {
        pt: "buscar um devedor por nome, CPF ou id",
        en: "find a debtor by name, CPF or id",
    },
    LeaseNext = "lease-next" {
        pt: "pegar o próximo devedor da fila",
        en: "take the next debtor from the queue",
    },
    Call = "call" {
        pt: "ligar para o devedor (quando a lei e a política permitirem)",
        en: "call the debtor (when the law and the policy allow)",
    },
    RecordOutcome = "record-outcome" {
        pt: "registrar o resultado do contato",
        en: "record what came of the contact",
    },
    NextPanel = "next-panel" {
        pt: "ir ao próximo painel ou campo",
        en: "move to the next panel or field",
    },
    PrevPanel = "prev-panel" {
        pt: "voltar ao painel ou campo anterior",
        en: "move to the previous panel or field",
    },
    Up = "up" {
        pt: "subir",
        en: "move up",
    },
    Down = "down" {
        pt: "descer",
        en: "move down",
    },
    PageUp = "page-up" {
        pt: "subir uma página",
        en: "scroll a page up",
    },
    PageDown = "page-down" {
        pt: "descer uma página",
        en: "scroll a page down",
    },
    Select = "select" {
        pt: "abrir ou escolher a linha selecionada",
        en: "open or choose the selected line",
    },
    FilterTimeline = "filter-timeline" {
        pt: "filtrar o histórico por tipo de evento",
        en: "show one kind of event in the timeline",
    },
    RevealDocument = "reveal-document" {
        pt: "mostrar o CPF/CNPJ completo (auditado)",
        en: "show the full CPF/CNPJ (audited)",
    },
    ReleaseLease = "release-lease" {
        pt: "devolver o devedor à fila, onde quem o tinha recebe os outros antes por um tempo (na supervisão: o do agente selecionado, auditado)",
        en: "give the debtor back to the queue, where whoever held them gets the others first for a while (on the board: the selected agent's, audited)",
    },
    Pause = "pause" {
        pt: "pausar com um motivo, ou voltar a ficar disponível, se estiver em pausa",
        en: "pause with a reason, or back to ready when paused",
    },
    Settle = "settle" {
        pt: "marcar a promessa como quitação, ou desmarcar: paga em dia, o restante do saldo é perdoado (dentro do desconto da política)",
        en: "make the promise a settlement, or not: paid in time, the rest of the balance is forgiven (within the policy's discount)",
    },
    Submit = "submit" {
        pt: "enviar o formulário",
        en: "submit the form",
    },
    Refresh = "refresh" {
        pt: "recarregar esta tela",
        en: "load this screen again",
    },
    Filter = "filter" {
        pt: "mostrar só as linhas que contêm o que você digitar",
        en: "show only the lines that match what you type",
    },
    Sort = "sort" {
        pt: "ordenar os agentes pela próxima coluna",
        en: "sort the agents by the next column",
    },
    Outbox = "outbox" {
        pt: "ver o que foi registrado e ainda não chegou ao servidor (aguardando ou recusado)",
        en: "see what was recorded and has not reached the server (waiting or refused)",
    },
    Retry = "retry" {
        pt: "enviar de novo o registro recusado selecionado",
        en: "send the selected refused record again",
    },
    Discard = "discard" {
        pt: "descartar o registro recusado selecionado (pede confirmação)",
        en: "give up the selected refused record (asks to confirm)",
    },
    PauseAgent = "pause-agent" {
        pt: "pausar o agente selecionado com um motivo (auditado), ou tirar da pausa um agente pausado",
        en: "pause the selected agent with a reason (audited), or set a paused one ready",
    },
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Action {
    type Err = String;

    fn from_str(s: &str) -> Result<Action, String> {
        Action::ALL
            .iter()
            .copied()
            .find(|a| a.name() == s)
            .ok_or_else(|| format!("unknown action {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut names: Vec<_> = Action::ALL.iter().map(|a| a.name()).collect();
        for a in Action::ALL {
            assert_eq!(a.name().parse::<Action>(), Ok(*a));
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Action::ALL.len());
        assert!("launch-rockets".parse::<Action>().is_err());
    }
}
