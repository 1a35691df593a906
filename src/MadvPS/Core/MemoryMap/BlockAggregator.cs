using System;
using System.Collections.Generic;

namespace MadvPS.Core;

/// <summary>A block of the address-space picture: one mapping, or neighbours of one kind merged.</summary>
internal sealed class MapBlock
{
    public ulong Start { get; set; }
    public ulong End { get; set; }
    public long Size { get; set; }
    public MappingKind Kind { get; set; }
    /// <summary>How many mappings the block holds.</summary>
    public int Count { get; set; }
    public long Resident { get; set; }
    public long Swapped { get; set; }
    public long Absent { get; set; }
    /// <summary>Resident bytes that no access window referenced; -1 when no member was measured.</summary>
    public long Idle { get; set; } = -1;
    public long Rss { get; set; }
    public long Pss { get; set; }
    public long Swap { get; set; }
    public bool FromPages { get; set; }
    /// <summary>The block holds mappings of several kinds (it takes the kind of most of its bytes).</summary>
    public bool MixedKinds { get; set; }
    public string Permissions { get; set; } = "";
    public string Flags { get; set; } = "";
    /// <summary>The first distinct paths of the members (at most <see cref="BlockAggregator.PathsShown"/>).</summary>
    public List<string> Paths { get; } = new();
    public int DistinctPaths { get; set; }
    /// <summary>Referenced bytes per window summed over the members (aligned on the last window); empty when none measured.</summary>
    public long[] Referenced { get; set; } = Array.Empty<long>();
}

/// <summary>
/// Turns a process's mappings (in address order) into at most <see cref="MaxBlocks"/> blocks:
/// when there are more mappings than that, neighbours of the same kind that are all smaller than
/// a threshold are merged, with the smallest threshold that brings the count down; if mappings of
/// alternating kinds still leave too many, small neighbours are merged whatever their kind (the
/// block takes the kind of most of its bytes).
/// </summary>
internal static class BlockAggregator
{
    public const int MaxBlocks = 2000;
    public const int PathsShown = 3;

    public static List<MapBlock> Aggregate(IReadOnlyList<MapRegion> regions, int maxBlocks = MaxBlocks)
    {
        if (regions.Count <= maxBlocks)
        {
            return Merge(regions, 0, byKind: true, maxBlocks);
        }

        long[] sizes = new long[regions.Count];
        for (int i = 0; i < sizes.Length; i++)
        {
            sizes[i] = regions[i].Size;
        }

        Array.Sort(sizes);
        foreach (bool byKind in new[] { true, false })
        {
            if (Count(regions, long.MaxValue, byKind, maxBlocks) > maxBlocks)
            {
                continue;
            }

            // The smallest threshold (a member must be smaller than it) that meets maxBlocks.
            int lo = 0, hi = sizes.Length - 1;
            long best = long.MaxValue;
            while (lo <= hi)
            {
                int mid = (lo + hi) / 2;
                long threshold = sizes[mid] + 1;
                if (Count(regions, threshold, byKind, maxBlocks) <= maxBlocks)
                {
                    best = threshold;
                    hi = mid - 1;
                }
                else
                {
                    lo = mid + 1;
                }
            }

            return Merge(regions, best, byKind, maxBlocks);
        }

        return Merge(regions, long.MaxValue, byKind: false, maxBlocks);
    }

    private static bool Joins(MapRegion previous, MapRegion next, long threshold, bool byKind) =>
        previous.Size < threshold && next.Size < threshold && (!byKind || Class(previous.Kind) == Class(next.Kind));

    /// <summary>
    /// Mappings of mixed kinds merge at most this many to a block (about half the limit in blocks
    /// for them all), so that the blocks still show where in the address space each kind is.
    /// </summary>
    private static int MixedGroup(int count, int maxBlocks) => Math.Max(2, (int)Math.Ceiling(count * 2.0 / maxBlocks));

    private static int Count(IReadOnlyList<MapRegion> regions, long threshold, bool byKind, int maxBlocks)
    {
        int limit = byKind ? int.MaxValue : MixedGroup(regions.Count, maxBlocks);
        int count = regions.Count == 0 ? 0 : 1, members = 1;
        for (int i = 1; i < regions.Count; i++)
        {
            if (!Joins(regions[i - 1], regions[i], threshold, byKind) || members >= limit)
            {
                count++;
                members = 0;
            }

            members++;
        }

        return count;
    }

