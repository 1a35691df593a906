using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
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
    public ProcessAdviceException(int errno) : base($"process_madvise refused the call as a whole: {KernelError.NameOf(errno)}.")
    {
        Errno = errno;
    }

    public int Errno { get; }
}

/// <summary>
/// Sends ranges to process_madvise in the calls <see cref="AdvicePacker"/> packs, and finds out
/// what happened to each (mm/madvise.c, v6.19):
/// <list type="bullet">
/// <item>at most UIO_MAXIOV (1024) iovecs a call, else EINVAL;</item>
/// <item>at most MAX_RW_COUNT (INT_MAX &amp; PAGE_MASK) bytes a call: import_iovec silently cuts the
/// rest, so larger ranges are split (at page boundaries) and batches are kept below it;</item>
/// <item>a call returns the sum of the iov_lens completed before the first failing iovec (5.18+),
/// or -1 with errno if the first one fails; so after a short return the batch resumes at the
/// failing range, which the next call reports alone.</item>
/// </list>
/// </summary>
internal sealed class AdviceBatcher
{
    public const int MaxRangesPerCall = AdvicePacker.MaxRangesPerCall;
    private const int MaxRetriesAfterSignal = 3;

    /// <summary>MAX_RW_COUNT of the running kernel.</summary>
    public static long MaxBytesPerCall => AdvicePacker.System.MaxBytesPerCall;

    private readonly AdvicePacker _packer;

    private readonly Func<ReadOnlyMemory<IoVec>, (long Result, int Errno)> _call;
    private bool _callChecked;
    private readonly Func<int>? _probe;

    /// <param name="call">Makes one process_madvise call with the given iovecs.</param>
    /// <param name="probe">
    /// process_madvise with no iovec: it runs every check of the call as a whole and returns 0,
    /// so an EINVAL, EPERM or EACCES that it repeats is the call's, not a range's. Returns the errno or 0.
    /// </param>
    /// <param name="packer">Null for the running kernel's page size.</param>
    internal AdviceBatcher(Func<ReadOnlyMemory<IoVec>, (long Result, int Errno)> call, Func<int>? probe, AdvicePacker? packer = null)
    {
        _call = call;
        _probe = probe;
        _packer = packer ?? AdvicePacker.System;
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
        AdvicePacker.Segments segments = _packer.Pack(AdvicePacker.AsSpan(ranges));
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
            int count = _packer.NextCallSize(vecs, total, next, oneAtATime ? 1 : MaxRangesPerCall, out long requested);
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
    private static int Credit(AdvicePacker.Segments segments, int first, int count, long result, RangeOutcome[] outcomes)
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
                throw new ProcessAdviceException(errno);
            case Errno.EBADF:
                throw new ProcessAdviceException(errno);
            case Errno.ENOSYS:
                throw new ProcessAdviceException(errno);
            case Errno.EINVAL or Errno.EPERM or Errno.EACCES when !_callChecked && _probe is not null:
                _callChecked = true;
                int probeErrno = _probe();
                if (probeErrno != 0)
                {
                    throw new ProcessAdviceException(probeErrno);
                }

                break;
        }
    }
}
