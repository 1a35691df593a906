using System;

namespace MadvPS.Core;

/// <summary>The knobs of the reclaim loop; the cmdlet sets the first few, the rest are the loop's judgement.</summary>
internal sealed class ReclaimSettings
{
    public MemoryAdvice Advice { get; init; } = MemoryAdvice.PageOut;
    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(10);
    public long MaxBytesPerSecond { get; init; } = 64L << 20;

    /// <summary>Percent of a step's wall time stalled on memory (PSI some) above which the run ends.</summary>
    public double MaxPressure { get; init; } = 10;
    public long ChunkSize { get; init; } = 2L << 20;

    /// <summary>Whether anonymous (and shmem) pages can go anywhere: swap is on and has room.</summary>
    public bool SwapAvailable { get; init; }

    /// <summary>A mapping whose window referenced this share of its resident bytes is hot as a whole.</summary>
    public double HotMappingShare { get; init; } = 0.9;

    /// <summary>A chunk with this share of the bytes it gave up back again (and at least <see cref="HotChunkMinimum"/>) is hot.</summary>
    public double HotChunkShare { get; init; } = 0.1;
    public long HotChunkMinimum { get; init; } = 64 << 10;

    /// <summary>How many steps the loop leaves a hot chunk alone the first time; doubled each time it is hot again.</summary>
    public int BackoffSteps { get; init; } = 4;
    public int MaxBackoffSteps { get; init; } = 64;

    /// <summary>When this share of a process's last advised bytes came back in one step, it gets no advice for a step.</summary>
    public double MaxRefaultShare { get; init; } = 0.25;

    /// <summary>Steps a process is watched after its last advice, with nothing cold left, before it counts as converged.</summary>
    public int SettleSteps { get; init; } = 3;

    /// <summary>Whether the advice removes pages from RAM (PageOut), so that pages back in RAM are refaults.</summary>
    public bool AdviceEvicts => Advice == MemoryAdvice.PageOut;

    /// <summary>The kinds whose pages need swap to leave RAM: anonymous memory and shmem (memfds, shared and System V memory).</summary>
    public static bool NeedsSwap(MappingKind kind) =>
        kind is MappingKind.Anonymous or MappingKind.Heap or MappingKind.Stack or MappingKind.NamedAnonymous or MappingKind.Memfd or MappingKind.SharedMemory;
}

/// <summary>
/// -MaxBytesPerSecond as a token bucket: the bytes a step may advise grow with the time that
/// passed, and what a step does not spend is kept for the next, up to two steps' worth (and never
/// less than one chunk, so a low rate still advises a chunk now and then).
/// </summary>
internal sealed class ReclaimBudget
{
    private readonly long _rate;
    private readonly long _chunk;
    private double _tokens;

    public ReclaimBudget(long bytesPerSecond, long chunkSize)
    {
        _rate = bytesPerSecond;
        _chunk = chunkSize;
    }

    public long Available => (long)_tokens;

    /// <summary>Adds the bytes earned over <paramref name="elapsed"/>, a step that took that long.</summary>
    public void Earn(TimeSpan elapsed)
    {
        double cap = Math.Max(_chunk, 2.0 * _rate * Math.Max(elapsed.TotalSeconds, 0.001));
        _tokens = Math.Min(cap, _tokens + _rate * Math.Max(0, elapsed.TotalSeconds));
    }

    public void Spend(long bytes) => _tokens = Math.Max(0, _tokens - bytes);
}
