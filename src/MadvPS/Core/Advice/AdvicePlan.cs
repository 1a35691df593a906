using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MadvPS.Interop;

namespace MadvPS.Core;

internal sealed class PlannedRange
{
    public ulong Start;
    public long Length;
    public string Path = "";
    public RangeSkip? Skip;
    public RangeOutcome Outcome;
    /// <summary>What the object said the mapping was, for the check against the live address space; null when not given.</summary>
    public MappingIdentity? Identity;
    /// <summary>
    /// The VMA must also still have the bounds the object was read with (its identity's VmaStart
    /// and VmaEnd): set for advice that destroys data on the caller's own memory, which cannot be
    /// frozen while it advises itself.
    /// </summary>
    public bool SameBounds;
    /// <summary>After the live check: the parts still as read, which are the only ones sent; null when not checked.</summary>
    public List<AdviceRange>? Pieces;
    /// <summary>After the live check: what differs for the parts not sent (Commands words it), or null.</summary>
    public List<RangeChange>? Changes;
    public long ChangedBytes;
    /// <summary>The smaps figures the object carried when it was read; null when it carried none.</summary>
    public ResidentFigures? Figures;
    public VmFlags? Flags;
    public MappingKind? Kind;
    /// <summary>After <see cref="AdvicePlan.Foretell"/>: the figures used and the bytes foretold to leave RAM.</summary>
    public ResidentFigures Foreseen;
    public long ForetoldBytes;
}

/// <summary>Where the live VMAs of a checked advice came from.</summary>
internal enum LiveSource
{
    /// <summary>No range was to be sent: nothing was checked.</summary>
    Nothing,
    /// <summary>PROCMAP_QUERY (Vmas: the VMAs it returned).</summary>
    Query,
    /// <summary>Not checked: no read access to maps (process_madvise makes the same access check).</summary>
    NoAccess,
    /// <summary>/proc/PID/maps read beside the calls (Vmas read; QueriedRanges: large ranges checked by PROCMAP_QUERY).</summary>
    Maps,
}

