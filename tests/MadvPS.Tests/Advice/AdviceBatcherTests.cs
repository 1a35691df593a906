using System;
using System.Collections.Generic;
using System.Linq;
using MadvPS.Core;
using MadvPS.Interop;
using Xunit;

namespace MadvPS.Tests;

/// <summary>
/// The batcher against a model of the kernel's process_madvise (mm/madvise.c, 5.18+): it counts
/// whole iovecs up to the first failing one, fails the call if the first one fails, caps at
/// UIO_MAXIOV iovecs and MAX_RW_COUNT bytes.
/// </summary>
public class AdviceBatcherTests
{
    private sealed class FakeKernel
    {
        public readonly HashSet<ulong> Failing = new();
        public int FailErrno = (int)Errno.ENOMEM;
        public readonly List<int> CallSizes = new();
        public int ProbeErrno;
        public int WholeCallErrno;

        public (long, int) Call(ReadOnlyMemory<IoVec> iovecs)
        {
            CallSizes.Add(iovecs.Length);
            if (iovecs.Length > 1024) return (-1, (int)Errno.EINVAL);
            if (WholeCallErrno != 0) return (-1, WholeCallErrno);
            long done = 0;
            long cap = AdviceBatcher.MaxBytesPerCall;
            foreach (IoVec v in iovecs.Span)
            {
                if (Failing.Contains((ulong)v.Base))
                {
                    return done == 0 ? (-1, FailErrno) : (done, 0);
                }

                long length = Math.Min((long)v.Length, cap - done);
                done += length;
                if (done >= cap) break;
            }

            return (done, 0);
        }

        public AdviceBatcher Batcher() => new(Call, () => ProbeErrno);
    }

