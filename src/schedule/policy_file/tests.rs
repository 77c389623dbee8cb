//! The policy file: the default loads as documented, and each kind of
//! mistake is reported with the line and key it is on, all at once where the
//! file parses. Broken files are the default with one edit, so the expected
//! line is found in the edited text rather than written down.

use proptest::prelude::*;

use super::*;
use crate::domain::{Locale, Uf};

const FILE: &str = "my-policy.toml";

/// The default policy with `from` (which must occur exactly once) replaced.
fn edit(text: &str, from: &str, to: &str) -> String {
    assert_eq!(
        text.matches(from).count(),
        1,
        "the snippet to edit must occur once: {from:?}"
    );
    text.replacen(from, to, 1)
}

fn edited(from: &str, to: &str) -> String {
    edit(DEFAULT_TOML, from, to)
}

/// The 1-based line on which `needle` (which must occur once) starts.
fn line_of(text: &str, needle: &str) -> usize {
    assert_eq!(
        text.matches(needle).count(),
        1,
        "{needle:?} must occur once"
    );
    let at = text.find(needle).unwrap();
    text[..at].matches('\n').count() + 1
}

/// The 1-based column at which `needle` starts on its line.
fn column_of(text: &str, needle: &str) -> usize {
    assert_eq!(
        text.matches(needle).count(),
        1,
        "{needle:?} must occur once"
    );
    let at = text.find(needle).unwrap();
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..at].chars().count() + 1
}

fn errors(text: &str) -> Vec<PolicyError> {
    match load(FILE, text) {
        Ok(_) => panic!("the policy should have been refused"),
        Err(errors) => errors,
    }
}

/// The only error of a file with one mistake.
fn the_error(text: &str) -> PolicyError {
    let errs = errors(text);
    assert_eq!(errs.len(), 1, "one mistake, one error: {errs:#?}");
    errs.into_iter().next().unwrap()
}

fn assert_error(e: &PolicyError, line: usize, key: &str, message_has: &str) {
    assert_eq!(e.file, FILE);
    assert_eq!((e.line, e.key.as_str()), (line, key), "{e}");
    assert!(
        e.message.contains(message_has),
        "message {:?} should mention {message_has:?}",
        e.message
    );
    assert!(e.column >= 1);
}

// ── The default ────────────────────────────────────────────────────────────

#[test]
fn the_default_policy_loads_as_its_comments_say() {
    let p = default_policy();
    assert_eq!(p.name, "default");
    assert_eq!(p.currency, Currency::BRL);
    assert_eq!(p.business_time_zone, Tz::America__Sao_Paulo);
    let days: Vec<i32> = p.steps.iter().map(|s| s.day).collect();
    assert_eq!(days, [-3, 0, 1, 3, 5, 10, 15, 20, 30, 45, 60, 90]);
    let first = &p.steps[0];
    assert_eq!(
        (first.id.as_str(), first.channel, first.firmness),
        ("reminder", Channel::Sms, Firmness::Friendly)
    );
    let business = p
        .steps
        .iter()
        .find(|s| s.id == "business_check_in")
        .unwrap();
    assert_eq!(business.segments, ["small_business"]);
    let notice = p.steps.iter().find(|s| s.id == "formal_notice").unwrap();
    assert_eq!(notice.min_balance, Some(Money::new(5_000, Currency::BRL)));
    let legal = p.steps.iter().find(|s| s.id == "legal_referral").unwrap();
    assert_eq!(
        (legal.channel, legal.firmness, legal.min_balance),
        (
            Channel::Legal,
            Firmness::Legal,
            Some(Money::new(100_000, Currency::BRL))
        )
    );

    assert_eq!(p.promise.pauses_from, Firmness::Firm);
    assert_eq!(p.promise.grace_days, 2);
    let enc = p.promise.encourage.as_ref().unwrap();
    assert_eq!((enc.days_before, enc.channel), (1, Channel::Sms));
    assert_eq!(p.queue(p.broken_promise.queue).id, "broken_promises");
    assert_eq!(p.queue(p.callback_queue).id, "callbacks_due");
    assert_eq!(p.callback_max_days, 30);
    assert_eq!(p.queue(p.stop_queues.dispute).id, "disputes");
    assert_eq!(p.queue(p.stop_queues.cease_contact).id, "do_not_contact");
    assert_eq!(p.queue(p.stop_queues.deceased).id, "deceased");
    assert_eq!(p.engagement.len(), 1);
    let e = &p.engagement[0];
    assert_eq!(
        (e.opened_on, e.no_payment_within_hours, e.channel),
        (Some(Channel::Email), 48, Channel::Whatsapp)
    );

    let c = &p.compliance;
    assert_eq!(c.calls, Some(CallCaps::REG_F));
    assert_eq!(
        c.messages[Channel::Sms as usize],
        Some(MessageCap {
            max: 2,
            per_days: 7
        })
    );
    assert_eq!(
        c.messages[Channel::Email as usize],
        Some(MessageCap {
            max: 3,
            per_days: 7
        })
    );
    assert_eq!(c.messages[Channel::Letter as usize], None);
    assert_eq!(c.do_not_contact_tags, ["represented_by_attorney"]);
    assert_eq!(c.windows.len(), Jurisdiction::COUNT);

    assert_eq!(p.offers.max_discount_percent, 30);
    assert_eq!(p.offers.max_installments, 12);
    assert_eq!(p.offers.min_installment, Money::new(5_000, Currency::BRL));
    assert_eq!(
        p.offers.min_installment_in,
        [Money::new(1_000, Currency::USD)]
    );
    assert_eq!(p.offers.max_promise_days, 15);

    let ids: Vec<&str> = p.queues.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "due_soon",
            "early",
            "late_30",
            "broken_promises",
            "callbacks_due",
            "disputes",
            "do_not_contact",
            "deceased"
        ]
    );
    assert_eq!(p.queue_for_days(-7), p.queue_index("due_soon"));
    assert_eq!(p.queue_for_days(0), p.queue_index("due_soon"));
    assert_eq!(p.queue_for_days(1), p.queue_index("early"));
    assert_eq!(p.queue_for_days(29), p.queue_index("early"));
    assert_eq!(p.queue_for_days(30), p.queue_index("late_30"));
    assert_eq!(p.queue_for_days(-8), None);
}