/// <summary>How the ranges of an advice were checked against the live address space, for -Verbose.</summary>
internal readonly record struct LiveCheck(LiveSource Source, int ProcessId, int Vmas = 0, int QueriedRanges = 0);

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
            Skip = AdvicePolicy.Skip(Advice, start, length, flags, kind),
            Identity = identity,
            Flags = flags,
            Kind = kind,
        };
        Ranges.Add(range);
        if (range.Skip is null)
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
            if (range.Skip is not null)
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
    /// Checks every range to be sent against the address space as it is now and sends the parts
    /// still as read, each just before the call that carries it: what changed is reported, never sent.
    /// </summary>
    /// <remarks>
    /// Few ranges are checked by PROCMAP_QUERY (6.11) first and then sent. Many, or on older
    /// kernels, are checked against /proc/PID/maps as a thread of its own reads it
    /// (<see cref="LiveMapsFeed"/>): the ranges are taken in address order, each is checked as
    /// soon as the VMAs up to its end are parsed, and a call is made as soon as its ranges are
    /// checked, so that the kernel prints maps while the calls run. No range is sent before its
    /// check; each call's ranges are checked just before it rather than all before the first call.
    /// </remarks>
    /// <returns>Where the live VMAs came from, for -Verbose.</returns>
    /// <exception cref="ProcessAdviceException">The kernel refused the call as a whole.</exception>
    /// <exception cref="ProcessAccessException">The process exited while its maps were read.</exception>
    public LiveCheck ExecuteChecked(ProcessHandle process, Func<bool>? shouldStop, Action<AdviceCall>? onCall, Action<int, int>? progress)
    {
        if (RangesToSend == 0)
        {
            return new LiveCheck(LiveSource.Nothing, process.ProcessId);
        }

        if (RangesToSend <= VmaQuery.MaxRanges)
        {
            var toCheck = new List<PlannedRange>(RangesToSend);
            foreach (PlannedRange range in Ranges)
            {
                if (range.Skip is null)
                {
                    toCheck.Add(range);
                }
            }

            if (VmaQuery.TryRead(process.Stat, toCheck) is { } queried)
            {
                foreach (PlannedRange range in toCheck)
                {
                    LiveMappings.Check(range, queried);
                }

                Execute(process, shouldStop, onCall, progress);
                return new LiveCheck(LiveSource.Query, process.ProcessId, queried.Count);
            }
        }

        return ExecuteAsMapsIsRead(process, shouldStop, onCall, progress);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private LiveCheck ExecuteAsMapsIsRead(ProcessHandle process, Func<bool>? shouldStop, Action<AdviceCall>? onCall, Action<int, int>? progress)
    {
        // The ranges to send in address order (they usually come so: then there is nothing to
        // sort), packed into calls as Execute packs them.
        int[] order = new int[RangesToSend];
        ulong[]? starts = null;
        int n = 0;
        for (int i = 0; i < Ranges.Count; i++)
        {
            if (Ranges[i].Skip is null)
            {
                if (n > 0 && starts is null && Ranges[i].Start < Ranges[order[n - 1]].Start)
                {
                    starts = new ulong[order.Length];
                    for (int k = 0; k < n; k++)
                    {
                        starts[k] = Ranges[order[k]].Start;
                    }
                }

                if (starts is not null)
                {
                    starts[n] = Ranges[i].Start;
                }

                order[n++] = i;
            }
        }

        if (starts is not null)
        {
            Array.Sort(starts, order);
        }

        var planned = new AdviceRange[order.Length];
        for (int k = 0; k < order.Length; k++)
        {
            planned[k] = new AdviceRange(Ranges[order[k]].Start, Ranges[order[k]].Length);
        }

        AdvicePacker packer = AdvicePacker.System;
        AdvicePacker.Segments segments = packer.Pack(planned);
        AdviceBatcher batcher = AdviceBatcher.ForPidfd(process.Pidfd, Advice);
        if (onCall is not null)
        {
            batcher.CallMade += onCall;
        }

        var checkedRanges = new bool[order.Length];
        var call = new List<AdviceRange>(AdviceBatcher.MaxRangesPerCall);
        var owners = new List<int>(AdviceBatcher.MaxRangesPerCall);
        using var feed = new LiveMapsFeed(process.Stat);
        int queried = 0;
        int cursor = -1;
        try
        {
            for (int next = 0; next < segments.Count;)
            {
                if (shouldStop?.Invoke() == true)
                {
                    break;
                }

                int count = packer.NextCallSize(segments.Vecs, segments.Count, next, AdviceBatcher.MaxRangesPerCall, out _);

                // Check the ranges of this call, each against the VMAs now at its addresses.
                for (int s = next; s < next + count; s++)
                {
                    int owner = segments.Owners[s];
                    if (checkedRanges[owner])
                    {
                        continue;
                    }

                    checkedRanges[owner] = true;
                    PlannedRange range = Ranges[order[owner]];
                    ulong end = range.Start + (ulong)range.Length;
                    // A large range is poured into calls ahead of the VMAs that cover it: one
                    // PROCMAP_QUERY for it now, rather than waiting for maps to get there.
                    if (feed.Frontier < end && !packer.IsSmall(range.Length) && VmaQuery.TryRead(process.Stat, new[] { range }) is { } around)
                    {
                        LiveMappings.Check(range, around);
                        queried++;
                        continue;
                    }

                    try
                    {
                        feed.WaitFor(end);
                    }
                    catch (ProcessAccessException e) when (e.Failure == ProcessAccessFailure.PermissionDenied && next == 0)
                    {
                        // Whoever may not read maps may not advise either (both are PTRACE_MODE_READ):
                        // the kernel refuses every call with EACCES, so nothing unchecked is advised.
                        checkedRanges[owner] = false;
                        range.Pieces = null;
                        Execute(process, shouldStop, onCall, progress);
                        return new LiveCheck(LiveSource.NoAccess, process.ProcessId);
                    }

                    LiveMappings.Check(range, feed.Vmas, ref cursor);
                }

                // The call: each segment as packed, or only its parts still as read.
                call.Clear();
                owners.Clear();
                for (int s = next; s < next + count; s++)
                {
                    int owner = segments.Owners[s];
                    IoVec vec = segments.Vecs[s];
                    List<AdviceRange>? pieces = Ranges[order[owner]].Pieces;
                    if (pieces is null)
                    {
                        call.Add(new AdviceRange(vec.Base, (long)vec.Length));
                        owners.Add(order[owner]);
                        continue;
                    }

                    ulong from = vec.Base;
                    ulong to = vec.Base + vec.Length;
                    foreach (AdviceRange piece in pieces)
                    {
                        ulong a = Math.Max(from, piece.Start);
                        ulong b = Math.Min(to, piece.Start + (ulong)piece.Length);
                        if (a < b)
                        {
                            call.Add(new AdviceRange(a, (long)(b - a)));
                            owners.Add(order[owner]);
                        }
                    }
                }

                next += count;
                if (call.Count > 0)
                {
                    AddOutcomes(batcher.Advise(call, shouldStop), owners);
                }

                progress?.Invoke(next < segments.Count ? (int)((long)next * order.Length / segments.Count) : order.Length, order.Length);
            }
        }
        finally
        {
            Calls = batcher.Calls;
        }

        return new LiveCheck(LiveSource.Maps, process.ProcessId, feed.Count, queried);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(ProcessHandle process, Func<bool>? shouldStop, Action<AdviceCall>? onCall, Action<int, int>? progress)
    {
        var sent = new List<AdviceRange>(RangesToSend);
        var index = new List<int>(RangesToSend);
        for (int i = 0; i < Ranges.Count; i++)
        {
            PlannedRange range = Ranges[i];
            if (range.Skip is not null)
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
            AddOutcomes(batcher.Advise(sent, shouldStop, done => progress?.Invoke(done, sent.Count)), index);
        }
        finally
        {
            Calls = batcher.Calls;
        }
    }

    // The outcome of each piece sent, added to the range it came from (owners[i] is the range of
    // piece i): a range cut into pieces sums their bytes and keeps the first errno.
    private void AddOutcomes(RangeOutcome[] outcomes, List<int> owners)
    {
        for (int i = 0; i < outcomes.Length; i++)
        {
            ref RangeOutcome outcome = ref Ranges[owners[i]].Outcome;
            outcome.BytesAdvised += outcomes[i].BytesAdvised;
            outcome.Sent |= outcomes[i].Sent;
            if (outcome.Errno == 0)
            {
                outcome.Errno = outcomes[i].Errno;
            }
        }
    }
}
