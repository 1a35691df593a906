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
    public void Add(ulong start, long length, string path, VmFlags? flags, MappingKind? kind, long? rss = null, long? swap = null)
    {
        var range = new PlannedRange
        {
            Start = start,
            Length = length,
            Path = path,
            SkipReason = AdvicePolicy.SkipReason(Advice, start, length, flags, kind),
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(ProcessHandle process, Func<bool>? shouldStop, Action<AdviceCall>? onCall, Action<int, int>? progress)
    {
        var sent = new List<AdviceRange>(RangesToSend);
        var index = new List<int>(RangesToSend);
        for (int i = 0; i < Ranges.Count; i++)
        {
            if (Ranges[i].SkipReason is null)
            {
                sent.Add(new AdviceRange(Ranges[i].Start, Ranges[i].Length));
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
                Ranges[index[i]].Outcome = outcomes[i];
            }
        }
        finally
        {
            Calls = batcher.Calls;
        }
    }
}
