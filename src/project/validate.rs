//! Semantic checks over a parsed project: each problem names file, field path and reason.

use std::collections::HashSet;
use std::net::SocketAddr;

use std::collections::BTreeMap;

use super::{
    BrokerConfig, ButtonAction, Decoder, Problem, Project, ScreenFile, WidgetKind,
    validate_topic_filter,
};

/// Every problem in the project (empty when it is fine).
pub fn validate(project: &Project) -> Vec<Problem> {
    let mut out = Vec::new();
    let pj = "project.json";
    let file = &project.file;

    if file.name.trim().is_empty() {
        out.push(Problem::new(pj, "name", "must not be empty"));
    }

    match &file.broker {
        BrokerConfig::Embedded {
            listen,
            listen_v5,
            auth,
            tls,
        } => {
            if let Some(t) = tls {
                match t.listen.parse::<SocketAddr>() {
                    Err(_) => out.push(Problem::new(
                        pj,
                        "broker.tls.listen",
                        format!("`{}` is not an address like 0.0.0.0:8883", t.listen),
                    )),
                    Ok(a) if !a.ip().is_loopback() && auth.is_none() => out.push(Problem::new(
                        pj,
                        "broker.tls.listen",
                        format!(
                            "`{}` is reachable from the network: configure broker.auth \
                             (users with password_env)",
                            t.listen
                        ),
                    )),
                    Ok(_) => {}
                }
                for (field, path) in [
                    ("broker.tls.cert_file", &t.cert_file),
                    ("broker.tls.key_file", &t.key_file),
                ] {
                    if !project.resolve_path(path).is_file() {
                        out.push(Problem::new(pj, field, format!("no file `{path}`")));
                    }
                }
            }
            for (field, addr, example) in [
                ("broker.listen", Some(listen), "127.0.0.1:1883"),
                ("broker.listen_v5", listen_v5.as_ref(), "127.0.0.1:1884"),
            ] {
                let Some(addr) = addr else { continue };
                match addr.parse::<SocketAddr>() {
                    Err(_) => out.push(Problem::new(
                        pj,
                        field,
                        format!("`{addr}` is not an address like {example}"),
                    )),
                    Ok(a) if !a.ip().is_loopback() && auth.is_none() => out.push(Problem::new(
                        pj,
                        field,
                        format!(
                            "`{addr}` is reachable from the network: configure broker.auth \
                             (users with password_env) or listen on 127.0.0.1"
                        ),
                    )),
                    Ok(_) => {}
                }
            }
            if let Some(auth) = auth {
                if auth.users.is_empty() {
                    out.push(Problem::new(pj, "broker.auth.users", "must list a user"));
                }
                for (i, u) in auth.users.iter().enumerate() {
                    if u.username.trim().is_empty() {
                        out.push(Problem::new(
                            pj,
                            format!("broker.auth.users[{i}].username"),
                            "must not be empty",
                        ));
                    }
                    if u.password_env.is_empty() || u.password_env.contains('=') {
                        out.push(Problem::new(
                            pj,
                            format!("broker.auth.users[{i}].password_env"),
                            "must be the name of an environment variable",
                        ));
                    }
                }
            }
        }
        BrokerConfig::External(ext) => {
            if let Err(e) = crate::mqtt::BrokerUrl::parse(&ext.url) {
                out.push(Problem::new(pj, "broker.url", e.to_string()));
            }
            if let Some(var) = &ext.password_env
                && (var.is_empty() || var.contains('='))
            {
                out.push(Problem::new(
                    pj,
                    "broker.password_env",
                    "must be the name of an environment variable",
                ));
            }
            if ext.password_env.is_some() && ext.username.is_none() {
                out.push(Problem::new(
                    pj,
                    "broker.username",
                    "a password is configured but no username",
                ));
            }
        }
    }

    if let Some(sec) = &file.security
        && !(1..=crate::alarms::MAX_SHELVE_S).contains(&sec.operator_max_shelve_s)
    {
        out.push(Problem::new(
            pj,
            "security.operator_max_shelve_s",
            format!("must be 1 to {} s", crate::alarms::MAX_SHELVE_S),
        ));
    }

    let r = file.history.retention_days;
    if !(r.is_finite() && r > 0.0) {
        out.push(Problem::new(
            pj,
            "history.retention_days",
            "must be a number of days > 0",
        ));
    }

    let mut names = HashSet::new();
    for (i, tag) in file.tags.iter().enumerate() {
        let at = |field: &str| format!("tags[{i}].{field}");
        if tag.name.trim().is_empty() {
            out.push(Problem::new(pj, at("name"), "must not be empty"));
        } else if let Some(c) = tag
            .name
            .chars()
            .find(|c| c.is_control() || matches!(c, '{' | '}' | ',' | '"'))
        {
            out.push(Problem::new(
                pj,
                at("name"),
                format!(
                    "`{}` contains the character {c:?}, which is not allowed",
                    tag.name
                ),
            ));
        } else if !names.insert(tag.name.as_str()) {
            out.push(Problem::new(
                pj,
                at("name"),
                format!("duplicate tag name `{}`", tag.name),
            ));
        }
        match (&tag.poll, tag.topic.is_empty()) {
            (None, true) => out.push(Problem::new(
                pj,
                at("topic"),
                "a tag needs a topic (MQTT) or a poll (Modbus)",
            )),
            (Some(_), false) => out.push(Problem::new(
                pj,
                at("poll"),
                "a tag reads from a topic or from a poll, not both",
            )),
            (None, false) => {
                if let Err(e) = validate_topic_filter(&tag.topic) {
                    out.push(Problem::new(
                        pj,
                        at("topic"),
                        format!("`{}`: {e}", tag.topic),
                    ));
                }
            }
            (Some(poll), true) => {
                if poll.interval_ms < 10 {
                    out.push(Problem::new(
                        pj,
                        at("poll.interval_ms"),
                        "must be at least 10 ms",
                    ));
                }
                if let Some(topic) = &poll.publish
                    && (topic.is_empty() || topic.contains(['+', '#']))
                {
                    out.push(Problem::new(
                        pj,
                        at("poll.publish"),
                        format!("`{topic}` is not a topic name (no wildcards)"),
                    ));
                }
            }
        }
        if let Decoder::Json {
            pointer, timestamp, ..
        } = &tag.decoder
        {
            if !(pointer.is_empty() || pointer.starts_with('/')) {
                out.push(Problem::new(
                    pj,
                    at("decoder.pointer"),
                    format!("`{pointer}` is not a JSON pointer (it must start with '/')"),
                ));
            }
            if let Some(ts) = timestamp
                && !(ts.is_empty() || ts.starts_with('/'))
            {
                out.push(Problem::new(
                    pj,
                    at("decoder.timestamp"),
                    format!("`{ts}` is not a JSON pointer (it must start with '/')"),
                ));
            }
        }
        if let Some(r) = tag.range
            && !(r.min.is_finite() && r.max.is_finite() && r.min < r.max)
        {
            out.push(Problem::new(
                pj,
                at("range"),
                format!("min ({}) must be below max ({})", r.min, r.max),
            ));
        }
        if !(tag.stale_after_s.is_finite() && tag.stale_after_s >= 0.0) {
            out.push(Problem::new(
                pj,
                at("stale_after_s"),
                "must be a number of seconds ≥ 0 (0 disables)",
            ));
        }
        let h = &tag.history;
        for (field, v) in [
            ("history.deadband", h.deadband),
            ("history.min_interval_s", h.min_interval_s),
            ("history.max_interval_s", h.max_interval_s),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                out.push(Problem::new(pj, at(field), "must be a number ≥ 0"));
            }
        }
        if h.deadband_percent && tag.range.is_none() {
            out.push(Problem::new(
                pj,
                at("history.deadband_percent"),
                "a deadband in percent needs the tag's range",
            ));
        }
        if h.max_interval_s > 0.0 && h.max_interval_s < h.min_interval_s {
            out.push(Problem::new(
                pj,
                at("history.max_interval_s"),
                "must not be below min_interval_s",
            ));
        }
        if tag.decimals.is_some_and(|d| d > 12) {
            out.push(Problem::new(pj, at("decimals"), "must be at most 12"));
        }
    }

    if let Some(sim) = &file.simulator
        && let Some(listen) = &sim.modbus_listen
        && listen.parse::<SocketAddr>().is_err()
    {
        out.push(Problem::new(
            pj,
            "simulator.modbus_listen",
            format!("`{listen}` is not an address like 127.0.0.1:1502"),
        ));
    }
    let mut device_names = HashSet::new();
    for (i, d) in file.devices.iter().enumerate() {
        if d.name.trim().is_empty() {
            out.push(Problem::new(
                pj,
                format!("devices[{i}].name"),
                "must not be empty",
            ));
        } else if !device_names.insert(d.name.as_str()) {
            out.push(Problem::new(
                pj,
                format!("devices[{i}].name"),
                format!("duplicate device name `{}`", d.name),
            ));
        }
        if !d.address.contains(':') {
            out.push(Problem::new(
                pj,
                format!("devices[{i}].address"),
                format!(
                    "`{}` is not HOST:PORT (Modbus TCP is usually port 502)",
                    d.address
                ),
            ));
        }
        if d.timeout_ms == 0 {
            out.push(Problem::new(
                pj,
                format!("devices[{i}].timeout_ms"),
                "must be > 0",
            ));
        }
    }
    for (i, tag) in file.tags.iter().enumerate() {
        if let Some(p) = &tag.poll
            && !device_names.contains(p.device.as_str())
        {
            out.push(Problem::new(
                pj,
                format!("tags[{i}].poll.device"),
                format!("no device `{}` in devices", p.device),
            ));
        }
        if let Some(w) = &tag.write {
            if !device_names.contains(w.device.as_str()) {
                out.push(Problem::new(
                    pj,
                    format!("tags[{i}].write.device"),
                    format!("no device `{}` in devices", w.device),
                ));
            }
            if let (Some(min), Some(max)) = (w.target.min, w.target.max)
                && !(min.is_finite() && max.is_finite() && min <= max)
            {
                out.push(Problem::new(
                    pj,
                    format!("tags[{i}].write.target.min"),
                    format!("min ({min}) must not exceed max ({max})"),
                ));
            }
            if !(w.target.scale.is_finite() && w.target.scale != 0.0) {
                out.push(Problem::new(
                    pj,
                    format!("tags[{i}].write.target.scale"),
                    "must be a finite number other than 0",
                ));
            }
        }
    }

    let tag_names: HashSet<&str> = file.tags.iter().map(|t| t.name.as_str()).collect();
    for (field, message) in crate::alarms::validate(&file.alarms, &|t| tag_names.contains(t)) {
        out.push(Problem::new(pj, field, message));
    }

    let screen_ids: HashSet<&str> = project.screens.iter().map(|s| s.id.as_str()).collect();
    for (i, id) in file.screen_order.iter().enumerate() {
        if !screen_ids.contains(id.as_str()) {
            out.push(Problem::new(
                pj,
                format!("screen_order[{i}]"),
                format!("no screen file screens/{id}.json"),
            ));
        }
    }

    for screen in &project.screens {
        let sf = format!("screens/{}.json", screen.id);
        let s = &screen.file;
        if !(s.size[0] > 0.0 && s.size[1] > 0.0) {
            out.push(Problem::new(&sf, "size", "width and height must be > 0"));
        }
        let mut ids = HashSet::new();
        for (i, w) in s.widgets.iter().enumerate() {
            let at = |field: &str| format!("widgets[{i}].{field}");
            if w.id.is_empty() {
                out.push(Problem::new(&sf, at("id"), "must not be empty"));
            } else if !ids.insert(w.id.as_str()) {
                out.push(Problem::new(
                    &sf,
                    at("id"),
                    format!("duplicate widget id `{}`", w.id),
                ));
            }
            if !(w.w > 0.0 && w.h > 0.0 && w.w.is_finite() && w.h.is_finite()) {
                out.push(Problem::new(&sf, at("w"), "width and height must be > 0"));
            }
            if !(w.x.is_finite() && w.y.is_finite()) {
                out.push(Problem::new(
                    &sf,
                    at("x"),
                    "position must be a finite number",
                ));
            }
            for (field, name) in w.bindings() {
                if w.kind == WidgetKind::AlarmList {
                    continue; // a tag-name prefix, not a tag
                }
                check_binding(project, s, name, &sf, &at(field), &mut out);
            }
            for (field, text) in [("label", &w.label)] {
                for p in super::template::placeholders(text) {
                    if !s.params.contains_key(p) {
                        out.push(Problem::new(
                            &sf,
                            at(field),
                            format!("placeholder `{{{p}}}` has no value: this screen has no parameter `{p}`"),
                        ));
                    }
                }
            }
            match (w.kind, &w.action) {
                (WidgetKind::Button, None) => out.push(Problem::new(
                    &sf,
                    at("action"),
                    "a button needs an action (navigate, write or toggle)",
                )),
                (WidgetKind::Button, Some(ButtonAction::Navigate { screen, params })) => {
                    check_placement(
                        project,
                        screen,
                        params,
                        &sf,
                        &at("action.navigate"),
                        &mut out,
                    );
                }
                (WidgetKind::Button, Some(ButtonAction::Write { .. } | ButtonAction::Toggle)) => {
                    match w
                        .tag
                        .as_deref()
                        .map(|t| super::template::fill(t, &s.params))
                    {
                        None => out.push(Problem::new(
                            &sf,
                            at("tag"),
                            "a button that writes needs a tag",
                        )),
                        Some(name) => {
                            if project.tag(&name).is_some_and(|t| t.write.is_none()) {
                                out.push(Problem::new(
                                    &sf,
                                    at("tag"),
                                    format!(
                                        "`{name}` has no write target; a button cannot write it"
                                    ),
                                ));
                            }
                        }
                    }
                }
                _ => {}
            }
            if w.kind == WidgetKind::Template {
                match &w.screen {
                    None => out.push(Problem::new(
                        &sf,
                        at("screen"),
                        "a template placement needs a screen",
                    )),
                    Some(id) if *id == screen.id => out.push(Problem::new(
                        &sf,
                        at("screen"),
                        "a screen cannot place itself",
                    )),
                    Some(id) => {
                        check_placement(project, id, &w.params, &sf, &at("params"), &mut out)
                    }
                }
            }
            if w.kind == WidgetKind::Image {
                match &w.image {
                    None => out.push(Problem::new(
                        &sf,
                        at("image"),
                        "an image widget needs an image file",
                    )),
                    Some(path) => {
                        if let Err(e) = project.resolve_image(path) {
                            out.push(Problem::new(&sf, at("image"), e));
                        }
                    }
                }
            }
            if w.kind == WidgetKind::Setpoint
                && let Some(name) = &w.tag
                && project
                    .tag(&super::template::fill(name, &s.params))
                    .is_some_and(|t| t.write.is_none())
            {
                out.push(Problem::new(
                    &sf,
                    at("tag"),
                    format!("a setpoint needs a tag with a write target; `{name}` has none"),
                ));
            }
            if w.kind.needs_tag() && w.tag.is_none() {
                out.push(Problem::new(
                    &sf,
                    at("tag"),
                    format!("a {:?} widget needs a tag", w.kind).to_lowercase(),
                ));
            }
            if w.kind == WidgetKind::Text && w.tag.is_none() && w.label.is_empty() {
                out.push(Problem::new(
                    &sf,
                    at("label"),
                    "a text widget needs a label or a tag",
                ));
            }
        }
    }
    out
}