    /// <summary>The colour class of a kind: what the picture tells apart.</summary>
    public static string Class(MappingKind kind) => kind switch
    {
        MappingKind.File => "file",
        MappingKind.Anonymous or MappingKind.NamedAnonymous => "anon",
        MappingKind.Heap => "heap",
        MappingKind.Stack => "stack",
        MappingKind.SharedMemory or MappingKind.Memfd => "shm",
        _ => "special",
    };

    private static List<MapBlock> Merge(IReadOnlyList<MapRegion> regions, long threshold, bool byKind, int maxBlocks)
    {
        int limit = byKind ? int.MaxValue : MixedGroup(regions.Count, maxBlocks);
        var blocks = new List<MapBlock>();
        MapBlock? block = null;
        var paths = new HashSet<string>(StringComparer.Ordinal);
        var kindBytes = new Dictionary<MappingKind, long>();
        for (int i = 0; i < regions.Count; i++)
        {
            MapRegion region = regions[i];
            if (block is null || !Joins(regions[i - 1], region, threshold, byKind) || block.Count >= limit)
            {
                Finish(block, kindBytes);
                block = new MapBlock { Start = region.Start, Kind = region.Kind, Permissions = region.Permissions, Flags = region.Flags };
                blocks.Add(block);
                paths.Clear();
                kindBytes.Clear();
            }

            Add(block, region, paths, kindBytes);
        }

        Finish(block, kindBytes);
        return blocks;
    }

    private static void Add(MapBlock block, MapRegion region, HashSet<string> paths, Dictionary<MappingKind, long> kindBytes)
    {
        block.End = Math.Max(block.End, region.End);
        block.Size += region.Size;
        block.Count++;
        long resident = Math.Max(0, region.Resident);
        long swapped = Math.Max(0, region.Swapped);
        block.Resident += resident;
        block.Swapped += swapped;
        block.Absent += region.PageAbsent >= 0 ? region.PageAbsent : Math.Max(0, region.Size - resident - swapped);
        block.FromPages |= region.PageResident >= 0;
        block.Rss += region.Rss;
        block.Pss += region.Pss;
        block.Swap += region.Swap;
        if (region.Idle >= 0)
        {
            block.Idle = Math.Max(0, block.Idle) + Math.Min(region.Idle, resident);
        }

        if (region.ReferencedByWindow.Length > 0)
        {
            block.Referenced = SumAlignedRight(block.Referenced, region.ReferencedByWindow);
        }

        if (block.Count > 1)
        {
            if (block.Permissions != region.Permissions)
            {
                block.Permissions = "";
            }

            if (block.Flags != region.Flags)
            {
                block.Flags = "";
            }
        }

        kindBytes[region.Kind] = kindBytes.GetValueOrDefault(region.Kind) + region.Size;
        if (region.Path.Length > 0 && paths.Add(region.Path))
        {
            block.DistinctPaths++;
            if (block.Paths.Count < PathsShown)
            {
                block.Paths.Add(region.Path);
            }
        }
    }

    private static void Finish(MapBlock? block, Dictionary<MappingKind, long> kindBytes)
    {
        if (block is null || kindBytes.Count < 2)
        {
            return;
        }

        block.MixedKinds = true;
        long most = -1;
        foreach ((MappingKind kind, long bytes) in kindBytes)
        {
            if (bytes > most)
            {
                most = bytes;
                block.Kind = kind;
            }
        }
    }

    /// <summary>Adds two per-window series whose last elements are the same window.</summary>
    public static long[] SumAlignedRight(long[] a, long[] b)
    {
        long[] sum = new long[Math.Max(a.Length, b.Length)];
        for (int i = 0; i < a.Length; i++)
        {
            sum[sum.Length - a.Length + i] += a[i];
        }

        for (int i = 0; i < b.Length; i++)
        {
            sum[sum.Length - b.Length + i] += b[i];
        }

        return sum;
    }
}
