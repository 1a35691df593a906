using System;
using MadvPS.Commands;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

/// <summary>
/// Invoke-MemoryReclaim's words from the loop's figures. The expected texts are the ones the core
/// wrote before the words moved to Commands/ReclaimText.cs, letter for letter.
/// </summary>
public class ReclaimTextTests
{
    private static readonly ReclaimSettings s_settings = new()
    {
        Advice = MemoryAdvice.PageOut,
        Window = TimeSpan.FromSeconds(2),
        Duration = TimeSpan.FromMinutes(1),
        MaxBytesPerSecond = 8L << 20,
        MaxPressure = 12.5,
        SettleSteps = 3,
    };

    [Fact]
    public void EachStepSaysWhatItDid()
    {
        Assert.Equal(
            "Memory pressure 20.25% of the step's time is above -MaxPressure 12.5%: nothing more is advised.",
            ReclaimText.Note(new ReclaimNote(ReclaimNoteKind.Pressure, 4, 20.25), s_settings));
        Assert.Equal(
            "Nothing cold is left; watching what comes back for 3 step(s) after the last advice before ending.",
            ReclaimText.Note(new ReclaimNote(ReclaimNoteKind.Settling, 5), s_settings));
        Assert.Equal("Nothing cold is left.", ReclaimText.Note(new ReclaimNote(ReclaimNoteKind.Converged, 6), s_settings));
        Assert.Equal(
            "Nothing cold is left; 2 chunk(s) came back after they were advised and are left alone.",
            ReclaimText.Note(new ReclaimNote(ReclaimNoteKind.Converged, 6, Chunks: 2), s_settings));
        Assert.Equal(
            "4 MiB is cold; the budget of -MaxBytesPerSecond (1 MiB now) waits for the next step.",
            ReclaimText.Note(new ReclaimNote(ReclaimNoteKind.BudgetWait, 2, Bytes: 4L << 20, OfBytes: 1L << 20), s_settings));
        Assert.Equal(
            "PageOut on 3 chunk(s) holding 6 MiB resident; 2 MiB cold left for later steps.",
            ReclaimText.Note(new ReclaimNote(ReclaimNoteKind.Advised, 1, Bytes: 6L << 20, Chunks: 3, ColdLeft: 2L << 20), s_settings));
        Assert.Equal(
            "PageOut on 3 chunk(s) holding 6 MiB resident.",
            ReclaimText.Note(new ReclaimNote(ReclaimNoteKind.Advised, 1, Bytes: 6L << 20, Chunks: 3), s_settings));
        Assert.Equal("The process exited at step 7.", ReclaimText.Note(new ReclaimNote(ReclaimNoteKind.Exited, 7), s_settings));
        Assert.Equal("-Duration 00:01:00 ran out after 9 step(s).", ReclaimText.Note(new ReclaimNote(ReclaimNoteKind.DurationOver, 9), s_settings));
    }

    [Fact]
    public void ThePlanSaysWhatTheFirstStepTakesAndWhatItLeaves()
    {
        var preview = new ReclaimPreview(Eligible: 32L << 20, Mappings: 2, Chunks: 16, FirstStep: 16L << 20, NoSwap: 4L << 20, Other: 1L << 20);
        Assert.Equal(
            "Clear the referenced bits (clear_refs 1) and wait a window of 2 s; then PageOut at most 16 MiB of the memory that stayed idle, of 32 MiB resident in 2 mapping(s) (16 chunk(s) of 2 MiB) it can take" +
            "; 4 MiB of anonymous memory is left alone (no swap)" +
            "; 1 MiB in mappings PageOut cannot take (locked, PFN, hugetlb, the kernel's) is left alone" +
            "; repeat for up to 00:01:00 or until nothing cold is left, stopping above 12.5% memory pressure",
            ReclaimText.Plan(preview, s_settings));
    }
}
