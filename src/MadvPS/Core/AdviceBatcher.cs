using System;
using System.Collections.Generic;
using MadvPS.Interop;
using System.Runtime.CompilerServices;

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
            iovecs => (Libc.ProcessMadvise(pidfd, iovecs.Span, (int)advice, out int errno), errno),
            () => Libc.ProcessMadvise(pidfd, ReadOnlySpan<IoVec>.Empty, (int)advice, out int errno) < 0 ? errno : 0);

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
        List<(int Range, IoVec Vec)> segments = Pack(ranges);
        var batch = new IoVec[Math.Min(MaxRangesPerCall, Math.Max(segments.Count, 1))];
        int next = 0;
        bool oneAtATime = false;
        int interrupted = 0;

        while (next < segments.Count)
        {
            if (shouldStop?.Invoke() == true)
            {
                return outcomes;
            }

            int count = NextCallSize(segments, next, oneAtATime ? 1 : MaxRangesPerCall, out long requested);
            for (int i = 0; i < count; i++)
            {
                batch[i] = segments[next + i].Vec;
            }

            (long result, int errno) = _call(batch.AsMemory(0, count));
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

                ref RangeOutcome failed = ref outcomes[segments[next].Range];
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
            progress?.Invoke(next < segments.Count ? (int)((long)next * ranges.Count / segments.Count) : ranges.Count);
        }

        return outcomes;
    }

    // The kernel counts whole iovecs, so the result is a prefix sum of the batch.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Credit(List<(int Range, IoVec Vec)> segments, int first, int count, long result, RangeOutcome[] outcomes)
    {
        long left = result;
        int index = first;
        while (index < first + count)
        {
            (int range, IoVec vec) = segments[index];
            long length = (long)vec.Length;
            if (length > left)
            {
                if (left > 0)
                {
                    // Not a whole iovec: the kernel no longer counts as 5.18 does. Keep what it did
                    // and resume with the rest of this segment.
                    outcomes[range].BytesAdvised += left;
                    outcomes[range].Sent = true;
                    segments[index] = (range, new IoVec { Base = vec.Base + (nuint)left, Length = vec.Length - (nuint)left });
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

    /// <summary>How many segments from <paramref name="first"/> the next call takes: up to
    /// <paramref name="most"/>, and no more bytes than MAX_RW_COUNT.</summary>
    private static int NextCallSize(List<(int Range, IoVec Vec)> segments, int first, int most, out long requested)
    {
        int count = 0;
        requested = 0;
        while (first + count < segments.Count && count < most)
        {
            long length = (long)segments[first + count].Vec.Length;
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
        List<(int Range, IoVec Vec)> segments = Pack(ranges);
        var calls = new List<IoVec[]>();
        for (int next = 0; next < segments.Count;)
        {
            int count = NextCallSize(segments, next, MaxRangesPerCall, out _);
            var call = new IoVec[count];
            for (int i = 0; i < count; i++)
            {
                call[i] = segments[next + i].Vec;
            }

            calls.Add(call);
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
    internal static List<(int Range, IoVec Vec)> Pack(IReadOnlyList<AdviceRange> ranges)
    {
        int nonEmpty = 0;
        int small = 0;
        long totalBytes = 0;
        for (int i = 0; i < ranges.Count; i++)
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
        }

        if (small == nonEmpty)
        {
            return Segment(ranges);
        }

        int lowerBound = (int)Math.Max(
            (nonEmpty + MaxRangesPerCall - 1) / MaxRangesPerCall,
            (totalBytes + MaxBytesPerCall - 1) / MaxBytesPerCall);
        for (int calls = lowerBound; calls < lowerBound + MaxPackingTries; calls++)
        {
            if (TryPack(ranges, small, calls) is { } packed)
            {
                return packed;
            }
        }

        return Segment(ranges);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static List<(int Range, IoVec Vec)>? TryPack(IReadOnlyList<AdviceRange> ranges, int small, int calls)
    {
        // Small ranges, in order, spread evenly: call j takes those numbered [j*small/calls, (j+1)*small/calls).
        var smallIndex = new List<int>(small);
        var large = new List<int>();
        for (int i = 0; i < ranges.Count; i++)
        {
            long length = ranges[i].Length;
            if (length <= 0) continue;
            (length <= SmallRange ? smallIndex : large).Add(i);
        }

        var pieces = new List<(int Range, IoVec Vec)>[calls];
        var slots = new int[calls];
        var room = new long[calls];
        for (int j = 0; j < calls; j++)
        {
            int from = (int)((long)j * small / calls), to = (int)((long)(j + 1) * small / calls);
            long bytes = 0;
            for (int k = from; k < to; k++)
            {
                bytes += ranges[smallIndex[k]].Length;
            }

            slots[j] = MaxRangesPerCall - (to - from);
            room[j] = MaxBytesPerCall - bytes;
            pieces[j] = new List<(int, IoVec)>();
        }

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
                pieces[call].Add((index, new IoVec { Base = (nuint)start, Length = (nuint)length }));
                slots[call]--;
                room[call] -= length;
                start += (ulong)length;
                left -= length;
            }
        }

        var segments = new List<(int Range, IoVec Vec)>(ranges.Count + calls);
        for (int j = 0; j < calls; j++)
        {
            int from = (int)((long)j * small / calls), to = (int)((long)(j + 1) * small / calls);
            for (int k = from; k < to; k++)
            {
                AdviceRange range = ranges[smallIndex[k]];
                segments.Add((smallIndex[k], new IoVec { Base = (nuint)range.Start, Length = (nuint)range.Length }));
            }

            segments.AddRange(pieces[j]);
        }

        return segments;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static List<(int Range, IoVec Vec)> Segment(IReadOnlyList<AdviceRange> ranges)
    {
        var segments = new List<(int, IoVec)>(ranges.Count);
        for (int i = 0; i < ranges.Count; i++)
        {
            ulong start = ranges[i].Start;
            long left = ranges[i].Length;
            while (left > 0)
            {
                long length = Math.Min(left, MaxBytesPerCall);
                segments.Add((i, new IoVec { Base = (nuint)start, Length = (nuint)length }));
                start += (ulong)length;
                left -= length;
            }
        }

        return segments;
    }
}
