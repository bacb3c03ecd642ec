//! `Schedule`: when each job becomes ready, in time linear in jobs + edges. DAG jobs count down
//! their unfinished needs; stage jobs wait behind a barrier that advances when every job of all
//! earlier stages has completed. Each release carries the composite status of what the job
//! waited for, and [`decide`] applies GitLab's `when` rules to it.

use std::time::Duration;

use crate::spec::When;

/// How a finished job counts for the jobs waiting on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Completion {
    /// Succeeded, or failed with the failure allowed.
    Success,
    /// Failed (not allowed).
    Failed,
    /// Canceled.
    Canceled,
    /// Skipped.
    Skipped,
    /// A manual job with `allow_failure: true` that was not played: ignored by stage ordering,
    /// makes a `needs` composite skipped.
    UnplayedOptionalManual,
    /// A blocking manual job that was not played: never completes, holds everything after it.
    Blocked,
}

/// Composite status of the jobs a job waited for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Composite {
    Success,
    Failed,
    Canceled,
    Skipped,
}

/// A job whose prerequisites are complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Release {
    pub(crate) job: usize,
    pub(crate) composite: Composite,
    /// Judged on `needs` (DAG) rather than on earlier stages.
    pub(crate) dag: bool,
}

/// What to do with a released job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    Run,
    Skip,
    Manual,
    Delay(Duration),
}

#[derive(Clone, Copy, Debug, Default)]
struct Flags {
    failed: bool,
    canceled: bool,
    skipped: bool,
}

impl Flags {
    fn add(&mut self, other: Flags) {
        self.failed |= other.failed;
        self.canceled |= other.canceled;
        self.skipped |= other.skipped;
    }

    fn of(completion: Completion) -> Flags {
        Flags {
            failed: completion == Completion::Failed,
            canceled: completion == Completion::Canceled,
            skipped: matches!(
                completion,
                Completion::Skipped | Completion::UnplayedOptionalManual
            ),
        }
    }

    /// Composite of `needs`: a skipped (or unplayed optional manual) need wins.
    fn dag_composite(self) -> Composite {
        if self.skipped {
            Composite::Skipped
        } else {
            self.stage_composite()
        }
    }

    /// Composite of earlier stages: skipped and ignored jobs count as success.
    fn stage_composite(self) -> Composite {
        if self.failed {
            Composite::Failed
        } else if self.canceled {
            Composite::Canceled
        } else {
            Composite::Success
        }
    }
}

/// Readiness bookkeeping for one pipeline.
#[derive(Debug)]
pub(crate) struct Schedule {
    /// Per DAG job: needs not completed yet.
    pending: Vec<usize>,
    /// Per DAG job: flags of its completed needs.
    flags: Vec<Flags>,
    /// Per job: the DAG jobs that need it.
    dependents: Vec<Vec<usize>>,
    stage_of: Vec<usize>,
    /// Per stage: its stage-ordered jobs.
    stage_jobs: Vec<Vec<usize>>,
    /// Per stage: jobs (of any kind) not completed yet.
    stage_unfinished: Vec<usize>,
    stage_flags: Vec<Flags>,
    /// Stages `0..prefix_done` are complete.
    prefix_done: usize,
    prefix_flags: Flags,
}

impl Schedule {
    /// `needs[j]`: `None` for stage ordering, else the indices of the needed jobs.
    /// Returns the schedule and the jobs ready at once.
    pub(crate) fn new(
        needs: &[Option<Vec<usize>>],
        stage_of: &[usize],
        stage_count: usize,
    ) -> (Self, Vec<Release>) {
        let n = needs.len();
        let mut schedule = Schedule {
            pending: vec![0; n],
            flags: vec![Flags::default(); n],
            dependents: vec![Vec::new(); n],
            stage_of: stage_of.to_vec(),
            stage_jobs: vec![Vec::new(); stage_count],
            stage_unfinished: vec![0; stage_count],
            stage_flags: vec![Flags::default(); stage_count],
            prefix_done: 0,
            prefix_flags: Flags::default(),
        };
        let mut ready = Vec::new();
        for (job, need) in needs.iter().enumerate() {
            schedule.stage_unfinished[stage_of[job]] += 1;
            match need {
                Some(list) => {
                    schedule.pending[job] = list.len();
                    for &needed in list {
                        schedule.dependents[needed].push(job);
                    }
                    if list.is_empty() {
                        ready.push(Release {
                            job,
                            composite: Composite::Success,
                            dag: true,
                        });
                    }
                }
                None => schedule.stage_jobs[stage_of[job]].push(job),
            }
        }
        if stage_count > 0 {
            ready.extend(schedule.stage_jobs[0].iter().map(|&job| Release {
                job,
                composite: Composite::Success,
                dag: false,
            }));
        }
        schedule.advance(&mut ready);
        (schedule, ready)
    }

