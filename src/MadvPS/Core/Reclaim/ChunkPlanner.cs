using System;
using System.Collections.Generic;

namespace MadvPS.Core;

/// <summary>One mapping as the last window saw it.</summary>
internal readonly record struct MappingView(ulong Start, ulong End, long Rss, long Referenced, MappingKind Kind, VmFlags Flags);

internal enum ChunkState
{
    /// <summary>Never advised, or hot long enough ago to be tried again.</summary>
    Unknown,
    /// <summary>Advised, and what it gave up has stayed out.</summary>
    Out,
    /// <summary>What it gave up came back: left alone until BackoffUntil.</summary>
    Hot,
}

/// <summary>Why the reclaim loop never advises a mapping.</summary>
internal enum ReclaimExclusion
{
    /// <summary>The advice policy skips it (<see cref="AdvicePolicy.Skip"/>).</summary>
    Skipped,
    /// <summary>The kernel's own mapping ([vdso], [vvar], ...).</summary>
    KernelMapping,
    /// <summary>Anonymous memory without swap.</summary>
    NoSwap,
}

/// <summary>A piece of a mapping, at most ChunkSize long, that the loop learns about on its own.</summary>
internal sealed class Chunk
{
    public Chunk(ulong start, ulong end)
    {
        Start = start;
        End = end;
    }

    public ulong Start { get; }
    public ulong End { get; }
    public long Length => (long)(End - Start);
    public ChunkState State { get; set; }
    public int HotCount { get; set; }
    public int BackoffUntil { get; set; }

    /// <summary>Present bytes when the chunk was first advised; -1 before.</summary>
    public long FirstPresent { get; set; } = -1;

    /// <summary>Present bytes right after the last advice (what stayed in: stragglers, shared pages); -1 before.</summary>
    public long Baseline { get; set; } = -1;

    /// <summary>Present bytes when the chunk was last advised.</summary>
    public long PresentAtAdvice { get; set; }

    /// <summary>Present bytes at the last count.</summary>
    public long Present { get; set; }

    /// <summary>Referenced share of the chunk's mapping in the last window, for ordering (coldest first).</summary>
    public double MappingShare { get; set; }
}

/// <summary>What a step found in one process.</summary>
internal sealed class StepFindings
{
    public List<Chunk> Candidates { get; } = new();
    public long CandidateBytes { get; set; }
    public long RefaultedBytes { get; set; }
    public int NewlyHot { get; set; }
    public int HotChunks { get; set; }
    public long Rss { get; set; }
    public long Swap { get; set; }
    public long Referenced { get; set; }

    /// <summary>Resident anonymous or shmem bytes left alone because there is no swap.</summary>
    public long NoSwapBytes { get; set; }
}

/// <summary>
/// The reclaim loop's judgement for one process, with no I/O: it splits mappings into chunks,
/// learns from each chunk what came back after it was advised, and picks what to advise next.
/// Pages present again in a chunk that was paged out are refaults; a chunk with enough of them is
/// hot and left alone for a while (exponentially longer each time). A mapping whose window
/// referenced most of its resident bytes is hot as a whole and not probed at all.
/// </summary>
internal sealed class ChunkPlanner
{
    private readonly ReclaimSettings _settings;
    private Dictionary<ulong, Chunk> _chunks = new();

    public ChunkPlanner(ReclaimSettings settings)
    {
        _settings = settings;
    }

    public long TotalRefaulted { get; private set; }

    public IReadOnlyCollection<Chunk> Chunks => _chunks.Values;

    /// <summary>Of the bytes present when each chunk was first advised, those not present now.</summary>
    public long KeptOut
    {
        get
        {
            long total = 0;
            foreach (Chunk chunk in _chunks.Values)
            {
                if (chunk.FirstPresent >= 0)
                {
                    total += Math.Max(0, chunk.FirstPresent - chunk.Present);
                }
            }

            return total;
        }
    }

    /// <summary>Whether the loop may advise this mapping at all, and why not.</summary>
    public ReclaimExclusion? Excluded(MappingView mapping)
    {
        if (AdvicePolicy.Skip(_settings.Advice, mapping.Start, (long)(mapping.End - mapping.Start), mapping.Flags, mapping.Kind) is not null)
        {
            return ReclaimExclusion.Skipped;
        }

        if (!AdvicePolicy.Selects(MappingSelection.All, mapping.Kind))
        {
            return ReclaimExclusion.KernelMapping;
        }

        if (!_settings.SwapAvailable && ReclaimSettings.NeedsSwap(mapping.Kind))
        {
            return ReclaimExclusion.NoSwap;
        }

        return null;
    }

