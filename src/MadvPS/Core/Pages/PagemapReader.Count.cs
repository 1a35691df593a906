using System;
using System.Collections.Generic;
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
        var tally = new Tally();
        while (position < end)
        {
            ulong remaining = (end - position) >> s_pageShift;
            if (canSkip && remaining > WordWindow && tally.MaySkip)
            {
                ulong next = NextPopulated(position, end);
                if (next > position)
                {
                    tally.AddAbsent((long)((next - position) >> s_pageShift));
                    position = next;
                    continue;
                }
            }

            int pages = (int)Math.Min((ulong)WordWindow, remaining);
            LoadWords(position, pages);
            tally.Add(_words.AsSpan(0, pages));
            position += (ulong)pages << s_pageShift;
        }

        return tally.ToCounts(s_pageShift);
    }

    /// <summary>
    /// <see cref="Count"/> of each of <paramref name="pieces"/>, which lie in address order within
    /// [first, last), a span of at most one window: one read of the words of the span.
    /// </summary>
    internal void CountEach(ulong first, ulong last, IReadOnlyList<MappedRange> pieces, Span<PageCounts> counts)
    {
        int pages = (int)((last - first) >> s_pageShift);
        if (pages > WordWindow)
        {
            throw new ArgumentOutOfRangeException(nameof(last), "The span of a group is at most one window of words.");
        }

        LoadWords(first, pages);
        for (int i = 0; i < pieces.Count; i++)
        {
            (ulong start, ulong end) = PageAligned(pieces[i].Start, pieces[i].End - pieces[i].Start);
            var tally = new Tally();
            tally.Add(_words.AsSpan((int)((start - first) >> s_pageShift), (int)((end - start) >> s_pageShift)));
            counts[i] = tally.ToCounts(s_pageShift);
        }
    }

    // Pages by state and the runs of pages alike in state, Exclusive and FilePage.
    private struct Tally
    {
        private const ulong NoKey = ulong.MaxValue;
        private long _resident, _swapped, _absent, _exclusive, _file, _runs;
        private ulong _last;

        public Tally() => _last = NoKey;

        // Before any page, or after an absent one: a stretch of absent pages may be jumped over.
        public readonly bool MaySkip => _last == NoKey || _last == 0;

        public void AddAbsent(long pages)
        {
            _absent += pages;
            if (_last != 0)
            {
                _runs++;
                _last = 0;
            }
        }

        public void Add(ReadOnlySpan<ulong> words)
        {
            long resident = _resident, swapped = _swapped, absent = _absent, exclusive = _exclusive, file = _file, runs = _runs;
            ulong last = _last;
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

            (_resident, _swapped, _absent, _exclusive, _file, _runs, _last) = (resident, swapped, absent, exclusive, file, runs, last);
        }

        public readonly PageCounts ToCounts(int shift) =>
            new(_resident << shift, _swapped << shift, _absent << shift, _exclusive << shift, _file << shift, _runs);
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
