//! Plain types of the collection domain. No I/O: no HTTP, SQL or terminal.

mod contact;
mod debtor;
mod document;
mod history;
mod jurisdiction;
mod locale;
mod money;
mod outcome;
mod promises;
mod time;
mod user;

pub use contact::{Channel, Firmness};
pub use debtor::{Debt, Debtor, Phone, PhoneKind, Zone, name_key};
pub use document::{Document, DocumentError, cpf_from_base};
pub use history::{ContactResult, Event, EventKind, Flag, Flags, Installment};
pub use jurisdiction::{Jurisdiction, Uf, UnknownJurisdiction, UsState};
pub use locale::Locale;
pub use money::{Currency, Money, MoneyError, grouped};
pub use outcome::{Disposition, Reason};
pub use promises::{
    Fate, Fates, Ledger, LedgerFold, OpenPromise, PromiseStatus, breaks_at, fates, forgiven_by,
};
pub use time::{Clock, LocalZone, ShiftedClock, SystemClock, local_to_utc};
pub use user::{Role, UnknownRole, User};
