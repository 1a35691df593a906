using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;

namespace MadvPS.Core;

/// <summary>What the reclaim loop tells its caller, on the caller's own thread.</summary>
internal interface IReclaimObserver
{
    /// <summary>Called about every <see cref="AccessSession.Tick"/> while a step's window runs.</summary>
    void Waiting(int step, TimeSpan elapsed);

    /// <summary>A step ended for one process.</summary>
    void StepCompleted(ReclaimTarget target, ReclaimStep step);

    /// <summary>A process dropped out with an error that is not its exit; it gets no result.</summary>
    void Failed(ReclaimTarget target, Exception error);

    /// <summary>One process_madvise call, for -Verbose.</summary>
    void CallMade(ReclaimTarget target, AdviceCall call);
}

/// <summary>
/// The closed loop. Each step: clear the referenced bits of every process and wait a window
/// (AccessSession, as Measure-MemoryAccess does); read what the window referenced, where each
/// chunk's pages are (pagemap), the process's faults and the system's memory pressure; learn
/// what came back from the last step's advice; then advise a bounded amount of what is cold.
/// It ends for a process when nothing cold is left (Converged) or it exits, and for all when
/// -Duration runs out, pressure goes above -MaxPressure, or the caller cancels (between calls).
/// </summary>
internal static class ReclaimLoop
{
    /// <summary>Runs the loop; false when cancelled (the targets have no stop reason then).</summary>
    public static bool Run(List<ReclaimTarget> targets, ReclaimSettings settings, CancellationToken cancellation, IReclaimObserver observer, out double peakPressure)
    {
        peakPressure = 0;
        var clock = Stopwatch.StartNew();
        var budget = new ReclaimBudget(settings.MaxBytesPerSecond, settings.ChunkSize);
        long? stalled = PressureSignal.ReadSomeTotal();
        TimeSpan stalledAt = clock.Elapsed;
        TimeSpan earnedAt = clock.Elapsed;
        var active = new List<ReclaimTarget>(targets);
        var adapter = new WindowObserver(observer);

        for (int step = 1; active.Count > 0; step++)
        {
            if (cancellation.IsCancellationRequested)
            {
                return false;
            }

            if (clock.Elapsed >= settings.Duration)
            {
                foreach (ReclaimTarget target in active)
                {
                    target.Finish(ReclaimStopReason.Duration, $"-Duration {settings.Duration} ran out after {target.Steps} step(s).");
                }

                return true;
            }

            var measured = new List<MeasuredProcess>(active.Count);
            adapter.Begin(step, active);
            foreach (ReclaimTarget target in active)
            {
                measured.Add(target.Measured);
            }

            if (!AccessSession.Run(measured, settings.Window, 1, cancellation, adapter))
            {
                return false;
            }

            long? stalledNow = PressureSignal.ReadSomeTotal();
            TimeSpan now = clock.Elapsed;
            double pressure = stalled is long a && stalledNow is long b ? PressureSignal.Percent(b - a, now - stalledAt) : 0;
            stalled = stalledNow;
            stalledAt = now;
            peakPressure = Math.Max(peakPressure, pressure);
            bool overPressure = stalledNow is not null && pressure > settings.MaxPressure;
            budget.Earn(now - earnedAt);
            earnedAt = now;

            foreach (ReclaimTarget target in active)
            {
                if (target.StopReason is not null || adapter.Dropped(target))
                {
                    continue;
                }

                if (cancellation.IsCancellationRequested)
                {
                    return false;
                }

                Step(step, target, settings, budget, pressure, overPressure, clock, cancellation, observer);
            }

            active.RemoveAll(t => t.StopReason is not null || adapter.Dropped(t));
        }

        return true;
    }