    /// <summary>
    /// Counts the chunks of the mappings, learns what came back since the last step and lists the
    /// chunks that are cold now.
    /// </summary>
    public StepFindings Observe(int step, IReadOnlyList<MappingView> mappings, IPageCounter pages)
    {
        var findings = new StepFindings();
        var next = new Dictionary<ulong, Chunk>(_chunks.Count);
        foreach (MappingView mapping in mappings)
        {
            findings.Rss += mapping.Rss;
            findings.Referenced += mapping.Referenced;
            ReclaimExclusion? excluded = Excluded(mapping);
            if (excluded is not null)
            {
                if (!_settings.SwapAvailable && ReclaimSettings.NeedsSwap(mapping.Kind))
                {
                    findings.NoSwapBytes += mapping.Rss;
                }

                continue;
            }

            double share = mapping.Rss > 0 ? (double)mapping.Referenced / mapping.Rss : 0;
            bool hotMapping = mapping.Rss > 0 && share >= _settings.HotMappingShare;
            for (ulong start = mapping.Start; start < mapping.End; start += (ulong)_settings.ChunkSize)
            {
                ulong end = Math.Min(mapping.End, start + (ulong)_settings.ChunkSize);
                if (!_chunks.TryGetValue(start, out Chunk? chunk) || chunk.End != end)
                {
                    chunk = new Chunk(start, end);
                }

                next[start] = chunk;
                chunk.MappingShare = share;
                chunk.Present = mapping.Rss == 0 ? 0 : pages.Count(start, end).ResidentBytes;
                Learn(step, chunk, findings);
                if (chunk.State == ChunkState.Hot)
                {
                    findings.HotChunks++;
                }

                if (!hotMapping && chunk.State == ChunkState.Unknown && chunk.Present > 0)
                {
                    findings.Candidates.Add(chunk);
                    findings.CandidateBytes += chunk.Present;
                }
            }
        }

        _chunks = next;
        TotalRefaulted += findings.RefaultedBytes;
        return findings;
    }

    private void Learn(int step, Chunk chunk, StepFindings findings)
    {
        if (chunk.Baseline >= 0 && chunk.Present > chunk.Baseline)
        {
            long back = chunk.Present - chunk.Baseline;
            findings.RefaultedBytes += back;
            long gaveUp = Math.Max(0, chunk.PresentAtAdvice - chunk.Baseline);
            // What is back now is counted once: the baseline moves up to it.
            chunk.Baseline = chunk.Present;
            if (chunk.State == ChunkState.Out && back >= Math.Max(_settings.HotChunkMinimum, _settings.HotChunkShare * gaveUp))
            {
                chunk.State = ChunkState.Hot;
                chunk.HotCount++;
                int backoff = _settings.BackoffSteps << Math.Min(chunk.HotCount - 1, 16);
                chunk.BackoffUntil = step + Math.Min(_settings.MaxBackoffSteps, backoff);
                findings.NewlyHot++;
            }
        }

        if (chunk.State == ChunkState.Hot && step >= chunk.BackoffUntil)
        {
            chunk.State = ChunkState.Unknown;
        }
    }

    /// <summary>The chunks to advise within <paramref name="budget"/> bytes: the coldest mappings first, then by address.</summary>
    public List<Chunk> Choose(StepFindings findings, long budget)
    {
        var ordered = new List<Chunk>(findings.Candidates);
        ordered.Sort((a, b) => a.MappingShare != b.MappingShare ? a.MappingShare.CompareTo(b.MappingShare) : a.Start.CompareTo(b.Start));
        var chosen = new List<Chunk>();
        long bytes = 0;
        foreach (Chunk chunk in ordered)
        {
            if (bytes + chunk.Present > budget)
            {
                continue;
            }

            chosen.Add(chunk);
            bytes += chunk.Present;
        }

        return chosen;
    }

    /// <summary>The kernel took the chunk; <paramref name="presentAfter"/> is what pagemap shows of it right after.</summary>
    public void Advised(Chunk chunk, long presentAfter)
    {
        if (chunk.FirstPresent < 0)
        {
            chunk.FirstPresent = chunk.Present;
        }

        chunk.PresentAtAdvice = chunk.Present;
        chunk.State = ChunkState.Out;
        // Cold leaves the pages in RAM: only new pages could show as "back", so the baseline is what is there.
        chunk.Baseline = presentAfter;
        chunk.Present = presentAfter;
    }
}
