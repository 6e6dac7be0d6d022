//! The live progress display of `cargo xtask test`: one line per run (the
//! host, each arch), each with its phase, the time since the run started,
//! and tests done / total where they are known.
//!
//! On a terminal the lines are redrawn in place once a second; anywhere else
//! (CI's log) a run's line is printed when its phase changes and every 15 s
//! while it is active, so a log shows the same without escape codes.
//! Messages (`say`) are printed above the lines.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One run's state.
struct Row {
    label: String,
    phase: String,
    started: Option<Instant>,
    done: usize,
    total: usize,
    /// The summary and the run's time once it is over.
    finished: Option<(String, u64)>,
    printed: Option<Instant>,
}

struct State {
    rows: Vec<Row>,
    drawn: usize,
}

/// The display; clone it into each worker.
#[derive(Clone)]
pub struct Board {
    state: Arc<Mutex<State>>,
    tty: bool,
}

/// A handle on one row.
#[derive(Clone)]
pub struct Line {
    board: Board,
    index: usize,
}

impl Board {
    /// A display whose rows are `labels`, each waiting; a thread redraws it
    /// until the returned board is dropped by everyone.
    pub fn new(labels: &[String]) -> Board {
        let rows = labels
            .iter()
            .map(|label| Row {
                label: label.clone(),
                phase: "waiting".into(),
                started: None,
                done: 0,
                total: 0,
                finished: None,
                printed: None,
            })
            .collect();
        let board = Board {
            state: Arc::new(Mutex::new(State { rows, drawn: 0 })),
            tty: std::io::stdout().is_terminal() && std::env::var_os("CI").is_none(),
        };
        let weak = Arc::downgrade(&board.state);
        let tty = board.tty;
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_secs(1));
            let Some(state) = weak.upgrade() else { break };
            Board { state, tty }.tick();
        });
        board
    }

    /// The row labelled `label`.
    pub fn line(&self, label: &str) -> Line {
        let state = self.state.lock().unwrap();
        let index = state
            .rows
            .iter()
            .position(|r| r.label == label)
            .expect("a row for every run");
        Line {
            board: self.clone(),
            index,
        }
    }

    /// Print a message above the rows.
    pub fn say(&self, message: &str) {
        let mut state = self.state.lock().unwrap();
        let mut out = std::io::stdout().lock();
        self.erase(&mut state, &mut out);
        let _ = writeln!(out, "{message}");
        self.draw(&mut state, &mut out);
    }

    /// Redraw (terminal) or print what is due (log).
    fn tick(&self) {
        let mut state = self.state.lock().unwrap();
        let mut out = std::io::stdout().lock();
        if self.tty {
            self.erase(&mut state, &mut out);
            self.draw(&mut state, &mut out);
            return;
        }
        for row in &mut state.rows {
            let due = match row.printed {
                None => row.started.is_some(),
                Some(at) => row.finished.is_none() && at.elapsed() >= Duration::from_secs(30),
            };
            if due && row.started.is_some() {
                let _ = writeln!(out, "{}", render(row));
                row.printed = Some(Instant::now());
            }
        }
        let _ = out.flush();
    }

    fn erase(&self, state: &mut State, out: &mut impl Write) {
        if self.tty && state.drawn > 0 {
            let _ = write!(out, "\x1b[{}A\x1b[J", state.drawn);
            state.drawn = 0;
        }
    }

    fn draw(&self, state: &mut State, out: &mut impl Write) {
        if self.tty {
            for row in &state.rows {
                let _ = writeln!(out, "{}", render(row));
            }
            state.drawn = state.rows.len();
        }
        let _ = out.flush();
    }

    /// Leave the final lines on screen (a terminal's) and stop redrawing.
    pub fn close(&self) {
        let mut state = self.state.lock().unwrap();
        let mut out = std::io::stdout().lock();
        if self.tty {
            self.erase(&mut state, &mut out);
            self.draw(&mut state, &mut out);
            state.drawn = 0;
        }
    }
}

impl Line {
    fn update(&self, change: impl FnOnce(&mut Row)) {
        {
            let mut state = self.board.state.lock().unwrap();
            let row = &mut state.rows[self.index];
            change(row);
            // A log gets a line at every change of phase.
            row.printed = None;
        }
        self.board.tick();
    }

    /// The run enters `phase` (its clock starts with its first phase).
    pub fn phase(&self, phase: &str) {
        self.update(|row| {
            row.started.get_or_insert_with(Instant::now);
            row.phase = phase.to_string();
        });
    }

    /// Tests done so far, of `total` (0: not known yet). No line of its own in a log.
    pub fn tests(&self, done: usize, total: usize) {
        let mut state = self.board.state.lock().unwrap();
        let row = &mut state.rows[self.index];
        row.done = done;
        row.total = total;
    }

    /// The run is over: `summary` replaces its phase.
    pub fn finish(&self, summary: &str) {
        self.update(|row| {
            let started = *row.started.get_or_insert_with(Instant::now);
            row.phase = "done".into();
            row.finished = Some((summary.to_string(), started.elapsed().as_secs()));
        });
    }
}

fn render(row: &Row) -> String {
    let elapsed = row.started.map_or(0, |s| s.elapsed().as_secs());
    let tests = match (row.done, row.total) {
        (0, 0) => String::new(),
        (done, 0) => format!("  tests {done}"),
        (done, total) => format!("  tests {done}/{total}"),
    };
    match &row.finished {
        Some((summary, took)) => format!("{:<9} {:<12} {took:>4}s  {summary}", row.label, "done"),
        None => format!("{:<9} {:<12} {elapsed:>4}s{tests}", row.label, row.phase),
    }
}
