using MadvPS.Commands;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

/// <summary>
/// The sentences for why a range is skipped and why smaps was read, from the policy's structured
/// answers. The expected texts are the ones the core wrote before the words moved to
/// Commands/FailureText.Skips.cs, letter for letter.
/// </summary>
public class SkipTextTests
{
    private const ulong Address = 0x7f0000000000;

    private static string Skip(MemoryAdvice advice, ulong start, long length, VmFlags? flags = null, MappingKind kind = MappingKind.Anonymous, PageGeometry? geometry = null) =>
        FailureText.Skip(AdvicePolicy.Skip(advice, start, length, flags, kind, geometry)!);

    [Fact]
    public void TheRangeChecksSayWhatIsWrongWithTheRange()
    {
        Assert.Equal("The range is empty.", Skip(MemoryAdvice.Cold, Address, 0));
        Assert.Equal(
            "[vsyscall] lies in the kernel's half of the address space; the kernel would fail the whole call with EFAULT.",
            Skip(MemoryAdvice.Cold, 0xffffffffff600000, 4096, kind: MappingKind.Vsyscall));
        Assert.Equal(
            "Start 0xfffffffffffff000 plus Size 8192 passes 2^64: no address space holds this range. Check -Address and -Length.",
            Skip(MemoryAdvice.Cold, 0xfffffffffffff000, 8192));
        Assert.Equal(
            "The range 0xff000000000000-0x100000000001000 reaches into the kernel's half of the address space (user space ends below 0x100000000000000 even with 5-level page tables); the kernel would fail the whole call with EFAULT.",
            Skip(MemoryAdvice.Cold, 0xff000000000000, 0x1000000000000 + 0x1000));
    }

    [Theory]
    [InlineData(VmFlags.Locked, "PageOut does not apply to locked (mlocked) memory: VmFlags 'lo'.")]
    [InlineData(VmFlags.PfnMap, "PageOut does not apply to PFN-mapped memory: VmFlags 'pf'.")]
    [InlineData(VmFlags.HugeTlb, "PageOut does not apply to hugetlbfs memory: VmFlags 'ht'.")]
    [InlineData(VmFlags.IO, "PageOut does not apply to device (I/O) memory: VmFlags 'io'.")]
    public void TheLruFlagsAreNamedWithTheirVmFlagsLetters(VmFlags flag, string expected)
    {
        Assert.Equal(expected, Skip(MemoryAdvice.PageOut, Address, 4096, VmFlags.Read | flag));
    }

    [Fact]
    public void SealedMemoryAndCollapseSayWhy()
    {
        Assert.Equal(
            "DontNeed is refused on sealed (mseal) read-only anonymous memory: VmFlags 'sl'.",
            Skip(MemoryAdvice.DontNeed, Address, 4096, VmFlags.Read | VmFlags.Sealed));
        Assert.Equal(
            "Collapse needs a 2 MiB-aligned 2 MiB block (this kernel's PMD huge page) inside the range; this range holds none.",
            Skip(MemoryAdvice.Collapse, Address, 4096, geometry: PageGeometry.ForPageSize(4096)));
        Assert.Equal(
            "Collapse needs a 32 MiB-aligned 32 MiB block (this kernel's PMD huge page) inside the range; this range holds none.",
            Skip(MemoryAdvice.Collapse, Address, 2L << 20, geometry: PageGeometry.ForPageSize(16384)));
    }

    [Fact]
    public void WhySmapsWasReadIsOneClause()
    {
        Assert.Equal("the process has locked memory (VmLck 8 kB)", FailureText.SmapsCause(new SmapsCause(SmapsCauseKind.LockedMemory, LockedBytes: 8192)));
        Assert.Equal("its VmLck could not be read", FailureText.SmapsCause(new SmapsCause(SmapsCauseKind.LockedUnknown)));
        Assert.Equal(
            "10000-12000 /dev/dri/card0 is not anonymous memory or a regular file on a page-cache filesystem",
            FailureText.SmapsCause(new SmapsCause(SmapsCauseKind.NotPageCache, Start: 0x10000, End: 0x12000, Path: "/dev/dri/card0")));
    }
}
