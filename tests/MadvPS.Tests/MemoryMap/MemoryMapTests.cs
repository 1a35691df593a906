using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

/// <summary>The memory map's core: merging blocks, page data over smaps, advice sums, escaping.</summary>
public class MemoryMapTests
{
    private static readonly MapProcessKey s_key = new("", 100, 12345, "boot");

    private static MapRegion Region(ulong start, long size, MappingKind kind, string path = "", long rss = 0, long swap = 0) =>
        new() { Start = start, End = start + (ulong)size, Size = size, Kind = kind, Path = path, Rss = rss, Swap = swap, Permissions = "rw-p" };

    [Fact]
    public void FewMappingsAreDrawnOneBlockEach()
    {
        var regions = Enumerable.Range(0, 50).Select(i => Region(0x10000UL + (ulong)i * 0x2000, 4096, i % 2 == 0 ? MappingKind.File : MappingKind.Anonymous)).ToList();
        List<MapBlock> blocks = BlockAggregator.Aggregate(regions);
        Assert.Equal(50, blocks.Count);
        Assert.All(blocks, b => Assert.Equal(1, b.Count));
    }

    [Fact]
    public void SixtyThousandMappingsAreMergedWithinTheLimitKeepingEveryByteAndKindsApart()
    {
        // 60,000 one-page anonymous mappings (the target's --mappings), between big file mappings.
        var regions = new List<MapRegion>();
        ulong at = 0x100000;
        for (int i = 0; i < 60000; i++)
        {
            if (i % 10000 == 0)
            {
                regions.Add(Region(at, 64 << 20, MappingKind.File, $"/usr/lib/big{i}.so", rss: 1 << 20));
                at += 64 << 20;
            }

            regions.Add(Region(at, 4096, MappingKind.Anonymous, rss: i % 2 == 0 ? 4096 : 0));
            at += 4096;
        }

        List<MapBlock> blocks = BlockAggregator.Aggregate(regions);
        Assert.True(blocks.Count <= BlockAggregator.MaxBlocks, $"{blocks.Count} blocks");
        Assert.Equal(regions.Count, blocks.Sum(b => b.Count));
        Assert.Equal(regions.Sum(r => r.Size), blocks.Sum(b => b.Size));
        Assert.Equal(regions.Sum(r => r.Rss), blocks.Sum(b => b.Resident));
        // The big file mappings stay blocks of their own; the anonymous pages are merged between them.
        Assert.Equal(6, blocks.Count(b => b.Kind == MappingKind.File && b.Count == 1));
        Assert.All(blocks.Where(b => b.Count > 1), b => Assert.Equal(MappingKind.Anonymous, b.Kind));
        Assert.Equal(12, blocks.Count);
    }

    [Fact]
    public void AlternatingKindsAreMergedAcrossKindsWhenNothingElseMeetsTheLimit()
    {
        var regions = Enumerable.Range(0, 10000).Select(i => Region(0x10000UL + (ulong)i * 0x1000, 4096, i % 2 == 0 ? MappingKind.File : MappingKind.Heap)).ToList();
        List<MapBlock> blocks = BlockAggregator.Aggregate(regions, maxBlocks: 100);
        Assert.True(blocks.Count <= 100, $"{blocks.Count} blocks");
        // Not one block for everything: about half the limit, so the kinds keep their places.
        Assert.True(blocks.Count >= 40, $"{blocks.Count} blocks");
        Assert.Equal(10000, blocks.Sum(b => b.Count));
        Assert.All(blocks, b => Assert.True(b.MixedKinds));
    }

