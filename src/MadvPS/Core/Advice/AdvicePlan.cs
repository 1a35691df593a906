using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;

namespace MadvPS.Core;

internal sealed class PlannedRange
{
    public ulong Start;
    public long Length;
    public string Path = "";
    public string? SkipReason;
    public RangeOutcome Outcome;
    /// <summary>What the object said the mapping was, for the check against the live address space; null when not given.</summary>
    public MappingIdentity? Identity;
    /// <summary>After the live check: the parts still as read, which are the only ones sent; null when not checked.</summary>
    public List<AdviceRange>? Pieces;
    /// <summary>After the live check: what differs for the parts not sent, or null.</summary>
    public string? Changed;
    public long ChangedBytes;
    /// <summary>The smaps figures the object carried when it was read; null when it carried none.</summary>
    public ResidentFigures? Figures;
    public VmFlags? Flags;
    public MappingKind? Kind;
    /// <summary>After <see cref="AdvicePlan.Foretell"/>: the figures used and the bytes foretold to leave RAM.</summary>
    public ResidentFigures Foreseen;
    public long ForetoldBytes;
}

/// <summary>The ranges of one process and one advice: which are sent, which are skipped and why.</summary>
internal sealed class AdvicePlan
{
    public AdvicePlan(MemoryAdvice advice)
    {
        Advice = advice;
    }

    public MemoryAdvice Advice { get; }
    public List<PlannedRange> Ranges { get; } = new();
    public int RangesToSend { get; private set; }
    public long BytesToSend { get; private set; }
    public int Calls { get; private set; }

    /// <summary>
    /// For advice that brings memory in (WillNeed, PopulateRead, PopulateWrite): the most bytes
    /// the sent ranges can bring in, from the Rss and Swap given with them (a range given without
    /// them counts whole).
    /// </summary>
    public long BytesToBringIn { get; private set; }

    /// <summary>The sent bytes of mappings that are not anonymous memory (files, memfds, shared memory).</summary>
    public long NonAnonymousBytesToSend { get; private set; }

    /// <summary>Whether the advice reads or allocates memory on purpose, and so is bounded by the memory limit.</summary>
    public static bool BringsIn(MemoryAdvice advice) =>
        advice is MemoryAdvice.WillNeed or MemoryAdvice.PopulateRead or MemoryAdvice.PopulateWrite;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(ulong start, long length, string path, VmFlags? flags, MappingKind? kind, MappingIdentity? identity = null, long? rss = null, long? swap = null)
    {
        var range = new PlannedRange
        {
            Start = start,
            Length = length,
            Path = path,
            SkipReason = AdvicePolicy.SkipReason(Advice, start, length, flags, kind),
            Identity = identity,
            Flags = flags,
            Kind = kind,
        };
        Ranges.Add(range);
        if (range.SkipReason is null)
        {
            RangesToSend++;
            BytesToSend += length;
            bool anonymous = kind is MappingKind.Anonymous or MappingKind.Heap or MappingKind.Stack or MappingKind.NamedAnonymous;
            if (!anonymous)
            {
                NonAnonymousBytesToSend += length;
            }

            if (BringsIn(Advice))
            {
                // Anonymous memory that is not resident is either swapped out (WillNeed and
                // PopulateRead read it back) or never touched (PopulateRead maps the shared zero
                // page, PopulateWrite allocates it). File pages not resident are read.
                BytesToBringIn += anonymous && Advice != MemoryAdvice.PopulateWrite
                    ? swap ?? length
                    : Math.Max(0, length - (rss ?? 0));
            }
        }
    }

