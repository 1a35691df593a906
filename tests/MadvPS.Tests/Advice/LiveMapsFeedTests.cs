using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

/// <summary>
/// The span parser of LiveMapsFeed (the live check's reader of /proc/PID/maps): against text the
/// test writes, with the values it wrote, and against the kernel's own /proc/self/maps, split by
/// the test itself.
/// </summary>
public sealed class LiveMapsFeedTests
{
    private static LiveVma[] Feed(byte[] text)
    {
        using var feed = new LiveMapsFeed(new MemoryStream(text, writable: false));
        feed.WaitFor(ulong.MaxValue);
        Assert.True(feed.Done);
        return feed.Vmas.ToArray();
    }

    private static LiveVma[] Feed(string text) => Feed(Encoding.UTF8.GetBytes(text));

    [Fact]
    public void EveryFieldOfTheLinesIsAsWritten()
    {
        LiveVma[] vmas = Feed(
            "55d0c8a00000-55d0c8a21000 r--p 00000000 08:01 1051                       /usr/bin/cat\n" +
            "55d0c8a21000-55d0c8a25000 r-xp 00021000 08:01 1051                       /usr/bin/cat\n" +
            "55d0c9f5e000-55d0c9f7f000 rw-p 00000000 00:00 0                          [heap]\n" +
            "\n" +
            "7f3a1c000000-7f3a1c021000 rw-p 00000000 00:00 0 \n" +
            "7f3a1c021000-7f3a1c022000 ---p 00000000 00:00 0\n" +
            "7f3a1d000000-7f3a1d001000 rw-s 00001000 00:01 2048                       /memfd:x (deleted)\n" +
            "7f3a1e000000-7f3a1e001000 r--s 7fffffffff000 103:0a 18446744073709551615   /srv/a b\\012c.bin\n" +
            "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n");

        Assert.Equal(
            new[]
            {
                new LiveVma(0x55d0c8a00000, 0x55d0c8a21000, "r--p", 0, "08:01", 1051, "/usr/bin/cat"),
                new LiveVma(0x55d0c8a21000, 0x55d0c8a25000, "r-xp", 0x21000, "08:01", 1051, "/usr/bin/cat"),
                new LiveVma(0x55d0c9f5e000, 0x55d0c9f7f000, "rw-p", 0, "00:00", 0, "[heap]"),
                new LiveVma(0x7f3a1c000000, 0x7f3a1c021000, "rw-p", 0, "00:00", 0, ""),
                new LiveVma(0x7f3a1c021000, 0x7f3a1c022000, "---p", 0, "00:00", 0, ""),
                new LiveVma(0x7f3a1d000000, 0x7f3a1d001000, "rw-s", 0x1000, "00:01", 2048, "/memfd:x"),
                new LiveVma(0x7f3a1e000000, 0x7f3a1e001000, "r--s", 0x7fffffffff000, "103:0a", ulong.MaxValue, "/srv/a b\nc.bin"),
                new LiveVma(0xffffffffff600000, 0xffffffffff601000, "--xp", 0, "00:00", 0, "[vsyscall]"),
            },
            vmas);

        // A run of one file's lines shares its strings: nothing is built per line.
        Assert.Same(vmas[0].Path, vmas[1].Path);
        Assert.Same(vmas[0].Device, vmas[1].Device);
        Assert.Same(vmas[3].Permissions, vmas[2].Permissions);
    }

    [Fact]
    public void ANameThatIsNotUtf8KeepsItsBytes()
    {
        byte[] text = Encoding.ASCII.GetBytes("7f0000000000-7f0000001000 r--p 00000000 08:01 7 /srv/x")
            .Concat(new byte[] { 0xff, (byte)'\n' }).ToArray();

        LiveVma vma = Assert.Single(Feed(text));

        // Bytes that are not UTF-8 are kept as U+DC00 + the byte, as every reader of names does.
        Assert.Equal("/srv/x\udcff", vma.Path);
    }

    [Fact]
    public void AVmaThatStartsBelowTheLastEndIsCutToThePartAboveIt()
    {
        // Two reads of maps a merge apart: the second read starts at a VMA that grew downwards
        // over the end of the first, and repeats one already handed over.
        LiveVma[] vmas = Feed(
            "7f0000000000-7f0000002000 r--p 00000000 08:01 9 /srv/f\n" +
            "7f0000001000-7f0000002000 r--p 00001000 08:01 9 /srv/f\n" +
            "7f0000001000-7f0000004000 r--p 00001000 08:01 9 /srv/f\n" +
            "7f0000003000-7f0000006000 rw-p 00000000 00:00 0 \n");

        Assert.Equal(
            new[]
            {
                new LiveVma(0x7f0000000000, 0x7f0000002000, "r--p", 0, "08:01", 9, "/srv/f"),
                new LiveVma(0x7f0000002000, 0x7f0000004000, "r--p", 0x2000, "08:01", 9, "/srv/f"),
                new LiveVma(0x7f0000004000, 0x7f0000006000, "rw-p", 0, "00:00", 0, ""),
            },
            vmas);
    }

    [Theory]
    [InlineData("7f0000000000-7f0000001000 r--p 00000000 08:01 9 /srv/f")]
    [InlineData("7f0000000000 r--p 00000000 08:01 9 /srv/f\n")]
    [InlineData("7f0000001000-7f0000000000 r--p 00000000 08:01 9 /srv/f\n")]
    [InlineData("7f0000000000-7f0000001000 r--p 00000000 08:01\n")]
    [InlineData("7f0000000000-7f0000001000 r-p 00000000 08:01 9\n")]
    [InlineData("7f0000000000-7f0000001000 r--p 00000000 1000:01 9\n")]
    [InlineData("7f0000000000-7f0000001000 r--p 00000000 08:01 9x /srv/f\n")]
    [InlineData("7f0000000000-7f0000001000 r--p 00000000 08:01 18446744073709551616 /srv/f\n")]
    [InlineData("117f0000000000000-117f0000000001000 r--p 00000000 08:01 9\n")]
    [InlineData("Rss:                   4 kB\n")]
    public void TextThatIsNotMapsIsAnError(string text)
    {
        using var feed = new LiveMapsFeed(new MemoryStream(Encoding.ASCII.GetBytes(text)));
        Assert.Throws<SmapsFormatException>(() => feed.WaitFor(ulong.MaxValue));
    }

    [Fact]
    public void TheKernelsOwnMapsOfThisProcessIsReadAsTheTestSplitsIt()
    {
        byte[] text = File.ReadAllBytes("/proc/self/maps");
        var expected = new List<LiveVma>();
        foreach (string line in Encoding.UTF8.GetString(text).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // start-end perms offset dev inode, then the name after the padding.
            string[] f = line.Split(' ', 6);
            string[] bounds = f[0].Split('-');
            string name = f.Length > 5 ? f[5].TrimStart(' ') : "";
            if (name.EndsWith(" (deleted)", StringComparison.Ordinal))
            {
                name = name[..^" (deleted)".Length];
            }

            expected.Add(new LiveVma(
                ulong.Parse(bounds[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                ulong.Parse(bounds[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                f[1],
                ulong.Parse(f[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                f[3],
                ulong.Parse(f[4], CultureInfo.InvariantCulture),
                name.Replace("\\012", "\n", StringComparison.Ordinal)));
        }

        Assert.True(expected.Count > 20, $"only {expected.Count} lines in /proc/self/maps");
        Assert.Contains(expected, v => v.Inode != 0 && v.Path.Length > 0);
        Assert.Contains(expected, v => v.Path.Length == 0);
        Assert.Equal(expected, Feed(text));
    }
}