#[test]
fn a_policy_may_set_its_own_windows_caps_and_holidays() {
    let text = edited(
        "all = []\n",
        "all = [2026-12-24]\nSP = [\"2026-01-26\"]\n\n\
         [compliance.windows.MG]\n\
         authority = \"Minas Gerais (Lei 99/2026)\"\n\
         weekdays = \"09:30-18:00\"\n\
         saturday = \"closed\"\n\
         sunday = \"closed\"\n\
         closed_on_holidays = true\n",
    );
    let text = edit(
        &text,
        "preset = \"reg-f\"",
        "max_attempts = 3\nper_days = 2\nquiet_days_after_conversation = 1",
    );
    let p = load(FILE, &text).unwrap();
    let mg = p.compliance.window(Jurisdiction::Br(Uf::MG));
    assert_eq!(&*mg.authority, "Minas Gerais (Lei 99/2026)");
    assert_eq!(
        mg.weekdays,
        Some(Hours {
            open: 570,
            close: 1080
        })
    );
    assert_eq!((mg.saturday, mg.sunday), (None, None));
    // Other jurisdictions keep their presets.
    assert_eq!(
        p.compliance.window(Jurisdiction::Br(Uf::SP)).weekdays,
        Some(Hours::new(8, 20))
    );
    assert_eq!(
        p.compliance.calls,
        Some(CallCaps {
            max_attempts: 3,
            per_days: 2,
            quiet_days_after_conversation: 1
        })
    );
    let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    let extra = &p.compliance.extra_holidays;
    assert!(extra.contains(Jurisdiction::Br(Uf::RJ), d(12, 24)));
    assert!(extra.contains(Jurisdiction::Br(Uf::SP), d(1, 26)));
    assert!(!extra.contains(Jurisdiction::Br(Uf::RJ), d(1, 26)));

    let off = edited("preset = \"reg-f\"", "preset = \"none\"");
    assert_eq!(load(FILE, &off).unwrap().compliance.calls, None);
}

// ── One mistake at a time ──────────────────────────────────────────────────

#[test]
fn an_unknown_channel_is_named_on_its_line() {
    let text = edited("day = 3\nchannel = \"call\"", "day = 3\nchannel = \"fax\"");
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "\"fax\""),
        "step[3].channel",
        "unknown variant `fax`",
    );
    assert_eq!(e.column, column_of(&text, "\"fax\""));
    assert!(e.message.contains("whatsapp"), "lists the known channels");
    // Display is file:line:column: key: message.
    assert_eq!(
        e.to_string(),
        format!(
            "{FILE}:{}:{}: step[3].channel: {}",
            e.line, e.column, e.message
        )
    );
}

