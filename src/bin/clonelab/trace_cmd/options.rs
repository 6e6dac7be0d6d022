//! The command line of `clonelab trace`, its usage line and its `--help`.
//!
//! Part of `trace_cmd/`; std only.

/// The usage line.
pub(super) const USAGE: &str = "clonelab trace [--follow] [--json] [--output FILE] -- CMD ARGS...";

/// `clonelab trace --help`: how to read a record (docs/real-programs.md has examples).
pub(super) const HELP: &str = "\
Runs CMD under ptrace, follows every thread and process it creates, and prints
one record per clone, clone3, fork or vfork (x86_64 only) of the whole tree:

  == pid P tid T: SYSCALL -> RESULT   the caller, the call, the new tid or errno
     C call     the call as C would make it: the raw syscall and its arguments
     flags      the flag bits and the exit signal (clone: one word, signal in
                the low byte; clone3: clone_args.flags and .exit_signal)
     clone_args clone3 only: every field read from the caller's memory, the
                size it passed and which struct version that size is
     registers  the registers at the syscall instruction, in this arch's names
     result     the new task's tid, or the errno and the clone(2) rule it broke
     new task   thread or process, memory shared or copied (kcmp), and the
                namespaces that differ from the caller's (/proc/TID/ns)

  --json         one JSON object per line instead
  --output FILE  records to FILE instead of stderr (CMD's output is untouched)
  --follow       also a line for each exec and each task's end

CMD's exit status becomes clonelab's (128 + signal if a signal killed it;
127: no such command; 125: clonelab failed, e.g. CMD cannot be traced).
SIGINT, SIGTERM or SIGHUP to clonelab detach it: CMD runs on, untraced.
See docs/real-programs.md.
";

/// What `clonelab trace` was asked to do.
#[derive(Debug, Default)]
pub struct Options {
    pub(super) help: bool,
    pub(super) follow: bool,
    pub(super) json: bool,
    pub(super) output: Option<String>,
    pub(super) command: Vec<String>,
}

impl Options {
    /// Parse `[--follow] [--json] [--output FILE] [--] CMD ARGS...`.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut o = Options::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--help" | "-h" => {
                    o.help = true;
                    return Ok(o);
                }
                "--follow" => o.follow = true,
                "--json" => o.json = true,
                "--output" | "-o" => {
                    o.output = Some(it.next().ok_or("--output needs a file name")?.clone())
                }
                "--" => {
                    o.command = it.by_ref().cloned().collect();
                    break;
                }
                other if other.starts_with('-') => {
                    return Err(format!("unknown option {other}; usage: {USAGE}"))
                }
                _ => {
                    o.command = std::iter::once(arg).chain(it.by_ref()).cloned().collect();
                    break;
                }
            }
        }
        if o.command.is_empty() {
            return Err(format!("no command; usage: {USAGE}"));
        }
        Ok(o)
    }
}
