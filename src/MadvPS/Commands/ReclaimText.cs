using System.Globalization;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>The words of Invoke-MemoryReclaim: the first step's plan, what each step did and why the loop ended, from the core's figures.</summary>
internal static class ReclaimText
{
    /// <summary>What the first step would do, for ShouldProcess and -WhatIf.</summary>
    public static string Plan(ReclaimPreview plan, ReclaimSettings settings)
    {
        string text = string.Create(CultureInfo.InvariantCulture,
            $"Clear the referenced bits (clear_refs 1) and wait a window of {settings.Window.TotalSeconds:0.###} s; then {settings.Advice} at most {Display.Bytes(plan.FirstStep)} of the memory that stayed idle, of {Display.Bytes(plan.Eligible)} resident in {plan.Mappings} mapping(s) ({plan.Chunks} chunk(s) of {Display.Bytes(settings.ChunkSize)}) it can take");
        if (plan.NoSwap > 0)
        {
            text += $"; {Display.Bytes(plan.NoSwap)} of anonymous memory is left alone (no swap)";
        }

        if (plan.Other > 0)
        {
            text += $"; {Display.Bytes(plan.Other)} in mappings {settings.Advice} cannot take (locked, PFN, hugetlb, the kernel's) is left alone";
        }

        return text + string.Create(CultureInfo.InvariantCulture,
            $"; repeat for up to {settings.Duration} or until nothing cold is left, stopping above {settings.MaxPressure:0.##}% memory pressure");
    }

    /// <summary>What a step did (ReclaimStep.Detail) or why the loop ended (ReclaimResult.StopDetail).</summary>
    public static string Note(ReclaimNote note, ReclaimSettings settings) => note.Kind switch
    {
        ReclaimNoteKind.Pressure =>
            $"Memory pressure {note.Pressure:0.##}% of the step's time is above -MaxPressure {settings.MaxPressure:0.##}%: nothing more is advised.",
        ReclaimNoteKind.Settling =>
            $"Nothing cold is left; watching what comes back for {settings.SettleSteps} step(s) after the last advice before ending.",
        ReclaimNoteKind.Converged => note.Chunks > 0
            ? $"Nothing cold is left; {note.Chunks} chunk(s) came back after they were advised and are left alone."
            : "Nothing cold is left.",
        ReclaimNoteKind.BackedOff =>
            $"{Display.Bytes(note.Bytes)} of the {Display.Bytes(note.OfBytes)} resident that the last step advised came back (more than {settings.MaxRefaultShare:P0}): nothing is advised this step; {note.Chunks} chunk(s) are left alone for a while.",
        ReclaimNoteKind.BudgetWait =>
            $"{Display.Bytes(note.Bytes)} is cold; the budget of -MaxBytesPerSecond ({Display.Bytes(note.OfBytes)} now) waits for the next step.",
        ReclaimNoteKind.Advised =>
            $"{settings.Advice} on {note.Chunks} chunk(s) holding {Display.Bytes(note.Bytes)} resident" +
            (note.ColdLeft > 0 ? $"; {Display.Bytes(note.ColdLeft)} cold left for later steps." : "."),
        ReclaimNoteKind.Exited => $"The process exited at step {note.Step}.",
        ReclaimNoteKind.DurationOver => $"-Duration {settings.Duration} ran out after {note.Step} step(s).",
        _ => note.Kind.ToString(),
    };
}