#[test]
fn overlapping_steps_are_refused_unless_their_segments_differ() {
    let extra = "\n[[step]]\nid = \"another_first_call\"\nday = 3\nchannel = \"call\"\n\
                 firmness = \"firm\"\ntemplate = \"first_call\"\n";
    let text = edited("\n# ── Event rules", &format!("{extra}\n# ── Event rules"));
    let e = the_error(&text);
    // The new step is the thirteenth; its `day` line is the one named.
    let day_line = line_of(&text, "id = \"another_first_call\"") + 1;
    assert_error(&e, day_line, "step[12].day", "overlaps step 'first_call'");
    assert!(e.message.contains("call on day 3"), "{}", e.message);

    // On another channel, or for a segment the first step does not cover
    // when that one is segmented, there is no overlap.
    let other_channel = edited(
        "\n# ── Event rules",
        &format!(
            "{}\n# ── Event rules",
            extra.replace("\"call\"", "\"letter\"")
        ),
    );
    assert!(load(FILE, &other_channel).is_ok());
    let segmented = "\n[[step]]\nid = \"retail_check_in\"\nday = 5\nchannel = \"email\"\n\
                     firmness = \"friendly\"\ntemplate = \"x\"\nsegment = [\"retail\"]\n";
    let text = edited(
        "\n# ── Event rules",
        &format!("{segmented}\n# ── Event rules"),
    );
    assert!(load(FILE, &text).is_ok());
    // ... but the same segment overlaps.
    let text = edited(
        "\n# ── Event rules",
        &format!(
            "{}\n# ── Event rules",
            segmented.replace("\"retail\"", "\"small_business\"")
        ),
    );
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "id = \"retail_check_in\"") + 1,
        "step[12].day",
        "overlaps step 'business_check_in'",
    );
}

#[test]
fn a_step_defined_twice_is_named() {
    let text = edited("id = \"second_call\"", "id = \"follow_up_call\"");
    // The original `follow_up_call` step comes first; the copy is named.
    let copy = text
        .match_indices("id = \"follow_up_call\"")
        .nth(1)
        .unwrap()
        .0;
    let e = the_error(&text);
    assert_error(
        &e,
        text[..copy].matches('\n').count() + 1,
        "step[7].id",
        "defined twice",
    );
}

#[test]
fn a_time_zone_that_does_not_exist() {
    let text = edited(
        "business_time_zone = \"America/Sao_Paulo\"",
        "business_time_zone = \"America/Sao_Paolo\"",
    );
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "America/Sao_Paolo"),
        "policy.business_time_zone",
        "'America/Sao_Paolo' is not an IANA time zone",
    );
}

#[test]
fn negative_caps_are_named_with_their_key() {
    let text = edited(
        "sms = { max = 2, per_days = 7 }",
        "sms = { max = -1, per_days = 7 }",
    );
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "max = -1"),
        "compliance.messages.sms.max",
        "-1 is negative",
    );
    assert_eq!(e.column, column_of(&text, "-1, per_days"));

    let text = edited("preset = \"reg-f\"", "max_attempts = -3\nper_days = 7");
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "max_attempts = -3"),
        "compliance.calls.max_attempts",
        "-3 is negative",
    );

    let text = edited("grace_days = 2", "grace_days = 61");
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "grace_days = 61"),
        "rules.promise.grace_days",
        "61 is out of range; it must be from 0 to 60",
    );
}

#[test]
fn unknown_keys_are_named() {
    let text = edited(
        "name = \"default\"",
        "name = \"default\"\ncolour = \"blue\"",
    );
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "colour"),
        "policy.colour",
        "unknown field `colour`",
    );

    let text = edited("template = \"due_today\"", "templat = \"due_today\"");
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "templat ="),
        "step[1].templat",
        "unknown field `templat`",
    );

    let text = edited(
        "sms = { max = 2, per_days = 7 }",
        "sms = { max = 2, per_day = 7 }",
    );
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "per_day ="),
        "compliance.messages.sms",
        "unknown field `per_day`",
    );
}

#[test]
fn a_rule_that_names_an_unknown_queue() {
    let text = edited("queue = \"broken_promises\"", "queue = \"broken\"");
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "queue = \"broken\""),
        "rules.broken_promise.queue",
        "no queue 'broken'",
    );
    assert!(e.message.contains("due_soon, early"), "lists the queues");

    let text = edited("dispute = \"disputes\"", "dispute = \"disputas\"");
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "disputas"),
        "rules.stop.dispute",
        "no queue 'disputas'",
    );
}

fn with_mg_window(weekdays: &str, saturday: &str) -> String {
    edited(
        "all = []\n",
        &format!(
            "all = []\n\n[compliance.windows.MG]\nweekdays = \"{weekdays}\"\n\
             saturday = \"{saturday}\"\nsunday = \"closed\"\nclosed_on_holidays = true\n"
        ),
    )
}

fn with_window(uf: &str, weekdays: &str, saturday: &str, sunday: &str, holidays: bool) -> String {
    edited(
        "all = []\n",
        &format!(
            "all = []\n\n[compliance.windows.{uf}]\nweekdays = \"{weekdays}\"\n\
             saturday = \"{saturday}\"\nsunday = \"{sunday}\"\nclosed_on_holidays = {holidays}\n"
        ),
    )
}

