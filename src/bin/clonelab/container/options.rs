//! The command line of `clonelab container`: what the container is asked to be.
//!
//! Part of `container/`; std only. Everything else in the command reads the
//! parsed [`Options`].

/// What `clonelab container` was asked to do.
#[derive(Default, Debug)]
pub struct Options {
    pub(super) hostname: Option<String>,
    pub(super) rootfs: Option<String>,
    pub(super) binds: Vec<(String, String)>,
    pub(super) memory: Option<u64>,
    pub(super) pids: Option<u64>,
    pub(super) uid_map: Option<String>,
    pub(super) verbose: bool,
    pub(super) command: Vec<String>,
}

impl Options {
    /// Parse `[--hostname N] [--rootfs DIR] [--bind SRC:DST] [--memory BYTES] [--pids N] [--verbose] -- CMD ARGS...`.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut o = Options::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = || it.next().cloned().ok_or(format!("{arg} needs a value"));
            match arg.as_str() {
                "--hostname" => o.hostname = Some(value()?),
                "--rootfs" => o.rootfs = Some(value()?),
                "--bind" => {
                    let v = value()?;
                    let (src, dst) = v.split_once(':').ok_or("--bind takes SRC:DST")?;
                    o.binds.push((src.to_string(), dst.to_string()));
                }
                "--memory" => {
                    o.memory = Some(
                        value()?
                            .parse()
                            .map_err(|_| "--memory takes a number of bytes")?,
                    )
                }
                "--pids" => o.pids = Some(value()?.parse().map_err(|_| "--pids takes a number")?),
                "--uid-map" => {
                    let v = value()?;
                    let fields: Vec<&str> = v.split(':').collect();
                    if fields.len() != 3 || fields.iter().any(|f| f.parse::<u32>().is_err()) {
                        return Err("--uid-map takes INSIDE:OUTSIDE:COUNT".into());
                    }
                    o.uid_map = Some(fields.join(" "));
                }
                "--verbose" | "-v" => o.verbose = true,
                "--" => {
                    o.command = it.cloned().collect();
                    break;
                }
                other => return Err(format!("unknown option {other:?}")),
            }
        }
        if o.command.is_empty() {
            return Err("usage: clonelab container [--hostname N] [--rootfs DIR] [--bind SRC:DST] [--memory BYTES] [--pids N] [--uid-map IN:OUT:COUNT] [--verbose] -- CMD ARGS...".into());
        }
        Ok(o)
    }
}
