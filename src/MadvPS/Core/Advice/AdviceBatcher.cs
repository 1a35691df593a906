using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MadvPS.Interop;

namespace MadvPS.Core;

/// <summary>One range to advise; Index ties the outcome back to the caller's list.</summary>
internal readonly record struct AdviceRange(ulong Start, long Length);

/// <summary>What the kernel did with one range.</summary>
internal struct RangeOutcome
{
    public long BytesAdvised;
    /// <summary>0, or the errno of the first segment of the range the kernel refused.</summary>
    public int Errno;
    public bool Sent;
}

/// <summary>One process_madvise call, for -Verbose and for counting.</summary>
internal readonly record struct AdviceCall(int Ranges, long BytesRequested, long Result, int Errno);

/// <summary>
/// A failure of the call as a whole (the process, the pidfd, the advice or a permission),
/// as opposed to one range's.
/// </summary>
internal sealed class ProcessAdviceException : Exception
{
    public ProcessAdviceException(int errno, string message) : base(message)
    {
        Errno = errno;
    }

    public int Errno { get; }
}

/// <summary>
/// Sends ranges to process_madvise in as few calls as the kernel allows and finds out what
/// happened to each (mm/madvise.c, v6.19):
/// <list type="bullet">
/// <item>at most UIO_MAXIOV (1024) iovecs a call, else EINVAL;</item>
/// <item>at most MAX_RW_COUNT (INT_MAX &amp; PAGE_MASK) bytes a call: import_iovec silently cuts the
/// rest, so larger ranges are split and batches are kept below it;</item>
/// <item>a call returns the sum of the iov_lens completed before the first failing iovec (5.18+),
/// or -1 with errno if the first one fails; so after a short return the batch resumes at the
/// failing range, which the next call reports alone.</item>
/// </list>
/// </summary>
internal sealed class AdviceBatcher
{
    public const int MaxRangesPerCall = 1024;
    public const long MaxBytesPerCall = int.MaxValue & ~0xFFFL;
    private const int MaxRetriesAfterSignal = 3;

    private readonly Func<ReadOnlyMemory<IoVec>, (long Result, int Errno)> _call;
    private bool _callChecked;
    private readonly Func<int>? _probe;

    /// <param name="call">Makes one process_madvise call with the given iovecs.</param>
    /// <param name="probe">
    /// process_madvise with no iovec: it runs every check of the call as a whole and returns 0,
    /// so an EINVAL, EPERM or EACCES that it repeats is the call's, not a range's. Returns the errno or 0.
    /// </param>
    internal AdviceBatcher(Func<ReadOnlyMemory<IoVec>, (long Result, int Errno)> call, Func<int>? probe)
    {
        _call = call;
        _probe = probe;
    }

    internal static AdviceBatcher ForPidfd(SafePidfdHandle pidfd, MemoryAdvice advice) =>
        new(
            iovecs =>
            {
                SysResult result = Libc.ProcessMadvise(pidfd, iovecs.Span, (int)advice);
                return (result.Value, result.Errno);
            },
            () => Libc.ProcessMadvise(pidfd, ReadOnlySpan<IoVec>.Empty, (int)advice).Errno);

    public int Calls { get; private set; }

    public event Action<AdviceCall>? CallMade;

    /// <summary>Advises every range; returns one outcome per range, in order.</summary>
    /// <param name="shouldStop">Checked between calls; ranges not yet sent stay unsent.</param>
    /// <param name="progress">Called after each call with the number of ranges done.</param>
    /// <exception cref="ProcessAdviceException">The call as a whole was refused (no range was advised by it).</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public RangeOutcome[] Advise(IReadOnlyList<AdviceRange> ranges, Func<bool>? shouldStop = null, Action<int>? progress = null)
    {
        var outcomes = new RangeOutcome[ranges.Count];
        Segments segments = Pack(AsSpan(ranges));
        IoVec[] vecs = segments.Vecs;
        int total = segments.Count;
        int next = 0;
        bool oneAtATime = false;
        int interrupted = 0;

        while (next < total)
        {
            if (shouldStop?.Invoke() == true)
            {
                return outcomes;
            }

            // The call reads the iovecs where they lie: no copy per call.
            int count = NextCallSize(vecs, total, next, oneAtATime ? 1 : MaxRangesPerCall, out long requested);
            (long result, int errno) = _call(vecs.AsMemory(next, count));
            Calls++;
            CallMade?.Invoke(new AdviceCall(count, requested, result, errno));
            if (result < 0 && errno == (int)Errno.EINTR && interrupted++ < MaxRetriesAfterSignal)
            {
                continue;
            }

            if (result < 0)
            {
                ThrowIfWholeCallFailed(errno, count);
                if (errno == (int)Errno.EFAULT && count > 1)
                {
                    // One address outside user space fails the whole batch before any range is
                    // advised; send the ranges one by one to find it.
                    oneAtATime = true;
                    continue;
                }

                ref RangeOutcome failed = ref outcomes[segments.Owners[next]];
                failed.Sent = true;
                if (failed.Errno == 0)
                {
                    failed.Errno = errno;
                }

                next++;
            }
            else
            {
                next = Credit(segments, next, count, result, outcomes);
                _callChecked = true;
            }

            if (oneAtATime && count == 1 && result >= 0)
            {
                oneAtATime = false;
            }

            // Pack may interleave the pieces of large ranges with small ones, so progress is the
            // share of segments done, in ranges.
            progress?.Invoke(next < total ? (int)((long)next * ranges.Count / total) : ranges.Count);
        }

        return outcomes;
    }

