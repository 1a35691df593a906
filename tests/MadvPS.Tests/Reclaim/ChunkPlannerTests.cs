using System;
using System.Collections.Generic;
using System.Linq;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

/// <summary>
/// The reclaim loop's judgement, with no I/O: chunks, what counts as back, when a chunk or a whole
/// mapping is hot, how long it is left alone, the budget. Pages live in a model of one address
/// space (a set of present pages) that the tests change as the kernel and the process would.
/// </summary>
public class ChunkPlannerTests
{
    private const long MiB = 1 << 20;
    private const ulong Base = 0x7f00_0000_0000;

    private static readonly ReclaimSettings s_settings = new() { SwapAvailable = true };

    /// <summary>The model: the present pages of the process.</summary>
    private sealed class Memory : IPageCounter
    {
        private readonly HashSet<ulong> _present = new();

        public void Fill(ulong start, long length) => Each(start, length, p => _present.Add(p));

        public void Drop(ulong start, long length) => Each(start, length, p => _present.Remove(p));

        public PageCounts Count(ulong start, ulong end)
        {
            long present = _present.Count(p => p >= start && p < end) * 4096L;
            return new PageCounts(present, 0, (long)(end - start) - present, 0, 0, 0);
        }

        private static void Each(ulong start, long length, Action<ulong> action)
        {
            for (ulong p = start; p < start + (ulong)length; p += 4096)
            {
                action(p);
            }
        }
    }

    private static MappingView Mapping(ulong start, long length, long rss, long referenced, MappingKind kind = MappingKind.Anonymous, VmFlags flags = VmFlags.Read | VmFlags.Write) =>
        new(start, start + (ulong)length, rss, referenced, kind, flags);

    // What the kernel does to the chosen chunks: PageOut takes every present page.
    private static void PageOut(ChunkPlanner planner, Memory memory, IEnumerable<Chunk> chunks)
    {
        foreach (Chunk chunk in chunks)
        {
            memory.Drop(chunk.Start, chunk.Length);
            planner.Advised(chunk, memory.Count(chunk.Start, chunk.End).ResidentBytes);
        }
    }

    [Fact]
    public void SplitsAMappingIntoChunksOfTheChunkSizeTheLastOneShorter()
    {
        var memory = new Memory();
        memory.Fill(Base, 5 * MiB);
        var planner = new ChunkPlanner(s_settings);
        StepFindings found = planner.Observe(1, new[] { Mapping(Base, 5 * MiB, 5 * MiB, 0) }, memory);
        Assert.Equal(new long[] { 2 * MiB, 2 * MiB, 1 * MiB }, found.Candidates.Select(c => c.Length));
        Assert.Equal(5 * MiB, found.CandidateBytes);
        Assert.Equal(Base + (ulong)(4 * MiB), found.Candidates[2].Start);
    }

    [Fact]
    public void AMappingThatTheWindowReferencedMostlyIsHotAsAWholeAndNotProbed()
    {
        var memory = new Memory();
        memory.Fill(Base, 8 * MiB);
        var planner = new ChunkPlanner(s_settings);
        StepFindings hot = planner.Observe(1, new[] { Mapping(Base, 8 * MiB, 8 * MiB, (8 * MiB * 9 + 9) / 10) }, memory);
        Assert.Empty(hot.Candidates);
        StepFindings mixed = planner.Observe(2, new[] { Mapping(Base, 8 * MiB, 8 * MiB, 8 * MiB * 89 / 100) }, memory);
        Assert.Equal(4, mixed.Candidates.Count);
    }