    /// Records that `job` completed; returns the jobs that became ready.
    pub(crate) fn complete(&mut self, job: usize, completion: Completion) -> Vec<Release> {
        let mut ready = Vec::new();
        if completion == Completion::Blocked {
            return ready;
        }
        let flags = Flags::of(completion);
        for i in 0..self.dependents[job].len() {
            let dependent = self.dependents[job][i];
            self.flags[dependent].add(flags);
            self.pending[dependent] -= 1;
            if self.pending[dependent] == 0 {
                ready.push(Release {
                    job: dependent,
                    composite: self.flags[dependent].dag_composite(),
                    dag: true,
                });
            }
        }
        let stage = self.stage_of[job];
        self.stage_flags[stage].add(flags);
        self.stage_unfinished[stage] -= 1;
        self.advance(&mut ready);
        ready
    }

    /// Moves the stage barrier past every completed stage, releasing the next stage's jobs.
    fn advance(&mut self, ready: &mut Vec<Release>) {
        while self.prefix_done < self.stage_unfinished.len()
            && self.stage_unfinished[self.prefix_done] == 0
        {
            self.prefix_flags.add(self.stage_flags[self.prefix_done]);
            self.prefix_done += 1;
            if let Some(jobs) = self.stage_jobs.get(self.prefix_done) {
                let composite = self.prefix_flags.stage_composite();
                ready.extend(jobs.iter().map(|&job| Release {
                    job,
                    composite,
                    dag: false,
                }));
            }
        }
    }
}

/// GitLab's rule: which composite statuses let a job with this `when` run.
pub(crate) fn decide(when: &When, release: Release) -> Decision {
    let composite = release.composite;
    let success_like =
        composite == Composite::Success || (!release.dag && composite == Composite::Skipped);
    let valid = match when {
        When::OnSuccess | When::Manual | When::Delayed(_) => success_like,
        When::OnFailure => composite == Composite::Failed,
        When::Always => composite != Composite::Canceled,
    };
    if !valid {
        return Decision::Skip;
    }
    match when {
        When::Manual => Decision::Manual,
        When::Delayed(d) => Decision::Delay(*d),
        _ => Decision::Run,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jobs(releases: &[Release]) -> Vec<usize> {
        let mut v: Vec<usize> = releases.iter().map(|r| r.job).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn stages_release_in_order() {
        // 0,1 in stage 0; 2 in stage 1; 3 in stage 2 needs [] ; 4 in stage 2.
        let needs = vec![None, None, None, Some(vec![]), None];
        let (mut s, ready) = Schedule::new(&needs, &[0, 0, 1, 2, 2], 3);
        assert_eq!(jobs(&ready), vec![0, 1, 3]);
        assert!(s.complete(0, Completion::Success).is_empty());
        assert!(s.complete(3, Completion::Success).is_empty());
        let r = s.complete(1, Completion::Failed);
        assert_eq!(jobs(&r), vec![2]);
        assert_eq!(r[0].composite, Composite::Failed);
        let r = s.complete(2, Completion::Skipped);
        assert_eq!(jobs(&r), vec![4]);
        assert_eq!(r[0].composite, Composite::Failed);
    }

    #[test]
    fn dag_skipped_need_wins() {
        let needs = vec![None, None, Some(vec![0, 1])];
        let (mut s, _) = Schedule::new(&needs, &[0, 0, 1], 2);
        assert!(s.complete(0, Completion::Failed).is_empty());
        let r = s.complete(1, Completion::UnplayedOptionalManual);
        assert_eq!(r[0].composite, Composite::Skipped);
        assert_eq!(decide(&When::Always, r[0]), Decision::Run);
        assert_eq!(decide(&When::OnSuccess, r[0]), Decision::Skip);
        assert_eq!(decide(&When::OnFailure, r[0]), Decision::Skip);
    }

    #[test]
    fn blocked_job_holds_later_stages() {
        let needs = vec![None, None, Some(vec![])];
        let (mut s, ready) = Schedule::new(&needs, &[0, 1, 1], 2);
        assert_eq!(jobs(&ready), vec![0, 2]);
        assert!(s.complete(0, Completion::Blocked).is_empty());
        assert!(s.complete(2, Completion::Success).is_empty());
    }

    #[test]
    fn empty_stages_are_skipped_over() {
        let needs = vec![None];
        let (_, ready) = Schedule::new(&needs, &[2], 3);
        assert_eq!(jobs(&ready), vec![0]);
    }
}
