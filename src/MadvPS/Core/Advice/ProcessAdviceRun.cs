using System;
using System.Diagnostics;
using System.Threading.Tasks;

namespace MadvPS.Core;

/// <summary>
/// Set-ProcessMadvise's work on one process, without PowerShell: <see cref="Prepare"/> opens the
/// process, freezes it if asked, lists the mappings the selection takes and reads the totals
/// before; the cmdlet then asks ShouldProcess; <see cref="Execute"/> advises, resumes and reads
/// the totals after. Dispose resumes the process on every other way out.
/// </summary>
internal sealed class ProcessAdviceRun : IDisposable
{
    private readonly Stopwatch _clock;
    private ProcessMemory? _before;

    private ProcessAdviceRun(ProcessHandle handle, string name, AdvicePlan plan, MappingSelection selection, Stopwatch clock)
    {
        Handle = handle;
        ProcessName = name;
        Plan = plan;
        Selection = selection;
        _clock = clock;
    }

    public ProcessHandle Handle { get; }
    public string ProcessName { get; }
    public AdvicePlan Plan { get; }
    public MappingSelection Selection { get; }
    public MappingSource Source { get; private set; }
    /// <summary>Why smaps was read rather than maps, or null.</summary>
    public SmapsCause? SmapsReason { get; private set; }
    /// <summary>What the freeze achieved; null when none was asked for.</summary>
    public FreezeOutcome? Freeze { get; private set; }
    /// <summary>What the advice is foretold to take (null when the listing was stopped).</summary>
    public AdviceForecast? Forecast { get; private set; }
    /// <summary>True when the listing was left part way because <c>stopping</c> said so.</summary>
    public bool Stopped { get; private set; }

    /// <summary>The process's totals before the advice (smaps_rollup), read beside the listing.</summary>
    public ProcessMemory? Before => _before;

    /// <param name="freeze">Stop the process before the listing (the cmdlet passes false under -WhatIf).</param>
    /// <exception cref="ProcessAccessException">No such process, no access, or it exited.</exception>
    /// <exception cref="SmapsFormatException">smaps could not be parsed.</exception>
    /// <param name="listedStartTime">The start time the process had when it was listed (by -Name, or -Id a
    /// moment before): a process that took over its PID since is refused, never advised.</param>
    public static ProcessAdviceRun Prepare(int processId, ulong listedStartTime, MemoryAdvice advice, MappingSelection selection, FreezeRequest? freeze, Func<bool> stopping)
    {
        var clock = Stopwatch.StartNew();
        // Open reads /proc/PID/stat after the pidfd, checks it has the start time the process was
        // listed with, and that the pidfd is still live after that: the stat it keeps is the
        // process the pidfd holds, and the one the user selected.
        ProcessHandle handle = ProcessHandle.Open(processId, listedStartTime, expectedBootId: null);
        var run = new ProcessAdviceRun(handle, ProcessNames.Resolve(processId, handle.Stat.Command), new AdvicePlan(advice), selection, clock);
        try
        {
            ProcessLookup.RequireAddressSpace(handle.Stat, run.ProcessName);
            if (freeze is not null)
            {
                run.Freeze = handle.Freeze(freeze);
            }

            // The totals before and the list of mappings are two walks of the kernel's that do
            // not depend on each other: on two cores they take the time of one.
            Task<ProcessMemory?> totalsBefore = Task.Run(() => MappingReader.ReadRollup(handle.Stat, run.ProcessName));
            run.Source = AdviceMappings.Collect(handle.Stat, run.ProcessName, selection, run.Plan, out SmapsCause? reason, stopping: stopping);
            run.SmapsReason = reason;
            run.Stopped = stopping();
            if (!run.Stopped)
            {
                run.Forecast = run.Plan.Foretell(handle.Stat, run.ProcessName, KernelInfo.SwapFree);
            }

            run._before = totalsBefore.GetAwaiter().GetResult();
            return run;
        }
        catch
        {
            run.Dispose();
            throw;
        }
    }

    /// <summary>Advises the plan, resumes the process, and sums up what happened.</summary>
    /// <exception cref="ProcessAdviceException">The kernel refused the call as a whole.</exception>
    public ProcessAdviceResult Execute(Func<bool> stopping, Action<AdviceCall>? onCall, Action<int, int>? progress)
    {
        Plan.Execute(Handle, stopping, onCall, progress);
        bool frozen = Freeze?.Frozen == true && Handle.IsFrozenByUs;
        Handle.Resume();
        ProcessMemory? after = MappingReader.ReadRollup(Handle.Stat, ProcessName);
        var result = new ProcessAdviceResult
        {
            ProcessId = Handle.ProcessId,
            ProcessName = ProcessName,
            Advice = Plan.Advice,
            MappingType = Selection.ToString(),
            Frozen = frozen,
            Calls = Plan.Calls,
            RssBefore = _before?.Rss ?? 0,
            SwapBefore = _before?.Swap ?? 0,
            RssAfter = after?.Rss ?? 0,
            SwapAfter = after?.Swap ?? 0,
            ResidentBytes = Forecast?.Resident ?? 0,
            PrivateResidentBytes = Forecast?.PrivateResident ?? 0,
            SwappedBytes = Forecast?.Swapped ?? 0,
            SharedBytes = Forecast?.Shared ?? 0,
            LockedBytes = Forecast?.Locked ?? 0,
            NoSwapBytes = Forecast?.NoSwap ?? 0,
            ForetoldBytes = Forecast?.Foretold ?? 0,
        };
        foreach (PlannedRange range in Plan.Ranges)
        {
            result.RangesRequested++;
            result.BytesRequested += range.Length;
            result.BytesAdvised += range.Outcome.BytesAdvised;
            if (range.Skip is not null)
            {
                result.RangesSkipped++;
            }
            else if (range.Outcome.Errno != 0)
            {
                result.RangesFailed++;
            }
        }

        result.RssReclaimed = result.RssBefore - result.RssAfter;
        result.Duration = _clock.Elapsed;
        return result;
    }

    public void Dispose() => Handle.Dispose();
}
