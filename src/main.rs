//! `clonelab`: the tour of clone flag experiments, and a flags-word explainer.
//!
//! ```text
//! clonelab tour            run every experiment, print call, flags, registers, observation, verdict
//! clonelab list            list the experiments
//! clonelab run NAME        run one experiment
//! clonelab explain VALUE   decode a flags word: 0x111, 273 or CLONE_VM|SIGCHLD
//! clonelab container [--hostname N] [--rootfs DIR] [--bind SRC:DST] [--memory BYTES] [--pids N] [--verbose] -- CMD ARGS...
//! clonelab trace [--follow] [--json] [--output FILE] -- CMD ARGS...
//! ```

mod container;
mod trace_cmd;

use clonelab::experiments::{Entry, TextBuffer, ALL};
use clonelab::flags::{broken_rules, CloneFlags, FlagsWord, Syscall, ALL_FLAGS, CSIGNAL};
use clonelab::trace::{trace, Trace};
use clonelab::CloneCall;
use clonelab::{Errno, Error, RegisterImage};
use std::io::IsTerminal;
use std::process::ExitCode;

/// How an experiment ended.
enum Verdict {
    Pass,
    Fail(String),
    Skipped(String),
}

struct Style {
    colour: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn verdict(&self, v: &Verdict) -> String {
        match v {
            Verdict::Pass => self.paint("32;1", "PASS"),
            Verdict::Fail(why) => self.paint("31;1", &format!("FAIL ({why})")),
            Verdict::Skipped(why) => self.paint("33;1", &format!("SKIPPED ({why})")),
        }
    }
}

/// Why an error means "this environment cannot" rather than "clonelab is wrong".
fn skip_reason(err: &Error) -> Option<String> {
    let errno = err.errno()?;
    if std::env::var_os("CLONELAB_QEMU_USER").is_some()
        && matches!(errno, Errno::EINVAL | Errno::ENOSYS)
    {
        return Some(format!("qemu-user cannot emulate this: {errno}"));
    }
    if matches!(errno, Errno::EPERM | Errno::EACCES) && clonelab::sys::geteuid() != 0 {
        return Some(format!(
            "needs privilege: {errno}; run as root or allow unprivileged user namespaces"
        ));
    }
    None
}

/// Run an experiment under the ptrace observer when possible (not under
/// qemu-user, which cannot ptrace): its output comes back by value.
fn run_traced(entry: &Entry) -> (Result<(bool, CloneCall), Error>, TextBuffer, Option<Trace>) {
    if std::env::var_os("CLONELAB_QEMU_USER").is_none() {
        let traced = trace(|| {
            let mut text = TextBuffer::new();
            let result = (entry.run)(&mut text);
            (result, text)
        });
        if let Ok(((result, text), trace)) = traced {
            return (result, text, Some(trace));
        }
    }
    let mut text = TextBuffer::new();
    let result = (entry.run)(&mut text);
    (result, text, None)
}

fn run_one(index: usize, entry: &Entry, style: &Style) -> Verdict {
    let (result, observed, trace) = run_traced(entry);
    let mut verdict = match &result {
        Ok((true, _)) => Verdict::Pass,
        Ok((false, _)) => Verdict::Fail("the observation contradicts the claim".into()),
        Err(e) => match skip_reason(e) {
            Some(why) => Verdict::Skipped(why),
            None => Verdict::Fail(e.to_string()),
        },
    };
    println!(
        "{} {}",
        style.paint(
            "1",
            &format!("== {}/{} {}:", index + 1, ALL.len(), entry.name)
        ),
        entry.question
    );
    println!("   C call   {}", entry.c_call);
    if let Ok((_, call)) = &result {
        let word = call.word;
        match word.encode_clone() {
            Ok(encoded) => println!(
                "   flags    {encoded:#010x} = {word}   (bits 8+: {:#x} = {}, low byte: {:#04x} = {})",
                encoded & !CSIGNAL,
                word.flags,
                encoded & CSIGNAL,
                word.signal
            ),
            Err(_) => println!("   flags    {word} (clone3 only)"),
        }
        let expected = RegisterImage::of(call);
        let observed_image = trace.as_ref().and_then(|t| {
            t.clones()
                .map(RegisterImage::observed)
                .find(|image| expected.matches(image))
        });
        match (&trace, observed_image) {
            (Some(_), Some(image)) => {
                println!(
                    "   registers ({}), observed by ptrace, as expected:",
                    clonelab::arch::NAME
                );
                for line in image.to_string().lines() {
                    println!("   {line}");
                }
            }
            (Some(t), None) => {
                println!("   registers ({}): expected", clonelab::arch::NAME);
                for line in expected.to_string().lines() {
                    println!("   {line}");
                }
                println!(
                    "   but no traced call ({} traced) had them",
                    t.clones().count()
                );
                if matches!(verdict, Verdict::Pass) {
                    verdict = Verdict::Fail("the registers differ from the expected image".into());
                }
            }
            (None, _) => {
                println!(
                    "   registers ({}), expected (not observed: no ptrace here):",
                    clonelab::arch::NAME
                );
                for line in expected.to_string().lines() {
                    println!("   {line}");
                }
            }
        }
        println!("   observed");
        for line in observed.as_str().lines() {
            println!("     {line}");
        }
    }
    println!("   {}   see {}\n", style.verdict(&verdict), entry.chapter);
    verdict
}

