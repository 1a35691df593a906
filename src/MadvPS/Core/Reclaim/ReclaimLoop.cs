using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;

namespace MadvPS.Core;

/// <summary>What a step did, or why the loop ended for a process (<see cref="ReclaimNote"/>).</summary>
internal enum ReclaimNoteKind
{
    /// <summary>Memory pressure (Pressure) is above -MaxPressure: nothing more is advised.</summary>
    Pressure,
    /// <summary>Nothing cold is left; watching what comes back for SettleSteps steps.</summary>
    Settling,
    /// <summary>Nothing cold is left (Chunks: the chunks that came back and are left alone).</summary>
    Converged,
    /// <summary>Bytes of the OfBytes the last step advised came back: nothing advised; Chunks newly hot.</summary>
    BackedOff,
    /// <summary>Bytes are cold; the budget (OfBytes now) waits for the next step.</summary>
    BudgetWait,
    /// <summary>The advice on Chunks chunks holding Bytes resident; ColdLeft for later steps.</summary>
    Advised,
    /// <summary>The process exited at Step.</summary>
    Exited,
    /// <summary>-Duration ran out after Step steps.</summary>
    DurationOver,
}

/// <summary>What a step did or why the loop ended, as figures; Commands word it with the settings.</summary>
internal readonly record struct ReclaimNote(ReclaimNoteKind Kind, int Step = 0, double Pressure = 0, long Bytes = 0, long OfBytes = 0, int Chunks = 0, long ColdLeft = 0);

/// <summary>What the reclaim loop tells its caller, on the caller's own thread.</summary>
internal interface IReclaimObserver
{
    /// <summary>Called about every <see cref="AccessSession.Tick"/> while a step's window runs.</summary>
    void Waiting(int step, TimeSpan elapsed);

    /// <summary>A step ended for one process; the caller words <paramref name="note"/> into its Detail.</summary>
    void StepCompleted(ReclaimTarget target, ReclaimStep step, ReclaimNote note);

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
                    target.Finish(ReclaimStopReason.Duration, new ReclaimNote(ReclaimNoteKind.DurationOver, target.Steps));
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
        ReclaimNote note;

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
                note = new ReclaimNote(ReclaimNoteKind.Pressure, step, pressure);
                target.Finish(ReclaimStopReason.Pressure, note);
            }
            else if (action == ReclaimAction.Waited)
            {
                record.Action = action;
                note = new ReclaimNote(ReclaimNoteKind.Settling, step);
                target.LastAdvisedResident = 0;
            }
            else if (action == ReclaimAction.Converged)
            {
                record.Action = action;
                note = new ReclaimNote(ReclaimNoteKind.Converged, step, Chunks: findings.HotChunks);
                target.Finish(ReclaimStopReason.Converged, note);
            }
            else if (action == ReclaimAction.BackedOff)
            {
                record.Action = action;
                note = new ReclaimNote(ReclaimNoteKind.BackedOff, step, Bytes: findings.RefaultedBytes, OfBytes: target.LastAdvisedResident, Chunks: findings.NewlyHot);
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
                    note = new ReclaimNote(ReclaimNoteKind.BudgetWait, step, Bytes: findings.CandidateBytes, OfBytes: budget.Available);
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

                    note = new ReclaimNote(ReclaimNoteKind.Advised, step, Bytes: chosenBytes, Chunks: chosen.Count, ColdLeft: record.ColdBytesLeft);
                }
            }

            record.BytesOut = target.Planner.KeptOut;
        }
        catch (ProcessAccessException e) when (e.Failure is ProcessAccessFailure.Exited or ProcessAccessFailure.NotFound)
        {
            target.Finish(ReclaimStopReason.Exited, new ReclaimNote(ReclaimNoteKind.Exited, step));
            return;
        }
        catch (ProcessAdviceException e) when (e.Errno == (int)Interop.Errno.ESRCH)
        {
            target.Finish(ReclaimStopReason.Exited, new ReclaimNote(ReclaimNoteKind.Exited, step));
            return;
        }
        catch (Exception e) when (e is ProcessAccessException or ProcessAdviceException or Interop.LinuxErrorException or IOException or SmapsFormatException or FormatException)
        {
            if (!target.Measured.Directory.IsAlive())
            {
                target.Finish(ReclaimStopReason.Exited, new ReclaimNote(ReclaimNoteKind.Exited, step));
                return;
            }

            target.Fail();
            observer.Failed(target, e);
            return;
        }

        record.Elapsed = clock.Elapsed;
        if (!cancellation.IsCancellationRequested)
        {
            observer.StepCompleted(target, record, note);
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
                target.Finish(ReclaimStopReason.Exited, new ReclaimNote(ReclaimNoteKind.Exited, _step));
            }
            else
            {
                target.Fail();
                _observer.Failed(target, error);
            }
        }
    }
}
