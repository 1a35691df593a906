using System;
using System.Collections.Generic;
using System.IO;
using MadvPS.Interop;

namespace MadvPS.Core;

/// <summary>
/// One process under reclaim: its measurement (clear_refs windows, from Core/Access), its pagemap,
/// its planner and its figures so far. Everything is read through the /proc directory opened at
/// the start, and every advice goes through a pidfd checked against the start time read then.
/// </summary>
internal sealed class ReclaimTarget : IDisposable
{
    private readonly ReclaimSettings _settings;
    private readonly PagemapCounter _pages;
    private readonly (long Minor, long Major) _faultsAtStart;
    private (long Minor, long Major) _faultsLast;

    private ReclaimTarget(MeasuredProcess measured, PagemapCounter pages, ReclaimSettings settings, (long, long) faults, (long Rss, long Swap) before)
    {
        Measured = measured;
        _pages = pages;
        _settings = settings;
        _faultsAtStart = faults;
        _faultsLast = faults;
        Planner = new ChunkPlanner(settings);
        RssBefore = before.Rss;
        SwapBefore = before.Swap;
    }

    public MeasuredProcess Measured { get; }
    public ChunkPlanner Planner { get; }
    public int ProcessId => Measured.ProcessId;
    public string Name => Measured.Name;
    public long RssBefore { get; }
    public long SwapBefore { get; }
    public long BytesAdvised { get; private set; }
    /// <summary>The resident bytes of the chunks the process's previous step advised; 0 if it advised none.</summary>
    public long LastAdvisedResident { get; set; }
    public int Steps { get; set; }

    /// <summary>The last step that advised anything; 0 before.</summary>
    public int LastAdviceStep { get; set; }
    public ReclaimStopReason? StopReason { get; private set; }
    public ReclaimNote? StopNote { get; private set; }
    public (long Rss, long Swap) After { get; private set; }
    public (long Minor, long Major) Faults => (_faultsLast.Minor - _faultsAtStart.Minor, _faultsLast.Major - _faultsAtStart.Major);

    /// <summary>
    /// Opens the process and checks, before anything is cleared or advised, that it may be
    /// measured (smaps, clear_refs) and read (pagemap). Whether it may be advised is
    /// <see cref="ProbeAdvice"/>'s, after ShouldProcess: -WhatIf makes no process_madvise call at all.
    /// </summary>
    public static ReclaimTarget Open(int processId, ReclaimSettings settings)
    {
        MeasuredProcess measured = MeasuredProcess.Open(processId, MappingSelection.All, perMapping: true);
        PagemapCounter? pages = null;
        try
        {
            // Null only for a live task without an address space: an exiting one is Exited already.
            (long, long) before = ReadRollup(measured) ?? throw new NoAddressSpaceException(processId);
            pages = OpenPagemap(measured);
            (long, long) faults = FaultSignal.Read(measured.Directory) ?? throw Exited(measured, null);
            return new ReclaimTarget(measured, pages, settings, faults, before);
        }
        catch
        {
            pages?.Dispose();
            measured.Dispose();
            throw;
        }
    }

    private static PagemapCounter OpenPagemap(MeasuredProcess measured) => new(measured.Directory);

    /// <summary>
    /// A process_madvise with no range runs every check of the call as a whole (capability, ptrace
    /// access, the advice for another process) and advises nothing: a refusal is known before
    /// anything is cleared.
    /// </summary>
    public void ProbeAdvice()
    {
        using ProcessHandle handle = OpenHandle(Measured);
        SysResult probe = Libc.ProcessMadvise(handle.Pidfd, ReadOnlySpan<IoVec>.Empty, (int)_settings.Advice);
        if (probe.Failed)
        {
            throw new ProcessAdviceException(probe.Errno);
        }
    }

    /// <summary>A pidfd on the process, proved to be the one opened at the start (PID, start time, boot).</summary>
    private static ProcessHandle OpenHandle(MeasuredProcess measured) =>
        ProcessHandle.Open(measured.ProcessId, measured.Stat.StartTime, measured.BootId);

    /// <summary>The mappings the last window saw, with what it referenced.</summary>
    public List<MappingView> Mappings()
    {
        var views = new List<MappingView>(Measured.Tracker.MappingCount);
        foreach (MemoryAccess m in Measured.Tracker.Mappings(MappingSelection.All, _settings.Window))
        {
            views.Add(new MappingView(m.Start, m.End, m.Rss, m.Referenced, m.Kind, m.VmFlags));
            SwapSeen += m.Swap;
        }

        return views;
    }

    /// <summary>Swap of the mappings listed by the last <see cref="Mappings"/> call.</summary>
    public long SwapSeen { get; private set; }

    public StepFindings Observe(int step)
    {
        SwapSeen = 0;
        List<MappingView> views = Mappings();
        StepFindings findings = Planner.Observe(step, views, _pages);
        findings.Swap = SwapSeen;
        return findings;
    }

