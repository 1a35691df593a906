using System;
using System.Collections.Generic;

namespace MadvPS.Core;

/// <summary>The smaps figures of a range that the forecast needs, in bytes.</summary>
internal struct ResidentFigures
{
    public long Rss;
    public long PrivateResident;
    public long Anonymous;
    public long Swap;
    public long Shared;
    public long Locked;

    public static ResidentFigures Of(MemoryMapping m) => new()
    {
        Rss = m.Rss,
        PrivateResident = m.PrivateClean + m.PrivateDirty,
        Anonymous = m.Anonymous,
        Swap = m.Swap,
        Shared = m.SharedClean + m.SharedDirty,
        Locked = m.Locked,
    };

    public void Add(ResidentFigures other, double share = 1)
    {
        Rss += (long)(other.Rss * share);
        PrivateResident += (long)(other.PrivateResident * share);
        Anonymous += (long)(other.Anonymous * share);
        Swap += (long)(other.Swap * share);
        Shared += (long)(other.Shared * share);
        Locked += (long)(other.Locked * share);
    }
}

/// <summary>
/// What an advice is foretold to take from a set of ranges, before it is sent: what is resident,
/// what of that is mapped by this process alone, what is already in swap, and what the advice
/// will pass over and why. Only PageOut (reclaim now) and the advice that discards pages
/// (DontNeed, DontNeedLocked, Free, Remove) foretell bytes leaving RAM; the others foretell none.
/// </summary>
/// <remarks>
/// PageOut reclaims a folio only when this process alone maps it (folio_mapcount, mm/madvise.c
/// madvise_cold_or_pageout_pte_range, v6.19), so shared pages stay; it refuses locked VMAs;
/// anonymous and shmem pages leave only to swap (folio_alloc_swap fails without it, and the
/// call still returns success). A caller that could not open a file for writing cannot page its
/// pages out either (can_do_file_pageout); the forecast does not see that, nor pages that sit in
/// another CPU's LRU batch.
/// </remarks>
internal sealed class AdviceForecast
{
    public long Resident;
    public long PrivateResident;
    public long Swapped;
    /// <summary>Resident pages shared with another process: passed over by PageOut.</summary>
    public long Shared;
    /// <summary>Resident pages of locked (mlocked) mappings: passed over.</summary>
    public long Locked;
    /// <summary>Private anonymous or shmem pages that have nowhere to go: there is no free swap.</summary>
    public long NoSwap;
    /// <summary>What the advice is foretold to take out of RAM.</summary>
    public long Foretold;
    /// <summary>True when some range's figures could not be read (no read access to smaps).</summary>
    public bool Unknown;

    /// <summary>Adds one range's figures; returns the bytes foretold to leave RAM from it.</summary>
    /// <param name="swapFree">Free swap in bytes (what anonymous and shmem pages may use, over all the ranges added).</param>
    public long Add(MemoryAdvice advice, ResidentFigures f, VmFlags? flags, MappingKind? kind, long swapFree)
    {
        long before = Foretold;
        Resident += f.Rss;
        PrivateResident += f.PrivateResident;
        Swapped += f.Swap;
        switch (advice)
        {
            case MemoryAdvice.PageOut:
                Shared += f.Shared;
                if (f.Locked > 0 || (flags is VmFlags v && (v & VmFlags.Locked) != 0))
                {
                    Locked += f.Rss;
                    return 0;
                }

                // Private pages of shmem (a memfd, SysV shm, a tmpfs file) go to swap, as anonymous ones do.
                bool shmem = kind is MappingKind.Memfd or MappingKind.SharedMemory;
                long needsSwap = shmem ? f.PrivateResident : Math.Min(f.Anonymous, f.PrivateResident);
                long toFile = f.PrivateResident - needsSwap;
                long toSwap = Math.Min(needsSwap, Math.Max(0, swapFree - _swapUsed));
                _swapUsed += toSwap;
                NoSwap += needsSwap - toSwap;
                Foretold += toFile + toSwap;
                break;
            case MemoryAdvice.DontNeed or MemoryAdvice.DontNeedLocked or MemoryAdvice.Free or MemoryAdvice.Remove:
                Foretold += f.Rss;
                break;
        }

        return Foretold - before;
    }

    private long _swapUsed;

    /// <summary>
    /// The figures of [start, start+length) from live smaps entries (sorted by start), each VMA's
    /// figures taken in proportion to the part of it that the range covers.
    /// </summary>
    public static ResidentFigures FromLive(IReadOnlyList<MemoryMapping> mappings, ulong start, long length)
    {
        var figures = new ResidentFigures();
        ulong end = start + (ulong)length;
        int low = 0, high = mappings.Count;
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            if (mappings[middle].End <= start) low = middle + 1; else high = middle;
        }

        for (int i = low; i < mappings.Count && mappings[i].Start < end; i++)
        {
            MemoryMapping m = mappings[i];
            ulong from = Math.Max(start, m.Start);
            ulong to = Math.Min(end, m.End);
            if (to > from && m.Size > 0)
            {
                figures.Add(ResidentFigures.Of(m), (double)(to - from) / m.Size);
            }
        }

        return figures;
    }
}
