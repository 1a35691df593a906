using System;
using System.Collections.Generic;
using System.Linq;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

/// <summary>The figures of a measurement, from smaps text as the kernel writes it, window by window.</summary>
public class AccessTrackerTests
{
    private static MemoryMapping Mapping(ulong start, ulong end, long rssKb, long referencedKb, string name = "", ulong inode = 0, string vmFlags = "rd wr mr mw me ac ")
    {
        var kb = new Dictionary<string, long> { ["Rss"] = rssKb, ["Referenced"] = referencedKb };
        return SmapsText.Parse(SmapsText.Entry(start, end, name: name, inode: inode, kb: kb, vmFlags: vmFlags)).Single();
    }

    private static void Window(AccessTracker tracker, params MemoryMapping[] mappings)
    {
        tracker.BeginWindow();
        foreach (MemoryMapping m in mappings)
        {
            tracker.Add(m);
        }

        tracker.EndWindow();
    }

    [Fact]
    public void AMappingTouchedInEveryWindowHasNoIdleWindowsAndTheUntouchedRestIsIdle()
    {
        var tracker = new AccessTracker(perMapping: true);
        Window(tracker, Mapping(0x10000, 0x410000, 4096, 1024), Mapping(0x500000, 0x900000, 4096, 0));
        Window(tracker, Mapping(0x10000, 0x410000, 4096, 2048), Mapping(0x500000, 0x900000, 4096, 0));
        Window(tracker, Mapping(0x10000, 0x410000, 4096, 512), Mapping(0x500000, 0x900000, 4096, 0));

        MemoryAccess[] result = tracker.Mappings(MappingSelection.All, TimeSpan.FromSeconds(1)).ToArray();
        Assert.Equal(2, result.Length);
        MemoryAccess hot = result[0], cold = result[1];
        Assert.Equal(new long[] { 1024 * 1024, 2048 * 1024, 512 * 1024 }, hot.ReferencedBytes);
        Assert.Equal(3, hot.WindowCount);
        Assert.Equal(2048 * 1024, hot.WorkingSetBytes);
        Assert.Equal((4096 - 2048) * 1024, hot.IdleBytes);
        Assert.Equal(0, hot.IdleWindows);
        Assert.Equal(512 * 1024, hot.Referenced);
        Assert.Equal(new long[] { 0, 0, 0 }, cold.ReferencedBytes);
        Assert.Equal(4096 * 1024, cold.IdleBytes);
        Assert.Equal(3, cold.IdleWindows);
        Assert.Equal(MappingSelection.All, cold.MappingType);
        Assert.Equal(TimeSpan.FromSeconds(1), cold.Window);
        Assert.Equal(0x500000UL, cold.Start);
        Assert.Equal(0x400000L, cold.Size);
    }

    [Fact]
    public void IdleWindowsCountsOnlyTheLastRunOfIdleWindows()
    {
        Assert.Equal(2, AccessTracker.TrailingIdleWindows(new long[] { 0, 4096, 0, 0 }));
        Assert.Equal(0, AccessTracker.TrailingIdleWindows(new long[] { 0, 0, 4096 }));
        Assert.Equal(0, AccessTracker.TrailingIdleWindows(Array.Empty<long>()));
        Assert.Equal(0, AccessTracker.Idle(4096, 8192));
    }

    [Fact]
    public void AMappingThatAppearsHasFiguresOnlyForTheLastWindows()
    {
        var tracker = new AccessTracker(perMapping: true);
        Window(tracker, Mapping(0x10000, 0x20000, 64, 0));
        Window(tracker, Mapping(0x10000, 0x20000, 64, 0), Mapping(0x30000, 0x40000, 64, 64));
        Window(tracker, Mapping(0x10000, 0x20000, 64, 0), Mapping(0x30000, 0x40000, 64, 0));

        MemoryAccess late = tracker.Mappings(MappingSelection.All, TimeSpan.FromSeconds(1)).Single(m => m.Start == 0x30000);
        Assert.Equal(2, late.WindowCount);
        Assert.Equal(new long[] { 64 * 1024, 0 }, late.ReferencedBytes);
        Assert.Equal(1, late.IdleWindows);
    }