    /// <summary>The faults since the last call.</summary>
    public (long Minor, long Major) ReadFaults()
    {
        (long Minor, long Major) now = FaultSignal.Read(Measured.Directory) ?? throw Exited(Measured, null);
        (long, long) delta = (now.Minor - _faultsLast.Minor, now.Major - _faultsLast.Major);
        _faultsLast = now;
        return delta;
    }

    /// <summary>
    /// Advises the chunks in batched process_madvise calls through a pidfd opened and checked for
    /// this step; then counts them again. Returns the bytes the kernel took and the calls made.
    /// </summary>
    public (long Bytes, int Calls) Advise(List<Chunk> chunks, Func<bool> shouldStop, Action<AdviceCall>? callMade)
    {
        if (chunks.Count == 0)
        {
            return (0, 0);
        }

        using ProcessHandle handle = OpenHandle(Measured);
        var ranges = new AdviceRange[chunks.Count];
        for (int i = 0; i < chunks.Count; i++)
        {
            ranges[i] = new AdviceRange(chunks[i].Start, chunks[i].Length);
        }

        AdviceBatcher batcher = AdviceBatcher.ForPidfd(handle.Pidfd, _settings.Advice);
        if (callMade is not null)
        {
            batcher.CallMade += callMade;
        }

        RangeOutcome[] outcomes = batcher.Advise(ranges, shouldStop);
        long bytes = 0;
        long resident = 0;
        for (int i = 0; i < chunks.Count; i++)
        {
            if (outcomes[i].Sent && outcomes[i].BytesAdvised > 0)
            {
                bytes += outcomes[i].BytesAdvised;
                resident += chunks[i].Present;
                Planner.Advised(chunks[i], _pages.Count(chunks[i].Start, chunks[i].End).ResidentBytes);
            }
        }

        BytesAdvised += bytes;
        LastAdvisedResident = resident;
        return (bytes, batcher.Calls);
    }

    /// <summary>True when the process dropped out with an error (not its exit): it gets no result.</summary>
    public bool HasFailed { get; private set; }

    public void Fail() => HasFailed = true;

    /// <summary>Ends the run for this process: reads its totals last (none when it exited).</summary>
    public void Finish(ReclaimStopReason reason, ReclaimNote note)
    {
        if (StopReason is not null)
        {
            return;
        }

        StopReason = reason;
        StopNote = note;
        if (reason != ReclaimStopReason.Exited)
        {
            try
            {
                After = ReadRollup(Measured) ?? (0, 0);
                if (FaultSignal.Read(Measured.Directory) is { } faults)
                {
                    _faultsLast = faults;
                }
            }
            catch (Exception e) when (e is LinuxErrorException or IOException or SmapsFormatException or ProcessAccessException)
            {
                After = (0, 0);
            }
        }
    }

    /// <summary>Rss and Swap of smaps_rollup, read through the process's directory; null without an address space.</summary>
    /// <exception cref="ProcessAccessException">Exited: the process exited, or is exiting.</exception>
    private static (long Rss, long Swap)? ReadRollup(MeasuredProcess measured) =>
        MappingReader.ReadRollup(measured.Directory, measured.Stat, measured.Name) is ProcessMemory totals ? (totals.Rss, totals.Swap) : null;

    internal static ProcessAccessException Exited(MeasuredProcess measured, Exception? inner) =>
        new(ProcessAccessFailure.Exited, measured.ProcessId, inner) { ProcessName = measured.Name };

    public ReclaimResult Result(double peakPressure, TimeSpan duration) => new()
    {
        ProcessId = ProcessId,
        ProcessName = Name,
        ProcessStartTime = Measured.Stat.StartTime,
        BootId = Measured.BootId,
        Advice = _settings.Advice,
        RssBefore = RssBefore,
        SwapBefore = SwapBefore,
        RssAfter = After.Rss,
        SwapAfter = After.Swap,
        BytesAdvised = BytesAdvised,
        BytesRefaulted = Planner.TotalRefaulted,
        BytesKeptOut = StopReason == ReclaimStopReason.Exited ? 0 : Planner.KeptOut,
        MinorFaults = Faults.Minor,
        MajorFaults = Faults.Major,
        PeakPressure = peakPressure,
        Steps = Steps,
        StopReason = StopReason ?? ReclaimStopReason.Stopped,
        Duration = duration,
    };

    public void Dispose()
    {
        _pages.Dispose();
        Measured.Dispose();
    }
}

/// <summary>The process has no address space (a kernel thread): there is nothing to reclaim.</summary>
internal sealed class NoAddressSpaceException : Exception
{
    public NoAddressSpaceException(int processId)
        : base($"Process {processId} has no address space.")
    {
        ProcessId = processId;
    }

    public int ProcessId { get; }
}
