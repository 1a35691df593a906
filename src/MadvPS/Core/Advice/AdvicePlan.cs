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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(ulong start, long length, string path, VmFlags? flags, MappingKind? kind)
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
