using System;
using MadvPS.Interop;

namespace MadvPS.Core;

internal sealed partial class PagemapReader
{
    /// <summary>
    /// Byte totals of [start, start + length) and its number of runs of pages alike in state,
    /// Exclusive and FilePage (what pagemap words show; Huge and ZeroPage do not split them here).
    /// Counted from the pagemap words without making runs; where PAGEMAP_SCAN answers, it jumps
    /// over unpopulated stretches longer than a window, so a vast reservation costs one call.
    /// </summary>
    public PageCounts Count(ulong start, ulong length)
    {
        (ulong position, ulong end) = PageAligned(start, length);
        bool canSkip = Source == PageSource.PagemapScan;
        long resident = 0, swapped = 0, absent = 0, exclusive = 0, file = 0, runs = 0;
        const ulong NoKey = ulong.MaxValue;
        ulong last = NoKey;
        while (position < end)
        {
            ulong remaining = (end - position) >> s_pageShift;
            if (canSkip && remaining > WordWindow && (last == NoKey || last == 0))
            {
                ulong next = NextPopulated(position, end);
                if (next > position)
                {
                    absent += (long)((next - position) >> s_pageShift);
                    if (last != 0)
                    {
                        runs++;
                        last = 0;
                    }

                    position = next;
                    continue;
                }
            }

            int pages = (int)Math.Min((ulong)WordWindow, remaining);
            LoadWords(position, pages);
            ReadOnlySpan<ulong> words = _words.AsSpan(0, pages);
            for (int i = 0; i < words.Length; i++)
            {
                ulong w = words[i];
                ulong key;
                if ((w & PagemapWord.Present) != 0)
                {
                    key = w & (PagemapWord.Present | PagemapWord.Exclusive | PagemapWord.FilePage);
                    resident++;
                    if ((w & PagemapWord.Exclusive) != 0)
                    {
                        exclusive++;
                    }
                }
                else if ((w & (PagemapWord.Swapped | PagemapWord.Guard)) == PagemapWord.Swapped)
                {
                    key = w & (PagemapWord.Swapped | PagemapWord.FilePage);
                    swapped++;
                }
                else
                {
                    key = 0;
                    absent++;
                }

                if ((key & PagemapWord.FilePage) != 0)
                {
                    file++;
                }

                if (key != last)
                {
                    runs++;
                    last = key;
                }
            }

            position += (ulong)pages << s_pageShift;
        }

        int shift = s_pageShift;
        return new PageCounts(resident << shift, swapped << shift, absent << shift, exclusive << shift, file << shift, runs);
    }

    // The first present or swapped page at or after position (end when none): PAGEMAP_SCAN for one
    // page, which skips unpopulated page tables whole. A walk that finds nothing is checked
    // against an exit, as the kernel walks an exited process as an empty address space.
    private unsafe ulong NextPopulated(ulong position, ulong end)
    {
        PageRegion region;
        PmScanArg arg = new()
        {
            Start = position,
            End = end,
            Vec = (ulong)&region,
            VecLength = 1,
            MaxPages = 1,
            CategoryAnyOfMask = Libc.PAGE_IS_PRESENT | Libc.PAGE_IS_SWAPPED,
            ReturnMask = Libc.PAGE_IS_PRESENT | Libc.PAGE_IS_SWAPPED,
        };
        SysResult scan = Libc.PagemapScan(_handle, ref arg);
        if (scan.Failed)
        {
            throw ScanFailed(position, end, scan.Errno);
        }

        long count = scan.Value;

        if (count == 0)
        {
            ProveAlive(position);
            return end;
        }

        return region.Start;
    }
}