fn tour(entries: &[(usize, &Entry)]) -> ExitCode {
    let style = Style {
        colour: std::io::stdout().is_terminal(),
    };
    println!(
        "clonelab tour on {} (pid {}, euid {})\n",
        clonelab::arch::NAME,
        clonelab::sys::getpid(),
        clonelab::sys::geteuid()
    );
    let (mut pass, mut fail, mut skip) = (0, 0, 0);
    for (i, entry) in entries {
        match run_one(*i, entry, &style) {
            Verdict::Pass => pass += 1,
            Verdict::Fail(_) => fail += 1,
            Verdict::Skipped(_) => skip += 1,
        }
    }
    println!("tour: {pass} passed, {fail} failed, {skip} skipped");
    if fail == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn explain(text: &str) -> ExitCode {
    let word: FlagsWord = match text.parse() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("clonelab: cannot read {text:?}: {e}");
            return ExitCode::from(2);
        }
    };
    println!("{text} = {word}\n");
    println!("  bit  value                name                   meaning");
    for (name, flag, what) in ALL_FLAGS.iter().filter(|(_, f, _)| word.flags.contains(*f)) {
        let bit = flag.bits().trailing_zeros();
        println!("  {bit:>3}  {:#020x}   {name:<22} {what}", flag.bits());
    }
    let unknown = word.flags.bits() & !CloneFlags::known_bits();
    if unknown != 0 {
        println!("  ???  {unknown:#020x}   (no CLONE_* flag)");
    }
    println!(
        "  0-7  {:#020x}   exit signal: {:<9}  sent to the parent when the child exits{}",
        word.signal.number(),
        word.signal.to_string(),
        if word.signal.number() == 0 {
            " (0: none)"
        } else {
            ""
        }
    );
    for syscall in [Syscall::Clone, Syscall::Clone3] {
        println!();
        match syscall {
            Syscall::Clone => match word.encode_clone() {
                Ok(v) => println!("clone():  flags register = {v:#x}"),
                Err(e) => println!("clone():  refused before the syscall: {e}"),
            },
            Syscall::Clone3 => match word.encode_clone3() {
                Ok((f, s)) => {
                    println!("clone3(): clone_args.flags = {f:#x}, clone_args.exit_signal = {s}")
                }
                Err(e) => println!("clone3(): refused before the syscall: {e}"),
            },
        }
        let rules: Vec<_> = broken_rules(word, syscall).collect();
        if rules.is_empty() {
            println!("          no clone(2) rule is broken by the flags alone");
        }
        for rule in rules {
            let when = if rule.errno == Errno::EPERM {
                "unless privileged, "
            } else {
                ""
            };
            println!(
                "          {when}the kernel answers {}: {}",
                rule.errno, rule.text
            );
        }
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let indexed: Vec<(usize, &Entry)> = ALL.iter().enumerate().collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["tour"] => tour(&indexed),
        ["list"] => {
            for entry in ALL {
                println!("{:<12} {}", entry.name, entry.question);
            }
            ExitCode::SUCCESS
        }
        ["run", name] => match indexed.iter().find(|(_, e)| e.name == *name) {
            Some(found) => tour(&[*found]),
            None => {
                eprintln!("clonelab: no experiment {name:?}; `clonelab list` shows them");
                ExitCode::from(2)
            }
        },
        ["explain", value] => explain(value),
        ["container", ..] => {
            match container::Options::parse(&args[1..]).and_then(|o| container::run(&o)) {
                Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
                Err(e) => {
                    eprintln!("clonelab container: {e}");
                    ExitCode::from(125)
                }
            }
        }
        ["trace", ..] => ExitCode::from(trace_cmd::main(&args[1..]).clamp(0, 255) as u8),
        ["container-probe", ..] => ExitCode::from(container::probe(&args[1..]).clamp(0, 255) as u8),
        _ => {
            eprintln!("usage: clonelab tour | list | run NAME | explain VALUE | container [OPTIONS] -- CMD ARGS... | trace [OPTIONS] -- CMD ARGS...");
            ExitCode::from(2)
        }
    }
}