    // The kernel counts whole iovecs, so the result is a prefix sum of the batch.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Credit(Segments segments, int first, int count, long result, RangeOutcome[] outcomes)
    {
        long left = result;
        int index = first;
        while (index < first + count)
        {
            int range = segments.Owners[index];
            IoVec vec = segments.Vecs[index];
            long length = (long)vec.Length;
            if (length > left)
            {
                if (left > 0)
                {
                    // Not a whole iovec: the kernel no longer counts as 5.18 does. Keep what it did
                    // and resume with the rest of this segment.
                    outcomes[range].BytesAdvised += left;
                    outcomes[range].Sent = true;
                    segments.Vecs[index] = new IoVec { Base = vec.Base + (nuint)left, Length = vec.Length - (nuint)left };
                }

                return index;
            }

            outcomes[range].BytesAdvised += length;
            outcomes[range].Sent = true;
            left -= length;
            index++;
        }

        return index;
    }

    private void ThrowIfWholeCallFailed(int errno, int count)
    {
        switch ((Errno)errno)
        {
            case Errno.ESRCH:
                throw new ProcessAdviceException(errno, "The process has exited.");
            case Errno.EBADF:
                throw new ProcessAdviceException(errno, "The process's pidfd is no longer valid.");
            case Errno.ENOSYS:
                throw new ProcessAdviceException(errno, "This kernel has no process_madvise (Linux 5.10 or later, CONFIG_ADVISE_SYSCALLS).");
            case Errno.EINVAL or Errno.EPERM or Errno.EACCES when !_callChecked && _probe is not null:
                _callChecked = true;
                int probeErrno = _probe();
                if (probeErrno != 0)
                {
                    throw new ProcessAdviceException(probeErrno, "The kernel refused the call as a whole.");
                }

                break;
        }
    }

    // The ranges as a span: indexing an IReadOnlyList is an interface call per element.
    private static ReadOnlySpan<AdviceRange> AsSpan(IReadOnlyList<AdviceRange> ranges) => ranges switch
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
    private static int NextCallSize(IoVec[] vecs, int total, int first, int most, out long requested)
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

    /// <summary>The iovecs of each call that <see cref="Advise"/> makes when nothing fails.</summary>
    internal static IoVec[][] PackCalls(IReadOnlyList<AdviceRange> ranges)
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

    // Ranges no larger than this can fill every iovec of a call without reaching MAX_RW_COUNT.
    private const long SmallRange = (MaxBytesPerCall / MaxRangesPerCall) & ~(PageSize - 1);
    private const long PageSize = 4096;
    private const int MaxPackingTries = 64;

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
    internal static Segments Pack(ReadOnlySpan<AdviceRange> ranges)
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
            if (length <= SmallRange)
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
    private static int NextSmall(ReadOnlySpan<AdviceRange> ranges, int index)
    {
        while (index < ranges.Length && (ranges[index].Length <= 0 || ranges[index].Length > SmallRange))
        {
            index++;
        }

        return index;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Segments? TryPack(ReadOnlySpan<AdviceRange> ranges, int small, List<int> large, int calls)
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

        // The large ranges, in order, cut to the room each call has left.
        var pieces = new List<(int Call, int Range, IoVec Vec)>();
        int call = 0;
        foreach (int index in large)
        {
            ulong start = ranges[index].Start;
            long left = ranges[index].Length;
            while (left > 0)
            {
                while (call < calls && (slots[call] == 0 || (room[call] < left && room[call] < PageSize)))
                {
                    call++;
                }

                if (call == calls)
                {
                    return null;
                }

                long length = left <= room[call] ? left : room[call] & ~(PageSize - 1);
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Segments Segment(ReadOnlySpan<AdviceRange> ranges)
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
