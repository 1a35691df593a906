using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using MadvPS;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

/// <summary>
/// Where Set-ProcessMadvise lists mappings from, on this test process with mappings of its own:
/// /proc/PID/maps when no selected mapping can carry lo/pf/ht/io, smaps otherwise, and the same
/// plan either way. The tests of this class run one after another (one xunit collection), and
/// only they lock memory in this process.
/// </summary>
[Trait("Needs", "Process")]
public partial class AdviceMappingsTests
{
    private const int PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2;
    private const int MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20;
    private const int O_RDWR = 2;
    private static readonly long Page = Environment.SystemPageSize;

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial IntPtr mmap(IntPtr addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int munmap(IntPtr addr, nuint length);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int mprotect(IntPtr addr, nuint length, int prot);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int mlock(IntPtr addr, nuint length);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int munlock(IntPtr addr, nuint length);

    [LibraryImport("libc.so.6", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags, int mode);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int close(int fd);

    // Eight one-page VMAs in a row: protections alternate, so no two merge.
    private sealed class Region : IDisposable
    {
        public readonly IntPtr Address;
        public readonly long Length = 8 * Page;

        public Region()
        {
            Address = mmap(IntPtr.Zero, (nuint)Length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            Assert.NotEqual(new IntPtr(-1), Address);
            for (int i = 0; i < 8; i++)
            {
                Marshal.WriteByte(Address + (nint)(i * Page), 1);
            }

            for (int i = 1; i < 8; i += 2)
            {
                Assert.Equal(0, mprotect(Address + (nint)(i * Page), (nuint)Page, PROT_READ));
            }
        }

        public ulong Start => (ulong)Address;
        public ulong End => (ulong)Address + (ulong)Length;
        public IntPtr PageAt(int i) => Address + (nint)(i * Page);

        public void Dispose() => munmap(Address, (nuint)Length);
    }

    private static ProcessStat Self => MappingReader.Describe(Environment.ProcessId);

    private static List<(ulong Start, long Length, RangeSkip? Skip)> Within(AdvicePlan plan, Region region) =>
        plan.Ranges.Where(r => r.Start >= region.Start && r.Start < region.End).Select(r => (r.Start, r.Length, r.Skip)).ToList();

    private static AdvicePlan FromSmaps(MemoryAdvice advice, MappingSelection selection)
    {
        var plan = new AdvicePlan(advice);
        foreach (MemoryMapping m in MappingReader.ReadMappings(Self, "self"))
        {
            if (AdvicePolicy.Selects(selection, m.Kind))
            {
                plan.Add(m.Start, m.Size, m.Path, m.VmFlags, m.Kind);
            }
        }

        return plan;
    }

    [Fact]
    public void ColdOnPlainMappingsListsFromMapsTheSamePlanAsSmaps()
    {
        using var region = new Region();
        var plan = new AdvicePlan(MemoryAdvice.Cold);
        MappingSource source = AdviceMappings.Collect(Self, "self", MappingSelection.All, plan, out SmapsCause? reason);
        Assert.True(source == MappingSource.Maps, $"smaps was read: {reason}");
        var fromMaps = Within(plan, region);
        Assert.Equal(8, fromMaps.Count);
        Assert.All(fromMaps, r => Assert.Null(r.Skip));
        Assert.Equal(fromMaps, Within(FromSmaps(MemoryAdvice.Cold, MappingSelection.All), region));
    }

    [Fact]
    public void ALockedMappingListsFromSmapsAndIsSkippedBetweenItsNeighbours()
    {
        using var region = new Region();
        Assert.Equal(0, mlock(region.PageAt(3), (nuint)Page));
        try
        {
            Assert.True(AdviceMappings.LockedBytes($"/proc/{Environment.ProcessId}") >= Page);
            var plan = new AdvicePlan(MemoryAdvice.PageOut);
            Assert.Equal(MappingSource.Smaps, AdviceMappings.Collect(Self, "self", MappingSelection.All, plan));
            var ranges = Within(plan, region);
            Assert.Equal(8, ranges.Count);
            Assert.Equal(SkipKind.Locked, ranges[3].Skip?.Kind);
            Assert.All(ranges.Where((_, i) => i != 3), r => Assert.Null(r.Skip));

            // Advice that looks at no VmFlags still needs no smaps.
            var willNeed = new AdvicePlan(MemoryAdvice.WillNeed);
            Assert.Equal(MappingSource.Maps, AdviceMappings.Collect(Self, "self", MappingSelection.All, willNeed));
            Assert.All(Within(willNeed, region), r => Assert.Null(r.Skip));
        }
        finally
        {
            munlock(region.PageAt(3), (nuint)Page);
        }
    }

    [Fact]
    public void AMappedDeviceListsFromSmapsUnlessTheSelectionLeavesItOut()
    {
        // A private mapping of /dev/zero keeps the device as its file: a driver's mmap, which
        // maps cannot tell from a PFN map.
        int fd = open("/dev/zero", O_RDWR, 0);
        Assert.True(fd >= 0);
        IntPtr device = mmap(IntPtr.Zero, (nuint)Page, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        Assert.NotEqual(new IntPtr(-1), device);
        try
        {
            Assert.Equal(MappingSource.Smaps, AdviceMappings.Collect(Self, "self", MappingSelection.All, new AdvicePlan(MemoryAdvice.Cold)));
            Assert.Equal(MappingSource.Maps, AdviceMappings.Collect(Self, "self", MappingSelection.Anonymous, new AdvicePlan(MemoryAdvice.Cold)));
        }
        finally
        {
            munmap(device, (nuint)Page);
        }
    }

    [Fact]
    public void OnlyRegularFilesOnPageCacheFilesystemsPass()
    {
        string file = Path.GetTempFileName();
        try
        {
            Assert.True(AdviceMappings.IsPageCacheFile(file));
            Assert.True(AdviceMappings.IsPageCacheFile($"/proc/self/map_files/{FirstFileMapping()}") == true);
        }
        finally
        {
            File.Delete(file);
        }

        Assert.False(AdviceMappings.IsPageCacheFile("/dev/null"));
        Assert.False(AdviceMappings.IsPageCacheFile("/proc/self/status"));
        Assert.False(AdviceMappings.IsPageCacheFile("/sys/kernel/mm/transparent_hugepage/enabled"));
        Assert.Null(AdviceMappings.IsPageCacheFile("/nonexistent/madvps"));
    }

    // The start-end of a mapping of this process's own executable code: a regular file.
    private static string FirstFileMapping()
    {
        string line = File.ReadLines("/proc/self/maps").First(l => l.Contains("/libc.so") || l.Contains("libcoreclr"));
        return line.Substring(0, line.IndexOf(' '));
    }

    [Theory]
    [InlineData("Name:\tx\nVmLck:\t       0 kB\nVmPin:\t0 kB\n", 0)]
    [InlineData("Name:\tx\nVmLck:\t      12 kB\n", 12 * 1024)]
    [InlineData("Name:\tkthreadd\nState:\tS (sleeping)\n", 0)]
    [InlineData("VmLck:\tlots\n", -1)]
    public void VmLckIsReadInBytes(string status, long expected)
    {
        string directory = Directory.CreateTempSubdirectory("madvps-status-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "status"), status);
            Assert.Equal(expected, AdviceMappings.LockedBytes(directory));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        Assert.Equal(-1, AdviceMappings.LockedBytes("/nonexistent/madvps"));
    }
}
