//! Template parameters: `{name}` placeholders in bindings, labels and titles, filled in from the
//! values a navigation button or a template placement passes (falling back to the template's
//! defaults).

use std::borrow::Cow;
use std::collections::BTreeMap;

/// The placeholder names in `text` (`{ahu}.SupplyTemp` → `ahu`), in order of appearance.
pub fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        loop {
            let open = rest.find('{')?;
            let after = &rest[open + 1..];
            let close = after.find('}')?;
            let name = &after[..close];
            rest = &after[close + 1..];
            if is_param_name(name) {
                return Some(name);
            }
        }
    })
}

/// A parameter name: letters, digits, `_` and `-`, not empty.
pub fn is_param_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `text` with every `{name}` whose value `params` has replaced by it; other text (and unknown
/// placeholders) unchanged. Borrows when there is nothing to fill.
pub fn fill<'a>(text: &'a str, params: &BTreeMap<String, String>) -> Cow<'a, str> {
    if params.is_empty() || !text.contains('{') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            break;
        };
        let name = &after[..close];
        out.push_str(&rest[..open]);
        match params.get(name) {
            Some(v) if is_param_name(name) => out.push_str(v),
            _ => {
                out.push('{');
                out.push_str(name);
                out.push('}');
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The values in force for a template: its defaults, overridden by what the caller passes.
pub fn merged(
    defaults: &BTreeMap<String, String>,
    given: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut out = defaults.clone();
    for (k, v) in given {
        out.insert(k.clone(), v.clone());
    }
    out
}

/// Parse `ahu=AHU3, floor=2` (the inspector's text form) into parameters.
pub fn parse_params(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            return Err(format!("`{part}` is not name=value"));
        };
        let (k, v) = (k.trim(), v.trim());
        if !is_param_name(k) {
            return Err(format!(
                "`{k}` is not a parameter name (letters, digits, _ and -)"
            ));
        }
        out.insert(k.to_owned(), v.to_owned());
    }
    Ok(out)
}

/// The text form of parameters: `ahu=AHU3, floor=2`.
pub fn params_text(params: &BTreeMap<String, String>) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn fills_known_placeholders_and_keeps_the_rest() {
        let params = p(&[("ahu", "AHU3")]);
        assert_eq!(fill("{ahu}.SupplyTemp", &params), "AHU3.SupplyTemp");
        assert_eq!(fill("{ahu}/{site}", &params), "AHU3/{site}");
        assert_eq!(fill("a { b", &params), "a { b");
        assert_eq!(fill("{}", &params), "{}");
        assert!(matches!(fill("plain", &params), Cow::Borrowed(_)));
    }

    #[test]
    fn lists_placeholders() {
        let names: Vec<_> = placeholders("{ahu}.{x y}.{floor}{").collect();
        assert_eq!(names, ["ahu", "floor"]);
    }

    #[test]
    fn params_round_trip_as_text() {
        let params = parse_params(" ahu = AHU3 , floor=2,").expect("valid");
        assert_eq!(params, p(&[("ahu", "AHU3"), ("floor", "2")]));
        assert_eq!(params_text(&params), "ahu=AHU3, floor=2");
        assert!(parse_params("ahu").is_err());
        assert!(parse_params("a b=1").is_err());
        assert_eq!(
            merged(&p(&[("a", "1"), ("b", "2")]), &p(&[("b", "3")])),
            p(&[("a", "1"), ("b", "3")])
        );
    }
}