/// A statute's window may be narrowed, not widened; a UF without one (the
/// national default) may be given any hours.
#[test]
fn a_window_wider_than_the_law_is_refused() {
    let text = with_window("SP", "08:00-21:00", "08:00-14:00", "closed", true);
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "08:00-21:00"),
        "compliance.windows.SP.weekdays",
        "08:00-21:00 is wider than São Paulo (Lei 15.426/2014) allows on weekdays (08:00-20:00)",
    );
    let text = with_window("RJ", "09:00-19:00", "09:00-12:00", "closed", false);
    let errs = errors(&text);
    let keys: Vec<&str> = errs.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "compliance.windows.RJ.closed_on_holidays",
            "compliance.windows.RJ.saturday"
        ],
        "{errs:#?}"
    );
    let text = with_window("US-CA", "07:00-21:00", "08:00-21:00", "08:00-21:00", false);
    assert_eq!(the_error(&text).key, "compliance.windows.US-CA.weekdays");
    assert!(
        load(
            FILE,
            &with_window("SP", "09:00-18:00", "closed", "closed", true)
        )
        .is_ok()
    );
    assert!(
        load(
            FILE,
            &with_window("MG", "07:00-22:00", "07:00-22:00", "07:00-22:00", false)
        )
        .is_ok()
    );
}

#[test]
fn bad_window_hours_are_named_field_by_field() {
    let text = with_mg_window("20:00-08:00", "08:00-14:00");
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "20:00-08:00"),
        "compliance.windows.MG.weekdays",
        "opens at or after it closes",
    );
    let text = with_mg_window("08:00-20:00", "8h");
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "\"8h\""),
        "compliance.windows.MG.saturday",
        "'8h' is not hours like \"08:00-20:00\"",
    );
    for bad in [
        "25:00-26:00",
        "08:60-09:00",
        "24:01-24:30",
        "08:00",
        "a:b-c:d",
    ] {
        let text = with_mg_window(bad, "closed");
        let e = the_error(&text);
        assert_error(
            &e,
            line_of(&text, bad),
            "compliance.windows.MG.weekdays",
            "",
        );
    }
    // Up to midnight is fine.
    assert!(load(FILE, &with_mg_window("08:00-24:00", "closed")).is_ok());

    let text = edited(
        "all = []\n",
        "all = []\n\n[compliance.windows.XX]\nweekdays = \"08:00-20:00\"\n\
         saturday = \"closed\"\nsunday = \"closed\"\nclosed_on_holidays = true\n",
    );
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "[compliance.windows.XX]"),
        "compliance.windows.XX",
        "'XX' is not a Brazilian UF",
    );
}

#[test]
fn bad_holiday_dates_are_named() {
    let text = edited("all = []", "all = [\"2026-13-01\", 2026-12-24]");
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "2026-13-01"),
        "compliance.holidays.all",
        "'2026-13-01' is not a date like 2026-12-24",
    );
    assert_eq!(e.column, column_of(&text, "\"2026-13-01\""));

    // A TOML date that is not a real day is refused by the parser.
    let text = edited("all = []", "all = [2026-02-30]");
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "2026-02-30"),
        "compliance.holidays.all",
        "invalid date",
    );

    // A date with a time is not a day.
    let text = edited("all = []", "all = [2026-12-24T10:00:00]");
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "2026-12-24T10"),
        "compliance.holidays.all",
        "is not a date",
    );

    let text = edited("all = []", "all = []\nXX = [\"2026-12-24\"]");
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "XX ="),
        "compliance.holidays.XX",
        "nor 'all'",
    );
}

#[test]
fn overlapping_queue_ranges_are_named() {
    let text = edited("days_past_due = [1, 29]", "days_past_due = [0, 29]");
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "[0, 29]"),
        "queue[1].days_past_due",
        "overlaps queue 'due_soon' [-7, 0]",
    );
    let text = edited("days_past_due = [1, 29]", "days_past_due = [29, 1]");
    let errs = errors(&text);
    assert!(
        errs.iter().any(|e| e.key == "queue[1].days_past_due"
            && e.message.contains("starts after it ends")
            && e.line == line_of(&text, "[29, 1]")),
        "{errs:#?}"
    );
    let text = edited("id = \"late_30\"", "id = \"early\"");
    let copy = text.match_indices("id = \"early\"").nth(1).unwrap().0;
    let e = the_error(&text);
    assert_error(
        &e,
        text[..copy].matches('\n').count() + 1,
        "queue[2].id",
        "queue 'early' is defined twice",
    );
}

#[test]
fn a_preset_and_caps_of_ones_own_together() {
    let text = edited("preset = \"reg-f\"", "preset = \"reg-f\"\nmax_attempts = 5");
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "preset = \"reg-f\""),
        "compliance.calls.preset",
        "not both",
    );
    let text = edited("preset = \"reg-f\"", "preset = \"reg-g\"");
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "reg-g"),
        "compliance.calls.preset",
        "unknown preset 'reg-g'",
    );
}

