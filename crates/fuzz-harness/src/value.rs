//! Fuzz target bodies for modem-value: the JSON mapping hosts feed values through.

use modem_value::Value;

/// The targets of this module, by name.
pub const TARGETS: &[(&str, crate::Target)] = &[("value_json", value_json)];

/// Any text either is rejected or decodes to a value whose encoding decodes back to it.
pub fn value_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(v) = Value::from_json(text) {
        let again = v.to_json();
        let back = Value::from_json(&again).expect("our own encoding must decode");
        assert_eq!(back, v, "round trip changed the value: {text} -> {again}");
    }
}