    /// <summary>Sends every range that is not skipped; fills each range's Outcome.</summary>
    /// <exception cref="ProcessAdviceException">The kernel refused the call as a whole.</exception>
    /// <summary>
    /// What the advice is foretold to take: from each range's own smaps figures where the object
    /// carried them, else from one read of the process's smaps now.
    /// </summary>
    public AdviceForecast Foretell(ProcessStat process, string processName, long swapFree)
    {
        var forecast = new AdviceForecast();
        List<MemoryMapping>? live = null;
        foreach (PlannedRange range in Ranges)
        {
            if (range.SkipReason is not null)
            {
                continue;
            }

            if (range.Figures is ResidentFigures carried)
            {
                range.Foreseen = carried;
            }
            else
            {
                if (live is null)
                {
                    try
                    {
                        live = new List<MemoryMapping>(MappingReader.ReadMappings(process, processName));
                    }
                    catch (ProcessAccessException e) when (e.Failure == ProcessAccessFailure.PermissionDenied)
                    {
                        // No ptrace read access: process_madvise makes the same check and will
                        // refuse the call in its own words; the forecast is left unknown.
                        live = new List<MemoryMapping>();
                        forecast.Unknown = true;
                    }
                }

                range.Foreseen = AdviceForecast.FromLive(live, range.Start, range.Length);
            }

            range.ForetoldBytes = forecast.Add(Advice, range.Foreseen, range.Flags, range.Kind, swapFree);
        }

        return forecast;
    }

    /// <summary>
    /// Checks every range to be sent against the address space as it is now (one read of
    /// /proc/PID/maps): the parts that changed are taken out and reported, never sent.
    /// </summary>
    /// <remarks>Few ranges are checked by PROCMAP_QUERY (6.11), one call per VMA they touch; many, or
    /// on older kernels, by one read of /proc/PID/maps.</remarks>
    /// <returns>Where the live VMAs came from, for -Verbose.</returns>
    public string CheckLive(ProcessStat process)
    {
        var toCheck = new List<PlannedRange>();
        foreach (PlannedRange range in Ranges)
        {
            if (range.SkipReason is null)
            {
                toCheck.Add(range);
            }
        }

        if (toCheck.Count == 0)
        {
            return "nothing to check";
        }

        List<LiveVma>? queried = toCheck.Count <= VmaQuery.MaxRanges ? VmaQuery.TryRead(process, toCheck) : null;
        List<LiveVma> vmas;
        try
        {
            vmas = queried ?? LiveMappings.Read(process);
        }
        catch (ProcessAccessException e) when (e.Failure == ProcessAccessFailure.PermissionDenied)
        {
            // Whoever may not read maps may not advise either (both are PTRACE_MODE_READ): the
            // kernel refuses every call with EACCES, so nothing unchecked is advised.
            return "not checked: no read access to its maps; process_madvise makes the same access check";
        }

        foreach (PlannedRange range in Ranges)
        {
            if (range.SkipReason is null)
            {
                LiveMappings.Check(range, vmas);
            }
        }

        return queried is not null ? $"PROCMAP_QUERY, {vmas.Count} VMA(s)" : $"/proc/{process.ProcessId}/maps, {vmas.Count} VMA(s)";
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(ProcessHandle process, Func<bool>? shouldStop, Action<AdviceCall>? onCall, Action<int, int>? progress)
    {
        var sent = new List<AdviceRange>(RangesToSend);
        var index = new List<int>(RangesToSend);
        for (int i = 0; i < Ranges.Count; i++)
        {
            PlannedRange range = Ranges[i];
            if (range.SkipReason is not null)
            {
                continue;
            }

            if (range.Pieces is null)
            {
                sent.Add(new AdviceRange(range.Start, range.Length));
                index.Add(i);
                continue;
            }

            // Checked against the live address space: only the parts still as read are sent.
            foreach (AdviceRange piece in range.Pieces)
            {
                sent.Add(piece);
                index.Add(i);
            }
        }

        if (sent.Count == 0)
        {
            return;
        }

        AdviceBatcher batcher = AdviceBatcher.ForPidfd(process.Pidfd, Advice);
        if (onCall is not null)
        {
            batcher.CallMade += onCall;
        }

        try
        {
            RangeOutcome[] outcomes = batcher.Advise(sent, shouldStop, done => progress?.Invoke(done, sent.Count));
            for (int i = 0; i < outcomes.Length; i++)
            {
                ref RangeOutcome outcome = ref Ranges[index[i]].Outcome;
                outcome.BytesAdvised += outcomes[i].BytesAdvised;
                outcome.Sent |= outcomes[i].Sent;
                if (outcome.Errno == 0)
                {
                    outcome.Errno = outcomes[i].Errno;
                }
            }
        }
        finally
        {
            Calls = batcher.Calls;
        }
    }
}