#[test]
fn half_a_set_of_caps_names_the_calls_table_not_the_top_of_the_file() {
    let text = edited("preset = \"reg-f\"", "max_attempts = 5");
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "[compliance.calls]"),
        "compliance.calls",
        "both max_attempts and per_days",
    );
}

#[test]
fn encouragement_fields_go_together() {
    let text = edited("encourage_channel = \"sms\"\n", "");
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "encourage_days_before = 1"),
        "rules.promise",
        "give all three or none",
    );
}

#[test]
fn engagement_rules_are_checked() {
    let text = edited("when = \"message_opened\"", "when = \"payment_missed\"");
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "payment_missed"),
        "rules.engagement[0].when",
        "unknown trigger",
    );
    let text = edited(
        "channel = \"whatsapp\"\nfirmness = \"friendly\"\ntemplate = \"opened_follow_up\"",
        "channel = \"email\"\nfirmness = \"friendly\"\ntemplate = \"opened_follow_up\"",
    );
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(
            &text,
            "channel = \"email\"\nfirmness = \"friendly\"\ntemplate = \"opened",
        ),
        "rules.engagement[0].channel",
        "the channel it watches",
    );
}

#[test]
fn a_missing_field_names_its_table() {
    let text = edited(
        "# A callback the debtor asked for is an appointment at their chosen time.\n\
         queue = \"callbacks_due\"\n",
        "",
    );
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "[rules.callback]"),
        "rules.callback",
        "missing field `queue`",
    );
}

#[test]
fn a_callback_limit_is_optional_and_checked() {
    let text = edited("max_days = 30\n", "");
    assert_eq!(load(FILE, &text).unwrap().callback_max_days, 30);
    let text = edited("max_days = 30\n", "max_days = 7\n");
    assert_eq!(load(FILE, &text).unwrap().callback_max_days, 7);
    let text = edited("max_days = 30\n", "max_days = 0\n");
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "max_days = 0"),
        "rules.callback.max_days",
        "from 1 to 365",
    );
}

#[test]
fn money_in_the_policy_is_checked() {
    // Each currency's minimum, named by its code.
    let text = edited("{ USD = \"10.00\" }", "{ USX = \"10.00\", EUR = \"-1\" }");
    let errs = errors(&text);
    let keys: Vec<&str> = errs.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "offers.min_installment_in.USX",
            "offers.min_installment_in.EUR"
        ],
        "in file order"
    );
    assert!(errs[0].message.contains("'USX'"), "{}", errs[0]);
    assert!(errs[1].message.contains("negative"), "{}", errs[1]);
    let text = edited("min_installment = \"50.00\"", "min_installment = \"50,00\"");
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "\"50,00\""),
        "offers.min_installment",
        "'50,00' is not an amount",
    );
    let text = edited("min_balance = \"1000.00\"", "min_balance = \"-1000.00\"");
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "-1000.00"),
        "step[11].min_balance",
        "is negative",
    );
    let text = edited("currency = \"BRL\"", "currency = \"real\"");
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "\"real\""),
        "policy.currency",
        "ISO 4217",
    );
}

// ── Several at once ────────────────────────────────────────────────────────

#[test]
fn several_mistakes_are_reported_at_once_in_file_order() {
    let text = edited(
        "business_time_zone = \"America/Sao_Paulo\"",
        "business_time_zone = \"Mars/Olympus_Mons\"",
    );
    let text = edit(&text, "queue = \"broken_promises\"", "queue = \"nowhere\"");
    let text = edit(
        &text,
        "sms = { max = 2, per_days = 7 }",
        "sms = { max = -1, per_days = 7 }",
    );
    let text = edit(&text, "days_past_due = [1, 29]", "days_past_due = [0, 29]");
    let text = edit(
        &text,
        "max_discount_percent = 30",
        "max_discount_percent = 130",
    );
    let errs = errors(&text);
    let got: Vec<(usize, &str)> = errs.iter().map(|e| (e.line, e.key.as_str())).collect();
    assert_eq!(
        got,
        [
            (
                line_of(&text, "Mars/Olympus_Mons"),
                "policy.business_time_zone"
            ),
            (line_of(&text, "\"nowhere\""), "rules.broken_promise.queue"),
            (line_of(&text, "max = -1"), "compliance.messages.sms.max"),
            (
                line_of(&text, "max_discount_percent = 130"),
                "offers.max_discount_percent"
            ),
            (line_of(&text, "[0, 29]"), "queue[1].days_past_due"),
        ]
    );
}

