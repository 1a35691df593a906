using System.IO;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

/// <summary>
/// Collapse needs a PMD-aligned PMD-sized block: 2 MiB with 4 KiB pages, 32 MiB with 16 KiB,
/// 512 MiB with 64 KiB (a page table holds PAGE_SIZE/8 entries; arm64's Kconfig, v6.19).
/// </summary>
public class AdvicePolicyPageSizeTests
{
    [Theory]
    [InlineData(4096L, 2L << 20)]
    [InlineData(16384L, 32L << 20)]
    [InlineData(65536L, 512L << 20)]
    public void TheHugePageFollowsThePageSize(long page, long huge)
    {
        Assert.Equal(huge, PageGeometry.ForPageSize(page).HugePageSize);
    }

    [Theory]
    [InlineData(4096L, 2L << 20)]
    [InlineData(16384L, 32L << 20)]
    [InlineData(65536L, 512L << 20)]
    public void CollapseNeedsOneAlignedBlockOfThatKernelsHugePage(long page, long huge)
    {
        PageGeometry geometry = PageGeometry.ForPageSize(page);
        ulong aligned = 0x7f0000000000UL;
        Assert.Null(AdvicePolicy.Skip(MemoryAdvice.Collapse, aligned, huge, null, MappingKind.Anonymous, geometry));
        // One page short of a block, or a block that starts one page late: none fits.
        Assert.NotNull(AdvicePolicy.Skip(MemoryAdvice.Collapse, aligned, huge - page, null, MappingKind.Anonymous, geometry));
        Assert.NotNull(AdvicePolicy.Skip(MemoryAdvice.Collapse, aligned + (ulong)page, huge, null, MappingKind.Anonymous, geometry));
        // Starting a page late but a block and a page long holds the next aligned block only if long enough.
        Assert.Null(AdvicePolicy.Skip(MemoryAdvice.Collapse, aligned + (ulong)page, 2 * huge, null, MappingKind.Anonymous, geometry));
        // Other advice does not look at the huge page size.
        Assert.Null(AdvicePolicy.Skip(MemoryAdvice.PageOut, aligned, page, null, MappingKind.Anonymous, geometry));
    }

    [Fact]
    public void TheSystemHugePageIsTheKernelsPmdSize()
    {
        const string file = "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size";
        long expected = File.Exists(file) ? long.Parse(File.ReadAllText(file).Trim()) : 2L << 20;
        Assert.Equal(expected, PageGeometry.System.HugePageSize);
    }
}

/// <summary>mseal(2): discarding advice on sealed read-only anonymous memory is EPERM (mm/mseal.c, 6.10).</summary>
public class AdvicePolicySealTests
{
    [Theory]
    [InlineData(MemoryAdvice.DontNeed, VmFlags.Read | VmFlags.Sealed, true)]
    [InlineData(MemoryAdvice.Free, VmFlags.Sealed, true)]
    [InlineData(MemoryAdvice.DontNeed, VmFlags.Read | VmFlags.Write | VmFlags.Sealed, false)]
    [InlineData(MemoryAdvice.DontNeed, VmFlags.Read | VmFlags.Shared | VmFlags.Sealed, false)]
    [InlineData(MemoryAdvice.PageOut, VmFlags.Read | VmFlags.Sealed, false)]
    [InlineData(MemoryAdvice.DontNeed, VmFlags.Read, false)]
    public void DiscardingAdviceSkipsSealedReadOnlyAnonymousMemory(MemoryAdvice advice, VmFlags flags, bool skipped)
    {
        RangeSkip? reason = AdvicePolicy.Skip(advice, 0x7f0000000000, 4096, flags, MappingKind.Anonymous);
        Assert.Equal(skipped, reason?.Kind == SkipKind.Sealed);
    }
}
