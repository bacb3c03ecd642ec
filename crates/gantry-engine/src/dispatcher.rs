//! `Dispatcher`: owns all run state on one thread and reacts to messages — job finished, log
//! line, cancel, timer. Executor threads run job attempts and report back by messages; nothing
//! mutable is shared between jobs.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::artifacts::{DependencyArtifacts, StoredArtifacts};
use crate::event::{Event, FailureReason, JobStatus, PipelineStatus};
use crate::job::{
    self, AttemptResult, AttemptStatus, JobContext, JobControl, JobSignal, RunShared,
};
use crate::junit::JunitSummary;
use crate::message::Msg;
use crate::outcome::JobOutcome;
use crate::schedule::{Completion, Decision, Release, Schedule, decide};
use crate::slot::{Slot, SlotPool};
use crate::spec::{AllowFailure, JobSpec, Retry};

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Waiting,
    Queued,
    Delayed,
    Running,
    Done,
}

/// What the dispatcher remembers of a job.
#[derive(Debug, Default)]
struct Record {
    status: Option<JobStatus>,
    attempts: u32,
    exit_code: Option<i32>,
    failure_reason: Option<FailureReason>,
    duration: Duration,
    allow_failure: bool,
    blocked: bool,
    log_path: Option<std::path::PathBuf>,
    artifacts: Option<StoredArtifacts>,
    dotenv: Vec<(String, String)>,
    junit: Option<JunitSummary>,
}

/// The run's state machine.
pub(crate) struct Dispatcher {
    jobs: Vec<Arc<JobSpec>>,
    slugs: Vec<String>,
    index: HashMap<String, usize>,
    run: Arc<RunShared>,
    schedule: Schedule,
    initial: Vec<Release>,
    state: Vec<State>,
    records: Vec<Record>,
    queue: VecDeque<usize>,
    timers: BinaryHeap<Reverse<(Instant, usize)>>,
    controls: Vec<Option<Sender<JobSignal>>>,
    slots: SlotPool,
    /// Per stage: finished jobs that left artifacts or dotenv variables.
    producers: Vec<Vec<usize>>,
    handles: Vec<JoinHandle<()>>,
    running: usize,
    done: usize,
    concurrency: usize,
    selected_manual: HashSet<String>,
    canceling: bool,
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
}

/// What [`Dispatcher::new`] needs besides the jobs.
pub(crate) struct DispatcherSetup {
    pub(crate) run: Arc<RunShared>,
    pub(crate) slugs: Vec<String>,
    pub(crate) needs: Vec<Option<Vec<usize>>>,
    pub(crate) stage_count: usize,
    pub(crate) concurrency: usize,
    pub(crate) selected_manual: HashSet<String>,
}

impl Dispatcher {
    /// A dispatcher and the sender through which cancel requests reach it.
    pub(crate) fn new(jobs: Vec<JobSpec>, setup: DispatcherSetup) -> (Self, Sender<Msg>) {
        let stage_of: Vec<usize> = jobs.iter().map(|j| j.stage_index).collect();
        let (schedule, initial) = Schedule::new(&setup.needs, &stage_of, setup.stage_count);
        let n = jobs.len();
        let (tx, rx) = mpsc::channel();
        let index = jobs
            .iter()
            .enumerate()
            .map(|(i, j)| (j.name.clone(), i))
            .collect();
        let dispatcher = Self {
            jobs: jobs.into_iter().map(Arc::new).collect(),
            slugs: setup.slugs,
            index,
            slots: SlotPool::new(&setup.run.builds_dir),
            producers: vec![Vec::new(); setup.stage_count],
            run: setup.run,
            schedule,
            initial,
            state: vec![State::Waiting; n],
            records: (0..n).map(|_| Record::default()).collect(),
            queue: VecDeque::new(),
            timers: BinaryHeap::new(),
            controls: (0..n).map(|_| None).collect(),
            handles: Vec::new(),
            running: 0,
            done: 0,
            concurrency: setup.concurrency.max(1),
            selected_manual: setup.selected_manual,
            canceling: false,
            tx: tx.clone(),
            rx,
        };
        (dispatcher, tx)
    }

