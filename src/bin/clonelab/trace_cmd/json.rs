//! The `--json` rendering of one call: one object per line, every field a
//! number, a string or null, as `tests/trace_cmd/` reads them.
//!
//! Part of `trace_cmd/`; renders from a [`Call`] only; std only.

use super::call::describe_new_task;
use super::call::{args_version, clone_args_fields, Call, Kind};
use clonelab::arch;
use std::fmt::Write as _;

/// `text` as a JSON string literal.
pub(super) fn json_string(text: &str) -> String {
    let mut s = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(s, "\\u{:04x}", c as u32);
            }
            c => s.push(c),
        }
    }
    s + "\""
}

/// One call as one line of JSON.
pub(super) fn render_json(call: &Call) -> String {
    let (flags, signal) = call.word();
    let mut s = format!(
        "{{\"event\":\"clone\",\"pid\":{},\"tid\":{},\"syscall\":\"{}\",\"nr\":{},\"arch\":\"{}\",\"c_call\":{},\"flags\":{},\"flag_names\":{},\"exit_signal\":{}",
        call.pid,
        call.tid,
        call.kind.name(),
        call.stop.nr,
        arch::NAME,
        json_string(&call.c_call()),
        flags.bits(),
        json_string(&flags.to_string()),
        signal
    );
    match call.stop.clone_args {
        Some(a) if call.kind == Kind::Clone3 => {
            let _ = write!(
                s,
                ",\"clone_args\":{{\"address\":{},\"size\":{},\"version\":{}",
                call.stop.args[0],
                call.args_size,
                json_string(&args_version(call.args_size))
            );
            for (i, (name, value)) in clone_args_fields(&a).into_iter().enumerate() {
                if i * 8 < call.args_read {
                    let _ = write!(s, ",\"{name}\":{value}");
                }
            }
            s.push('}');
        }
        _ => s.push_str(",\"clone_args\":null"),
    }
    let args: Vec<String> = call.stop.args.iter().map(u64::to_string).collect();
    let _ = write!(s, ",\"args\":[{}]", args.join(","));
    s.push_str(",\"registers\":[");
    for (i, (name, value, meaning)) in call.register_rows().into_iter().enumerate() {
        let _ = write!(
            s,
            "{}{{\"name\":\"{name}\",\"value\":{value},\"meaning\":{}}}",
            if i > 0 { "," } else { "" },
            json_string(&meaning)
        );
    }
    s.push(']');
    match call.stop.result {
        Some(r) => {
            let _ = write!(s, ",\"result\":{r}");
        }
        None => s.push_str(",\"result\":null"),
    }
    match call.errno() {
        Some(e) => {
            let _ = write!(
                s,
                ",\"errno\":{},\"rule\":{}",
                json_string(&format!("{e:?}")),
                call.rule().map_or("null".into(), json_string)
            );
        }
        None => s.push_str(",\"errno\":null,\"rule\":null"),
    }
    match &call.new_task {
        Some(n) => {
            let thread = n.tgid == Some(call.pid);
            let names: Vec<String> = n.new_namespaces.iter().map(|n| json_string(n)).collect();
            let _ = write!(
                s,
                ",\"new_task\":{{\"tid\":{},\"tgid\":{},\"ppid\":{},\"kind\":\"{}\",\"shares_memory\":{},\"new_namespaces\":[{}],\"description\":{}}}",
                n.tid,
                n.tgid.map_or("null".into(), |t| t.to_string()),
                n.ppid.map_or("null".into(), |t| t.to_string()),
                if thread { "thread" } else { "process" },
                n.shares_memory.map_or("null".into(), |b| b.to_string()),
                names.join(","),
                json_string(&describe_new_task(call, n))
            );
        }
        None => s.push_str(",\"new_task\":null"),
    }
    s + "}\n"
}
