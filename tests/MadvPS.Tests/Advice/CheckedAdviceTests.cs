using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using MadvPS.Commands;
using MadvPS.Core;
using MadvPS.Interop;
using Xunit;

namespace MadvPS.Tests;

/// <summary>
/// AdvicePlan.ExecuteChecked with more ranges than PROCMAP_QUERY is used for: the ranges are
/// checked against /proc/PID/maps as a thread reads it beside the calls. The ranges are pages of
/// mappings of this test process; the pages whose permissions the test changed after "reading"
/// them must be reported and never sent, the others sent whole, in the fewest calls.
/// </summary>
[Collection(nameof(ProcessMadviseCounter))]
[Trait("Needs", "Process")]
public sealed partial class CheckedAdviceTests : IDisposable
{
    private const int PROT_READ = 1, PROT_WRITE = 2, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20, MAP_NORESERVE = 0x4000;
    private static readonly long Page = Environment.SystemPageSize;
    private readonly List<(IntPtr Address, long Length)> _mapped = new();

    public void Dispose()
    {
        foreach ((IntPtr address, long length) in _mapped)
        {
            munmap(address, (nuint)length);
        }
    }

    private IntPtr Map(long length)
    {
        IntPtr address = mmap(IntPtr.Zero, (nuint)length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        Assert.NotEqual(new IntPtr(-1), address);
        _mapped.Add((address, length));
        return address;
    }

    private static ProcessHandle OpenSelf() =>
        ProcessHandle.Open(Environment.ProcessId, MappingReader.Describe(Environment.ProcessId).StartTime, expectedBootId: null);

    private static readonly MappingIdentity s_readWrite = new("rw-p", null, null, null, "");

    [Fact]
    public void PagesChangedSinceTheReadAreNotSentAndTheRestGoWholeInOneCall()
    {
        const int pages = 300;
        IntPtr block = Map(pages * Page);
        for (int i = 0; i < pages; i++)
        {
            Marshal.WriteByte(block, (int)(i * Page), 1);
        }

        // "Read" as rw-p; then every fourth page becomes r--p, a VMA of its own.
        var plan = new AdvicePlan(MemoryAdvice.Cold);
        var order = Enumerable.Range(0, pages).OrderBy(i => (i * 7919) % pages).ToArray(); // not in address order
        foreach (int i in order)
        {
            plan.Add((ulong)(block + (nint)(i * Page)), Page, "", flags: null, MappingKind.Anonymous, s_readWrite);
        }

        for (int i = 3; i < pages; i += 4)
        {
            Assert.Equal(0, mprotect(block + (nint)(i * Page), (nuint)Page, PROT_READ));
        }

        using ProcessHandle self = OpenSelf();
        long callsBefore = Libc.ProcessMadviseCalls;
        LiveCheck source = plan.ExecuteChecked(self, null, null, null);

        Assert.Equal(LiveSource.Maps, source.Source);
        Assert.Contains("/maps read beside the calls", FailureText.LiveCheck(source));
        Assert.Equal(1, Libc.ProcessMadviseCalls - callsBefore); // 225 ranges: one call
        Assert.Equal(1, plan.Calls);
        for (int k = 0; k < pages; k++)
        {
            int i = order[k];
            PlannedRange range = plan.Ranges[k];
            if (i % 4 == 3)
            {
                Assert.False(range.Outcome.Sent, $"page {i} changed and must not be sent");
                Assert.Equal(0, range.Outcome.BytesAdvised);
                Assert.Contains("now r--p, was rw-p", FailureText.Changes(range.Changes!));
            }
            else
            {
                Assert.Null(range.Changes);
                Assert.True(range.Outcome.Sent);
                Assert.Equal(Page, range.Outcome.BytesAdvised);
            }
        }
    }

    [Fact]
    public void ALargeRangeChangedInPartIsSentOnlyWhereItIsAsReadAndTheCallsStayTheFewest()
    {
        // A 3 GiB range (more than one call's MAX_RW_COUNT) whose last 64 MiB become r--p, and 100
        // small ranges: the fewest calls are ceil(bytes / MAX_RW_COUNT), computed here.
        const long large = 3L << 30;
        const long changed = 64L << 20;
        IntPtr big = Map(large);
        IntPtr small = Map(100 * Page);
        var plan = new AdvicePlan(MemoryAdvice.Cold);
        for (int i = 0; i < 100; i++)
        {
            plan.Add((ulong)(small + (nint)(i * Page)), Page, "", flags: null, MappingKind.Anonymous, s_readWrite);
        }

        plan.Add((ulong)big, large, "", flags: null, MappingKind.Anonymous, s_readWrite);
        long kept = large - changed;
        Assert.Equal(0, mprotect(big + (nint)kept, (nuint)changed, PROT_READ));

        using ProcessHandle self = OpenSelf();
        long callsBefore = Libc.ProcessMadviseCalls;
        plan.ExecuteChecked(self, null, null, null);

        long maxBytes = int.MaxValue & ~(Page - 1);
        long sentBytes = large - changed + 100 * Page;
        Assert.Equal((sentBytes + maxBytes - 1) / maxBytes, Libc.ProcessMadviseCalls - callsBefore);
        PlannedRange bigRange = plan.Ranges[100];
        Assert.Equal(large - changed, bigRange.Outcome.BytesAdvised);
        Assert.Equal(changed, bigRange.ChangedBytes);
        ulong changedStart = (ulong)big + (ulong)(large - changed);
        Assert.Contains($"{changedStart:x}-{changedStart + (ulong)changed:x} is now r--p, was rw-p", FailureText.Changes(bigRange.Changes!));
        Assert.All(plan.Ranges.Take(100), r => Assert.Equal(Page, r.Outcome.BytesAdvised));
    }

    [Fact]
    public void AStopAfterTheFirstCallSendsNoMore()
    {
        // 3000 pages of one mapping: three calls when nothing stops them.
        const int pages = 3000;
        IntPtr block = Map(pages * Page);
        var plan = new AdvicePlan(MemoryAdvice.Cold);
        for (int i = 0; i < pages; i++)
        {
            plan.Add((ulong)(block + (nint)(i * Page)), Page, "", flags: null, MappingKind.Anonymous, s_readWrite);
        }

        using ProcessHandle self = OpenSelf();
        long callsBefore = Libc.ProcessMadviseCalls;
        plan.ExecuteChecked(self, () => Libc.ProcessMadviseCalls - callsBefore >= 1, null, null);

        Assert.Equal(1, Libc.ProcessMadviseCalls - callsBefore);
        Assert.Equal(1024, plan.Ranges.Count(r => r.Outcome.Sent));
        Assert.All(plan.Ranges.Skip(1024), r => Assert.Equal(0, r.Outcome.BytesAdvised));
    }

    [Fact]
    public void TheFeedHandsOverTheVmasOfMapsInOrder()
    {
        // A process that maps nothing while it sleeps; its maps is read here as text.
        using Process sleeper = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        try
        {
            // Until it sleeps, the dynamic loader is still mapping and protecting: wait for that.
            string maps = $"/proc/{sleeper.Id}/maps";
            DateTime deadline = DateTime.UtcNow.AddSeconds(20);
            string text = File.ReadAllText(maps);
            while (true)
            {
                System.Threading.Thread.Sleep(100);
                string again = File.ReadAllText(maps);
                string stat0 = File.ReadAllText($"/proc/{sleeper.Id}/stat");
                if (again == text && stat0[(stat0.LastIndexOf(')') + 2)] == 'S')
                {
                    break;
                }

                Assert.True(DateTime.UtcNow < deadline, "sleep did not settle");
                text = again;
            }

            ProcessStat stat = MappingReader.Describe(sleeper.Id);
            var expected = text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Select(f => (Start: Convert.ToUInt64(f[0].Split('-')[0], 16), End: Convert.ToUInt64(f[0].Split('-')[1], 16), Permissions: f[1], Path: f.Length > 5 ? f[5] : ""))
                .ToList();

            using var feed = new LiveMapsFeed(stat);
            feed.WaitFor(expected[0].End);
            Assert.True(feed.Count >= 1);
            Assert.True(feed.Frontier >= expected[0].End);
            feed.WaitFor(ulong.MaxValue);

            Assert.True(feed.Done);
            Assert.Equal(expected.Select(e => (e.Start, e.End, e.Permissions, e.Path)), feed.Vmas.ToArray().Select(v => (v.Start, v.End, v.Permissions, v.Path)));
        }
        finally
        {
            sleeper.Kill();
        }
    }

    [Fact]
    public void TheFeedOfAProcessThatIsGoneGivesItsError()
    {
        using Process sleeper = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        ProcessStat stat = MappingReader.Describe(sleeper.Id);
        sleeper.Kill();
        sleeper.WaitForExit();

        using var feed = new LiveMapsFeed(stat);
        Assert.Throws<ProcessAccessException>(() => feed.WaitFor(ulong.MaxValue));
    }

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial IntPtr mmap(IntPtr address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc.so.6")]
    private static partial int munmap(IntPtr address, nuint length);

    [LibraryImport("libc.so.6")]
    private static partial int mprotect(IntPtr address, nuint length, int protection);
}