    /// Runs the pipeline to its end, calling `sink` for every event of the jobs.
    pub(crate) fn run(mut self, sink: &mut dyn FnMut(&Event)) -> (PipelineStatus, Vec<JobOutcome>) {
        let initial = std::mem::take(&mut self.initial);
        self.release_all(initial, sink);
        loop {
            self.start_queued(sink);
            if self.done == self.jobs.len() {
                break;
            }
            if self.running == 0 && self.queue.is_empty() && self.timers.is_empty() {
                // Everything left waits on a blocking manual job (or a cycle): it never runs.
                for job in 0..self.jobs.len() {
                    if self.state[job] != State::Done {
                        self.finish_unrun(job, JobStatus::Skipped, sink);
                    }
                }
                break;
            }
            let next_timer = self.timers.peek().map(|Reverse((t, _))| *t);
            let message = match next_timer {
                Some(t) => self
                    .rx
                    .recv_timeout(t.saturating_duration_since(Instant::now())),
                None => self.rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match message {
                Ok(Msg::Log { job, text }) => sink(&Event::Log {
                    job: self.jobs[job].name.clone(),
                    text,
                }),
                Ok(Msg::Finished { job, result }) => self.on_finished(job, *result, sink),
                Ok(Msg::Cancel { requests }) => self.on_cancel(requests, sink),
                Err(RecvTimeoutError::Timeout) => self.fire_timers(),
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        // Late log lines (none expected: a job sends its lines before `Finished`).
        while let Ok(message) = self.rx.try_recv() {
            if let Msg::Log { job, text } = message {
                sink(&Event::Log {
                    job: self.jobs[job].name.clone(),
                    text,
                });
            }
        }
        for handle in self.handles.drain(..) {
            let _ = handle.join();
        }
        self.slots.save();
        let status = self.pipeline_status();
        let outcomes = self.outcomes();
        (status, outcomes)
    }

    fn fire_timers(&mut self) {
        let now = Instant::now();
        while let Some(Reverse((t, job))) = self.timers.peek().copied() {
            if t > now {
                break;
            }
            self.timers.pop();
            if self.state[job] == State::Delayed {
                self.state[job] = State::Queued;
                self.queue.push_back(job);
            }
        }
    }

    fn start_queued(&mut self, sink: &mut dyn FnMut(&Event)) {
        while self.running < self.concurrency && !self.canceling {
            let Some(job) = self.queue.pop_front() else {
                break;
            };
            if self.state[job] == State::Queued {
                self.start(job, sink);
            }
        }
    }

    fn start(&mut self, job: usize, sink: &mut dyn FnMut(&Event)) {
        let spec = Arc::clone(&self.jobs[job]);
        let record = &mut self.records[job];
        record.attempts += 1;
        let attempt = record.attempts;
        let mut dependencies = Vec::new();
        let mut dotenv = Vec::new();
        for source in self.download_sources(job) {
            let rec = &self.records[source];
            if let Some(stored) = &rec.artifacts {
                dependencies.push(DependencyArtifacts {
                    job: self.jobs[source].name.clone(),
                    job_id: self.jobs[source].job_id,
                    stored: stored.clone(),
                });
            }
            dotenv.extend(rec.dotenv.iter().cloned());
        }
        let slot = self
            .slots
            .acquire()
            .unwrap_or_else(|_| Slot::ephemeral(self.run.pipeline_dir.join(&self.slugs[job])));
        let ctx = JobContext {
            index: job,
            attempt,
            max_attempts: spec.retry.max.min(10) + 1,
            spec,
            slug: self.slugs[job].clone(),
            run: Arc::clone(&self.run),
            dependencies,
            dotenv,
            slot,
        };
        let (control_tx, control_rx) = mpsc::channel();
        let control = JobControl::new(control_rx, control_tx.clone());
        let out = self.tx.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("gantry-job-{job}"))
            .spawn(move || {
                let tx = out.clone();
                let ran =
                    panic::catch_unwind(AssertUnwindSafe(|| job::execute(ctx, control, &out)));
                if ran.is_err() {
                    // A bug in the engine: report the attempt as a system failure.
                    let _ = tx.send(Msg::Finished {
                        job,
                        result: Box::new(AttemptResult::crashed()),
                    });
                }
            });
        if attempt == 1 {
            sink(&Event::JobStarted {
                job: self.jobs[job].name.clone(),
            });
        }
        match spawned {
            Ok(handle) => {
                self.handles.push(handle);
                self.controls[job] = Some(control_tx);
                self.state[job] = State::Running;
                self.running += 1;
            }
            Err(e) => {
                sink(&Event::Log {
                    job: self.jobs[job].name.clone(),
                    text: format!("ERROR: Job failed (system failure): starting a thread: {e}"),
                });
                let record = &mut self.records[job];
                record.failure_reason = Some(FailureReason::RunnerSystemFailure);
                self.state[job] = State::Running;
                self.running += 1;
                self.finalize(job, JobStatus::Failed, sink);
            }
        }
    }

    /// Jobs whose artifacts (and dotenv variables) `job` receives, in download order.
    fn download_sources(&self, job: usize) -> Vec<usize> {
        let spec = &self.jobs[job];
        let from_needs: Option<Vec<usize>> = spec.needs.as_ref().map(|needs| {
            needs
                .iter()
                .filter(|n| n.artifacts)
                .filter_map(|n| self.index.get(&n.job).copied())
                .collect()
        });
        let dependencies: Option<Vec<usize>> = spec.dependencies.as_ref().map(|deps| {
            deps.iter()
                .filter_map(|d| self.index.get(d).copied())
                .collect()
        });
        match (from_needs, dependencies) {
            (None, None) => {
                // Every earlier-stage job; only those that produced something matter.
                let mut earlier = Vec::new();
                for producers in self.producers.iter().take(spec.stage_index) {
                    let start = earlier.len();
                    earlier.extend_from_slice(producers);
                    earlier[start..].sort_unstable();
                }
                earlier
            }
            (None, Some(deps)) => deps,
            (Some(needs), None) => needs,
            (Some(needs), Some(deps)) => needs.into_iter().filter(|n| deps.contains(n)).collect(),
        }
    }

    fn on_finished(&mut self, job: usize, mut result: AttemptResult, sink: &mut dyn FnMut(&Event)) {
        if let Some(slot) = result.slot.take() {
            self.slots.release(slot);
        }
        let spec = Arc::clone(&self.jobs[job]);
        let record = &mut self.records[job];
        record.duration += result.duration;
        record.exit_code = result.exit_code;
        record.failure_reason = result.failure_reason;
        if !result.log_path.as_os_str().is_empty() {
            record.log_path = Some(result.log_path);
        }
        record.artifacts = result.artifacts;
        record.dotenv = result.dotenv;
        record.junit = result.junit;
        self.controls[job] = None;
        let status = match result.status {
            AttemptStatus::Success => JobStatus::Success,
            AttemptStatus::Failed => JobStatus::Failed,
            AttemptStatus::Canceled => JobStatus::Canceled,
        };
        if status == JobStatus::Failed
            && !self.canceling
            && record.attempts <= spec.retry.max.min(10)
            && should_retry(&spec.retry, result.failure_reason, result.exit_code)
        {
            self.running -= 1;
            self.state[job] = State::Queued;
            self.queue.push_front(job);
            return;
        }
        self.finalize(job, status, sink);
    }

    /// Records the final status of a job that ran, then releases what waited on it.
    fn finalize(&mut self, job: usize, status: JobStatus, sink: &mut dyn FnMut(&Event)) {
        self.running -= 1;
        let spec = Arc::clone(&self.jobs[job]);
        let record = &mut self.records[job];
        let allowed = match &spec.allow_failure {
            AllowFailure::No => false,
            AllowFailure::Yes => true,
            AllowFailure::ExitCodes(codes) => record.exit_code.is_some_and(|c| codes.contains(&c)),
        };
        record.allow_failure = allowed;
        record.status = Some(status);
        if record.artifacts.is_some() || !record.dotenv.is_empty() {
            self.producers[spec.stage_index].push(job);
        }
        self.state[job] = State::Done;
        self.done += 1;
        self.emit_finished(job, sink);
        let completion = match status {
            JobStatus::Success => Completion::Success,
            JobStatus::Failed if allowed => Completion::Success,
            JobStatus::Failed => Completion::Failed,
            JobStatus::Canceled => Completion::Canceled,
            JobStatus::Skipped => Completion::Skipped,
            JobStatus::Manual => Completion::UnplayedOptionalManual,
        };
        let released = self.schedule.complete(job, completion);
        self.release_all(released, sink);
    }

    /// A job that never ran (skipped, unplayed manual, canceled before start).
    fn finish_unrun(&mut self, job: usize, status: JobStatus, sink: &mut dyn FnMut(&Event)) {
        let spec = Arc::clone(&self.jobs[job]);
        let record = &mut self.records[job];
        record.status = Some(status);
        record.allow_failure = spec.allow_failure == AllowFailure::Yes;
        self.state[job] = State::Done;
        self.done += 1;
        self.emit_finished(job, sink);
    }

    fn emit_finished(&self, job: usize, sink: &mut dyn FnMut(&Event)) {
        let record = &self.records[job];
        sink(&Event::JobFinished {
            job: self.jobs[job].name.clone(),
            status: record.status.unwrap_or(JobStatus::Skipped),
            exit_code: record.exit_code,
            allow_failure: record.allow_failure,
            duration_ms: u64::try_from(record.duration.as_millis()).unwrap_or(u64::MAX),
            failure_reason: record.failure_reason,
            junit: record.junit.clone(),
        });
    }

    /// Applies GitLab's `when` rules to released jobs; skipped and unplayed manual jobs complete
    /// at once and may release more (a worklist, no recursion).
    fn release_all(&mut self, releases: Vec<Release>, sink: &mut dyn FnMut(&Event)) {
        let mut work: VecDeque<Release> = releases.into();
        while let Some(release) = work.pop_front() {
            let job = release.job;
            if self.state[job] != State::Waiting {
                continue;
            }
            if self.canceling {
                self.finish_unrun(job, JobStatus::Canceled, sink);
                continue;
            }
            let spec = Arc::clone(&self.jobs[job]);
            let completion = match decide(&spec.when, release) {
                Decision::Run => {
                    self.state[job] = State::Queued;
                    self.queue.push_back(job);
                    continue;
                }
                Decision::Delay(delay) => {
                    self.state[job] = State::Delayed;
                    self.timers.push(Reverse((Instant::now() + delay, job)));
                    continue;
                }
                Decision::Manual if self.selected_manual.contains(&spec.name) => {
                    self.state[job] = State::Queued;
                    self.queue.push_back(job);
                    continue;
                }
                Decision::Manual => {
                    self.finish_unrun(job, JobStatus::Manual, sink);
                    if spec.allow_failure == AllowFailure::Yes {
                        Completion::UnplayedOptionalManual
                    } else {
                        self.records[job].blocked = true;
                        Completion::Blocked
                    }
                }
                Decision::Skip => {
                    self.finish_unrun(job, JobStatus::Skipped, sink);
                    Completion::Skipped
                }
            };
            work.extend(self.schedule.complete(job, completion));
        }
    }

    fn on_cancel(&mut self, requests: u32, sink: &mut dyn FnMut(&Event)) {
        if !self.canceling {
            self.canceling = true;
            for job in 0..self.jobs.len() {
                if matches!(
                    self.state[job],
                    State::Waiting | State::Queued | State::Delayed
                ) {
                    self.finish_unrun(job, JobStatus::Canceled, sink);
                }
            }
            self.queue.clear();
            self.timers.clear();
        }
        let kill = requests >= 2;
        for control in self.controls.iter().flatten() {
            let _ = control.send(if kill {
                JobSignal::Kill
            } else {
                JobSignal::Cancel
            });
        }
    }

    fn pipeline_status(&self) -> PipelineStatus {
        if self.canceling {
            return PipelineStatus::Canceled;
        }
        let failed = self
            .records
            .iter()
            .any(|r| r.status == Some(JobStatus::Failed) && !r.allow_failure);
        if failed {
            return PipelineStatus::Failed;
        }
        if self.records.iter().any(|r| r.blocked) {
            return PipelineStatus::Manual;
        }
        let ran = self.records.iter().any(|r| {
            matches!(
                r.status,
                Some(JobStatus::Success | JobStatus::Failed | JobStatus::Canceled)
            )
        });
        if ran {
            PipelineStatus::Success
        } else {
            PipelineStatus::Skipped
        }
    }

    fn outcomes(&mut self) -> Vec<JobOutcome> {
        self.records
            .iter_mut()
            .zip(&self.jobs)
            .map(|(record, spec)| JobOutcome {
                name: spec.name.clone(),
                stage: spec.stage.clone(),
                status: record.status.unwrap_or(JobStatus::Skipped),
                exit_code: record.exit_code,
                allow_failure: record.allow_failure,
                duration: record.duration,
                failure_reason: record.failure_reason,
                attempts: record.attempts,
                log_path: record.log_path.take(),
                junit: record.junit.take(),
                dotenv: std::mem::take(&mut record.dotenv),
            })
            .collect()
    }
}

/// `retry:when` / `retry:exit_codes` (OR-ed); empty `when` without exit codes means `always`.
fn should_retry(retry: &Retry, reason: Option<FailureReason>, exit_code: Option<i32>) -> bool {
    let Some(reason) = reason else {
        return false;
    };
    if reason == FailureReason::MissingDependencyFailure {
        return false;
    }
    let by_when = if retry.when.is_empty() {
        retry.exit_codes.is_empty()
    } else {
        retry.when.iter().any(|w| match w.as_str() {
            "always" => true,
            "script_failure" => reason == FailureReason::ScriptFailure,
            "job_execution_timeout" | "stuck_or_timeout_failure" => {
                reason == FailureReason::JobExecutionTimeout
            }
            "runner_system_failure" => reason == FailureReason::RunnerSystemFailure,
            "unknown_failure" => reason == FailureReason::UnknownFailure,
            _ => false,
        })
    };
    by_when || exit_code.is_some_and(|c| retry.exit_codes.contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_rules() {
        let mut retry = Retry {
            max: 2,
            ..Retry::default()
        };
        assert!(should_retry(
            &retry,
            Some(FailureReason::ScriptFailure),
            Some(1)
        ));
        retry.exit_codes = vec![137];
        assert!(!should_retry(
            &retry,
            Some(FailureReason::ScriptFailure),
            Some(1)
        ));
        assert!(should_retry(
            &retry,
            Some(FailureReason::ScriptFailure),
            Some(137)
        ));
        retry.when = vec!["stuck_or_timeout_failure".into()];
        assert!(should_retry(
            &retry,
            Some(FailureReason::JobExecutionTimeout),
            None
        ));
        assert!(!should_retry(
            &retry,
            Some(FailureReason::MissingDependencyFailure),
            None
        ));
    }
}
