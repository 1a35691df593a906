using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

/// <summary>
/// Mappings read together (PageGroup): each mapping's runs and totals must be what the test's own
/// pagemap decoding gives for that mapping alone, however the mappings were grouped.
/// </summary>
[Collection(ProcessChurnCollection.Name)]
public class PagesGroupedTests
{
    private static readonly ulong PageSize = (ulong)Environment.SystemPageSize;

    // The mappings of [from, to) as the test reads /proc/PID/maps itself, in address order.
    private static List<MappedRange> MapsIn(int processId, ulong from, ulong to)
    {
        var pieces = new List<MappedRange>();
        foreach (string line in File.ReadLines($"/proc/{processId}/maps"))
        {
            string range = line.Substring(0, line.IndexOf(' '));
            int dash = range.IndexOf('-');
            ulong start = ulong.Parse(range.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            ulong end = ulong.Parse(range.AsSpan(dash + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (start >= from && end <= to)
            {
                pieces.Add(new MappedRange(start, end, "", MappingKind.Anonymous));
            }
        }

        return pieces;
    }

    // The pieces fed through one group as the cmdlet does: a group is read when the next piece does not fit.
    private static List<List<MappedRange>> Grouped(IEnumerable<MappedRange> pieces, Action<PageGroup> read)
    {
        var group = new PageGroup();
        var groups = new List<List<MappedRange>>();
        foreach (MappedRange piece in pieces)
        {
            if (!group.TryAdd(piece))
            {
                groups.Add(group.Pieces.ToList());
                read(group);
                group.Clear();
                Assert.True(group.TryAdd(piece));
            }
        }

        groups.Add(group.Pieces.ToList());
        read(group);
        return groups;
    }

    private static IEnumerable<MappedRange> Pieces(TargetProcess target)
    {
        // 3000 one-page mappings, alternately written and inaccessible (never touched), then a
        // range cut out of the middle of an anonymous mapping and a reservation larger than a group.
        (ulong manyStart, ulong manyLength) = target.Regions["many"];
        (ulong anonStart, ulong anonLength) = target.Regions["anon"];
        (ulong reserveStart, ulong reserveLength) = target.Regions["reserve"];
        var pieces = MapsIn(target.ProcessId, manyStart, manyStart + manyLength);
        Assert.Equal(3000, pieces.Count);
        pieces.Add(new MappedRange(anonStart + 3 * PageSize, anonStart + anonLength - 5 * PageSize, "", MappingKind.Anonymous));
        pieces.Add(new MappedRange(reserveStart, reserveStart + reserveLength, "", MappingKind.Anonymous));
        return pieces.OrderBy(p => p.Start);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EachPiecesRunsAreItsPagesAlone(bool scan)
    {
        PageSource source = scan ? PageSource.PagemapScan : PageSource.PagemapRead;
        using TargetProcess target = TargetProcess.Start("--mappings 3000 --anon-mib 4 --reserve-mib 160");
        target.Send("touch-every reserve 3");
        using ProcDirectory directory = ProcDirectory.Open(target.ProcessId);
        using PagemapReader reader = PagemapReader.Open(directory, source);
        int pieces = 0;
        List<List<MappedRange>> groups = Grouped(Pieces(target), group =>
        {
            var byPiece = group.Runs(reader).GroupBy(r => r.Piece).ToDictionary(g => g.Key, g => g.Select(r => r.Run).ToList());
            for (int i = 0; i < group.Count; i++)
            {
                MappedRange piece = group.Pieces[i];
                List<PageRun> runs = byPiece[i];
                ulong length = piece.End - piece.Start;
                IndependentPagemap.Page[] expected = IndependentPagemap.Pages(target.ProcessId, piece.Start, length);
                var actual = new IndependentPagemap.Page[expected.Length];
                ulong next = piece.Start;
                foreach (PageRun run in runs)
                {
                    Assert.Equal(next, run.Start);
                    for (ulong a = run.Start; a < run.End; a += PageSize)
                    {
                        actual[(a - piece.Start) / PageSize] = new(run.State.ToString(), run.Exclusive, run.FilePage);
                    }

                    next = run.End;
                }

                Assert.Equal(piece.End, next);
                Assert.Equal(expected, actual);
                for (int r = 1; r < runs.Count; r++)
                {
                    Assert.False(runs[r - 1].Joins(runs[r]), $"Piece at 0x{piece.Start:x}: runs {r - 1} and {r} should be one run.");
                }

                // Huge and ZeroPage, which the test cannot decode from pagemap words: as the piece read alone.
                Assert.Equal(reader.Runs(piece.Start, length).ToList(), runs);
                pieces++;
            }
        });

        Assert.Equal(3002, pieces);
        // The one-page mappings went in groups of many (a window each), the reservation alone.
        Assert.True(groups.Count < 10, $"{groups.Count} groups");
        Assert.Contains(groups, g => g.Count > 1000);
        Assert.Contains(groups, g => g.Count == 1 && g[0].End - g[0].Start == 160UL << 20);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EachPiecesTotalsAreItsPagesAlone(bool scan)
    {
        PageSource source = scan ? PageSource.PagemapScan : PageSource.PagemapRead;
        using TargetProcess target = TargetProcess.Start("--mappings 3000 --anon-mib 4 --reserve-mib 160");
        target.Send("touch-every reserve 3");
        using ProcDirectory directory = ProcDirectory.Open(target.ProcessId);
        using PagemapReader reader = PagemapReader.Open(directory, source);
        int pieces = 0;
        Grouped(Pieces(target), group =>
        {
            var counts = new PageCounts[group.Count];
            group.Counts(reader, counts);
            for (int i = 0; i < group.Count; i++)
            {
                MappedRange piece = group.Pieces[i];
                IndependentPagemap.Page[] pages = IndependentPagemap.Pages(target.ProcessId, piece.Start, piece.End - piece.Start);
                long Bytes(Func<IndependentPagemap.Page, bool> which) => pages.Count(which) * (long)PageSize;
                long runs = pages.Length == 0 ? 0 : 1 + pages.Zip(pages.Skip(1), (a, b) => a != b).Count(changed => changed);
                var expected = new PageCounts(Bytes(p => p.State == "Resident"), Bytes(p => p.State == "Swapped"), Bytes(p => p.State == "Absent"),
                    Bytes(p => p.Exclusive), Bytes(p => p.File), runs);
                Assert.Equal(expected, counts[i]);
                pieces++;
            }
        });

        Assert.Equal(3002, pieces);
    }

    [Fact]
    public void TakesPiecesInOrderWithinOneWindow()
    {
        ulong window = PageGroup.SpanLimit;
        var group = new PageGroup();
        Assert.True(group.TryAdd(new MappedRange(0x10000, 0x10000 + PageSize / 2, "", MappingKind.Anonymous)));
        // Shares the page of the piece before it.
        Assert.False(group.TryAdd(new MappedRange(0x10000 + PageSize / 2, 0x10000 + PageSize, "", MappingKind.Anonymous)));
        // Before it.
        Assert.False(group.TryAdd(new MappedRange(0x1000, 0x2000, "", MappingKind.Anonymous)));
        Assert.True(group.TryAdd(new MappedRange(0x10000 + PageSize, 0x10000 + 2 * PageSize, "", MappingKind.Anonymous)));
        // Ends past one window from the group's first page.
        Assert.False(group.TryAdd(new MappedRange(0x10000 + window - PageSize, 0x10000 + window + 1, "", MappingKind.Anonymous)));
        Assert.True(group.TryAdd(new MappedRange(0x10000 + window - PageSize, 0x10000 + window, "", MappingKind.Anonymous)));
        Assert.Equal(3, group.Count);
        Assert.Equal(0x10000UL, group.Start);
        Assert.Equal(0x10000 + window, group.End);

        // A piece larger than a window is a group of its own.
        group.Clear();
        Assert.True(group.TryAdd(new MappedRange(0, 4 * window, "", MappingKind.Anonymous)));
        Assert.False(group.TryAdd(new MappedRange(4 * window, 4 * window + PageSize, "", MappingKind.Anonymous)));
    }

    [Fact]
    public void ARangeUnmappedSinceTheListWasReadIsAskedForWithoutReadingMapsAgain()
    {
        using TargetProcess target = TargetProcess.Start("--anon-mib 4");
        (ulong anonStart, ulong anonLength) = target.Regions["anon"];
        using PagedProcess process = PagedProcess.Open(target.ProcessId, null, null, null);
        Assert.Contains(process.Mappings, m => m.Start == anonStart && m.End == anonStart + anonLength);
        Assert.Equal("unmapped", target.Send("unmap anon"));
        // Past the 100 ms between two reads of maps, so that only the query can keep it from reading.
        System.Threading.Thread.Sleep(150);
        Assert.False(process.Refresh(anonStart, anonStart + anonLength));
        // Not read again (PROCMAP_QUERY, Linux 6.11, answered): the list still has the old mapping.
        Assert.Contains(process.Mappings, m => m.Start == anonStart && m.End == anonStart + anonLength);

        // A mapping made since the list was read: maps is read again and has it.
        string file = Path.Combine(Path.GetTempPath(), $"madvps-refresh-{Environment.ProcessId}");
        File.WriteAllBytes(file, new byte[Environment.SystemPageSize]);
        try
        {
            string[] mapped = target.Send($"map-file-hex {Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(file))}").Split(' ');
            ulong start = ulong.Parse(mapped[1].AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            Assert.DoesNotContain(process.Mappings, m => m.Path == file);
            Assert.True(process.Refresh(start, start + PageSize));
            Assert.Contains(process.Mappings, m => m.Start == start && m.Path == file);
            Assert.DoesNotContain(process.Mappings, m => m.Start == anonStart && m.End == anonStart + anonLength);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