    [Fact]
    public void AMappingThatIsGoneIsDroppedAndTotalsFollowEachWindow()
    {
        var tracker = new AccessTracker(perMapping: true);
        Window(tracker, Mapping(0x10000, 0x20000, 64, 16), Mapping(0x30000, 0x40000, 64, 32));
        Window(tracker, Mapping(0x10000, 0x20000, 48, 8));

        Assert.Equal(new long[] { 48 * 1024, 8 * 1024 }, tracker.ReferencedTotals);
        Assert.Equal(48 * 1024, tracker.Rss);
        Assert.Single(tracker.Mappings(MappingSelection.All, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void AHeapThatGrowsAndAStackThatGrowsDownStayTheSameMapping()
    {
        var tracker = new AccessTracker(perMapping: true);
        Window(tracker, Mapping(0x10000, 0x20000, 64, 64, "[heap]"), Mapping(0x7ff000, 0x800000, 4, 4, "[stack]", vmFlags: "rd wr mr mw me gd ac "));
        Window(tracker, Mapping(0x10000, 0x30000, 128, 0, "[heap]"), Mapping(0x7fd000, 0x800000, 12, 0, "[stack]", vmFlags: "rd wr mr mw me gd ac "));

        MemoryAccess[] result = tracker.Mappings(MappingSelection.All, TimeSpan.FromSeconds(1)).ToArray();
        Assert.Equal(2, result.Length);
        Assert.All(result, m => Assert.Equal(2, m.WindowCount));
        Assert.Equal(0x30000UL, result[0].End);
        Assert.Equal(0x7fd000UL, result[1].Start);
    }

    [Fact]
    public void AnotherFileAtTheSameAddressIsANewMapping()
    {
        var tracker = new AccessTracker(perMapping: true);
        Window(tracker, Mapping(0x10000, 0x20000, 64, 64, "/usr/lib/a.so", inode: 11));
        Window(tracker, Mapping(0x10000, 0x20000, 64, 0, "/usr/lib/b.so", inode: 12));

        MemoryAccess m = tracker.Mappings(MappingSelection.All, TimeSpan.FromSeconds(1)).Single();
        Assert.Equal("/usr/lib/b.so", m.Path);
        Assert.Equal(1, m.WindowCount);
    }

    [Fact]
    public void OfAMappingSplitInTwoThePartThatKeepsTheStartContinuesIt()
    {
        var tracker = new AccessTracker(perMapping: true);
        Window(tracker, Mapping(0x10000, 0x30000, 128, 128));
        Window(tracker, Mapping(0x10000, 0x20000, 64, 0), Mapping(0x20000, 0x30000, 64, 0));

        MemoryAccess[] result = tracker.Mappings(MappingSelection.All, TimeSpan.FromSeconds(1)).ToArray();
        Assert.Equal(2, result[0].WindowCount);
        Assert.Equal(1, result[1].WindowCount);
    }

    [Fact]
    public void AnAbandonedWindowLeavesTheCompletedOnesAsTheyWere()
    {
        var tracker = new AccessTracker(perMapping: true);
        Window(tracker, Mapping(0x10000, 0x20000, 64, 16));
        tracker.BeginWindow();
        tracker.Add(Mapping(0x10000, 0x20000, 64, 64));
        tracker.AbandonWindow();

        Assert.Equal(1, tracker.WindowCount);
        Assert.Equal(new long[] { 16 * 1024 }, tracker.ReferencedTotals);
        Assert.Equal(new long[] { 16 * 1024 }, tracker.Mappings(MappingSelection.All, TimeSpan.FromSeconds(1)).Single().ReferencedBytes);
    }

    [Fact]
    public void TotalsCarryTheProcessIdentity()
    {
        var tracker = new AccessTracker(perMapping: false);
        tracker.BeginWindow();
        tracker.AddTotals(8 << 20, 2 << 20);
        tracker.EndWindow();
        tracker.BeginWindow();
        tracker.AddTotals(8 << 20, 3 << 20);
        tracker.EndWindow();

        ProcessAccess p = tracker.Totals(new ProcessStat(42, "svc", 'S', 777), "svc", "boot", MappingSelection.File, TimeSpan.FromMilliseconds(500));
        Assert.Equal(42, p.ProcessId);
        Assert.Equal(777UL, p.ProcessStartTime);
        Assert.Equal("boot", p.BootId);
        Assert.Equal(MappingSelection.File, p.MappingType);
        Assert.Equal(2, p.WindowCount);
        Assert.Equal(new long[] { 2 << 20, 3 << 20 }, p.ReferencedBytes);
        Assert.Equal(3 << 20, p.WorkingSetBytes);
        Assert.Equal(5 << 20, p.IdleBytes);
        Assert.Throws<InvalidOperationException>(() => tracker.Mappings(MappingSelection.File, TimeSpan.FromSeconds(1)).ToArray());
    }
}