    [Fact]
    public void AChunkWhosePagesComeBackIsHotAndLeftAloneForFourStepsThenEight()
    {
        var memory = new Memory();
        memory.Fill(Base, 4 * MiB);
        var planner = new ChunkPlanner(s_settings);
        MappingView[] half = { Mapping(Base, 4 * MiB, 4 * MiB, 2 * MiB) };
        StepFindings first = planner.Observe(1, half, memory);
        PageOut(planner, memory, planner.Choose(first, long.MaxValue));

        // The process touches its first 2 MiB again: one chunk comes back, the other stays out.
        memory.Fill(Base, 2 * MiB);
        StepFindings second = planner.Observe(2, new[] { Mapping(Base, 4 * MiB, 2 * MiB, 2 * MiB) }, memory);
        Assert.Equal(2 * MiB, second.RefaultedBytes);
        Assert.Equal(1, second.NewlyHot);
        Assert.Empty(second.Candidates);
        Chunk hot = planner.Chunks.Single(c => c.Start == Base);
        Assert.Equal(ChunkState.Hot, hot.State);
        Assert.Equal(2 + 4, hot.BackoffUntil);
        Assert.Equal(2 * MiB, planner.KeptOut);

        // Still hot by its mapping's share until step 6; with a lower share it is tried again then.
        MappingView[] cooler = { Mapping(Base, 4 * MiB, 2 * MiB, MiB) };
        Assert.Empty(planner.Observe(5, cooler, memory).Candidates);
        StepFindings again = planner.Observe(6, cooler, memory);
        Assert.Equal(Base, Assert.Single(again.Candidates).Start);
        PageOut(planner, memory, again.Candidates);
        memory.Fill(Base, 2 * MiB);
        planner.Observe(7, cooler, memory);
        Assert.Equal(7 + 8, hot.BackoffUntil);
        Assert.Equal(4 * MiB, planner.TotalRefaulted);
    }

    [Fact]
    public void AFewPagesBackAreCountedButDoNotMakeAChunkHot()
    {
        var memory = new Memory();
        memory.Fill(Base, 2 * MiB);
        var planner = new ChunkPlanner(s_settings);
        MappingView[] cold = { Mapping(Base, 2 * MiB, 2 * MiB, 0) };
        PageOut(planner, memory, planner.Choose(planner.Observe(1, cold, memory), long.MaxValue));
        // 15 pages (60 KiB): under 64 KiB, the least that makes a chunk hot.
        memory.Fill(Base, 15 * 4096);
        StepFindings found = planner.Observe(2, new[] { Mapping(Base, 2 * MiB, 15 * 4096, 0) }, memory);
        Assert.Equal(15 * 4096, found.RefaultedBytes);
        Assert.Equal(0, found.NewlyHot);
        Assert.Equal(ChunkState.Out, planner.Chunks.Single().State);
        Assert.Empty(found.Candidates);
        // Counted once: the next step finds nothing more back.
        Assert.Equal(0, planner.Observe(3, new[] { Mapping(Base, 2 * MiB, 15 * 4096, 0) }, memory).RefaultedBytes);
        Assert.Equal(2 * MiB - 15 * 4096, planner.KeptOut);
    }

    [Fact]
    public void StragglersLeftByPageOutAreNotRefaults()
    {
        var memory = new Memory();
        memory.Fill(Base, 2 * MiB);
        var planner = new ChunkPlanner(s_settings);
        MappingView[] cold = { Mapping(Base, 2 * MiB, 2 * MiB, 0) };
        Chunk chunk = Assert.Single(planner.Choose(planner.Observe(1, cold, memory), long.MaxValue));
        // The kernel leaves 3 pages (a CPU's lru_add batch): they are the baseline.
        memory.Drop(chunk.Start + 3 * 4096, chunk.Length - 3 * 4096);
        planner.Advised(chunk, memory.Count(chunk.Start, chunk.End).ResidentBytes);
        StepFindings found = planner.Observe(2, new[] { Mapping(Base, 2 * MiB, 3 * 4096, 0) }, memory);
        Assert.Equal(0, found.RefaultedBytes);
        Assert.Empty(found.Candidates);
    }