#[test]
fn a_file_that_does_not_parse_names_the_line() {
    let text = edited("[offers]", "[offers");
    let e = the_error(&text);
    assert_eq!(e.line, line_of(&text, "[offers\n"));
    // An empty file misses every table it must have, each said.
    let errs = errors("");
    for (e, table) in errs.iter().zip(["policy", "rules", "offers"]) {
        assert_eq!((e.line, e.column, e.key.as_str()), (1, 1, "(file)"));
        assert_eq!(e.message, format!("missing field `{table}`"));
    }
    assert_eq!(errs.len(), 3, "{errs:#?}");
}

#[test]
fn a_missing_table_is_a_mistake_of_the_file_not_of_its_first_comment() {
    let start = DEFAULT_TOML.find("[offers]").unwrap();
    let end = DEFAULT_TOML.find("# ── Queues").unwrap();
    let text = format!("{}{}", &DEFAULT_TOML[..start], &DEFAULT_TOML[end..]);
    let e = the_error(&text);
    assert_error(&e, 1, "(file)", "missing field `offers`");
}

// ── Talking points ─────────────────────────────────────────────────────────

/// The key of the `[[scripts.point]]` that `needle` is in.
fn point_key(text: &str, needle: &str, part: &str) -> String {
    let at = text.find(needle).unwrap();
    let index = text[..at].matches("[[scripts.point]]").count() - 1;
    format!("scripts.point[{index}].{part}")
}

#[test]
fn a_template_naming_a_fact_it_may_not_is_named_at_its_line_and_column() {
    let text = edited(
        "{{ promise.date }} e {% if promise.paid_in_full %}ele chegou",
        "{{ promise.amount }} e {% if promise.paid_in_full %}ele chegou",
    );
    let e = the_error(&text);
    let key = point_key(&text, "promise.amount }} e {% if", "text.pt-BR");
    assert_error(
        &e,
        line_of(&text, "{{ promise.amount }} e {% if"),
        &key,
        "no amounts",
    );
    assert_eq!(e.column, column_of(&text, "promise.amount }} e {% if"));
}

#[test]
fn a_title_is_a_template_too_placed_after_its_quote() {
    let text = edited(
        "title.en = \"Ask what happened, without judging\"",
        "title.en = \"Ask about {{ totl }}\"",
    );
    let e = the_error(&text);
    let key = point_key(&text, "{{ totl }}", "title.en");
    assert_error(&e, line_of(&text, "{{ totl }}"), &key, "no fact 'totl'");
    assert_eq!(e.column, column_of(&text, "totl }}"));
}

#[test]
fn a_template_that_does_not_parse_is_named_at_its_line() {
    let text = edited(
        "Obrigado, {{ first_name }}! Se já",
        "Obrigado, {{ first_name }! Se já",
    );
    let e = the_error(&text);
    let key = point_key(&text, "{{ first_name }! Se", "text.pt-BR");
    assert_error(
        &e,
        line_of(&text, "{{ first_name }! Se"),
        &key,
        "syntax error",
    );
}

#[test]
fn an_unknown_situation_is_named_on_its_line() {
    let text = edited(
        "situation = \"hardship\"\nstage = \"why\"",
        "situation = \"hardhsip\"\nstage = \"why\"",
    );
    let e = the_error(&text);
    let key = point_key(&text, "\"hardhsip\"", "situation");
    assert_error(
        &e,
        line_of(&text, "\"hardhsip\""),
        &key,
        "unknown situation 'hardhsip'",
    );
}

#[test]
fn without_scripts_the_built_in_points_are_used_and_with_them_every_situation_needs_one() {
    use crate::scripts::{Case, Facts, Situation};
    let start = DEFAULT_TOML.find("# ── Talking points").unwrap();
    let without = load(FILE, &DEFAULT_TOML[..start]).unwrap();
    let case = Case {
        situation: Situation::BrokenPromise,
        facts: Facts::sample(Situation::BrokenPromise),
    };
    let locale = crate::domain::Locale::PtBr;
    assert_eq!(
        without.talking_points.render(&case, locale).unwrap(),
        default_policy()
            .talking_points
            .render(&case, locale)
            .unwrap()
    );

    let only_one = format!(
        "{}[[scripts.point]]\nsituation = \"dispute\"\nstage = \"why\"\n\
         title.pt-BR = \"Ouça\"\ntitle.en = \"Listen\"\ntext.pt-BR = \"Ouça\"\ntext.en = \"Listen\"\n",
        &DEFAULT_TOML[..start]
    );
    let e = the_error(&only_one);
    assert_eq!(e.key, "scripts");
    assert!(
        e.message.contains("no talking points for before_due,"),
        "{e}"
    );
    assert!(!e.message.contains("dispute"), "{e}");
}

// ── Never a panic ──────────────────────────────────────────────────────────

