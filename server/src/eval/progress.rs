//! Progress of a run on stderr: an indicatif bar (done/total, resolved so far, ETA) on a
//! terminal, one line per finished instance otherwise (a log file, CI).

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::report::InstanceReport;

pub struct EvalProgress {
    bar: Option<ProgressBar>,
    total: usize,
    done: usize,
    resolved: usize,
}

impl EvalProgress {
    /// `done`: instances finished in an earlier run (`--resume`).
    pub fn new(total: usize, done: usize) -> EvalProgress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{bar:30} {pos}/{len} instances, {msg}, ETA {eta}")
            {
                bar.set_style(style);
            }
            bar.set_position(done as u64);
            bar.set_message("0 resolved");
            bar
        });
        EvalProgress {
            bar,
            total,
            done,
            resolved: 0,
        }
    }

    pub fn finished(&mut self, report: &InstanceReport) {
        self.done += 1;
        self.resolved += usize::from(report.resolved == Some(true));
        match &self.bar {
            Some(bar) => {
                bar.set_message(format!("{} resolved", self.resolved));
                bar.inc(1);
            }
            None => {
                let _ = writeln!(
                    std::io::stderr(),
                    "swiss: [{}/{}] {}: {} ({:.1} s)",
                    self.done,
                    self.total,
                    report.instance_id,
                    report.outcome(),
                    report.seconds
                );
            }
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
