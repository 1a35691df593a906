using System;
using System.IO;

namespace MadvPS.Core;

/// <summary>
/// What the first step would take from a process: the resident bytes it can advise (in how many
/// mappings and chunks), at most how much of it the first step advises, and what is left alone
/// for want of swap or because the advice cannot take it.
/// </summary>
internal sealed record ReclaimPreview(long Eligible, int Mappings, int Chunks, long FirstStep, long NoSwap, long Other);

/// <summary>What the first step would do to a process, for ShouldProcess and -WhatIf (Commands word it); reads smaps, changes nothing.</summary>
internal static class ReclaimPlan
{
    public static ReclaimPreview Preview(ReclaimTarget target, ReclaimSettings settings)
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
        return new ReclaimPreview(eligible, mappings, chunks, (long)Math.Min(firstStep, eligible), noSwap, other);
    }
}