/// Whatever `load` says about a text, it says it without panicking and
/// with positions inside the text.
fn check_positions(text: &str) -> Result<(), TestCaseError> {
    if let Err(errs) = load("fuzz.toml", text) {
        prop_assert!(!errs.is_empty());
        let lines = text.split('\n').count();
        for e in errs {
            prop_assert!(e.line >= 1 && e.line <= lines, "{e} (of {lines} lines)");
            prop_assert!(e.column >= 1);
            prop_assert!(!e.message.is_empty());
        }
    }
    Ok(())
}

/// Char boundaries of the default policy, so cuts never split a character.
fn boundary(frac: f64) -> usize {
    let bounds: Vec<usize> = DEFAULT_TOML
        .char_indices()
        .map(|(i, _)| i)
        .chain([DEFAULT_TOML.len()])
        .collect();
    bounds[((bounds.len() - 1) as f64 * frac) as usize]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check_positions(&text)?;
    }

    #[test]
    fn toml_looking_text_never_panics(text in "(\\[{1,2}[a-z._]{0,12}\\]{0,2}\n|[a-z_]{1,10} = (\"[^\"\n]{0,10}\"|-?[0-9]{1,12}|\\[[0-9, \"-]{0,10}\\]|\\{[a-z =0-9,]{0,20}\\}|[0-9]{4}-[0-9]{2}-[0-9]{2})\n|#[^\n]{0,10}\n){0,30}") {
        check_positions(&text)?;
    }

    #[test]
    fn truncated_default_policies_never_panic(cut in 0.0f64..=1.0) {
        check_positions(&DEFAULT_TOML[..boundary(cut)])?;
    }

    #[test]
    fn mutated_default_policies_never_panic(
        start in 0.0f64..1.0,
        len in 0usize..40,
        insert in "[ -~\n\u{e9}\u{2014}]{0,12}",
    ) {
        let from = boundary(start);
        let to = DEFAULT_TOML[from..]
            .char_indices()
            .nth(len)
            .map_or(DEFAULT_TOML.len(), |(i, _)| from + i);
        let text = format!("{}{insert}{}", &DEFAULT_TOML[..from], &DEFAULT_TOML[to..]);
        check_positions(&text)?;
    }

    #[test]
    fn values_swapped_into_the_default_never_panic(
        line in 0usize..220,
        value in prop_oneof![
            Just("-1".to_string()),
            Just("9999999999999999999".to_string()),
            Just("\"\"".to_string()),
            Just("[]".to_string()),
            Just("{}".to_string()),
            Just("\"closed\"".to_string()),
            Just("\"24:00-24:00\"".to_string()),
            Just("\"99999999999999999999.99\"".to_string()),
            Just("1979-05-27".to_string()),
            "-?[0-9]{1,20}",
            "\"[ -~]{0,10}\"",
        ],
    ) {
        // Replace the value on one `key = value` line.
        let lines: Vec<&str> = DEFAULT_TOML.lines().collect();
        let n = line % lines.len();
        let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        if let Some((key, _)) = lines[n].split_once(" = ")
            && !key.starts_with('#')
        {
            out[n] = format!("{key} = {value}");
        }
        check_positions(&out.join("\n"))?;
    }
}

/// Agents read a step or engagement rule by its name in their language;
/// a step without one by its id, as before names.
#[test]
fn steps_and_engagement_rules_are_named_for_agents_or_go_by_their_id() {
    use crate::schedule::explain::source_name as said;
    use crate::schedule::plan::Source;
    let p = load(FILE, DEFAULT_TOML).unwrap();
    let late = p.steps.iter().position(|s| s.id == "late_call").unwrap() as u16;
    assert_eq!(
        said(&p, Source::Step(late), Locale::PtBr),
        "passo D+45: Ligação de atraso longo"
    );
    assert_eq!(
        said(&p, Source::Step(late), Locale::En),
        "step D+45: Late call"
    );
    assert_eq!(
        said(&p, Source::Engagement(0), Locale::PtBr),
        "regra de engajamento: Abriu a mensagem e não pagou"
    );

    let text = edited(
        "id = \"late_call\"\nname.pt-BR = \"Ligação de atraso longo\"\nname.en = \"Late call\"\n",
        "id = \"late_call\"\n",
    );
    let p = load(FILE, &text).unwrap();
    assert_eq!(
        said(&p, Source::Step(late), Locale::PtBr),
        "passo D+45 'late_call'"
    );
    let text = edited(
        "name.pt-BR = \"Ligação de atraso longo\"\nname.en = \"Late call\"",
        "name = \"Cobrança D+45\"",
    );
    let p = load(FILE, &text).unwrap();
    assert_eq!(
        said(&p, Source::Step(late), Locale::En),
        "step D+45: Cobrança D+45"
    );
}