/// A binding names a known tag; with placeholders, each is a parameter of the screen, and the
/// binding with the defaults filled in (when every default is given) names a known tag.
fn check_binding(
    project: &Project,
    screen: &ScreenFile,
    name: &str,
    file: &str,
    field: &str,
    out: &mut Vec<Problem>,
) {
    let mut missing = false;
    for p in super::template::placeholders(name) {
        if !screen.params.contains_key(p) {
            out.push(Problem::new(
                file,
                field,
                format!("placeholder `{{{p}}}` in `{name}` has no value: this screen has no parameter `{p}`"),
            ));
            missing = true;
        } else if screen.params.get(p).is_some_and(String::is_empty) {
            // No default: each placement or navigation gives the value (checked there).
            missing = true;
        }
    }
    if missing {
        return;
    }
    let filled = super::template::fill(name, &screen.params);
    if project.tag(&filled).is_none() {
        let msg = if filled == name {
            format!("bound to unknown tag `{name}`")
        } else {
            format!(
                "bound to unknown tag `{filled}` (`{name}` with the screen's default parameters)"
            )
        };
        out.push(Problem::new(file, field, msg));
    }
}

/// A placement of (or navigation to) screen `id` with `given` parameters: the screen exists,
/// every parameter it needs has a value, no unknown parameter is passed, and every binding of
/// the template filled in with these values names a known tag.
fn check_placement(
    project: &Project,
    id: &str,
    given: &BTreeMap<String, String>,
    file: &str,
    field: &str,
    out: &mut Vec<Problem>,
) {
    let Some(target) = project.screen(id) else {
        out.push(Problem::new(file, field, format!("no screen `{id}`")));
        return;
    };
    for k in given.keys() {
        if !target.file.params.contains_key(k) {
            out.push(Problem::new(
                file,
                field,
                format!("screen `{id}` has no parameter `{k}`"),
            ));
        }
    }
    let values = super::template::merged(&target.file.params, given);
    let unset: Vec<&String> = values
        .iter()
        .filter(|(_, v)| v.is_empty())
        .map(|(k, _)| k)
        .collect();
    if !unset.is_empty() {
        for k in unset {
            out.push(Problem::new(
                file,
                field,
                format!("parameter `{k}` of screen `{id}` needs a value"),
            ));
        }
        return;
    }
    for w in &target.file.widgets {
        if w.kind == WidgetKind::AlarmList {
            continue;
        }
        for (_, name) in w.bindings() {
            let mut names = super::template::placeholders(name).peekable();
            if names.peek().is_none() || names.any(|p| !target.file.params.contains_key(p)) {
                continue; // checked on the template itself
            }
            let filled = super::template::fill(name, &values);
            if project.tag(&filled).is_none() {
                out.push(Problem::new(
                    file,
                    field,
                    format!(
                        "screen `{id}` widget `{}` would show unknown tag `{filled}` with these parameters",
                        w.id
                    ),
                ));
            }
        }
    }
}
