using System;
using System.Collections.Generic;
using System.Linq;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

/// <summary>The pages core against the target program, checked with the test's own pagemap decoding.</summary>
[Collection(ProcessChurnCollection.Name)]
public class PagesCoreTests
{
    private static readonly ulong PageSize = (ulong)Environment.SystemPageSize;

    private static List<PageRun> Runs(int processId, ulong start, ulong length, PageSource source)
    {
        using ProcDirectory directory = ProcDirectory.Open(processId);
        using PagemapReader reader = PagemapReader.Open(directory, source);
        Assert.Equal(source, reader.Source);
        return reader.Runs(start, length).ToList();
    }

    // The runs laid out page by page, as the test's decoding names pages.
    private static IndependentPagemap.Page[] Expand(List<PageRun> runs, ulong start, ulong length)
    {
        var pages = new IndependentPagemap.Page[length / PageSize];
        ulong next = start;
        foreach (PageRun run in runs)
        {
            Assert.Equal(next, run.Start);
            for (ulong a = run.Start; a < run.End; a += PageSize)
            {
                pages[(a - start) / PageSize] = new(run.State.ToString(), run.Exclusive, run.FilePage);
            }

            next = run.End;
        }

        Assert.Equal(start + length, next);
        return pages;
    }

    private static void AssertSamePages(IndependentPagemap.Page[] expected, IndependentPagemap.Page[] actual, ulong start)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i] != actual[i])
            {
                Assert.Fail($"Page 0x{start + (ulong)i * PageSize:x}: pagemap says {expected[i]}, the runs say {actual[i]}.");
            }
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void RunsAgreePageForPageWithPagemap(bool scan)
    {
        PageSource source = scan ? PageSource.PagemapScan : PageSource.PagemapRead;
        using TargetProcess target = TargetProcess.Start("--anon-mib 8 --file-mib 8 --memfd-mib 4 --reserve-mib 64");
        // Two of every three reserved pages never touched: runs of one resident page between absent ones.
        Assert.Equal("touched 5462", target.Send("touch-every reserve 3"));
        int checkedRuns = 0;
        foreach ((string name, (ulong start, ulong length)) in target.Regions)
        {
            List<PageRun> runs = Runs(target.ProcessId, start, length, source);
            // The process is idle (it waits on stdin), so its pages do not change between the two reads.
            IndependentPagemap.Page[] expected = IndependentPagemap.Pages(target.ProcessId, start, length);
            AssertSamePages(expected, Expand(runs, start, length), start);
            for (int i = 1; i < runs.Count; i++)
            {
                Assert.False(runs[i - 1].Joins(runs[i]), $"{name}: runs {i - 1} and {i} should be one run.");
            }

            checkedRuns += runs.Count;
        }

        IndependentPagemap.Page[] reserve = IndependentPagemap.Pages(target.ProcessId, target.Regions["reserve"].Start, target.Regions["reserve"].Length);
        Assert.Equal(5462, reserve.Count(p => p.State == "Resident"));
        Assert.True(checkedRuns > 10000, $"{checkedRuns} runs");
    }

    [Fact]
    public void ScanAndReadGiveTheSameRuns()
    {
        using TargetProcess target = TargetProcess.Start("--anon-mib 8 --file-mib 8 --memfd-mib 4 --reserve-mib 64");
        target.Send("touch-every reserve 5");
        foreach ((string name, (ulong start, ulong length)) in target.Regions)
        {
            List<PageRun> read = Runs(target.ProcessId, start, length, PageSource.PagemapRead);
            // pagemap words show neither huge pages nor the zero page: the scan's runs without those flags, joined.
            var scan = new List<PageRun>();
            foreach (PageRun run in Runs(target.ProcessId, start, length, PageSource.PagemapScan))
            {
                PageRun plain = run with { Huge = false, ZeroPage = false };
                if (scan.Count > 0 && scan[^1].Joins(plain))
                {
                    scan[^1] = scan[^1] with { Length = scan[^1].Length + plain.Length };
                }
                else
                {
                    scan.Add(plain);
                }
            }

            Assert.True(read.SequenceEqual(scan), $"{name}: {read.Count} runs from pagemap words, {scan.Count} from PAGEMAP_SCAN.");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AProcessThatExitsMidScanIsExitedAfterTheRunsBefore(bool scan)
    {
        PageSource source = scan ? PageSource.PagemapScan : PageSource.PagemapRead;
        using TargetProcess target = TargetProcess.Start("--reserve-mib 1024");
        target.Send("touch-every reserve 2");
        (ulong start, ulong length) = target.Regions["reserve"];
        using ProcDirectory directory = ProcDirectory.Open(target.ProcessId);
        using PagemapReader reader = PagemapReader.Open(directory, source);
        using IEnumerator<PageRun> runs = reader.Runs(start, length).GetEnumerator();
        Assert.True(runs.MoveNext());
        Assert.Equal(start, runs.Current.Start);
        target.Kill();
        var seen = new List<PageRun> { runs.Current };
        var e = Assert.Throws<ProcessAccessException>(() =>
        {
            while (runs.MoveNext())
            {
                seen.Add(runs.Current);
            }
        });
        Assert.Equal(ProcessAccessFailure.Exited, e.Failure);
        // What was handed out was read while the process lived: resident and absent pages alternate.
        Assert.All(seen, r => Assert.Equal(PageSize, r.Length));
        Assert.True(seen[^1].End < start + length);
    }

    [Fact]
    public void AHugeReservationIsOneAbsentRunInFlatMemory()
    {
        const long tebibyte = 1L << 40;
        using TargetProcess target = TargetProcess.Start($"--reserve-mib {16 * tebibyte >> 20}");
        (ulong start, ulong length) = target.Regions["reserve"];
        using ProcDirectory directory = ProcDirectory.Open(target.ProcessId);
        using PagemapReader reader = PagemapReader.Open(directory, PageSource.PagemapScan);
        long before = GC.GetAllocatedBytesForCurrentThread();
        PageCounts counts = reader.Count(start, length);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(new PageCounts(0, 0, (long)length, 0, 0, 1), counts);
        Assert.True(allocated < 64 << 10, $"{allocated} bytes allocated for 16 TiB");
    }

    [Fact]
    public void CountAddsUpTheRuns()
    {
        using TargetProcess target = TargetProcess.Start("--anon-mib 4 --reserve-mib 16");
        target.Send("touch-every reserve 4");
        (ulong start, ulong length) = target.Regions["reserve"];
        IndependentPagemap.Page[] pages = IndependentPagemap.Pages(target.ProcessId, start, length);
        PageCounts counts = PageRegions.Count(target.ProcessId, start, length);
        long page = (long)PageSize;
        Assert.Equal(pages.Count(p => p.State == "Resident") * page, counts.ResidentBytes);
        Assert.Equal(pages.Count(p => p.State == "Absent") * page, counts.AbsentBytes);
        Assert.Equal(pages.Count(p => p.Exclusive) * page, counts.ExclusiveBytes);
        Assert.Equal(1024 * page, counts.ResidentBytes);
        Assert.Equal(2048, counts.Runs);
    }

    [Fact]
    public void AnAddressPastTheUserAddressSpaceIsARangeError()
    {
        using TargetProcess target = TargetProcess.Start("--anon-mib 1");
        using ProcDirectory directory = ProcDirectory.Open(target.ProcessId);
        foreach (PageSource source in new[] { PageSource.PagemapScan, PageSource.PagemapRead })
        {
            using PagemapReader reader = PagemapReader.Open(directory, source);
            Assert.Throws<PageRangeException>(() => reader.Count(0xffffffffff600000, 4096));
        }
    }
}
