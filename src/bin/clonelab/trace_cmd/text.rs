//! Where records go, and the text rendering of one call (what `clonelab
//! trace` prints without `--json`), and of the notes about
//! execs, exits and refused ptrace calls.
//!
//! Part of `trace_cmd/`; `tracer.rs` and `launch.rs` write through [`Out`].
//! Renders from a [`Call`] only; uses `clonelab::flags::signal_name`,
//! `clonelab::arch::NAME`, and std.

use super::call::{
    args_version, clone_args_fields, clone_flags_index, describe_new_task, Call, Kind,
};
use super::json::json_string;
use clonelab::flags::signal_name;
use clonelab::{arch, Pid};
use std::fmt::Write as _;
use std::io::Write;

/// Where the records go.
pub(super) struct Out {
    pub(super) sink: Box<dyn Write>,
    pub(super) json: bool,
    pub(super) follow: bool,
}

impl Out {
    pub(super) fn line(&mut self, text: &str) {
        let _ = self.sink.write_all(text.as_bytes());
        let _ = self.sink.flush();
    }
}

/// One call as the text record `clonelab trace --help` describes.
pub(super) fn render_text(call: &Call) -> String {
    let (flags, signal) = call.word();
    let mut s = String::new();
    let result = match (call.stop.result, call.errno()) {
        (_, Some(e)) => format!("-> {e}"),
        (Some(r), None) => format!("-> {r}"),
        (None, _) => "-> (no result: the caller never returned)".into(),
    };
    let _ = writeln!(
        s,
        "== pid {} tid {}: {} {result}",
        call.pid,
        call.tid,
        call.kind.name()
    );
    let _ = writeln!(s, "   C call     {}", call.c_call());
    match call.kind {
        Kind::Clone => {
            let word = call.stop.args[clone_flags_index()];
            let _ = writeln!(
                s,
                "   flags      {word:#010x} = bits 8+: {:#x} = {flags} | low byte: {:#04x} = exit signal {}",
                flags.bits(),
                signal,
                Call::signal_text(signal)
            );
        }
        Kind::Clone3 => {
            let _ = writeln!(
                s,
                "   flags      clone_args.flags {:#x} = {flags}; clone_args.exit_signal = {}",
                flags.bits(),
                Call::signal_text(signal)
            );
            let _ = writeln!(
                s,
                "   clone_args size {} ({}), read from the tracee at {:#x}:",
                call.args_size,
                args_version(call.args_size),
                call.stop.args[0]
            );
            if let Some(a) = call.stop.clone_args {
                for (i, (name, value)) in clone_args_fields(&a).into_iter().enumerate() {
                    if i * 8 < call.args_read && name == "exit_signal" {
                        let _ = writeln!(s, "     {name:<12} {}", Call::signal_text(value));
                    } else if i * 8 < call.args_read {
                        let _ = writeln!(s, "     {name:<12} {value:#x}");
                    } else {
                        let _ =
                            writeln!(s, "     {name:<12} (not passed: size {})", call.args_size);
                    }
                }
            }
        }
        Kind::Fork | Kind::Vfork => {
            let _ = writeln!(
                s,
                "   flags      none passed; the kernel runs {}() as clone with {} and exit signal {}",
                call.kind.name(),
                if flags.bits() == 0 {
                    "no flags".to_string()
                } else {
                    flags.to_string()
                },
                Call::signal_text(signal)
            );
        }
    }
    let _ = writeln!(
        s,
        "   registers ({}), observed at syscall entry:",
        arch::NAME
    );
    for (name, value, meaning) in call.register_rows() {
        let _ = writeln!(s, "     {name:<4} {value:#018x}  {meaning}");
    }
    match (call.stop.result, call.errno()) {
        (_, Some(e)) => {
            let rule = call.rule().map_or(
                "(no clone(2) rule clonelab knows explains it)".into(),
                |r| format!("rule broken: {r}"),
            );
            let _ = writeln!(s, "   result     {e}: {rule}");
        }
        (Some(r), None) => {
            let _ = writeln!(
                s,
                "   result     {r}: the new task's tid, as the caller sees it"
            );
        }
        (None, None) => {}
    }
    if let Some(new) = &call.new_task {
        let _ = writeln!(
            s,
            "   new task   {}: {}",
            new.tid,
            describe_new_task(call, new)
        );
    }
    s
}

/// A note about something other than a clone call (exec, exit, refused ptrace).
pub(super) fn note(out: &mut Out, event: &str, tid: Pid, text: &str) {
    if out.json {
        out.line(&format!(
            "{{\"event\":\"{event}\",\"tid\":{tid},\"text\":{}}}\n",
            json_string(text)
        ));
    } else {
        out.line(&format!("-- {text}\n"));
    }
}

/// A signal's name (`SIGINT`), or its number.
pub(super) fn signal_text(signal: u32) -> String {
    signal_name(signal).map_or(format!("signal {signal}"), str::to_string)
}
