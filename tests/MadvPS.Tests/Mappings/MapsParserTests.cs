using System.Collections.Generic;
using System.IO;
using System.Text;
using MadvPS;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

public class MapsParserTests
{
    private const string Maps =
        "55d0c8a00000-55d0c8a21000 r--p 00000000 08:01 1051                       /usr/bin/cat\n" +
        "55d0c9f5e000-55d0c9f7f000 rw-p 00000000 00:00 0                          [heap]\n" +
        "7f3a1c000000-7f3a1c021000 rw-p 00000000 00:00 0 \n" +
        "7f3a1d000000-7f3a1d001000 rw-s 00000000 00:01 2048                       /memfd:x (deleted)\n" +
        "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

    private static List<(ulong Start, ulong End, string Permissions, string Path, MappingKind Kind, bool Deleted, bool HasVmFlags)> Parse(string text)
    {
        var parser = new MapsParser(new MemoryStream(Encoding.UTF8.GetBytes(text)));
        var list = new List<(ulong, ulong, string, string, MappingKind, bool, bool)>();
        while (parser.TryReadEntry(out SmapsEntry e))
        {
            list.Add((e.Start, e.End, e.Permissions, e.Path, e.Kind, e.IsDeleted, e.HasVmFlags));
        }

        return list;
    }

    [Fact]
    public void ReadsOneEntryALineWithTheSmapsHeaderRules()
    {
        var entries = Parse(Maps);
        Assert.Equal(5, entries.Count);
        Assert.Equal((0x55d0c8a00000UL, 0x55d0c8a21000UL, "r--p", "/usr/bin/cat", MappingKind.File, false, false), entries[0]);
        Assert.Equal(MappingKind.Heap, entries[1].Kind);
        Assert.Equal(("", MappingKind.Anonymous), (entries[2].Path, entries[2].Kind));
        Assert.Equal(("/memfd:x", MappingKind.Memfd, true), (entries[3].Path, entries[3].Kind, entries[3].Deleted));
        Assert.Equal(MappingKind.Vsyscall, entries[4].Kind);
    }

    [Fact]
    public void AnEmptyFileHasNoEntries()
    {
        Assert.Empty(Parse(""));
    }

    [Fact]
    public void ACutLastLineYieldsTheCompleteLinesThenOneError()
    {
        string cut = Maps.Substring(0, Maps.Length - 20);
        var parser = new MapsParser(new MemoryStream(Encoding.UTF8.GetBytes(cut)));
        int complete = 0;
        Assert.Throws<SmapsFormatException>(() =>
        {
            while (parser.TryReadEntry(out _))
            {
                complete++;
            }
        });
        Assert.Equal(4, complete);
    }

    [Fact]
    public void AnSmapsFieldLineIsNotMaps()
    {
        Assert.Throws<SmapsFormatException>(() => Parse(Maps + "Rss:                   4 kB\n"));
    }
}