#[test]
fn a_queue_is_named_in_each_language_or_once_for_both() {
    let p = load(FILE, DEFAULT_TOML).unwrap();
    let broken = p.queues.iter().find(|q| q.id == "broken_promises").unwrap();
    assert_eq!(broken.name(Locale::PtBr), "Promessas quebradas");
    assert_eq!(broken.name(Locale::En), "Broken promises");

    let text = edited(
        "name.pt-BR = \"Contestações\"\nname.en = \"Disputes\"",
        "name = \"Disputas\"",
    );
    let p = load(FILE, &text).unwrap();
    let disputes = p.queues.iter().find(|q| q.id == "disputes").unwrap();
    assert_eq!(disputes.name(Locale::PtBr), "Disputas");
    assert_eq!(disputes.name(Locale::En), "Disputas");

    // Half a pair, or a language regua does not speak.
    for to in [
        "name.pt-BR = \"Contestações\"",
        "name.pt-BR = \"Contestações\"\nname.fr = \"Litiges\"",
        "name.pt-BR = \"Contestações\"\nname.en = \"Disputes\"\nname.fr = \"Litiges\"",
    ] {
        let text = edited("name.pt-BR = \"Contestações\"\nname.en = \"Disputes\"", to);
        let e = the_error(&text);
        assert_error(
            &e,
            line_of(&text, "name.pt-BR = \"Contestações\""),
            "queue[5].name.pt-BR",
            "a name, or name.pt-BR and name.en",
        );
    }
}

#[test]
fn mistakes_of_type_in_several_tables_are_all_reported() {
    let text = edited("day = 3\nchannel = \"call\"", "day = 3\nchannel = \"fax\"");
    let text = edit(&text, "grace_days = 2", "grace_days = \"two\"");
    let text = edit(
        &text,
        "max_installments = 12",
        "max_installments = \"twelve\"",
    );
    let text = edit(&text, "id = \"late_30\"", "id = \"late_30\"\ncolour = 1");
    let errs = errors(&text);
    let got: Vec<(usize, &str)> = errs.iter().map(|e| (e.line, e.key.as_str())).collect();
    assert_eq!(
        got,
        [
            (line_of(&text, "\"fax\""), "step[3].channel"),
            (line_of(&text, "\"two\""), "rules.promise.grace_days"),
            (line_of(&text, "\"twelve\""), "offers.max_installments"),
            (line_of(&text, "colour"), "queue[2].colour"),
        ],
        "{errs:#?}"
    );
    assert!(errs[1].message.contains("invalid type"), "{}", errs[1]);
}

#[test]
fn a_listing_or_a_legal_step_waits_for_the_due_date_and_a_promise() {
    let listing = "day = 30\nchannel = \"bureau\"\nfirmness = \"firm\"";
    let text = edited(
        listing,
        "day = -2\nchannel = \"bureau\"\nfirmness = \"firm\"",
    );
    // (Its `after` is now later than it, too.)
    let e = errors(&text).remove(0);
    assert_error(
        &e,
        line_of(&text, "day = -2"),
        "step[8].day",
        "must come after the due date",
    );
    let text = edited(
        "day = -3\nchannel = \"sms\"\nfirmness = \"friendly\"",
        "day = -3\nchannel = \"sms\"\nfirmness = \"legal\"",
    );
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "day = -3"),
        "step[0].day",
        "a sms step that is legal must come after the due date",
    );
    let text = edited(
        listing,
        "day = 30\nchannel = \"bureau\"\nfirmness = \"friendly\"",
    );
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "\"friendly\"\ntemplate = \"bureau_listing\""),
        "step[8].firmness",
        "at least as firm as rules.promise.pauses_from (firm)",
    );
}

#[test]
fn a_step_after_another_names_an_earlier_step() {
    let after = "after = { step = \"formal_notice\", days = 10 }";
    let policy = load(FILE, DEFAULT_TOML).unwrap();
    let listing = policy.steps.iter().find(|s| s.id == "negativacao").unwrap();
    let notice = policy.steps.iter().position(|s| s.id == "formal_notice");
    assert_eq!(
        listing.after.map(|a| (Some(a.step), a.days)),
        Some((notice, 10))
    );
    let text = edited(after, "after = { step = \"formal_notise\", days = 10 }");
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "formal_notise"),
        "step[8].after.step",
        "no step 'formal_notise'",
    );
    let text = edited(after, "after = { step = \"late_call\", days = 10 }");
    let e = the_error(&text);
    assert_error(
        &e,
        line_of(&text, "step = \"late_call\""),
        "step[8].after.step",
        "is on day 45, not before this one (day 30)",
    );
    let text = edited(after, "after = { step = \"formal_notice\", days = -1 }");
    let e = the_error(&text);
    assert_error(&e, line_of(&text, "days = -1"), "step[8].after.days", "");
}