    [Fact]
    public void PageRunsOutrankSummariesAndSmaps()
    {
        var builder = new MemoryMapBuilder();
        builder.AddMapping(s_key, "p", Region(0x10000, 0x4000, MappingKind.Anonymous, rss: 0x4000));
        builder.AddPageSummary(s_key, "p", new MapRegion { Start = 0x10000, End = 0x14000, Size = 0x4000, PageResident = 0x1000, PageSwapped = 0x3000, PageAbsent = 0 });
        builder.AddPageRun(s_key, "p", new MapPageRun(0x10000, 0x11000, MapPageState.Swapped, MappingKind.Anonymous, "", false, true));
        builder.AddPageRun(s_key, "p", new MapPageRun(0x11000, 0x14000, MapPageState.Absent, MappingKind.Anonymous, "", false, false));
        // A run outside every mapping becomes a mapping of its own.
        builder.AddPageRun(s_key, "p", new MapPageRun(0x20000, 0x22000, MapPageState.Resident, MappingKind.File, "/f", false, false));
        MapProcess process = Assert.Single(builder.Build());
        List<MapRegion> regions = process.Sorted();
        Assert.Equal(2, regions.Count);
        Assert.Equal(0, regions[0].Resident);
        Assert.Equal(0x1000, regions[0].Swapped);
        Assert.Equal(0x3000, regions[0].PageAbsent);
        Assert.Equal(0x1000, regions[0].PageExclusive);
        Assert.Equal(0x2000, regions[1].Resident);
        Assert.Equal("/f", regions[1].Path);
    }

    [Fact]
    public void AdviceResultsAreSummedPerProcessAndAdviceAndJoinTheProcessByPid()
    {
        var builder = new MemoryMapBuilder();
        builder.AddAdviceRange("", 100, "p", "PageOut", "Advised", 8192, 8192);
        builder.AddAdviceRange("", 100, "p", "PageOut", "Skipped", 4096, 0);
        builder.AddAdviceRange("", 100, "p", "PageOut", "Failed", 8192, 4096);
        builder.AddMapping(s_key, "p", Region(0x10000, 0x4000, MappingKind.Anonymous));
        MapProcess process = Assert.Single(builder.Build());
        MapAdvice advice = Assert.Single(process.Advice);
        Assert.Equal(3, advice.RangesRequested);
        Assert.Equal(20480, advice.BytesRequested);
        Assert.Equal(12288, advice.BytesAdvised);
        Assert.Equal(4096, advice.BytesSkipped);
        Assert.Equal(1, advice.RangesFailed);
        Assert.Equal(4096, advice.BytesFailed);
    }

    [Fact]
    public void ThePageHoldsNoMarkupFromItsDataAndTheDataReadsBackExactly()
    {
        string evil = "/tmp/a</script><script>alert(1)</script>\"'&\n\u00e9" + '\uD800' + "x";
        var builder = new MemoryMapBuilder();
        builder.AddMapping(s_key with { Host = "<h>" }, "n</script>", Region(0x10000, 0x1000, MappingKind.File, evil));
        var stream = new MemoryStream();
        MemoryMapPage.Write(stream, "t</title><script>", DateTime.UnixEpoch, "1.0", builder.Build());
        string html = Encoding.UTF8.GetString(stream.ToArray());

        // Only the page's own two script elements open and close.
        Assert.Equal(2, CountOf(html, "<script"));
        Assert.Equal(2, CountOf(html, "</script>"));
        Assert.Contains("<title>t&lt;/title&gt;&lt;script&gt;</title>", html, StringComparison.Ordinal);

        int open = html.IndexOf("id=\"madvps-data\">", StringComparison.Ordinal) + "id=\"madvps-data\">".Length;
        string json = html.Substring(open, html.IndexOf("</script>", open, StringComparison.Ordinal) - open);
        Assert.DoesNotContain("<", json, StringComparison.Ordinal);
        Assert.DoesNotContain(">", json, StringComparison.Ordinal);
        using JsonDocument doc = JsonDocument.Parse(json);
        JsonElement process = doc.RootElement.GetProperty("processes")[0];
        Assert.Equal("<h>", process.GetProperty("host").GetString());
        Assert.Equal(evil.Replace('\uD800', '\uFFFD'), process.GetProperty("blocks")[0].GetProperty("p")[0].GetString());
    }

    [Fact]
    public void CleanKeepsPairsAndReplacesLoneSurrogates()
    {
        Assert.Equal("a\uD83D\uDE00b", MemoryMapJson.Clean("a\uD83D\uDE00b"));
        Assert.Equal("a\uFFFDb\uFFFD", MemoryMapJson.Clean("a\uDE00b\uD83D"));
        string plain = "/usr/lib/x.so";
        Assert.Same(plain, MemoryMapJson.Clean(plain));
    }

    private static int CountOf(string text, string part)
    {
        int count = 0;
        for (int i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