    [Fact]
    public void ChoosesTheColdestMappingsFirstWithinTheBudget()
    {
        var memory = new Memory();
        ulong other = Base + (ulong)(64 * MiB);
        memory.Fill(Base, 4 * MiB);
        memory.Fill(other, 4 * MiB);
        var planner = new ChunkPlanner(s_settings);
        StepFindings found = planner.Observe(1, new[] { Mapping(Base, 4 * MiB, 4 * MiB, 2 * MiB), Mapping(other, 4 * MiB, 4 * MiB, 0) }, memory);
        List<Chunk> chosen = planner.Choose(found, 5 * MiB);
        Assert.Equal(new[] { other, other + (ulong)(2 * MiB) }, chosen.Select(c => c.Start));
        Assert.Equal(3, planner.Choose(found, 6 * MiB).Count);
        Assert.Empty(planner.Choose(found, MiB));
    }

    [Fact]
    public void WithoutSwapAnonymousAndShmemAreLeftAloneAndCounted()
    {
        var memory = new Memory();
        ulong file = Base + (ulong)(16 * MiB);
        ulong memfd = Base + (ulong)(32 * MiB);
        memory.Fill(Base, 2 * MiB);
        memory.Fill(file, 2 * MiB);
        memory.Fill(memfd, 2 * MiB);
        var planner = new ChunkPlanner(new ReclaimSettings { SwapAvailable = false });
        StepFindings found = planner.Observe(1, new[]
        {
            Mapping(Base, 2 * MiB, 2 * MiB, 0),
            Mapping(file, 2 * MiB, 2 * MiB, 0, MappingKind.File, VmFlags.Read),
            Mapping(memfd, 2 * MiB, 2 * MiB, 0, MappingKind.Memfd, VmFlags.Read | VmFlags.Write | VmFlags.Shared),
        }, memory);
        Assert.Equal(file, Assert.Single(found.Candidates).Start);
        Assert.Equal(4 * MiB, found.NoSwapBytes);
    }

    [Fact]
    public void LockedMappingsAndTheKernelsOwnAreNeverCandidates()
    {
        var memory = new Memory();
        memory.Fill(Base, 2 * MiB);
        var planner = new ChunkPlanner(s_settings);
        Assert.Equal(ReclaimExclusion.Skipped, planner.Excluded(Mapping(Base, 2 * MiB, 2 * MiB, 0, flags: VmFlags.Read | VmFlags.Locked)));
        Assert.Equal(ReclaimExclusion.KernelMapping, planner.Excluded(Mapping(Base, 2 * MiB, 2 * MiB, 0, MappingKind.Vdso, VmFlags.Read)));
        Assert.Empty(planner.Observe(1, new[] { Mapping(Base, 2 * MiB, 2 * MiB, 0, flags: VmFlags.Read | VmFlags.Locked) }, memory).Candidates);
    }

    [Fact]
    public void ColdLeavesPagesInAndEachChunkIsAdvisedOnce()
    {
        var memory = new Memory();
        memory.Fill(Base, 2 * MiB);
        var planner = new ChunkPlanner(new ReclaimSettings { SwapAvailable = true, Advice = MemoryAdvice.Cold });
        MappingView[] cold = { Mapping(Base, 2 * MiB, 2 * MiB, 0) };
        Chunk chunk = Assert.Single(planner.Choose(planner.Observe(1, cold, memory), long.MaxValue));
        planner.Advised(chunk, memory.Count(chunk.Start, chunk.End).ResidentBytes);
        StepFindings found = planner.Observe(2, cold, memory);
        Assert.Empty(found.Candidates);
        Assert.Equal(0, found.RefaultedBytes);
        Assert.Equal(0, planner.KeptOut);
    }

    [Fact]
    public void TheBudgetEarnsTheRateKeepsTwoStepsAndNeverLessThanAChunk()
    {
        var budget = new ReclaimBudget(10 * MiB, 2 * MiB);
        budget.Earn(TimeSpan.FromSeconds(1));
        Assert.Equal(10 * MiB, budget.Available);
        budget.Earn(TimeSpan.FromSeconds(1));
        Assert.Equal(20 * MiB, budget.Available);
        budget.Earn(TimeSpan.FromSeconds(1));
        Assert.Equal(20 * MiB, budget.Available);
        budget.Spend(15 * MiB);
        Assert.Equal(5 * MiB, budget.Available);

        var slow = new ReclaimBudget(MiB, 2 * MiB);
        slow.Earn(TimeSpan.FromSeconds(0.5));
        slow.Earn(TimeSpan.FromSeconds(0.5));
        slow.Earn(TimeSpan.FromSeconds(0.5));
        slow.Earn(TimeSpan.FromSeconds(0.5));
        Assert.Equal(2 * MiB, slow.Available);
    }