    private static void Step(int step, ReclaimTarget target, ReclaimSettings settings, ReclaimBudget budget, double pressure, bool overPressure,
        Stopwatch clock, CancellationToken cancellation, IReclaimObserver observer)
    {
        target.Steps++;
        var record = new ReclaimStep
        {
            ProcessId = target.ProcessId,
            ProcessName = target.Name,
            ProcessStartTime = target.Measured.Stat.StartTime,
            BootId = target.Measured.BootId,
            Step = step,
            Pressure = pressure,
        };

        try
        {
            (record.MinorFaults, record.MajorFaults) = target.ReadFaults();
            StepFindings findings = target.Observe(step);
            record.Rss = findings.Rss;
            record.Swap = findings.Swap;
            record.Referenced = findings.Referenced;
            record.BytesRefaulted = findings.RefaultedBytes;
            record.HotChunks = findings.HotChunks;
            ReclaimAction action = StepPolicy.Decide(findings, step, target.LastAdviceStep, target.LastAdvisedResident, overPressure, settings);
            record.ColdBytesLeft = findings.CandidateBytes;
            if (action == ReclaimAction.Pressure)
            {
                record.Action = action;
                record.Detail = $"Memory pressure {pressure:0.##}% of the step's time is above -MaxPressure {settings.MaxPressure:0.##}%: nothing more is advised.";
                target.Finish(ReclaimStopReason.Pressure, record.Detail);
            }
            else if (action == ReclaimAction.Waited)
            {
                record.Action = action;
                record.Detail = $"Nothing cold is left; watching what comes back for {settings.SettleSteps} step(s) after the last advice before ending.";
                target.LastAdvisedResident = 0;
            }
            else if (action == ReclaimAction.Converged)
            {
                record.Action = action;
                record.Detail = findings.HotChunks > 0
                    ? $"Nothing cold is left; {findings.HotChunks} chunk(s) came back after they were advised and are left alone."
                    : "Nothing cold is left.";
                target.Finish(ReclaimStopReason.Converged, record.Detail);
            }
            else if (action == ReclaimAction.BackedOff)
            {
                record.Action = action;
                record.Detail = $"{Display.Bytes(findings.RefaultedBytes)} of the {Display.Bytes(target.LastAdvisedResident)} resident that the last step advised came back (more than {settings.MaxRefaultShare:P0}): nothing is advised this step; {findings.NewlyHot} chunk(s) are left alone for a while.";
                target.LastAdvisedResident = 0;
            }
            else
            {
                List<Chunk> chosen = target.Planner.Choose(findings, budget.Available);
                long chosenBytes = 0;
                foreach (Chunk chunk in chosen)
                {
                    chosenBytes += chunk.Present;
                }

                record.ColdBytesLeft = findings.CandidateBytes - chosenBytes;
                if (chosen.Count == 0)
                {
                    record.Action = ReclaimAction.Waited;
                    record.Detail = $"{Display.Bytes(findings.CandidateBytes)} is cold; the budget of -MaxBytesPerSecond ({Display.Bytes(budget.Available)} now) waits for the next step.";
                    target.LastAdvisedResident = 0;
                }
                else
                {
                    budget.Spend(chosenBytes);
                    (record.BytesAdvised, record.Calls) = target.Advise(chosen, () => cancellation.IsCancellationRequested, call => observer.CallMade(target, call));
                    record.Action = ReclaimAction.Advised;
                    if (record.BytesAdvised > 0)
                    {
                        target.LastAdviceStep = step;
                    }

                    record.Detail = $"{settings.Advice} on {chosen.Count} chunk(s) holding {Display.Bytes(chosenBytes)} resident" +
                        (record.ColdBytesLeft > 0 ? $"; {Display.Bytes(record.ColdBytesLeft)} cold left for later steps." : ".");
                }
            }

            record.BytesOut = target.Planner.KeptOut;
        }
        catch (ProcessAccessException e) when (e.Failure is ProcessAccessFailure.Exited or ProcessAccessFailure.NotFound)
        {
            target.Finish(ReclaimStopReason.Exited, $"The process exited at step {step}.");
            return;
        }
        catch (ProcessAdviceException e) when (e.Errno == (int)Interop.Errno.ESRCH)
        {
            target.Finish(ReclaimStopReason.Exited, $"The process exited at step {step}.");
            return;
        }
        catch (Exception e) when (e is ProcessAccessException or ProcessAdviceException or Interop.LinuxErrorException or IOException or SmapsFormatException or FormatException)
        {
            if (!target.Measured.Directory.IsAlive())
            {
                target.Finish(ReclaimStopReason.Exited, $"The process exited at step {step}.");
                return;
            }

            target.Fail();
            observer.Failed(target, e);
            return;
        }

        record.Elapsed = clock.Elapsed;
        if (!cancellation.IsCancellationRequested)
        {
            observer.StepCompleted(target, record);
        }
    }

    /// <summary>Passes a window's progress on, and notes the processes the window dropped.</summary>
    private sealed class WindowObserver : IAccessObserver
    {
        private readonly IReclaimObserver _observer;
        private readonly HashSet<MeasuredProcess> _dropped = new();
        private Dictionary<MeasuredProcess, ReclaimTarget> _targets = new();
        private int _step;

        public WindowObserver(IReclaimObserver observer)
        {
            _observer = observer;
        }

        public void Begin(int step, List<ReclaimTarget> targets)
        {
            _step = step;
            _targets = new Dictionary<MeasuredProcess, ReclaimTarget>(targets.Count);
            foreach (ReclaimTarget target in targets)
            {
                _targets[target.Measured] = target;
            }
        }

        public bool Dropped(ReclaimTarget target) => _dropped.Contains(target.Measured);

        public void Waiting(int window, TimeSpan elapsed) => _observer.Waiting(_step, elapsed);

        public void WindowCompleted(int window, IReadOnlyList<MeasuredProcess> processes)
        {
        }

        public void Failed(MeasuredProcess process, Exception error)
        {
            _dropped.Add(process);
            ReclaimTarget target = _targets[process];
            if (error is ProcessAccessException { Failure: ProcessAccessFailure.Exited or ProcessAccessFailure.NotFound })
            {
                target.Finish(ReclaimStopReason.Exited, $"The process exited at step {_step}.");
            }
            else
            {
                target.Fail();
                _observer.Failed(target, error);
            }
        }
    }
}
