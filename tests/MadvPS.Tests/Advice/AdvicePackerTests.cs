using System;
using System.Collections.Generic;
using System.Linq;
using MadvPS.Core;
using MadvPS.Interop;
using Xunit;

namespace MadvPS.Tests;

/// <summary>
/// The packer with the page sizes arm64 kernels run with (4, 16, 64 KiB): MAX_RW_COUNT is
/// INT_MAX &amp; PAGE_MASK (include/linux/fs.h), so it and every cut must follow the page size.
/// The expected caps are written out from that definition, not taken from the packer.
/// </summary>
public class AdvicePackerTests
{
    public static IEnumerable<object[]> PageSizes() => new[]
    {
        new object[] { 4096L, 0x7FFFF000L },
        new object[] { 16384L, 0x7FFFC000L },
        new object[] { 65536L, 0x7FFF0000L },
    };

    // A runtime-like process in pages of the given size: many one-page mappings, three huge
    // reservations (47 GiB, about 2 GiB and about 400 MiB, each a page multiple).
    private static List<AdviceRange> Ranges(long page)
    {
        var ranges = Enumerable.Range(0, 5000).Select(i => new AdviceRange(0x100000000UL + (ulong)i * (ulong)page * 4, page)).ToList();
        ranges.Insert(10, new AdviceRange(0x7f0000000000, 47L << 30));
        ranges.Insert(2000, new AdviceRange(0x7f1000000000, (2109865984L / page) * page));
        ranges.Insert(4000, new AdviceRange(0x7f2000000000, (399319040L / page) * page));
        return ranges;
    }

    [Theory]
    [MemberData(nameof(PageSizes))]
    public void TheCapIsIntMaxRoundedDownToAPage(long page, long cap)
    {
        Assert.Equal(cap, new AdvicePacker(page).MaxBytesPerCall);
    }

    [Theory]
    [MemberData(nameof(PageSizes))]
    public void CallsStayWithinTheCapAndCutsFallOnPageBoundaries(long page, long cap)
    {
        var packer = new AdvicePacker(page);
        List<AdviceRange> ranges = Ranges(page);
        IoVec[][] calls = packer.PackCalls(ranges);
        var covered = new Dictionary<ulong, long>();
        foreach (IoVec[] call in calls)
        {
            Assert.InRange(call.Length, 1, 1024);
            Assert.True(call.Sum(v => (long)v.Length) <= cap, $"a call of {call.Sum(v => (long)v.Length)} bytes exceeds {cap}");
            foreach (IoVec v in call)
            {
                Assert.Equal(0UL, (ulong)v.Base % (ulong)page);
                Assert.Equal(0UL, (ulong)v.Length % (ulong)page);
                covered.Add((ulong)v.Base, (long)v.Length);
            }
        }

        foreach (AdviceRange range in ranges)
        {
            ulong at = range.Start;
            while (at < range.Start + (ulong)range.Length)
            {
                Assert.True(covered.Remove(at, out long length), $"no piece starts at {at:x}");
                at += (ulong)length;
            }

            Assert.Equal(range.Start + (ulong)range.Length, at);
        }

        Assert.Empty(covered);
        long bytes = ranges.Sum(r => r.Length);
        int lowerBound = (int)Math.Max((ranges.Count + 1023) / 1024, (bytes + cap - 1) / cap);
        Assert.InRange(calls.Length, lowerBound, lowerBound + 1);
    }

    [Theory]
    [MemberData(nameof(PageSizes))]
    public void ARangeOverTheCapAloneIsCutAtTheCap(long page, long cap)
    {
        IoVec[][] calls = new AdvicePacker(page).PackCalls(new[] { new AdviceRange(0x7f0000000000, 3L << 30) });
        Assert.Equal(2, calls.Length);
        Assert.Equal(cap, (long)calls[0].Single().Length);
        Assert.Equal((3L << 30) - cap, (long)calls[1].Single().Length);
    }

    [Fact]
    public void APageSizeThatIsNotAPowerOfTwoIsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdvicePacker(12288));
    }

    [Fact]
    public void TheSystemPackerUsesTheRunningKernelsPageSize()
    {
        // getconf PAGESIZE is sysconf(_SC_PAGESIZE), read by another program than the module.
        var getconf = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("getconf", "PAGESIZE") { RedirectStandardOutput = true })!;
        long page = long.Parse(getconf.StandardOutput.ReadToEnd().Trim());
        getconf.WaitForExit();
        Assert.Equal(page, AdvicePacker.System.PageSize);
        Assert.Equal(int.MaxValue & ~(page - 1), AdvicePacker.System.MaxBytesPerCall);
    }
}
