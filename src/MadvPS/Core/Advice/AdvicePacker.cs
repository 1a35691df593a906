using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MadvPS.Interop;

namespace MadvPS.Core;

/// <summary>
/// Packs ranges into the iovecs of as few process_madvise calls as the kernel allows, without
/// making any call: at most UIO_MAXIOV (1024) iovecs a call, and at most MAX_RW_COUNT bytes,
/// which import_iovec cuts silently (lib/iov_iter.c, v6.19: <c>MAX_RW_COUNT = INT_MAX &amp;
/// PAGE_MASK</c>). The page size is the running kernel's (4 KiB on x86_64, 4, 16 or 64 KiB on
/// arm64), so the cap and every cut of a large range fall on a page boundary of that kernel.
/// </summary>
internal sealed class AdvicePacker
{
    public const int MaxRangesPerCall = 1024;
    private const int MaxPackingTries = 64;

    private readonly long _pageSize;
    // Ranges no larger than this can fill every iovec of a call without reaching MAX_RW_COUNT.
    private readonly long _smallRange;

    /// <param name="pageSize">The kernel's page size in bytes, a power of two.</param>
    public AdvicePacker(long pageSize)
    {
        if (pageSize <= 0 || (pageSize & (pageSize - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(pageSize), pageSize, "The page size must be a power of two.");
        }

        _pageSize = pageSize;
        MaxBytesPerCall = int.MaxValue & ~(pageSize - 1);
        _smallRange = (MaxBytesPerCall / MaxRangesPerCall) & ~(pageSize - 1);
    }

    /// <summary>The packer for the running kernel's page size.</summary>
    public static AdvicePacker System { get; } = new(Environment.SystemPageSize);

    public long PageSize => _pageSize;

    /// <summary>MAX_RW_COUNT: INT_MAX rounded down to a page.</summary>
    public long MaxBytesPerCall { get; }

    /// <summary>Whether a range this long is one of those Pack keeps in order (else it is poured into the room the calls have left).</summary>
    internal bool IsSmall(long length) => length <= _smallRange;

    // The ranges as a span: indexing an IReadOnlyList is an interface call per element.
    internal static ReadOnlySpan<AdviceRange> AsSpan(IReadOnlyList<AdviceRange> ranges) => ranges switch
    {
        AdviceRange[] array => array,
        List<AdviceRange> list => CollectionsMarshal.AsSpan(list),
        _ => ranges.ToArray(),
    };

    /// <summary>The iovecs in the order they are sent, and the range each belongs to.</summary>
    internal readonly struct Segments
    {
        public Segments(IoVec[] vecs, int[] owners, int count)
        {
            Vecs = vecs;
            Owners = owners;
            Count = count;
        }

        public IoVec[] Vecs { get; }
        public int[] Owners { get; }
        public int Count { get; }
    }

    /// <summary>How many segments from <paramref name="first"/> the next call takes: up to
    /// <paramref name="most"/>, and no more bytes than MAX_RW_COUNT.</summary>
    internal int NextCallSize(IoVec[] vecs, int total, int first, int most, out long requested)
    {
        int count = 0;
        requested = 0;
        while (first + count < total && count < most)
        {
            long length = (long)vecs[first + count].Length;
            if (count > 0 && requested + length > MaxBytesPerCall)
            {
                break;
            }

            requested += length;
            count++;
        }

        return count;
    }

    /// <summary>The iovecs of each call that the batcher makes when nothing fails.</summary>
    internal IoVec[][] PackCalls(IReadOnlyList<AdviceRange> ranges)
    {
        Segments segments = Pack(AsSpan(ranges));
        var calls = new List<IoVec[]>();
        for (int next = 0; next < segments.Count;)
        {
            int count = NextCallSize(segments.Vecs, segments.Count, next, MaxRangesPerCall, out _);
            calls.Add(segments.Vecs.AsSpan(next, count).ToArray());
            next += count;
        }

        return calls.ToArray();
    }

    /// <summary>
    /// The segments of the ranges in the order they are sent: each run of 1024 segments from the
    /// start stays within MAX_RW_COUNT bytes, so that the calls are as few as the kernel allows,
    /// max(ceil(n/1024), ceil(bytes/MAX_RW_COUNT)) or close to it.
    /// </summary>
    /// <remarks>
    /// Sent in their own order, a few large ranges (a JVM's or .NET's reserved heap: tens of GiB of
    /// PROT_NONE) would each close a call after a handful of iovecs. Instead the small ranges keep
    /// their order and are spread evenly over K calls, and the large ranges are poured, in order
    /// and cut at page multiples, into the bytes and iovecs those calls have left; K starts at the
    /// lower bound and grows until everything fits. The order of the ranges does not matter to the
    /// kernel: each iovec is advised on its own, and the outcome of each is credited to its range.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal Segments Pack(ReadOnlySpan<AdviceRange> ranges)
    {
        int nonEmpty = 0;
        int small = 0;
        long totalBytes = 0;
        var large = new List<int>();
        for (int i = 0; i < ranges.Length; i++)
        {
            long length = ranges[i].Length;
            if (length <= 0)
            {
                continue;
            }

            nonEmpty++;
            totalBytes += length;
            if (length <= _smallRange)
            {
                small++;
            }
            else
            {
                large.Add(i);
            }
        }

        if (large.Count == 0)
        {
            return Segment(ranges);
        }

        int lowerBound = (int)Math.Max(
            (nonEmpty + MaxRangesPerCall - 1) / MaxRangesPerCall,
            (totalBytes + MaxBytesPerCall - 1) / MaxBytesPerCall);
        for (int calls = lowerBound; calls < lowerBound + MaxPackingTries; calls++)
        {
            if (TryPack(ranges, small, large, calls) is { } packed)
            {
                return packed;
            }
        }

        return Segment(ranges);
    }

    // The next small range at or after index (the cursor walks the ranges in order).
    private int NextSmall(ReadOnlySpan<AdviceRange> ranges, int index)
    {
        while (index < ranges.Length && (ranges[index].Length <= 0 || ranges[index].Length > _smallRange))
        {
            index++;
        }

        return index;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Segments? TryPack(ReadOnlySpan<AdviceRange> ranges, int small, List<int> large, int calls)
    {
        // Call j takes the small ranges numbered [j*small/calls, (j+1)*small/calls), in order.
        var slots = new int[calls];
        var room = new long[calls];
        int cursor = NextSmall(ranges, 0);
        for (int j = 0; j < calls; j++)
        {
            int taken = (int)((long)(j + 1) * small / calls) - (int)((long)j * small / calls);
            long bytes = 0;
            for (int k = 0; k < taken; k++)
            {
                bytes += ranges[cursor].Length;
                cursor = NextSmall(ranges, cursor + 1);
            }

            slots[j] = MaxRangesPerCall - taken;
            room[j] = MaxBytesPerCall - bytes;
        }

        // The large ranges, in order, cut to the room each call has left, at page multiples.
        var pieces = new List<(int Call, int Range, IoVec Vec)>();
        int call = 0;
        foreach (int index in large)
        {
            ulong start = ranges[index].Start;
            long left = ranges[index].Length;
            while (left > 0)
            {
                while (call < calls && (slots[call] == 0 || (room[call] < left && room[call] < _pageSize)))
                {
                    call++;
                }

                if (call == calls)
                {
                    return null;
                }

                long length = left <= room[call] ? left : room[call] & ~(_pageSize - 1);
                pieces.Add((call, index, new IoVec { Base = (nuint)start, Length = (nuint)length }));
                slots[call]--;
                room[call] -= length;
                start += (ulong)length;
                left -= length;
            }
        }

        int total = small + pieces.Count;
        var vecs = new IoVec[total];
        var owners = new int[total];
        int at = 0;
        int piece = 0;
        cursor = NextSmall(ranges, 0);
        for (int j = 0; j < calls; j++)
        {
            int taken = (int)((long)(j + 1) * small / calls) - (int)((long)j * small / calls);
            for (int k = 0; k < taken; k++)
            {
                AdviceRange range = ranges[cursor];
                vecs[at] = new IoVec { Base = (nuint)range.Start, Length = (nuint)range.Length };
                owners[at++] = cursor;
                cursor = NextSmall(ranges, cursor + 1);
            }

            for (; piece < pieces.Count && pieces[piece].Call == j; piece++)
            {
                vecs[at] = pieces[piece].Vec;
                owners[at++] = pieces[piece].Range;
            }
        }

        return new Segments(vecs, owners, at);
    }

    // Each range in order, cut into MAX_RW_COUNT pieces (a page multiple).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Segments Segment(ReadOnlySpan<AdviceRange> ranges)
    {
        int total = 0;
        for (int i = 0; i < ranges.Length; i++)
        {
            long length = ranges[i].Length;
            if (length > 0)
            {
                total += (int)((length + MaxBytesPerCall - 1) / MaxBytesPerCall);
            }
        }

        var vecs = new IoVec[total];
        var owners = new int[total];
        int at = 0;
        for (int i = 0; i < ranges.Length; i++)
        {
            ulong start = ranges[i].Start;
            long left = ranges[i].Length;
            while (left > 0)
            {
                long length = Math.Min(left, MaxBytesPerCall);
                vecs[at] = new IoVec { Base = (nuint)start, Length = (nuint)length };
                owners[at++] = i;
                start += (ulong)length;
                left -= length;
            }
        }

        return new Segments(vecs, owners, at);
    }
}
