using System;
using System.Globalization;
using System.IO;

namespace MadvPS.Core;

/// <summary>What the first step would do to a process, in words, for ShouldProcess and -WhatIf; reads smaps, changes nothing.</summary>
internal static class ReclaimPlan
{
    public static string Describe(ReclaimTarget target, ReclaimSettings settings)
    {
        var planner = new ChunkPlanner(settings);
        long eligible = 0, noSwap = 0, other = 0;
        int mappings = 0, chunks = 0;
        using (FileStream stream = target.Measured.Directory.OpenRead("smaps"))
        {
            var parser = new SmapsParser(stream, expectVmFlags: true);
            while (parser.TryReadEntry(out SmapsEntry entry))
            {
                long rss = entry.Sizes[(int)SmapsField.Rss];
                var view = new MappingView(entry.Start, entry.End, rss, 0, entry.Kind, entry.VmFlags);
                if (planner.Excluded(view) is null)
                {
                    if (rss > 0)
                    {
                        eligible += rss;
                        mappings++;
                        chunks += (int)(((long)(entry.End - entry.Start) + settings.ChunkSize - 1) / settings.ChunkSize);
                    }
                }
                else if (!settings.SwapAvailable && ReclaimSettings.NeedsSwap(entry.Kind))
                {
                    noSwap += rss;
                }
                else
                {
                    other += rss;
                }
            }
        }

        double firstStep = settings.MaxBytesPerSecond * settings.Window.TotalSeconds;
        string text = string.Create(CultureInfo.InvariantCulture,
            $"Clear the referenced bits (clear_refs 1) and wait a window of {settings.Window.TotalSeconds:0.###} s; then {settings.Advice} at most {Display.Bytes((long)Math.Min(firstStep, eligible))} of the memory that stayed idle, of {Display.Bytes(eligible)} resident in {mappings} mapping(s) ({chunks} chunk(s) of {Display.Bytes(settings.ChunkSize)}) it can take");
        if (noSwap > 0)
        {
            text += $"; {Display.Bytes(noSwap)} of anonymous memory is left alone (no swap)";
        }

        if (other > 0)
        {
            text += $"; {Display.Bytes(other)} in mappings {settings.Advice} cannot take (locked, PFN, hugetlb, the kernel's) is left alone";
        }

        return text + string.Create(CultureInfo.InvariantCulture,
            $"; repeat for up to {settings.Duration} or until nothing cold is left, stopping above {settings.MaxPressure:0.##}% memory pressure");
    }
}