    private static List<AdviceRange> Ranges(int count, long length = 4096) =>
        Enumerable.Range(0, count).Select(i => new AdviceRange(0x100000UL + (ulong)i * 0x10000, length)).ToList();

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1024, 1)]
    [InlineData(1025, 2)]
    [InlineData(60000, 59)]
    public void UsesCeilingOfNOver1024Calls(int ranges, int calls)
    {
        var kernel = new FakeKernel();
        var batcher = kernel.Batcher();
        RangeOutcome[] outcomes = batcher.Advise(Ranges(ranges));
        Assert.Equal(calls, batcher.Calls);
        Assert.All(outcomes, o => Assert.Equal(4096, o.BytesAdvised));
        Assert.All(kernel.CallSizes, size => Assert.True(size <= 1024));
    }

    [Fact]
    public void AFailingRangeInTheMiddleFailsAloneAndTheRestAreAdvised()
    {
        var kernel = new FakeKernel();
        var ranges = Ranges(10);
        kernel.Failing.Add(ranges[4].Start);
        RangeOutcome[] outcomes = kernel.Batcher().Advise(ranges);
        Assert.Equal((int)Errno.ENOMEM, outcomes[4].Errno);
        Assert.Equal(0, outcomes[4].BytesAdvised);
        for (int i = 0; i < 10; i++)
        {
            if (i == 4) continue;
            Assert.Equal(0, outcomes[i].Errno);
            Assert.Equal(4096, outcomes[i].BytesAdvised);
        }

        // [0..3] then the short return, [4] alone failing, then [5..9].
        Assert.Equal(new[] { 10, 6, 5 }, kernel.CallSizes);
    }

    [Fact]
    public void TheFirstRangeFailingIsReportedWithoutLosingTheOthers()
    {
        var kernel = new FakeKernel { FailErrno = (int)Errno.EINVAL };
        var ranges = Ranges(3);
        kernel.Failing.Add(ranges[0].Start);
        RangeOutcome[] outcomes = kernel.Batcher().Advise(ranges);
        Assert.Equal((int)Errno.EINVAL, outcomes[0].Errno);
        Assert.Equal(4096, outcomes[1].BytesAdvised);
        Assert.Equal(4096, outcomes[2].BytesAdvised);
    }

    [Fact]
    public void ARangeLargerThanTheCapIsAdvisedWhole()
    {
        var kernel = new FakeKernel();
        long three = 3L << 30;
        var batcher = kernel.Batcher();
        RangeOutcome[] outcomes = batcher.Advise(new[] { new AdviceRange(0x7f0000000000, three), new AdviceRange(0x7f1000000000, 4096) });
        Assert.Equal(three, outcomes[0].BytesAdvised);
        Assert.Equal(4096, outcomes[1].BytesAdvised);
        Assert.Equal(2, batcher.Calls);
    }

    [Fact]
    public void AWholeCallRefusalConfirmedByTheProbeIsThrown()
    {
        var kernel = new FakeKernel { WholeCallErrno = (int)Errno.EPERM, ProbeErrno = (int)Errno.EPERM };
        var e = Assert.Throws<ProcessAdviceException>(() => kernel.Batcher().Advise(Ranges(3)));
        Assert.Equal((int)Errno.EPERM, e.Errno);
    }

    [Fact]
    public void AnExitedProcessIsThrown()
    {
        var kernel = new FakeKernel { WholeCallErrno = (int)Errno.ESRCH };
        Assert.Throws<ProcessAdviceException>(() => kernel.Batcher().Advise(Ranges(3)));
    }

    [Fact]
    public void StoppingLeavesTheRestUnsent()
    {
        var kernel = new FakeKernel();
        int calls = 0;
        RangeOutcome[] outcomes = kernel.Batcher().Advise(Ranges(3000), () => calls++ >= 1);
        Assert.Equal(1024, outcomes.Count(o => o.Sent));
        Assert.False(outcomes[2999].Sent);
    }

    // A process like the benchmark's target: 60,000 one-page mappings and a runtime's reservations
    // of 47 GiB, 2 GiB and 400 MiB among them.
    private static List<AdviceRange> ManySmallAndSomeHuge()
    {
        var ranges = Ranges(60000);
        ranges.Insert(100, new AdviceRange(0x7f0000000000, 47L << 30));
        ranges.Insert(30000, new AdviceRange(0x7f1000000000, 2109865984));
        ranges.Insert(59000, new AdviceRange(0x7f2000000000, 399319040));
        return ranges;
    }

    [Fact]
    public void HugeRangesDoNotAddCallsBeyondTheLowerBound()
    {
        var kernel = new FakeKernel();
        var batcher = kernel.Batcher();
        var ranges = ManySmallAndSomeHuge();
        RangeOutcome[] outcomes = batcher.Advise(ranges);
        // ceil(60003 / 1024) = 59; the bytes alone would need ceil(49.6 GiB / MAX_RW_COUNT) = 25.
        Assert.Equal(59, batcher.Calls);
        for (int i = 0; i < ranges.Count; i++)
        {
            Assert.Equal(ranges[i].Length, outcomes[i].BytesAdvised);
            Assert.Equal(0, outcomes[i].Errno);
        }
    }

    [Fact]
    public void AFailureAmongPackedRangesFailsOnlyThatRange()
    {
        var kernel = new FakeKernel();
        var ranges = ManySmallAndSomeHuge();
        kernel.Failing.Add(ranges[5000].Start);
        var batcher = kernel.Batcher();
        RangeOutcome[] outcomes = batcher.Advise(ranges);
        Assert.Equal((int)Errno.ENOMEM, outcomes[5000].Errno);
        Assert.Equal(0, outcomes[5000].BytesAdvised);
        for (int i = 0; i < ranges.Count; i++)
        {
            if (i == 5000) continue;
            Assert.Equal(ranges[i].Length, outcomes[i].BytesAdvised);
        }

        // The failing range costs a call of its own, and the resumed calls may need one more.
        Assert.InRange(batcher.Calls, 60, 61);
    }
}