    [Fact]
    public void ReadsPressureAndFaults()
    {
        Assert.True(PressureSignal.TryParseSomeTotal("some avg10=0.00 avg60=0.00 avg300=0.00 total=12244\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=11598\n", out long total));
        Assert.Equal(12244, total);
        Assert.False(PressureSignal.TryParseSomeTotal("full avg10=0.00 avg60=0.00 avg300=0.00 total=11598\n", out _));
        Assert.Equal(25.0, PressureSignal.Percent(250_000, TimeSpan.FromSeconds(1)), 9);
        Assert.Equal(0, PressureSignal.Percent(-5, TimeSpan.FromSeconds(1)));

        // proc_pid_stat(5): minflt is field 10, majflt field 12; the command may hold spaces and parentheses.
        string stat = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 16389 7 1 3 10 20 0 0 20 0 9 0 113443 1000 100 18446744073709551615";
        Assert.Equal((16389L, 1L), FaultSignal.Parse(stat));
    }
}

/// <summary>What a step does with what it found, in the order the rules apply.</summary>
public class StepPolicyTests
{
    private static readonly ReclaimSettings s_settings = new() { SwapAvailable = true };

    private static StepFindings Found(int candidates, long refaulted)
    {
        var findings = new StepFindings { RefaultedBytes = refaulted };
        for (int i = 0; i < candidates; i++)
        {
            findings.Candidates.Add(new Chunk(0x1000_0000UL + (ulong)i * 0x20_0000, 0x1000_0000UL + (ulong)(i + 1) * 0x20_0000));
        }

        return findings;
    }

    [Fact]
    public void PressureComesFirst()
    {
        Assert.Equal(ReclaimAction.Pressure, StepPolicy.Decide(Found(3, 0), 5, 4, 1 << 20, overPressure: true, s_settings));
        Assert.Equal(ReclaimAction.Pressure, StepPolicy.Decide(Found(0, 0), 9, 1, 0, overPressure: true, s_settings));
    }

    [Fact]
    public void NothingColdIsWatchedForThreeStepsAfterTheLastAdviceThenConverged()
    {
        Assert.Equal(ReclaimAction.Waited, StepPolicy.Decide(Found(0, 0), 5, 4, 0, false, s_settings));
        Assert.Equal(ReclaimAction.Waited, StepPolicy.Decide(Found(0, 0), 6, 4, 0, false, s_settings));
        Assert.Equal(ReclaimAction.Converged, StepPolicy.Decide(Found(0, 0), 7, 4, 0, false, s_settings));
        // A process with nothing cold from the start is watched the same three steps.
        Assert.Equal(ReclaimAction.Waited, StepPolicy.Decide(Found(0, 0), 2, 0, 0, false, s_settings));
        Assert.Equal(ReclaimAction.Converged, StepPolicy.Decide(Found(0, 0), 3, 0, 0, false, s_settings));
    }

    [Fact]
    public void BacksOffWhenMoreThanAQuarterOfTheLastAdviceCameBack()
    {
        const long advised = 8 << 20;
        Assert.Equal(ReclaimAction.Advised, StepPolicy.Decide(Found(2, advised / 4), 3, 2, advised, false, s_settings));
        Assert.Equal(ReclaimAction.BackedOff, StepPolicy.Decide(Found(2, advised / 4 + 4096), 3, 2, advised, false, s_settings));
        // Refaults with no advice in the previous step are no reason to back off.
        Assert.Equal(ReclaimAction.Advised, StepPolicy.Decide(Found(2, advised), 3, 1, 0, false, s_settings));
    }
}
