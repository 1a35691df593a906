using MadvPS.Commands;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

/// <summary>
/// The words of a process advice from the core's figures: the forecast ShouldProcess shows and how
/// the ranges were checked. The expected texts are the ones the core wrote before the words moved
/// to Commands, letter for letter.
/// </summary>
public class AdviceTextTests
{
    [Fact]
    public void TheForecastNamesWhatIsResidentAndWhatIsPassedOver()
    {
        var forecast = new AdviceForecast { Resident = 8L << 20, PrivateResident = 6L << 20, Swapped = 1L << 20, Foretold = 4L << 20, Shared = 2L << 20, Locked = 1L << 20, NoSwap = 3L << 20 };
        Assert.Equal(
            "8 MiB resident, 6 MiB of it private, 1 MiB already in swap; foretold to leave RAM: 4 MiB; passed over: 2 MiB shared with other processes, 1 MiB locked, 3 MiB anonymous or shmem with no free swap",
            FailureText.Forecast(forecast, MemoryAdvice.PageOut));
        var plain = new AdviceForecast { Resident = 8L << 20, PrivateResident = 6L << 20 };
        Assert.Equal("8 MiB resident, 6 MiB of it private, 0 B already in swap", FailureText.Forecast(plain, MemoryAdvice.Cold));
        Assert.Equal("effect not foretold: its smaps cannot be read", FailureText.Forecast(new AdviceForecast { Unknown = true }, MemoryAdvice.Cold));
    }

    [Fact]
    public void TheLiveCheckSaysWhereTheVmasCameFrom()
    {
        Assert.Equal("nothing to check", FailureText.LiveCheck(new LiveCheck(LiveSource.Nothing, 42)));
        Assert.Equal("PROCMAP_QUERY, 3 VMA(s)", FailureText.LiveCheck(new LiveCheck(LiveSource.Query, 42, 3)));
        Assert.Equal(
            "not checked: no read access to its maps; process_madvise makes the same access check",
            FailureText.LiveCheck(new LiveCheck(LiveSource.NoAccess, 42)));
        Assert.Equal("/proc/42/maps read beside the calls, 90 VMA(s)", FailureText.LiveCheck(new LiveCheck(LiveSource.Maps, 42, 90)));
        Assert.Equal(
            "/proc/42/maps read beside the calls, 90 VMA(s); 2 large range(s) by PROCMAP_QUERY",
            FailureText.LiveCheck(new LiveCheck(LiveSource.Maps, 42, 90, 2)));
    }

    [Fact]
    public void AChangedRangeIsWordedPartByPart()
    {
        var was = new MappingIdentity("rw-p", "fd:01", 3, 0, "/srv/a.bin", 0x10000, 0x14000);
        var now = new LiveVma(0x10000, 0x18000, "r--p", 0x2000, "fd:02", 7, "");
        RangeChange[] changes =
        [
            new(0x10000, 0x11000, RangeChangeKind.Unmapped),
            new(0x11000, 0x12000, RangeChangeKind.Differs,
                MappingFields.Path | MappingFields.Device | MappingFields.Inode | MappingFields.Permissions | MappingFields.Offset | MappingFields.Bounds,
                now, was, OffsetNow: 0x3000, OffsetWas: 0x1000),
        ];
        Assert.Equal(
            "10000-11000 is not mapped any more; 11000-12000 is now anonymous memory, device fd:02, inode 7, r--p, offset 3000, part of the mapping 10000-18000, was /srv/a.bin, device fd:01, inode 3, rw-p, offset 1000, the mapping 10000-14000",
            FailureText.Changes(changes));
    }
}
