using System.Collections.Generic;
using MadvPS.Commands;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

/// <summary>The split of a range over the live VMAs: what is still as read is sent, the rest reported.</summary>
public class LiveMappingsTests
{
    private static readonly MappingIdentity s_fileA = new("r--p", "fd:01", 3, 0, "/srv/a.bin");

    private static PlannedRange Range(ulong start, long length, MappingIdentity? identity) =>
        new() { Start = start, Length = length, Identity = identity };

    [Fact]
    public void ARangeStillAsReadIsSentWhole()
    {
        var range = Range(0x10000, 0x4000, s_fileA);
        LiveMappings.Check(range, new List<LiveVma> { new(0x10000, 0x14000, "r--p", 0, "fd:01", 3, "/srv/a.bin") });
        Assert.Null(range.Changes);
        Assert.Null(range.Pieces); // null: sent as it is, whole
        Assert.Equal(0, range.ChangedBytes);
    }

    [Fact]
    public void AnotherFileAtTheSameAddressIsNotSentAndNamed()
    {
        var range = Range(0x10000, 0x4000, s_fileA);
        LiveMappings.Check(range, new List<LiveVma> { new(0x10000, 0x14000, "r--p", 0, "fd:01", 7, "/srv/b.bin") });
        Assert.Empty(range.Pieces!);
        Assert.Equal(0x4000, range.ChangedBytes);
        RangeChange change = Assert.Single(range.Changes!);
        Assert.Equal((RangeChangeKind.Differs, MappingFields.Path | MappingFields.Inode), (change.Kind, change.Fields));
        Assert.Equal((0x10000UL, 0x14000UL, 7UL, 3UL), (change.From, change.To, change.Now.Inode, change.Was!.Inode));
        Assert.Contains("now /srv/b.bin, inode 7, was /srv/a.bin, inode 3", FailureText.Changes(range.Changes!));
    }

    [Fact]
    public void AHoleAndAnotherMappingAreCutOutAndTheRestIsSent()
    {
        // [0x10000,0x12000) as read, [0x12000,0x13000) a hole, [0x13000,0x14000) anonymous now.
        var range = Range(0x10000, 0x4000, s_fileA);
        LiveMappings.Check(range, new List<LiveVma>
        {
            new LiveVma(0x10000, 0x12000, "r--p", 0, "fd:01", 3, "/srv/a.bin"),
            new(0x13000, 0x20000, "rw-p", 0, "00:00", 0, ""),
        });
        Assert.Equal(new[] { new AdviceRange(0x10000, 0x2000) }, range.Pieces);
        Assert.Equal(0x2000, range.ChangedBytes);
        Assert.Contains("12000-13000 is not mapped any more", FailureText.Changes(range.Changes!));
        Assert.Contains("13000-14000 is now anonymous memory", FailureText.Changes(range.Changes!));
    }

    [Fact]
    public void TheSameFileAtAnotherOffsetIsAnotherPage()
    {
        var range = Range(0x10000, 0x1000, s_fileA);
        LiveMappings.Check(range, new List<LiveVma> { new(0x10000, 0x11000, "r--p", 0x5000, "fd:01", 3, "/srv/a.bin") });
        Assert.Empty(range.Pieces!);
        Assert.Contains("offset 5000", FailureText.Changes(range.Changes!));
    }

    [Fact]
    public void WithoutIdentityOnlyBeingMappedIsChecked()
    {
        var range = Range(0x10000, 0x3000, identity: null);
        LiveMappings.Check(range, new List<LiveVma> { new(0x11000, 0x12000, "rw-p", 0, "00:00", 0, "") });
        Assert.Equal(new[] { new AdviceRange(0x11000, 0x1000) }, range.Pieces);
        Assert.Equal(0x2000, range.ChangedBytes);
    }

    [Fact]
    public void NothingMappedAnyMoreIsReportedWhole()
    {
        var range = Range(0x10000, 0x3000, s_fileA);
        LiveMappings.Check(range, new List<LiveVma>());
        Assert.Empty(range.Pieces!);
        Assert.Equal(0x3000, range.ChangedBytes);
        Assert.Contains("10000-13000 is not mapped any more", FailureText.Changes(range.Changes!));
    }

    [Fact]
    public void TheCursorWalksOnForRangesInOrderAndSearchesAgainForOneBehindIt()
    {
        var vmas = new List<LiveVma>
        {
            new(0x10000, 0x11000, "r--p", 0, "fd:01", 3, "/srv/a.bin"),
            new(0x11000, 0x12000, "rw-p", 0, "00:00", 0, ""),
            new(0x20000, 0x21000, "r--p", 0x1000, "fd:01", 3, "/srv/a.bin"),
        };
        var late = Range(0x20000, 0x1000, new MappingIdentity("r--p", "fd:01", 3, 0x1000, "/srv/a.bin"));
        var early = Range(0x10000, 0x1000, s_fileA);
        var anonymous = Range(0x11000, 0x1000, new MappingIdentity("rw-p", null, null, null, ""));
        int cursor = -1;

        LiveMappings.Check(late, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(vmas), ref cursor);
        Assert.Equal(2, cursor);
        // Behind the cursor: found by a search from scratch, not missed.
        LiveMappings.Check(early, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(vmas), ref cursor);
        Assert.Equal(0, cursor);
        LiveMappings.Check(anonymous, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(vmas), ref cursor);
        Assert.Equal(1, cursor);

        Assert.All(new[] { late, early, anonymous }, r => Assert.Null(r.Changes));
        Assert.All(new[] { late, early, anonymous }, r => Assert.Null(r.Pieces));
    }

    [Fact]
    public void WithSameBoundsAMappingThatGrewIsChangedAndWithoutItTheSameRangePasses()
    {
        // Read as the whole VMA 10000-14000; now the VMA at that place is 10000-18000, alike in all else.
        var identity = new MappingIdentity("rw-p", "00:00", 0, 0, "", VmaStart: 0x10000, VmaEnd: 0x14000);
        var vmas = new List<LiveVma> { new(0x10000, 0x18000, "rw-p", 0, "00:00", 0, "") };
        var strict = Range(0x10000, 0x4000, identity);
        strict.SameBounds = true;
        var plain = Range(0x10000, 0x4000, identity);

        LiveMappings.Check(strict, vmas);
        LiveMappings.Check(plain, vmas);

        Assert.Empty(strict.Pieces!);
        Assert.Equal(0x4000, strict.ChangedBytes);
        Assert.Contains("now part of the mapping 10000-18000, was the mapping 10000-14000", FailureText.Changes(strict.Changes!));
        Assert.Null(plain.Changes);
        Assert.Null(plain.Pieces);

        // The same bounds as read: sent whole.
        var unchanged = Range(0x10000, 0x4000, identity);
        unchanged.SameBounds = true;
        LiveMappings.Check(unchanged, new List<LiveVma> { new(0x10000, 0x14000, "rw-p", 0, "00:00", 0, "") });
        Assert.Null(unchanged.Changes);
        Assert.Null(unchanged.Pieces);
    }
}
